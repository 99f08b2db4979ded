/**
 * Sessions as a long-lived process serves them: created, listed, read, renamed and deleted in the
 * same store `opencode run` uses; one turn at a time per session (a second prompt is refused as
 * busy); its status (idle, busy, retry while the scheduler waits) and every event on the host's hub;
 * abort; and a drain for shutdown. Tool permissions that are `ask` are approved by the session's or
 * the request's approval rules, or — in a turn an OpenCode client sent — by the person at a client
 * listening to the project (permission-asks.ts); refused otherwise.
 */
import { resolveAgent } from '../agents/resolve-agent.ts';
import { PantheonError } from '../errors.ts';
import type { PantheonEvent } from '../events.ts';
import { approvedBy, type AskDetails } from '../permissions/authorize.ts';
import { evaluatePermission, type PermissionTable } from '../permissions/rules.ts';
import { SavedApprovals } from '../permissions/saved-approvals.ts';
import { resolveModel } from '../providers/resolve-model.ts';
import { forkedRecord } from '../run/run-session.ts';
import { SUBTASK_NOTE, taskBlock, type CommandSubtask } from '../run/run-task.ts';
import type { AddedPart, InlineFile } from '../run/user-content.ts';
import { questionClient, type QuestionAsker } from '../tools/question.ts';
import { newMessageId } from '../session/ids.ts';
import { removeSessionTree, sessionTree } from '../session/remove-tree.ts';
import { findTurnMessage, withoutMessage, withPartEdit, type PartEdit } from '../session/message-edits.ts';
import { moveTo, withoutReverted } from '../session/revert.ts';
import { appendEvents, MAX_TOOL_TEXT, withoutReplyContent, type EventDraft } from '../session/durable-events.ts';
import { revertState } from '../session/revert-diff.ts';
import { oneLine, titleFrom } from '../session/title.ts';
import { modelRef } from '../session/turn-events.ts';
import type { SessionRecord, SessionSummary } from '../session/store.ts';
import type { EventHub, SessionStatus, TurnStart } from './event-hub.ts';
import type { Host } from './host.ts';
import { PermissionAsks } from './permission-asks.ts';
import { QuestionAsks } from './question-asks.ts';
import { ChildSessions, type BackgroundEnd } from './child-sessions.ts';
import { COMPACTION_CONTINUE, COMPACTION_PROMPT, openTurn, SHELL_NOTE, type SessionChoice, type Turn, type TurnResult } from './session-turn.ts';

export interface PromptInput {
  text: string;
  /** Files sent with the message (text inline, images as file parts). */
  attachments?: InlineFile[];
  /** Parts the server adds after the user's: an `@`-mentioned MCP resource's head line and texts (OpenCode's synthetic parts), an image it holds. */
  added?: AddedPart[];
  agent?: string;
  /** `provider/model[:variant]` for the head of the agent's chain. */
  model?: string;
  /** The head of the chain with this variant (OpenCode's prompt `variant`, `run --variant`). */
  variant?: string;
  /** The title of the session when this turn starts it (`run --title`). */
  title?: string;
  /** Added to the agent's system prompt for this turn. */
  system?: string;
  /** Sampling temperature and answer length for this turn (the REST API's `temperature`, `max_tokens`). */
  temperature?: number;
  maxOutputTokens?: number;
  /** Tools switched on or off for this turn (`{bash: false}`). */
  tools?: Record<string, boolean>;
  /** Approvals for `ask` tools in this turn, over the session's. */
  approvals?: PermissionTable;
  userMessageID?: string;
  timeoutMs?: number;
  /** Skip the response cache for this turn (`run --no-cache`). */
  noCache?: boolean;
  /** Called when earlier messages had to be left out to fit the model's context. */
  onHistoryTrimmed?: (dropped: number, contextTokens: number) => void;
  /** Run this command in the project instead of asking the model (OpenCode's shell); `text` is ignored. */
  shell?: string;
  /** Summarize the session (OpenCode's compaction); `text` is ignored. */
  compaction?: true;
  /** A command run as a sub-task (OpenCode's `/review`): run first, in a child session; `text` is ignored (the model is sent OpenCode's note). */
  subtask?: CommandSubtask;
  /** The server's own prompt (a background sub-task's end): its text is a synthetic part, which OpenCode's TUI does not show. */
  synthetic?: true;
  /**
   * An OpenCode client sent it: an `ask` that no rule approves is put to the clients listening to
   * the project (permission-asks.ts), and the agent is offered OpenCode's `question` tool
   * (question-asks.ts) unless the turn's or the session's rules deny `question`.
   */
  askClient?: true;
  /** With `askClient`: questions are put even when no client listens to the project's events (OpenCode's v2 API, whose clients may poll for them); the call waits for its answer or the turn's end. */
  unheard?: true;
}

/** What `update` may change. */
export interface SessionFields {
  title?: string;
  permission?: PermissionTable;
  /** `provider/model[:variant]`: the head model of the session's turns that name none ('' clears it). */
  model?: string;
  /** Added to the agent's system prompt in each of the session's turns ('' clears it). */
  system?: string;
  /** Replaces the session's tags ([] clears them). */
  tags?: string[];
  /** The agent of the session's turns that name none (OpenCode v2's agent switch). */
  agent?: string;
}

/** A turn under way: `done` settles when it ends, however it ends; `cancel` aborts it. */
export interface StartedTurn {
  turn: TurnStart;
  done: Promise<PromptOutcome>;
  cancel: () => void;
}

export interface PromptOutcome {
  turn: TurnStart;
  result: TurnResult;
  /** The session as saved after the turn (undefined when nothing was saved). */
  session: SessionRecord | undefined;
}

interface Active {
  controller: AbortController;
  status: SessionStatus;
  done: Promise<PromptOutcome>;
  /** The session's project, once known. */
  projectRoot: string;
  /** The child sessions of the turn's delegations. */
  children?: ChildSessions;
}

const ASK_HINT = "not approved: nobody can answer a question in a server turn; approve it with the session's or the prompt's permission rules";
/** A rate-limit wait shorter than this shows as busy, not as retry. */
const SHOW_WAIT_MS = 1000;

/** The first model of an agent's chain (`provider/model`), or undefined when it does not resolve. */
function headModel(config: Parameters<typeof resolveAgent>[0], agent: string, env: NodeJS.ProcessEnv): string | undefined {
  try {
    const resolved = resolveAgent(config, agent);
    const head = resolveModel(config, resolved.chain[0] as string, { env }, `agent.${resolved.name}.model`);
    return `${head.ref.provider}/${head.ref.model}`;
  } catch {
    return undefined;
  }
}

/** What an edit of a session's messages announces. */
type EditEvent = { type: 'message.removed'; messageID: string } | { type: 'message.part.removed'; messageID: string; partID: string } | { type: 'message.part.updated'; part: Record<string, unknown> };

/** The durable events of an agent or model switch (OpenCode v2's), when `after` changed either. */
function switchEvents(id: string, before: SessionRecord, after: SessionRecord): EventDraft[] {
  const drafts: EventDraft[] = [];
  const timestamp = after.updatedAt;
  if (after.agent && after.agent !== before.agent) drafts.push({ type: 'session.next.agent.switched', data: { timestamp, sessionID: id, messageID: newMessageId(), agent: after.agent } });
  if (after.model && after.model !== before.model) {
    const slash = after.model.indexOf('/');
    drafts.push({ type: 'session.next.model.switched', data: { timestamp, sessionID: id, messageID: newMessageId(), model: modelRef(slash < 0 ? '' : after.model.slice(0, slash), after.model) } });
  }
  return drafts;
}

/** The durable event of a revert staged (the record's new mark, with its files; patches kept while short) or cleared (no mark). */
function revertEvent(id: string, revert: SessionRecord['revert']): EventDraft {
  return revert === undefined
    ? { type: 'session.next.revert.cleared', data: { timestamp: Date.now(), sessionID: id } }
    : { type: 'session.next.revert.staged', data: { timestamp: Date.now(), sessionID: id, revert: revertState(revert, MAX_TOOL_TEXT) } };
}

function notFound(id: string): PantheonError {
  return new PantheonError('SESSION_NOT_FOUND', `Session ${id} does not exist.`, { hint: 'GET /session lists the sessions of a project.' });
}

export class Sessions {
  readonly #host: Host;
  readonly #hub: EventHub;
  readonly #active = new Map<string, Active>();
  /** The child sessions of ended turns whose sub-tasks run on in the background. */
  readonly #detached = new Map<ChildSessions, AbortController>();
  /** Prompts admitted while a turn ran, started in order as each turn ends (OpenCode v2's queued inputs). */
  readonly #queued = new Map<string, { input: PromptInput; admitted: () => void }[]>();
  #closing = false;
  /** Permission questions put to OpenCode clients (turns sent with `askClient`). */
  readonly asks: PermissionAsks;
  /** The `question` tool's questions put to OpenCode clients (turns sent with `askClient`). */
  readonly questions: QuestionAsks;

  constructor(host: Host, hub: EventHub) {
    this.#host = host;
    this.#hub = hub;
    this.asks = new PermissionAsks(hub, new SavedApprovals(host.env));
    this.questions = new QuestionAsks(hub);
  }

  /** The project's sessions, newest first. */
  async list(projectRoot: string): Promise<SessionSummary[]> {
    return (await this.#host.store.list({ projectRoot })).sessions;
  }

  /** The sessions of every project (or of one), newest first; unreadable files left out. */
  async listAll(projectRoot?: string): Promise<SessionSummary[]> {
    return (await this.#host.store.list(projectRoot === undefined ? {} : { projectRoot })).sessions;
  }

  /** The sessions a session's `task` calls made (OpenCode's children), oldest first. */
  async children(id: string): Promise<SessionSummary[]> {
    const record = await this.get(id);
    const { sessions } = await this.#host.store.list({ projectRoot: record.projectRoot });
    return sessions.filter((s) => s.parentID === id).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  }

  async get(id: string): Promise<SessionRecord> {
    try {
      return await this.#host.store.load(id);
    } catch (error) {
      if (error instanceof PantheonError && error.code === 'USAGE') throw notFound(id);
      throw error;
    }
  }

  /** A new session (`parentID`: a child of that session, which need not exist, as OpenCode's POST /session takes it). */
  async create(projectRoot: string, fields: Omit<SessionFields, 'title'> & { title?: string; agent?: string; parentID?: string; id?: string } = {}): Promise<SessionRecord> {
    const now = Date.now();
    // A client's own id (OpenCode v2's create): not one a session has already.
    if (fields.id !== undefined && (await this.#exists(fields.id))) {
      throw new PantheonError('SESSION_EXISTS', `Session ${fields.id} exists already.`, { hint: 'Leave "id" out to have one made, or choose another.' });
    }
    const record: SessionRecord = {
      id: fields.id ?? this.#host.store.newId(),
      projectRoot,
      agent: fields.agent ?? '',
      title: fields.title ?? '',
      createdAt: now,
      updatedAt: now,
      messages: [],
      usage: { inputTokens: 0, outputTokens: 0 },
      models: [],
      ...(fields.permission ? { permission: fields.permission } : {}),
      ...(fields.model ? { model: fields.model } : {}),
      ...(fields.system ? { system: fields.system } : {}),
      ...(fields.tags?.length ? { tags: [...new Set(fields.tags)] } : {}),
      ...(fields.parentID === undefined ? {} : { parentID: fields.parentID }),
    };
    await this.#host.store.save(record);
    this.#hub.emit({ type: 'session.created', projectRoot, sessionID: record.id, session: record });
    return record;
  }

  /** Whether a session is saved under `id` (a file that cannot be read is an error, not an absence: it is never overwritten). */
  async #exists(id: string): Promise<boolean> {
    try {
      await this.get(id);
      return true;
    } catch (error) {
      if (error instanceof PantheonError && error.code === 'SESSION_NOT_FOUND') return false;
      throw error;
    }
  }

  /**
   * A copy of a session under a new id, titled "… (fork)" (OpenCode's fork): every turn, or the turns
   * before the one whose user message is `messageID`, with their usage and cost.
   */
  async fork(id: string, messageID?: string): Promise<SessionRecord> {
    const copy = forkedRecord(await this.get(id), this.#host.store.newId(), messageID);
    await this.#host.store.save(copy);
    this.#hub.emit({ type: 'session.created', projectRoot: copy.projectRoot, sessionID: copy.id, session: copy });
    return copy;
  }

  /**
   * Renames a session, replaces its approval rules, or sets its own model, system prompt or tags
   * (an empty one clears it); not while a turn runs: that turn would overwrite them.
   */
  async update(id: string, fields: SessionFields): Promise<SessionRecord> {
    this.#refuseBusy(id);
    await this.get(id);
    // Under the session's save lock: two updates at once each number their events after the other's.
    const saved = await this.#host.store.update(id, async ({ load }) => {
      const record = await load().catch((error: unknown) => {
        throw error instanceof PantheonError && error.code === 'USAGE' ? notFound(id) : error;
      });
      const updated: SessionRecord = { ...record, ...(fields.title === undefined ? {} : { title: fields.title }), ...(fields.agent === undefined ? {} : { agent: fields.agent }), ...(fields.permission ? { permission: fields.permission } : {}), updatedAt: Date.now() };
      for (const key of ['model', 'system'] as const) {
        const value = fields[key];
        if (value === undefined) continue;
        if (value) updated[key] = value;
        else delete updated[key];
      }
      if (fields.tags !== undefined) {
        if (fields.tags.length > 0) updated.tags = [...new Set(fields.tags)];
        else delete updated.tags;
      }
      return appendEvents(updated, switchEvents(id, record, updated));
    });
    this.#hub.emit({ type: 'session.updated', projectRoot: saved.projectRoot, sessionID: id, session: saved });
    return saved;
  }

  /**
   * OpenCode's revert (`messageID`: put the files back to before that turn, the turns from it on
   * marked until the next prompt drops them) and unrevert (undefined: the files forward again, the
   * mark cleared); not while a turn runs. A file changed since by something else: FILES_CHANGED,
   * nothing written.
   */
  async revert(id: string, messageID: string | undefined): Promise<SessionRecord> {
    this.#refuseBusy(id);
    const record = await this.get(id);
    if (messageID === undefined && !record.revert) return record;
    const target = await moveTo(record, messageID);
    const moved = await this.#saveWithEvents(target, [revertEvent(id, target.revert)]);
    this.#hub.emit({ type: 'session.updated', projectRoot: moved.projectRoot, sessionID: id, session: moved, filesMoved: true });
    return moved;
  }

  /**
   * Moves a session to another project root (OpenCode's move-session: a checkout of the same
   * project; the caller checks that): listed and run there from now on. Not while a turn runs.
   * The old project's clients are told it is gone (`session.deleted`), the new one's that it is there (`session.updated`).
   */
  async move(id: string, projectRoot: string): Promise<SessionRecord> {
    this.#refuseBusy(id);
    const record = await this.get(id);
    if (record.projectRoot === projectRoot) return record;
    let moved: SessionRecord | undefined;
    await this.#host.store.update(id, async ({ load }) => {
      moved = { ...(await load()), projectRoot, updatedAt: Date.now() };
      return moved;
    });
    const saved = moved as SessionRecord;
    // Not `session.created`: webhooks would announce a new session.
    this.#hub.emit({ type: 'session.deleted', projectRoot: record.projectRoot, sessionID: id, session: record });
    this.#hub.emit({ type: 'session.updated', projectRoot, sessionID: id, session: saved });
    return saved;
  }

  /**
   * Deletes one message of a session (OpenCode's DELETE …/message/{messageID}; session/message-edits.ts):
   * not while a turn runs, as OpenCode refuses. A message the session does not have changes nothing.
   */
  async removeMessage(id: string, messageID: string): Promise<void> {
    this.#refuseBusy(id);
    const without = (record: SessionRecord): SessionRecord | undefined => {
      const changed = withoutMessage(record, messageID);
      const found = changed && findTurnMessage(record, messageID);
      // A reply deleted: its model messages leave the file, and what its events said with them.
      return found && found.role === 'assistant' ? withoutReplyContent(changed, found.info.id, found.info.reply.id) : changed;
    };
    await this.#edit(id, without, { type: 'message.removed', messageID });
  }

  /**
   * Deletes (`null`) or rewrites a part of a saved message (OpenCode's DELETE and PATCH …/part/{partID}).
   * A turn running meanwhile keeps the change: its save reads the session anew. A message the
   * session does not have changes nothing.
   */
  async editPart(id: string, messageID: string, partID: string, edit: PartEdit): Promise<void> {
    const event = edit === null ? ({ type: 'message.part.removed', messageID, partID } as const) : ({ type: 'message.part.updated', part: edit } as const);
    await this.#edit(id, (record) => withPartEdit(record, messageID, partID, edit), event);
  }

  /**
   * Saves `record` with `drafts` numbered after the events the file has now, under the session's
   * save lock (another save meanwhile may have added some): no two events get one number.
   */
  async #saveWithEvents(record: SessionRecord, drafts: EventDraft[]): Promise<SessionRecord> {
    return this.#host.store.update(record.id, async ({ load }) => {
      const events = (await load().catch(() => record)).events;
      const { events: _mine, ...rest } = record;
      return appendEvents(events?.length ? { ...rest, events } : rest, drafts);
    });
  }

  /** A read-modify-write of a session under its save lock, announced when it changed something. */
  async #edit(id: string, change: (record: SessionRecord) => SessionRecord | undefined, event: EditEvent): Promise<void> {
    const before = await this.get(id);
    if (!change(before)) return;
    let changed: SessionRecord | undefined;
    await this.#host.store.update(id, async ({ load }) => {
      const record = await load().catch((error: unknown) => {
        throw error instanceof PantheonError && error.code === 'USAGE' ? notFound(id) : error;
      });
      changed = change(record);
      return changed ?? record;
    });
    if (changed) this.#hub.emit({ projectRoot: changed.projectRoot, sessionID: id, ...event });
  }

  /**
   * Makes a revert final (OpenCode v2's revert commit): the marked turns dropped now rather than by
   * the next prompt, the files left as the revert put them; a session that is not reverted is
   * returned as it is. Not while a turn runs.
   */
  async commitRevert(id: string): Promise<SessionRecord> {
    this.#refuseBusy(id);
    const record = await this.get(id);
    if (!record.revert) return record;
    const committed = await this.#saveWithEvents({ ...withoutReverted(record), updatedAt: Date.now() }, [{ type: 'session.next.revert.committed', data: { timestamp: Date.now(), sessionID: id, messageID: record.revert.messageID } }]);
    this.#hub.emit({ type: 'session.updated', projectRoot: committed.projectRoot, sessionID: id, session: committed });
    return committed;
  }

  /**
   * Deletes a session and the sessions under it, as OpenCode does: the deepest first and the session
   * last (session/remove-tree.ts), each announced as it goes; turns in flight on any of them are
   * cancelled first.
   */
  async remove(id: string): Promise<void> {
    await this.get(id);
    const { order } = await sessionTree(this.#host.store, id);
    // Prompts queued on them would start as their turns end, and save the sessions again.
    for (const at of order) this.#queued.delete(at);
    for (const at of order) {
      const active = this.#active.get(at);
      if (!active) continue;
      active.controller.abort();
      await active.done.catch(() => undefined);
    }
    await removeSessionTree(this.#host.store, id, (at, record) => {
      if (record) this.#hub.emit({ type: 'session.deleted', projectRoot: record.projectRoot, sessionID: at, session: record });
    });
  }

  /** The status of every session that is not idle (of one project, or all), child sessions of running turns included. */
  statuses(projectRoot?: string): Record<string, SessionStatus> {
    const active = [...this.#active].filter(([, a]) => projectRoot === undefined || a.projectRoot === projectRoot);
    const detached = [...this.#liveDetached().keys()].filter((c) => projectRoot === undefined || c.projectRoot === projectRoot);
    return Object.assign({}, ...detached.map((c) => c.statuses()), ...active.map(([id, a]) => ({ ...a.children?.statuses(), [id]: a.status }))) as Record<string, SessionStatus>;
  }

  /**
   * Sends the sub-tasks that session `id`'s running `task` calls wait for to the background
   * (OpenCode's `POST /experimental/session/{id}/background`): each call ends at once, telling the
   * model the task runs on; the sub-task goes on in its own session, and when it ends its answer
   * (or failure) is sent to session `id` as a new prompt, as OpenCode does. False when none waited.
   */
  background(id: string): boolean {
    let moved = 0;
    for (const active of this.#active.values()) moved += active.children?.background(id) ?? 0;
    for (const children of this.#liveDetached().keys()) moved += children.background(id);
    return moved > 0;
  }

  /** The detached child sessions with sub-tasks still running (the others are let go). */
  #liveDetached(): Map<ChildSessions, AbortController> {
    for (const children of [...this.#detached.keys()]) if (children.running === 0) this.#detached.delete(children);
    return this.#detached;
  }

  /** Tells a session that a sub-task it sent to the background has ended: a prompt of OpenCode's form, run now or after its running turn. */
  #backgroundEnded(ended: BackgroundEnd): void {
    const state = ended.status === 'success' ? 'completed' : 'error';
    const summary = `Background task ${state === 'completed' ? 'completed' : 'failed'}: ${ended.description}`;
    const text = taskBlock(ended.sessionID, state, summary, ended.text);
    // Refused only when the session is gone or the server is stopping: nobody is left to tell.
    this.admit(ended.parentSessionID, { text, synthetic: true }).then(
      ({ started }) => started.catch(() => undefined),
      () => undefined,
    );
  }

  status(id: string): SessionStatus {
    return this.#active.get(id)?.status ?? { type: 'idle' };
  }

  /** Cancels the session's turn (and drops the prompts queued behind it) and resolves once it has ended (saved as cancelled); false when none ran. */
  async abort(id: string): Promise<boolean> {
    this.#queued.delete(id);
    const active = this.#active.get(id);
    if (!active) return false;
    active.controller.abort();
    await active.done.catch(() => undefined);
    return true;
  }

  /**
   * Starts a turn: resolves once it is under way (an unknown session, a busy one, an unknown agent
   * or model are thrown before anything is saved); `done` resolves when it ends, however it ends.
   */
  async start(id: string, input: PromptInput, loaded?: SessionRecord): Promise<StartedTurn> {
    this.#refuseNew(id);
    const active = this.#reserve(id);
    try {
      // A record the caller has just read is current: nobody else writes a session while it is busy here.
      const record = loaded?.id === id ? loaded : await this.get(id);
      const opened = await openTurn({ store: this.#host.store, projectRoot: record.projectRoot }, { sessionID: id, loaded: record });
      return await this.#launch(opened, record.projectRoot, active, input, true);
    } catch (error) {
      this.#release(id, active, error);
      throw error;
    }
  }

  /**
   * Opens the session a run continues — the one named, the project's latest, or a new one (saved
   * with its first turn, as `opencode run` does) — without starting anything: subscribe to the hub
   * for `sessionID`, then `launch`.
   */
  async open(projectRoot: string, choice: SessionChoice): Promise<Turn> {
    return openTurn({ store: this.#host.store, projectRoot }, choice);
  }

  /**
   * Runs a turn on an opened session, as `opencode run` would: an unknown agent or model ends the
   * turn with its error (on the events, as in a local run) instead of being refused up front.
   */
  async launch(opened: Turn, projectRoot: string, input: PromptInput): Promise<StartedTurn> {
    this.#refuseNew(opened.sessionID);
    const active = this.#reserve(opened.sessionID);
    try {
      return await this.#launch(opened, opened.previous?.projectRoot ?? projectRoot, active, input, false);
    } catch (error) {
      this.#release(opened.sessionID, active, error);
      throw error;
    }
  }

  #refuseNew(id: string): void {
    this.#refuseClosing();
    this.#refuseBusy(id);
  }

  #refuseClosing(): void {
    if (this.#closing) throw new PantheonError('SHUTTING_DOWN', 'The server is stopping and takes no new turns.', { hint: 'Send the prompt again once it is back.' });
  }

  #reserve(id: string): Active & { settle: (outcome: Promise<PromptOutcome>) => void } {
    const controller = new AbortController();
    let settle!: (outcome: Promise<PromptOutcome>) => void;
    const done = new Promise<PromptOutcome>((resolve) => {
      settle = resolve;
    }).then((p) => p);
    const active = { controller, status: { type: 'busy' } as SessionStatus, done, projectRoot: '', settle };
    this.#active.set(id, active);
    return active;
  }

  #release(id: string, active: Active & { settle: (outcome: Promise<PromptOutcome>) => void }, error: unknown): void {
    if (this.#active.get(id) === active) this.#active.delete(id);
    active.settle(Promise.reject(error));
    active.done.catch(() => undefined);
  }

  async #launch(opened: Turn, projectRoot: string, active: Active & { settle: (outcome: Promise<PromptOutcome>) => void }, input: PromptInput, precheck: boolean): Promise<StartedTurn> {
    const id = opened.sessionID;
    const record = opened.previous;
    const instance = await this.#host.instances.get(projectRoot);
    let agentName: string;
    let agentModel: string | undefined;
    // An agent a plugin's config hook replaced is none a turn can name, as in OpenCode: the request's
    // is refused (`run --attach` falls back before it gets here), the session's left for the default.
    const replaced = instance.loaded.leftByPlugins;
    const own = record?.agent && instance.config.agent?.[record.agent] && !replaced?.includes(record.agent) ? record.agent : undefined;
    try {
      // The session's own model (set over the REST API or v2's model switch) heads the chain of a turn that names none, as the turn runs it.
      const model = input.model ?? record?.model;
      const agent = resolveAgent(instance.config, input.agent ?? own, model, input.variant, 'agent', replaced);
      const head = resolveModel(instance.config, agent.chain[0] as string, { env: this.#host.env }, model ? 'model' : input.variant ? 'variant' : `agent.${agent.name}.model`);
      agentName = agent.name;
      agentModel = `${head.ref.provider}/${head.ref.model}`;
    } catch (error) {
      if (precheck) throw error;
      agentName = input.agent ?? own ?? '';
    }
    const turn: TurnStart = {
      userMessageID: input.userMessageID ?? newMessageId(),
      assistantMessageID: newMessageId(),
      time: Date.now(),
      agent: agentName,
      ...(input.model ? { model: input.model } : {}),
      ...(agentModel ? { agentModel } : {}),
      text: input.shell !== undefined ? SHELL_NOTE : input.compaction ? COMPACTION_PROMPT : input.subtask ? SUBTASK_NOTE : input.text,
      attachments: (input.attachments ?? []).map((a) => ({ filename: a.name, mediaType: a.mediaType ?? 'text/plain', ...(a.url ? { url: a.url } : {}) })),
      ...(input.added?.length ? { added: input.added.map((p) => (p.type === 'text' ? p : { type: 'file' as const, filename: p.name, mediaType: p.mediaType })) } : {}),
      ...(input.shell === undefined ? {} : { shell: input.shell }),
      ...(input.compaction ? { compaction: true as const } : {}),
      ...(input.subtask ? { subtask: { ...input.subtask } } : {}),
      ...(input.synthetic ? { synthetic: true as const } : {}),
    };
    const where = { projectRoot, sessionID: id };
    active.projectRoot = projectRoot;
    // Each delegation's sub-task gets a child session, as in OpenCode.
    const children = new ChildSessions({ store: this.#host.store, hub: this.#hub, projectRoot, sessionID: id, headModel: (name) => headModel(instance.config, name, this.#host.env), onBackgroundEnd: (ended) => this.#backgroundEnded(ended), busy: (sessionID) => this.#active.has(sessionID) || sessionID in this.statuses() });
    active.children = children;
    opened.bus.subscribe((event) => {
      children.handle(event);
      this.#hub.emit({ ...where, type: 'pantheon', event });
      this.#track(id, active, event);
    });
    this.#setStatus(id, active, { type: 'busy' });
    this.#hub.emit({ ...where, type: 'turn.started', turn });
    // A session with no title yet is titled by its first message (store.ts): told now, not when the turn ends (OpenCode's TUI heads the session with it).
    if (record && !record.title.trim() && !titleFrom(record.messages) && turn.shell === undefined && !turn.compaction && !turn.synthetic) {
      const title = turn.subtask ? oneLine(turn.subtask.prompt, 60) : oneLine(turn.text, 60);
      if (title) this.#hub.emit({ ...where, type: 'session.updated', session: { ...record, title } });
    }
    const approvals = { ...(record?.permission ?? {}), ...(input.approvals ?? {}) };
    const continueOnDeny = instance.config.experimental?.continue_loop_on_deny === true;
    // OpenCode's `run` creates its sessions with `question` denied (nobody there to answer): such a rule takes the tool away.
    const questionDenied = evaluatePermission(approvals, 'question', '*');
    const askQuestions: QuestionAsker | undefined =
      input.askClient && questionClient(this.#host.env) && !(questionDenied.action === 'deny' && questionDenied.source === 'config')
        ? (questions, call) => this.questions.ask({ projectRoot, sessionID: id, messageID: turn.assistantMessageID, callID: call.toolCallId, questions, input: call.input, signal: call.signal ? AbortSignal.any([active.controller.signal, call.signal]) : active.controller.signal, continueOnDeny, ...(input.unheard ? { unheard: true } : {}) })
        : undefined;
    // --no-cache for one turn: the instance's runtime without its cache.
    const runtime = input.noCache ? { ...instance.runtime, cache: undefined } : instance.runtime;
    const running = this.#host.instances.use(instance, () =>
      opened.run(
        { ...instance, runtime, ...(instance.loaded.leftByPlugins ? { replacedAgents: instance.loaded.leftByPlugins } : {}) },
        {
          message: input.subtask ? SUBTASK_NOTE : input.text,
          ...(input.attachments?.length ? { files: input.attachments } : {}),
          ...(input.added?.length ? { added: input.added } : {}),
          ...(agentName ? { agent: agentName } : input.agent ? { agent: input.agent } : {}),
          ...(input.model ? { model: input.model } : {}),
          ...(input.variant ? { variant: input.variant } : {}),
          ...(input.title ? { title: input.title } : {}),
          ...(input.system ? { system: input.system } : {}),
          ...(input.temperature === undefined ? {} : { temperature: input.temperature }),
          ...(input.maxOutputTokens === undefined ? {} : { maxOutputTokens: input.maxOutputTokens }),
          ...(input.tools ? { tools: input.tools } : {}),
          ...(input.timeoutMs ? { timeoutMs: input.timeoutMs } : {}),
          signal: active.controller.signal,
          cwd: projectRoot,
          ids: { user: turn.userMessageID, assistant: turn.assistantMessageID },
          startedAt: turn.time,
          permissions: {
            auto: false,
            interactive: input.askClient === true,
            // A sub-task's question is its child session's (OpenCode's TUI shows a child's questions in its parent's view too).
            ...(input.askClient ? { confirm: (_question: string, details: AskDetails) => this.asks.ask({ projectRoot, sessionID: id, messageID: turn.assistantMessageID, ...children.of(details.taskID), details, signal: active.controller.signal, continueOnDeny, ...(input.unheard ? { unheard: true } : {}) }) } : {}),
            approve: (request) => approvedBy(approvals, request) || this.asks.approved(projectRoot, request as AskDetails),
            askHint: ASK_HINT,
            ...(askQuestions ? { askQuestions } : {}),
          },
          ...(input.onHistoryTrimmed ? { onHistoryTrimmed: input.onHistoryTrimmed } : {}),
          ...(input.shell === undefined ? {} : { shell: input.shell }),
          ...(input.compaction ? { compaction: true } : {}),
          ...(input.subtask ? { subtask: input.subtask } : {}),
          ...(input.synthetic ? { synthetic: true } : {}),
          delegations: children,
        },
      ),
    );
    active.settle(this.#finish(id, where, turn, running, record === undefined));
    return { turn, done: active.done, cancel: () => active.controller.abort() };
  }

  /**
   * Admits a prompt (OpenCode v2's `POST /api/session/{id}/prompt`): started at once when the session
   * is idle (refused as `start` refuses), else queued and started when the turns before it have
   * ended — not steered into the running one, which Pantheon cannot do. `started` settles when it
   * starts (or fails to); an abort drops the queue.
   */
  async admit(id: string, input: PromptInput, loaded?: SessionRecord): Promise<{ queued: boolean; started: Promise<StartedTurn | undefined> }> {
    if (!this.#active.has(id)) {
      const started = await this.start(id, input, loaded);
      return { queued: false, started: Promise.resolve(started) };
    }
    this.#refuseClosing();
    const queue = this.#queued.get(id) ?? [];
    this.#queued.set(id, queue);
    let admitted!: () => void;
    const turn = new Promise<void>((resolve) => {
      admitted = resolve;
    });
    queue.push({ input, admitted });
    return { queued: true, started: turn.then(() => this.#started.get(input)) };
  }

  /** Turns started from the queue, by their input, for `admit`'s callers. */
  readonly #started = new WeakMap<PromptInput, StartedTurn | undefined>();

  /** Starts the next queued prompt of a session that has just gone idle. */
  #next(id: string): void {
    const queue = this.#queued.get(id);
    const head = queue?.shift();
    if (!queue || !head) return;
    if (queue.length === 0) this.#queued.delete(id);
    this.start(id, head.input).then(
      (started) => {
        this.#started.set(head.input, started);
        head.admitted();
      },
      () => {
        // It could not start (the session was deleted, the server is stopping): the ones behind it are tried.
        head.admitted();
        if (!this.#active.has(id) && !this.#closing) this.#next(id);
        else if (this.#closing) this.#queued.delete(id);
      },
    );
  }

  /** Resolves once the session has no turn running and none queued (OpenCode v2's wait). */
  async idle(id: string): Promise<void> {
    for (;;) {
      const active = this.#active.get(id);
      if (active) await active.done.catch(() => undefined);
      else if (this.#queued.get(id)?.length) await new Promise((resolve) => setImmediate(resolve));
      else return;
    }
  }

  /** Prompts queued behind the session's running turn. */
  queuedCount(id: string): number {
    return this.#queued.get(id)?.length ?? 0;
  }

  /** Whether the session runs a turn or has prompts queued. */
  running(id: string): boolean {
    return this.#active.has(id) || (this.#queued.get(id)?.length ?? 0) > 0;
  }

  /** Runs a turn to its end (see `start`). */
  async prompt(id: string, input: PromptInput, loaded?: SessionRecord): Promise<PromptOutcome> {
    return (await this.start(id, input, loaded)).done;
  }

  /**
   * After a compaction a client asked for as automatic (`POST /session/{id}/summarize` with `auto`):
   * OpenCode's synthetic "continue" turn, unless the plugins' `experimental.compaction.autocontinue`
   * says no (told the session, the agent, its model and provider, the compaction's message). The
   * continuing turn's outcome, or undefined when none ran. As in OpenCode 1.18.33, the continuing
   * turn is the agent's the session was last prompted with (`agent`, the session's before the
   * compaction; else the compaction's): one a plugin's config hook replaced since is refused as a
   * prompt naming it is (OpenCode's "Agent not found"), after the compaction was saved.
   */
  async continueAfterCompaction(id: string, compacted: PromptOutcome, agent?: string): Promise<PromptOutcome | undefined> {
    if (compacted.result.status !== 'success') return undefined;
    if (!compacted.session) return undefined;
    const instance = await this.#host.instances.get(compacted.session.projectRoot);
    const name = agent || compacted.turn.agent || undefined;
    if (instance.plugins?.has('experimental.compaction.autocontinue')) {
      const [{ autoContinues }, { pluginModel, pluginProvider, pluginUserMessage }] = await Promise.all([import('../plugins/compaction-hooks.ts'), import('../plugins/hook-shapes.ts')]);
      const agent = resolveAgent(instance.config, name, compacted.turn.model, undefined, 'agent');
      const head = resolveModel(instance.config, agent.chain[0] as string, { env: this.#host.env }, `agent.${agent.name}.model`);
      const model = pluginModel(head);
      const message = pluginUserMessage({ id: compacted.turn.userMessageID, sessionID: id, created: compacted.turn.time, agent: agent.name, model: { providerID: head.provider, modelID: head.modelKey } });
      const input = { sessionID: id, agent: agent.name, model, provider: pluginProvider(head, model), message, overflow: false };
      if (!(await autoContinues(instance.plugins, input))) return undefined;
    }
    return this.prompt(id, { text: COMPACTION_CONTINUE, synthetic: true, ...(name ? { agent: name } : {}), ...(compacted.turn.model ? { model: compacted.turn.model } : {}) });
  }

  /** Waits for turns in flight and subagents sent to the background, at most `ms`; then cancels the rest and waits for them to end. */
  async drain(ms: number): Promise<void> {
    this.#closing = true;
    // A turn ending meanwhile may leave subagents running in the background: they are waited for too.
    const all = async () => {
      while (this.#active.size > 0 || this.#liveDetached().size > 0) {
        await Promise.allSettled([...[...this.#active.values()].map((a) => a.done), ...[...this.#detached.keys()].map((c) => c.settled())]);
      }
    };
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), ms);
    });
    const outcome = await Promise.race([all(), late]);
    clearTimeout(timer);
    if (outcome === 'late') {
      for (const active of this.#active.values()) active.controller.abort();
      for (const controller of this.#detached.values()) controller.abort();
      await all();
    }
  }

  get busyCount(): number {
    return this.#active.size;
  }

  async #finish(id: string, where: { projectRoot: string; sessionID: string }, turn: TurnStart, running: Promise<TurnResult>, isNew: boolean): Promise<PromptOutcome> {
    try {
      const result = await running;
      const session = result.session;
      // A session a run made is saved with its first turn: that is when it is created.
      if (session) this.#hub.emit({ ...where, type: isNew ? 'session.created' : 'session.updated', session });
      this.#hub.emit({ ...where, type: 'turn.ended', turn, result, session });
      return { turn, result, session };
    } finally {
      const ending = this.#active.get(id);
      if (ending?.children && ending.children.running > 0) this.#detached.set(ending.children, ending.controller);
      this.#active.delete(id);
      this.#hub.emit({ ...where, type: 'session.status', status: { type: 'idle' } });
      if (this.#closing) this.#queued.delete(id);
      else this.#next(id);
    }
  }

  #refuseBusy(id: string): void {
    if (this.#active.has(id)) {
      throw new PantheonError('SESSION_BUSY', `Session ${id} is busy with another turn.`, { hint: 'Wait for it to end (session.idle on /event), or abort it with POST /session/{id}/abort.', fields: { sessionID: id } });
    }
    // A child session a `task` call runs (in the foreground or the background): its turn saves what it had when it started.
    if (id in this.statuses()) {
      throw new PantheonError('SESSION_BUSY', `Session ${id} is busy: a \`task\` call of its parent session runs it.`, { hint: 'Wait for the task to end (session.idle on /event), or abort the parent session.', fields: { sessionID: id } });
    }
  }

  /** busy while requests run; retry while the scheduler waits (a retry's backoff, a long rate-limit wait). */
  #track(id: string, active: Active, event: PantheonEvent): void {
    if (event.parentTaskID !== undefined) return;
    if (event.type === 'retry') {
      this.#setStatus(id, active, { type: 'retry', attempt: event.attempt, message: `${event.model ?? 'model'}: ${event.status}${event.message ? ` ${event.message}` : ''}`, next: event.timestamp + event.delayMs });
    } else if (event.type === 'rate_limited' && event.waitMs >= SHOW_WAIT_MS) {
      this.#setStatus(id, active, { type: 'retry', attempt: 0, message: `waiting for ${event.limit ?? event.model ?? 'a rate limit'}`, next: event.timestamp + event.waitMs });
    } else if ((event.type === 'step_start' || event.type === 'fallback') && active.status.type !== 'busy') {
      this.#setStatus(id, active, { type: 'busy' });
    }
  }

  #setStatus(id: string, active: Active, status: SessionStatus): void {
    active.status = status;
    this.#hub.emit({ projectRoot: active.projectRoot, sessionID: id, type: 'session.status', status });
  }
}
