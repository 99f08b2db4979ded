/**
 * A turn in progress as OpenCode's events: the user message and its parts, the assistant message
 * growing part by part (`message.part.updated`, text as `message.part.delta`), its tokens and cost
 * per step, and at the end the message as saved — any part that differs from what was streamed
 * (text a failed attempt produced and a retry replaced, a tool call's id) is sent again, so a client
 * that followed the stream ends with exactly what `GET /session/{id}/message` returns.
 */
import type { TurnStart } from '../../core/event-hub.ts';
import type { TurnResult } from '../../core/session-turn.ts';
import type { PantheonEvent } from '../../events.ts';
import { isPantheonError } from '../../errors.ts';
import { partId } from '../../session/ids.ts';
import type { SessionRecord } from '../../session/store.ts';
import { openCodeErrorOf, openCodeTurn, splitModel, subtaskPart, taskPartFields, tokensOf, toolTitle, type OcAssistantInfo, type OcPart } from './message-view.ts';
import { toolErrorText, toolMetadata } from './tool-metadata.ts';

export interface OcEvent {
  type: string;
  properties: Record<string, unknown>;
}

type SubtaskStart = Extract<PantheonEvent, { type: 'subtask_start' }>;

export class LiveTurn {
  /** Whether an `edit` or `write` of the turn (or of a task it delegated) changed a file (the session's diff is announced at its end). */
  changedFiles = false;
  readonly #sessionID: string;
  readonly #projectRoot: string;
  readonly #turn: TurnStart;
  readonly #emit: (event: OcEvent) => void;
  readonly #parts: OcPart[] = [];
  readonly #userParts: OcPart[] = [];
  readonly #info: OcAssistantInfo;
  #user: Record<string, unknown> | undefined;
  #stepOpen = false;
  /** The turn runs a command's sub-task first (TurnStart.subtask): its `task` part is no model step's, as OpenCode draws it. */
  #prelude = false;
  #text: OcPart | undefined;
  #calls = 0;
  #stepCalls = 0;
  /** Calls shown as pending (the model writes them: `tool_pending`) or running (from their `tool_start`, or while their permission question is open), oldest first: the call's `tool_use` completes the part. */
  readonly #waiting: { key: string; part: OcPart }[] = [];
  /** The `task` calls whose sub-task runs, by call id: running parts that name the child session (their `tool_use` completes them). */
  readonly #delegations = new Map<string, { part: OcPart; sessionID?: string }>();
  /** A child session's turn: the sub-task whose events are its own (else the top-level task's are: those without `parentTaskID`). */
  readonly #taskID: string | undefined;

  constructor(sessionID: string, projectRoot: string, turn: TurnStart, emit: (event: OcEvent) => void) {
    this.#sessionID = sessionID;
    this.#projectRoot = projectRoot;
    this.#turn = turn;
    this.#prelude = turn.subtask !== undefined;
    this.#taskID = turn.delegated?.taskID;
    this.#emit = emit;
    // The model asked for, else the agent's: OpenCode's assistant message names its model from the start; a step that another model served says so.
    const ref = turn.model ?? turn.agentModel;
    const model = ref ? splitModel(ref.split('/')[0], ref.replace(/:[^/]*$/, '')) : { providerID: '', modelID: '' };
    this.#info = {
      id: turn.assistantMessageID,
      sessionID,
      role: 'assistant',
      time: { created: turn.time },
      parentID: turn.userMessageID,
      ...model,
      // A compaction's reply is OpenCode's compaction agent's, as read back (message-view.ts).
      mode: turn.compaction ? 'compaction' : turn.agent,
      agent: turn.compaction ? 'compaction' : turn.agent,
      path: { cwd: projectRoot, root: projectRoot },
      cost: 0,
      tokens: tokensOf(undefined),
      ...(turn.compaction ? { summary: true } : {}),
    };
  }

  /** The user message and the (empty) assistant message. */
  start(): void {
    const { userMessageID: id, time, agent } = this.#turn;
    const user = { id, sessionID: this.#sessionID, role: 'user', time: { created: time }, agent, model: { providerID: this.#info.providerID, modelID: this.#info.modelID } };
    this.#user = user;
    this.#emit({ type: 'message.updated', properties: { sessionID: this.#sessionID, info: user } });
    const where = { id: partId(id, 0), sessionID: this.#sessionID, messageID: id };
    const subtask = this.#turn.subtask;
    const parts: OcPart[] = [
      this.#turn.compaction ? { ...where, type: 'compaction', auto: false }
      : subtask ? { ...where, ...subtaskPart(subtask, user.model) }
      : { ...where, type: 'text', text: this.#turn.text, ...(this.#turn.shell === undefined && !this.#turn.synthetic ? {} : { synthetic: true }) },
    ];
    for (const a of this.#turn.attachments) parts.push({ id: partId(id, parts.length), sessionID: this.#sessionID, messageID: id, type: 'file', mime: a.mediaType, filename: a.filename, url: a.url ?? '' });
    // The server's parts (an MCP resource's texts: synthetic, as OpenCode's), after the user's, as the saved message has them.
    for (const a of this.#turn.added ?? []) parts.push({ id: partId(id, parts.length), sessionID: this.#sessionID, messageID: id, ...(a.type === 'text' ? { type: 'text', text: a.text, synthetic: true } : { type: 'file', mime: a.mediaType, filename: a.filename, url: '' }) });
    for (const part of parts) this.#partUpdated(part);
    this.#userParts.push(...parts);
    this.#messageUpdated();
  }

  /**
   * The turn's messages as they stand: OpenCode stores a turn's messages as they grow, so a client
   * that reads the session in the middle of a turn (its TUI, opening the session it just prompted)
   * gets them, and the events that follow update them rather than messages it never saw.
   */
  snapshot(): { info: Record<string, unknown>; parts: OcPart[] }[] {
    if (!this.#user) return [];
    const assistant = { ...this.#info, time: { ...this.#info.time }, tokens: { ...this.#info.tokens } } as unknown as Record<string, unknown>;
    return [
      { info: { ...this.#user }, parts: this.#userParts.map((p) => ({ ...p })) },
      { info: assistant, parts: this.#parts.map((p) => ({ ...p })) },
    ];
  }

  /** A call waits on a permission question: its part, running with its input, under the model's call id. */
  asking(callID: string, tool: string, input: unknown): void {
    if (this.#waiting.some((w) => w.part.callID === callID && (w.part.state as { status?: unknown }).status !== 'pending')) return;
    this.#running(callID, tool, input, Date.now());
  }

  /**
   * A call starts to run: its part, running with its input and title, as OpenCode's TUI draws a call
   * in progress (the part its `pending` update made, when the model's writing of it was seen).
   */
  #running(callID: string, tool: string, input: unknown, start: number): void {
    this.#openStep();
    this.#closeText();
    const state = { status: 'running', input: input ?? {}, title: toolTitle(tool, input, this.#projectRoot), time: { start } };
    const key = `${tool}\u0000${JSON.stringify(input ?? {})}`;
    const pending = this.#waiting.find((w) => w.part.callID === callID && (w.part.state as { status?: unknown }).status === 'pending');
    if (pending) {
      pending.key = key;
      pending.part.state = state;
      this.#partUpdated(pending.part);
      return;
    }
    this.#waiting.push({ key, part: this.#add({ type: 'tool', callID, tool, state }) });
  }

  /** The model started to write a call: its part, `pending` with no input yet, as OpenCode sends it (one update, not one per piece of input). */
  #pending(callID: string, tool: string): void {
    if (this.#waiting.some((w) => w.part.callID === callID) || this.#delegations.has(callID)) return;
    this.#openStep();
    this.#waiting.push({ key: '', part: this.#add({ type: 'tool', callID, tool, state: { status: 'pending', input: {}, raw: '' } }) });
  }

  /**
   * A `task` call of this message's task started its sub-task: the call's part, running, names the
   * child session (`metadata.sessionId`, where OpenCode's TUI finds the sub-task's progress).
   */
  delegated(e: SubtaskStart): void {
    if (!this.#prelude) this.#openStep();
    this.#closeText();
    const input = { ...(e.description === undefined ? {} : { description: e.description }), prompt: e.prompt, subagent_type: e.agent ?? '' };
    const fields = taskPartFields(input, e.childSessionID, this.#sessionID);
    const state = { status: 'running', input, ...fields, time: { start: e.timestamp } };
    // A call that waited on a permission question has its part already.
    const at = e.callID === undefined ? -1 : this.#waiting.findIndex((w) => w.part.callID === e.callID);
    let part: OcPart;
    if (at >= 0) {
      part = (this.#waiting.splice(at, 1)[0] as { part: OcPart }).part;
      // Running since its permission question was put (a call only pending has no start yet).
      part.state = { ...state, time: (part.state as { time?: unknown }).time ?? state.time };
      this.#partUpdated(part);
    } else part = this.#add({ type: 'tool', callID: e.callID ?? `call_${this.#calls + this.#delegations.size + 1}`, tool: 'task', state });
    this.#delegations.set(String(part.callID), { part, ...(e.childSessionID ? { sessionID: e.childSessionID } : {}) });
  }

  handle(e: PantheonEvent): void {
    if (e.type === 'tool_use' && e.diff) this.changedFiles = true;
    // A delegated task's steps belong to it (and its child session), not to this message.
    if (this.#taskID === undefined ? e.parentTaskID !== undefined : e.taskID !== this.#taskID) return;
    if (e.type === 'subtask_start') return;
    if (e.type === 'step_start') this.#openStep();
    else if (e.type === 'text') this.#textDelta(e.text);
    else if (e.type === 'tool_pending') this.#pending(e.callID, e.tool);
    else if (e.type === 'tool_start') {
      const callID = e.callID ?? `call_${this.#calls + this.#waiting.length + 1}`;
      if (!this.#waiting.some((w) => w.part.callID === callID && (w.part.state as { status?: unknown }).status !== 'pending') && !this.#delegations.has(callID)) this.#running(callID, e.tool, e.input, e.timestamp);
    }
    else if (e.type === 'tool_use') {
      const prelude = this.#prelude && e.tool === 'task';
      this.#prelude = false;
      if (!prelude) this.#openStep();
      this.#closeText();
      this.#calls += 1;
      if (!prelude) this.#stepCalls += 1;
      const output = typeof e.output === 'string' ? e.output : (JSON.stringify(e.output) ?? '');
      const metadata = e.error === undefined ? toolMetadata(e.tool, output, { patch: e.diff?.patch, input: e.input, projectRoot: this.#projectRoot }) : {};
      // A `task` call's part keeps naming its child session (and its title) once done.
      const delegation = e.callID === undefined ? undefined : this.#delegations.get(e.callID);
      const task = delegation ? taskPartFields(e.input, delegation.sessionID, this.#sessionID, e.error === undefined ? output : undefined) : undefined;
      const state = e.error === undefined
        ? { status: 'completed', input: e.input ?? {}, output, title: e.title ?? toolTitle(e.tool, e.input, this.#projectRoot), metadata, ...task, time: { start: e.timestamp, end: e.timestamp } }
        : { status: 'error', input: e.input ?? {}, error: toolErrorText(e.error), ...(task ? { metadata: task.metadata } : {}), time: { start: e.timestamp, end: e.timestamp } };
      if (delegation && e.callID !== undefined) {
        this.#delegations.delete(e.callID);
        const { part } = delegation;
        part.state = { ...state, time: { start: (part.state as { time: { start: number } }).time.start, end: e.timestamp } };
        this.#partUpdated(part);
        return;
      }
      // A call that waited on a question completes its running part; any other is a part of its own.
      const key = this.#waiting.length ? `${e.tool}\u0000${JSON.stringify(e.input ?? {})}` : undefined;
      const byId = e.callID === undefined ? -1 : this.#waiting.findIndex((w) => w.part.callID === e.callID);
      const at = byId >= 0 || key === undefined ? byId : this.#waiting.findIndex((w) => w.key === key);
      if (at < 0) this.#add({ type: 'tool', callID: e.callID ?? `call_${this.#calls}`, tool: e.tool, state });
      else {
        const { part } = this.#waiting.splice(at, 1)[0] as { part: OcPart };
        // A call that never ran (only pending: its input could not be used) has no start of its own.
        part.state = { ...state, time: { start: (part.state as { time?: { start: number } }).time?.start ?? e.timestamp, end: e.timestamp } };
        this.#partUpdated(part);
      }
      // The task list as todowrite left it: OpenCode's TUI keeps its panel from this event.
      if (metadata.todos) this.#emit({ type: 'todo.updated', properties: { sessionID: this.#sessionID, todos: metadata.todos } });
    } else if (e.type === 'step_finish') {
      this.#openStep();
      this.#closeText();
      this.#add({ type: 'step-finish', reason: e.reason ?? (this.#stepCalls ? 'tool-calls' : 'stop'), cost: e.costUSD ?? 0, tokens: tokensOf(e.usage) });
      this.#stepOpen = false;
      this.#info.tokens.input += e.usage.inputTokens;
      this.#info.tokens.output += e.usage.outputTokens;
      this.#info.cost += e.costUSD ?? 0;
      Object.assign(this.#info, splitModel(e.provider, e.model));
      this.#messageUpdated();
    }
  }

  /** The turn ended: the saved message replaces what was streamed; a failure is reported as OpenCode does. */
  end(result: Pick<TurnResult, 'status' | 'error'>, session: SessionRecord | undefined): void {
    this.#closeText();
    const messages = session ? openCodeTurn(session, this.#turn.userMessageID) : [];
    const user = messages.find((m) => m.info.id === this.#turn.userMessageID);
    const saved = messages.find((m) => m.info.id === this.#info.id);
    if (user) this.#reconcile(this.#turn.userMessageID, this.#userParts, user.parts);
    if (saved) {
      this.#reconcile(this.#info.id, this.#parts, saved.parts);
      Object.assign(this.#info, saved.info);
    } else {
      this.#info.time.completed = Date.now();
      const error = result.error;
      if (result.status !== 'success') {
        this.#info.error = openCodeErrorOf({ code: isPantheonError(error) ? error.code : 'INTERNAL', message: error instanceof Error ? error.message : String(error) }, this.#info.providerID);
      }
    }
    this.#messageUpdated();
    if (this.#info.error) this.#emit({ type: 'session.error', properties: { sessionID: this.#sessionID, error: this.#info.error } });
  }

  /** Sends the saved parts that differ from the streamed ones, and removes streamed parts that were not saved. */
  #reconcile(messageID: string, streamed: readonly OcPart[], saved: readonly OcPart[]): void {
    const byId = new Map(streamed.map((p) => [p.id, JSON.stringify(p)]));
    for (const part of saved) if (byId.get(part.id) !== JSON.stringify(part)) this.#partUpdated(part);
    const kept = new Set(saved.map((p) => p.id));
    for (const part of streamed) {
      if (!kept.has(part.id)) this.#emit({ type: 'message.part.removed', properties: { sessionID: this.#sessionID, messageID, partID: part.id } });
    }
  }

  #openStep(): void {
    if (this.#stepOpen) return;
    this.#stepOpen = true;
    this.#stepCalls = 0;
    this.#add({ type: 'step-start' });
  }

  #textDelta(delta: string): void {
    this.#openStep();
    if (!this.#text) this.#text = this.#add({ type: 'text', text: '', time: { start: Date.now() } });
    this.#text.text = `${String(this.#text.text)}${delta}`;
    this.#emit({ type: 'message.part.delta', properties: { sessionID: this.#sessionID, messageID: this.#info.id, partID: this.#text.id, field: 'text', delta } });
  }

  /** The text part is complete: sent whole (clients without message.part.delta get the text here). */
  #closeText(): void {
    if (!this.#text) return;
    this.#text.time = { ...(this.#text.time as object), end: Date.now() };
    this.#partUpdated(this.#text);
    this.#text = undefined;
  }

  #add(part: Record<string, unknown> & { type: string }): OcPart {
    const full = { id: partId(this.#info.id, this.#parts.length), sessionID: this.#sessionID, messageID: this.#info.id, ...part } as OcPart;
    this.#parts.push(full);
    this.#partUpdated(full);
    return full;
  }

  #partUpdated(part: OcPart): void {
    this.#emit({ type: 'message.part.updated', properties: { sessionID: this.#sessionID, part: { ...part }, time: Date.now() } });
  }

  #messageUpdated(): void {
    this.#emit({ type: 'message.updated', properties: { sessionID: this.#sessionID, info: { ...this.#info, time: { ...this.#info.time }, tokens: { ...this.#info.tokens } } } });
  }
}
