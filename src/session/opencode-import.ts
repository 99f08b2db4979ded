/**
 * A session exported by OpenCode (`opencode export`, or the share data behind an OpenCode share
 * link) or by Pantheon's own `opencode export`, made into a Pantheon session: `{info, messages:
 * [{info, parts}]}`, OpenCode's session and message shapes. Each user message starts a turn; the
 * assistant messages that answer it (OpenCode writes one per model step, Pantheon one per turn)
 * become the turn's model messages, step by step (`step-start` … `step-finish`): text and reasoning,
 * tool calls with their results (a call that never finished is closed as interrupted), each step's
 * tokens and cost. What the model was sent is kept: text parts, synthetic ones included (OpenCode's
 * note of a read file), and files sent as data: URLs. Snapshots, patches and other parts that only
 * OpenCode's own storage uses are left out. Ids are kept, so a Pantheon export imported back reads
 * the same. Each turn gets the durable events its run would have written (the v2 session history).
 *
 * Every shape is checked before anything is made: a problem is one sentence naming the file and the
 * field (`messages[3].parts[1].state`).
 */
import { PantheonError } from '../errors.ts';
import { appendEvents } from './durable-events.ts';
import { turnEvents } from './turn-events.ts';
import { newMessageId } from './ids.ts';
import { isSessionId, type SessionMessage, type SessionRecord, type StepInfo, type TurnInfo } from './store.ts';
import { finishWord } from '../providers/finish-reason.ts';

type Obj = Record<string, unknown>;

/** Message and part ids kept as they are: OpenCode's and Pantheon's (`msg_…`, `prt_…`). */
const ID = /^[A-Za-z0-9_-]{1,120}$/;

export interface ImportOptions {
  /** What the document is called in messages (its file or URL). */
  source: string;
  /** The project the session is imported into (OpenCode imports into the current project too). */
  projectRoot: string;
  now: number;
  /** Whether a session of this id exists here (a child session keeps its parent only then). */
  parentExists?: (id: string) => boolean;
}

class Shape {
  readonly source: string;
  constructor(source: string) {
    this.source = source;
  }

  fail(where: string, expected: string): never {
    throw new PantheonError('USAGE', `${this.source}: ${where}: expected ${expected}.`, {
      hint: 'Import a file written by `opencode export` (OpenCode\'s or Pantheon\'s), or an OpenCode share link.',
    });
  }

  obj(value: unknown, where: string): Obj {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.fail(where, 'an object');
    return value as Obj;
  }

  list(value: unknown, where: string): unknown[] {
    if (!Array.isArray(value)) this.fail(where, 'a list');
    return value;
  }

  id(value: unknown, where: string): string {
    if (typeof value !== 'string' || !ID.test(value)) this.fail(where, 'an id of letters, digits, `_` and `-`');
    return value;
  }
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0);
const time = (value: unknown, fallback: number): number => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback);

/** `provider/model`, as Pantheon's steps name a model. */
function modelLabel(providerID: unknown, modelID: unknown): string | undefined {
  const provider = text(providerID);
  const model = text(modelID);
  return provider && model ? `${provider}/${model}` : undefined;
}

/** An OpenCode error (`{name, data: {message}}`) as a turn's failure. */
function turnError(error: unknown): { code: string; message: string } | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const e = error as { name?: unknown; data?: { message?: unknown; code?: unknown } };
  const message = text(e.data?.message) || text(e.name) || 'The turn failed.';
  const code = e.name === 'MessageAbortedError' ? 'CANCELLED'
    : e.name === 'ProviderAuthError' ? 'PROVIDER_AUTH'
    : typeof e.data?.code === 'string' && /^[A-Z_]{1,40}$/.test(e.data.code) ? e.data.code
    : e.name === 'APIError' ? 'PROVIDER_ERROR'
    : 'INTERNAL';
  return { code, message };
}

/**
 * What a user message sent the model: its text parts (synthetic ones too: an `@`-mentioned MCP
 * resource's texts, a read file's, which `added` indexes, SessionMessage.added, so that clients
 * get them synthetic again) and files sent as data.
 */
function userContent(parts: readonly Obj[]): { content: unknown; added?: number[]; subtask?: TurnInfo['subtask']; compaction?: true } {
  const items: Obj[] = [];
  const added: number[] = [];
  for (const part of parts) {
    if (part.type === 'text' && text(part.text) && part.ignored !== true) {
      if (part.synthetic === true) added.push(items.length);
      items.push({ type: 'text', text: text(part.text) });
    } else if (part.type === 'file') {
      const data = /^data:([^;,]*)(;base64)?,(.*)$/s.exec(text(part.url));
      if (!data) continue;
      const mediaType = text(part.mime) || data[1] || 'application/octet-stream';
      const bytes = data[2] ? (data[3] as string) : Buffer.from(decodeURIComponent(data[3] as string)).toString('base64');
      items.push({ type: 'file', mediaType, data: bytes, ...(text(part.filename) ? { filename: text(part.filename) } : {}) });
    } else if (part.type === 'subtask') {
      const subtask = { agent: text(part.agent), description: text(part.description), command: text(part.command), prompt: text(part.prompt) };
      return { content: subtask.prompt, subtask };
    } else if (part.type === 'compaction') {
      return { content: 'What did we do so far?', compaction: true };
    }
  }
  if (added.length) return { content: items, added };
  const only = items.length === 1 ? items[0] : undefined;
  return { content: only?.type === 'text' ? only.text : items };
}

/** A turn's reply, built from its assistant messages' parts step by step. */
class Reply {
  readonly messages: SessionMessage[] = [];
  readonly steps: StepInfo[] = [];
  #content: Obj[] = [];
  #results: Obj[] = [];
  #diffs: Record<string, string> = {};
  #children: Record<string, string> = {};
  #titles: Record<string, string> = {};
  step(): void {
    this.#flush();
  }

  part(part: Obj, where: string, shape: Shape, model: string | undefined): void {
    switch (part.type) {
      case 'step-start':
        return this.step();
      case 'text':
      case 'reasoning':
        if (text(part.text)) this.#content.push({ type: part.type, text: text(part.text) });
        return;
      case 'tool':
        return this.#tool(part, where, shape);
      case 'step-finish': {
        const tokens = (part.tokens ?? {}) as Obj;
        // OpenCode's words are the AI SDK's (src/providers/finish-reason.ts); any other is `other`.
        const reason = part.reason === undefined ? undefined : finishWord(part.reason);
        this.steps.push({ provider: model?.split('/')[0] ?? '', model: model ?? '', usage: { inputTokens: count(tokens.input), outputTokens: count(tokens.output) }, ...(count(part.cost) ? { costUSD: count(part.cost) } : {}), ...(reason ? { reason } : {}) });
        this.#flush();
        return;
      }
      default:
        return;
    }
  }

  #tool(part: Obj, where: string, shape: Shape): void {
    const callID = shape.id(part.callID, `${where}.callID`);
    const tool = text(part.tool) || shape.fail(`${where}.tool`, 'the name of a tool');
    const state = shape.obj(part.state, `${where}.state`);
    const input = state.input !== null && typeof state.input === 'object' ? state.input : {};
    this.#content.push({ type: 'tool-call', toolCallId: callID, toolName: tool, input });
    const metadata = (state.metadata !== null && typeof state.metadata === 'object' ? state.metadata : {}) as Obj;
    const output = state.status === 'completed' ? { type: 'text', value: text(state.output) }
      : state.status === 'error' ? { type: 'error-text', value: text(state.error) || 'The tool failed.' }
      : { type: 'error-text', value: 'The tool call was interrupted.' };
    this.#results.push({ type: 'tool-result', toolCallId: callID, toolName: tool, output });
    if (state.status === 'completed' && text(state.title)) this.#titles[callID] = text(state.title);
    if (typeof metadata.diff === 'string') this.#diffs[callID] = metadata.diff;
    if (tool === 'task' && typeof metadata.sessionId === 'string' && isSessionId(metadata.sessionId)) this.#children[callID] = metadata.sessionId;
  }

  /** Ends the step: its assistant message, then its tool results. */
  #flush(): void {
    // A step with nothing to say is not a message.
    if (this.#content.length) this.messages.push({ role: 'assistant', content: this.#content });
    if (this.#results.length) {
      this.messages.push({
        role: 'tool',
        content: this.#results,
        ...(Object.keys(this.#diffs).length ? { diffs: this.#diffs } : {}),
        ...(Object.keys(this.#children).length ? { children: this.#children } : {}),
        ...(Object.keys(this.#titles).length ? { titles: this.#titles } : {}),
      });
    }
    this.#content = [];
    this.#results = [];
    this.#diffs = {};
    this.#children = {};
    this.#titles = {};
  }

  done(): void {
    this.#flush();
  }
}

interface Turn {
  user: Obj;
  userID: string;
  userParts: Obj[];
  replies: { info: Obj; parts: Obj[]; where: string }[];
}

/**
 * The session an export describes, in Pantheon's store's shape (not yet saved). Its id is the
 * export's; its project is `options.projectRoot`.
 */
export function importedSession(doc: unknown, options: ImportOptions): SessionRecord {
  const shape = new Shape(options.source);
  const top = shape.obj(doc, 'the document');
  const info = shape.obj(top.info, 'info');
  const id = typeof info.id === 'string' && isSessionId(info.id) ? info.id : shape.fail('info.id', 'a session id (ses_ and up to 100 letters, digits, `_` or `-`)');
  const messages = shape.list(top.messages, 'messages');
  const created = time((info.time as Obj | undefined)?.created, options.now);

  const turns: Turn[] = [];
  const byUser = new Map<string, Turn>();
  messages.forEach((entry, index) => {
    const where = `messages[${index}]`;
    const message = shape.obj(entry, where);
    const mInfo = shape.obj(message.info, `${where}.info`);
    const mid = shape.id(mInfo.id, `${where}.info.id`);
    const parts = shape.list(message.parts, `${where}.parts`).map((p, k) => shape.obj(p, `${where}.parts[${k}]`));
    if (mInfo.role === 'user') {
      const turn: Turn = { user: mInfo, userID: mid, userParts: parts, replies: [] };
      turns.push(turn);
      byUser.set(mid, turn);
    } else if (mInfo.role === 'assistant') {
      // OpenCode names the user message an answer replies to; an export of a hand-made session may not.
      const turn = (typeof mInfo.parentID === 'string' ? byUser.get(mInfo.parentID) : undefined) ?? turns.at(-1) ?? shape.fail(`${where}.info.parentID`, 'a user message before the first assistant message');
      turn.replies.push({ info: mInfo, parts, where });
    } else {
      shape.fail(`${where}.info.role`, '"user" or "assistant"');
    }
  });

  const out: SessionMessage[] = [];
  /** Each turn's messages, for its durable events (the v2 session history). */
  const turnMessages: SessionMessage[][] = [];
  const models = new Set<string>();
  let inputTokens = 0;
  let outputTokens = 0;
  let cost = 0;
  for (const turn of turns) {
    const userTime = time((turn.user.time as Obj | undefined)?.created, created);
    const userModel = (turn.user.model ?? {}) as Obj;
    const { content, added, subtask, compaction } = userContent(turn.userParts);
    const reply = new Reply();
    let usage = { inputTokens: 0, outputTokens: 0 };
    let replyCost = 0;
    let completed: number | undefined;
    let error: { code: string; message: string } | undefined;
    let model = modelLabel(userModel.providerID, userModel.modelID);
    for (const r of turn.replies) {
      const label = modelLabel(r.info.providerID, r.info.modelID) ?? model;
      model = label;
      r.parts.forEach((part, k) => reply.part(part, `${r.where}.parts[${k}]`, shape, label));
      reply.done();
      const tokens = (r.info.tokens ?? {}) as Obj;
      usage = { inputTokens: usage.inputTokens + count(tokens.input), outputTokens: usage.outputTokens + count(tokens.output) };
      replyCost += count(r.info.cost);
      const end = (r.info.time as Obj | undefined)?.completed;
      if (typeof end === 'number') completed = time(end, userTime);
      error = turnError(r.info.error) ?? error;
    }
    if (model) models.add(model);
    inputTokens += usage.inputTokens;
    outputTokens += usage.outputTokens;
    cost += replyCost;
    const first = turn.replies[0];
    const turnInfo: TurnInfo = {
      id: turn.userID,
      time: userTime,
      agent: text(turn.user.agent) || text(info.agent) || 'build',
      reply: {
        id: first ? shape.id(first.info.id, `${first.where}.info.id`) : newMessageId(userTime),
        ...(completed === undefined ? {} : { completed }),
        ...(model ? { provider: model.split('/')[0], model } : {}),
        usage,
        ...(replyCost ? { costUSD: replyCost } : {}),
        steps: reply.steps,
        ...(error ? { error } : {}),
        // A question never answered: no assistant message to show.
        ...(first ? {} : { removed: true as const }),
      },
      ...(subtask ? { subtask } : {}),
      ...(compaction ? { compaction } : {}),
    };
    const messagesOfTurn: SessionMessage[] = [{ role: 'user', content, info: turnInfo, ...(added ? { added } : {}) }, ...reply.messages];
    out.push(...messagesOfTurn);
    turnMessages.push(messagesOfTurn);
  }

  const parentID = typeof info.parentID === 'string' && isSessionId(info.parentID) && options.parentExists?.(info.parentID) ? info.parentID : undefined;
  const firstAgent = turns.find((t) => text(t.user.agent))?.user.agent;
  const record: SessionRecord = {
    id,
    projectRoot: options.projectRoot,
    agent: text(info.agent) || text(firstAgent) || 'build',
    title: text(info.title),
    createdAt: created,
    updatedAt: time((info.time as Obj | undefined)?.updated, created),
    messages: out,
    usage: { inputTokens, outputTokens },
    ...(cost ? { costUSD: cost } : {}),
    models: [...models],
    ...(parentID ? { parentID } : {}),
  };
  // Its history of durable events, as its turns would have written it had they run here.
  return turnMessages.reduce((r, turn) => appendEvents(r, turnEvents(id, turn)), record);
}

/**
 * OpenCode's share data (`GET /api/share/{slug}/data`: a list of `{type: "session" | "message" |
 * "part", data}`) as an export, or undefined when it holds no session or no message.
 */
export function exportFromShareData(data: unknown): { info: unknown; messages: { info: unknown; parts: unknown[] }[] } | undefined {
  if (!Array.isArray(data)) return undefined;
  const session = data.find((e) => (e as Obj | null)?.type === 'session') as Obj | undefined;
  if (!session) return undefined;
  const messages = new Map<string, unknown>();
  const parts = new Map<string, unknown[]>();
  for (const entry of data as (Obj | null)[]) {
    const item = entry?.data as Obj | undefined;
    if (!item || typeof item !== 'object') continue;
    if (entry?.type === 'message' && typeof item.id === 'string') messages.set(item.id, item);
    else if (entry?.type === 'part' && typeof item.messageID === 'string') {
      const list = parts.get(item.messageID) ?? [];
      list.push(item);
      parts.set(item.messageID, list);
    }
  }
  if (messages.size === 0) return undefined;
  return { info: session.data, messages: [...messages].map(([mid, info]) => ({ info, parts: parts.get(mid) ?? [] })) };
}
