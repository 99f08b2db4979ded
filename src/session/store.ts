import { randomBytes } from '../random-bytes.ts';
import fs from 'node:fs/promises';
import path from 'node:path';
import { PantheonError } from '../errors.ts';
import { writeFileAtomic, writeFileAtomicSync } from '../fs-atomic.ts';
import { stateDir } from '../paths.ts';
import { FormatProblem, decodeHeader, decodeSession, encodeMessage, encodeSession, type SessionHeader } from './file-format.ts';
import type { PermissionTable } from '../permissions/rules.ts';
import type { Todo } from '../run/todo-list.ts';
import { MAX_TITLE, oneLine, titleFrom } from './title.ts';
import { makeDir } from '../make-dir.ts';
import { withSaveLock } from './save-lock.ts';
import { takeFresh, type DurableEvent } from './durable-events.ts';
import type { RevertFile } from './revert-diff.ts';

export interface SessionMessage {
  role: 'user' | 'assistant' | 'tool' | 'system';
  /** AI SDK ModelMessage content: text, or a list of parts (text, file, tool-call, tool-result, …). */
  content: unknown;
  /** On a turn's user message: its id, time, agent and how the reply went (not sent to the model). */
  info?: TurnInfo;
  /** On a tool message: the unified patch of each `edit` or `write` call it answers, by call id (not sent to the model). */
  diffs?: Record<string, string>;
  /** On a tool message: the session of each `task` call it answers (its sub-task's), by call id (not sent to the model). */
  children?: Record<string, string>;
  /** On a tool message: the title a tool made of a call it answers (`webfetch`'s URL and content type), by call id (not sent to the model). */
  titles?: Record<string, string>;
  /** On a user message: its attachments as sent, in order (not sent to the model: its content has them). */
  files?: SessionFile[];
  /**
   * On a user message: the indexes of its content's items the server added after the user's own
   * (an `@`-mentioned MCP resource's texts, which clients get as OpenCode's synthetic parts, and an
   * image it holds); not sent to the model (its content has them).
   */
  added?: number[];
}

/** An attachment of a user message, as clients show it (OpenCode's file part). */
export interface SessionFile {
  /** What the message calls it. */
  filename: string;
  mime: string;
  /** Where it came from (`file://…`); left out for one sent as data (its data is in the content). */
  url?: string;
  /** A text file: the length of its block at the end of the message's text (the text before the blocks is the user's). */
  inlined?: number;
}

/** Usage and cost of one model call of a turn's top-level task. */
export interface StepInfo {
  provider: string;
  model: string;
  usage: SessionUsage;
  costUSD?: number;
  /** Why the step ended (the `step_finish` event's `reason`; steps saved before 0.3.0 have none). */
  reason?: string;
}

/** What a turn was and how it ended, kept on its user message (messages before 0.3.0 have none). */
export interface TurnInfo {
  id: string;
  /** When the turn started (ms). */
  time: number;
  agent: string;
  reply: {
    id: string;
    completed?: number;
    provider?: string;
    model?: string;
    /** The whole turn, delegated tasks included. */
    usage: SessionUsage;
    costUSD?: number;
    /** The top-level task's model calls, in order. */
    steps: StepInfo[];
    /** Why the turn did not succeed. */
    error?: { code: string; message: string };
    /** A client deleted the reply (its model messages are gone): session/message-edits.ts. */
    removed?: true;
  };
  /** A client deleted the user message: clients and the model no longer see it (session/message-edits.ts). */
  removed?: true;
  /** Parts of the turn's two messages a client deleted (`null`) or rewrote, by part id (session/message-edits.ts). */
  edits?: Record<string, Record<string, unknown> | null>;
  /** A command the user ran (OpenCode's shell, no model): its user message is OpenCode's synthetic note. */
  shell?: true;
  /** A summary of the session (OpenCode's compaction): the model sees nothing before this turn from then on. */
  compaction?: true;
  /** The server's own prompt (a background sub-task's end): its user message's text is a synthetic part. */
  synthetic?: true;
  /** A command run as a sub-task (OpenCode's `/review`): its user message is OpenCode's `subtask` part; the model was sent OpenCode's note. */
  subtask?: { agent: string; description: string; command: string; prompt: string };
}

export interface SessionUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface SessionRecord {
  id: string;
  /** The git root of the folder the run started in, or that folder outside a repository. */
  projectRoot: string;
  agent: string;
  /** One line; empty → the first user message, cut to about 60 characters. */
  title: string;
  createdAt: number;
  updatedAt: number;
  messages: SessionMessage[];
  usage: SessionUsage;
  costUSD?: number;
  /** Every model that answered in this session, `provider/model`. */
  models: string[];
  /** Approvals for tools whose permission is `ask`, in the session's server turns (see docs/server.md). */
  permission?: PermissionTable;
  /** The head model of every turn that names none (`provider/model[:variant]`). */
  model?: string;
  /** Added to the agent's system prompt in every turn. */
  system?: string;
  /** Labels to find the session by (`GET /api/v1/sessions?tags=`). */
  tags?: string[];
  /** The agent's task list (`todowrite`), as its last turn left it. */
  todos?: Todo[];
  /**
   * Reverted from the turn whose user message is `messageID` on (its files put back); its next turn
   * drops them (session/revert.ts). `files`: what the revert did to the files (revert-diff.ts; kept
   * in the file's body, not its header, so listings stay small).
   */
  revert?: { messageID: string; files?: RevertFile[] };
  /** The session whose `task` call made this one (OpenCode's child session: a sub-task's prompt and work). */
  parentID?: string;
  /** Its durable events, oldest first (durable-events.ts: added with appendEvents, written with the session). */
  events?: DurableEvent[];
}

export interface SessionSummary {
  id: string;
  projectRoot: string;
  agent: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  messageCount: number;
  usage: SessionUsage;
  costUSD?: number;
  models: string[];
  tags?: string[];
  revert?: { messageID: string };
  parentID?: string;
}

/** What SessionStore.update shows of a session's file as it is now. */
export interface SessionUpdateView {
  /** The file's header; undefined when there is no file. */
  header?: { updatedAt: number; messageCount: number };
  /** The whole file, read now. */
  load: () => Promise<SessionRecord>;
}

/** A file in the sessions folder that could not be read as a session. */
export interface SessionProblem {
  file: string;
  reason: string;
}

export interface SessionStoreOptions {
  /** The clock used by newId (default Date.now). */
  now?: () => number;
  /**
   * Saves write the file with blocking calls (writeFileAtomicSync: the same steps, fsync included),
   * for a process that runs one turn and has nothing else to do while it saves (`opencode run`).
   */
  blockingSaves?: boolean;
}

const ID_PATTERN = /^ses_[A-Za-z0-9_-]{1,100}$/;

/** Whether `value` is an id a session may be saved under (`ses_` and up to 100 letters, digits, `_` or `-`). */
export function isSessionId(value: string): boolean {
  return ID_PATTERN.test(value);
}
const FILE_PATTERN = /^ses_[A-Za-z0-9_-]{1,100}\.json$/;
const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
/** Bytes read per file by a listing; a header longer than this is read whole. */
const HEAD_BYTES = 4096;
/** Files read at once by a listing. */
const LIST_CONCURRENCY = 16;

/**
 * The file text of a loaded or saved session's messages (`[…]`), by its last message: a turn only
 * adds messages, so the next save serialises only those (a session used to be serialised whole on
 * every turn). Messages are never changed in place once saved. Keyed weakly: it goes with the record.
 */
const messagesText = new WeakMap<object, { count: number; json: string }>();
/** The keys a saved message has: a message with others (a file written by hand) is serialised anew. */
const MESSAGE_KEYS = new Set(['role', 'content', 'info', 'diffs', 'children', 'titles', 'files']);

/**
 * The file text of a loaded or saved session's events (`[…]`), by its last event, as for messages:
 * a save serialises only the events added since (an event is never changed once numbered), and cuts
 * the text of those dropped from the front at the cap.
 */
const eventsText = new WeakMap<object, { count: number; json: string }>();

function rememberEvents(events: readonly DurableEvent[] | undefined, json: string | undefined): void {
  const last = events?.at(-1);
  if (last && json !== undefined) eventsText.set(last, { count: (events as readonly DurableEvent[]).length, json });
}

function eventsJson(events: readonly DurableEvent[] | undefined): string | undefined {
  if (!events?.length) return undefined;
  // A save adds a turn's events (dozens): look back a little for the last one known.
  for (let known = events.length; known > 0 && known >= events.length - 512; known--) {
    const found = eventsText.get(events[known - 1] as DurableEvent);
    if (!found) continue;
    const dropped = found.count - known;
    if (dropped < 0) break;
    let prefix = found.json;
    if (dropped > 0) {
      // The oldest were dropped at the cap: the text from the first kept on (events are written id first).
      const at = prefix.indexOf(`{"id":${JSON.stringify((events[0] as DurableEvent).id)},"type":`);
      if (at < 0) break;
      prefix = `[${prefix.slice(at)}`;
    }
    const added = events.slice(known).map((e) => JSON.stringify(e));
    return added.length ? `${prefix.slice(0, -1)},${added.join(',')}]` : prefix;
  }
  return `[${events.map((e) => JSON.stringify(e)).join(',')}]`;
}

function remember(messages: readonly SessionMessage[], json: string): void {
  const last = messages.at(-1);
  if (last && typeof last === 'object') messagesText.set(last, { count: messages.length, json });
}

/** The messages' file text, reusing the text of the longest prefix already saved or loaded. */
function messagesJson(messages: readonly SessionMessage[]): string {
  // A turn adds a few messages: look back a little for the last one known.
  for (let known = messages.length; known > 0 && known >= messages.length - 64; known--) {
    const last = messages[known - 1] as SessionMessage;
    const found = messagesText.get(last);
    if (!found || found.count !== known) continue;
    if (known === messages.length) return found.json;
    messagesText.delete(last);
    const added = messages.slice(known).map((m) => encodeMessage(stored(m))).join(',');
    return `${found.json.slice(0, -1)}${found.json.length > 2 ? ',' : ''}${added}]`;
  }
  return `[${messages.map((m) => encodeMessage(stored(m))).join(',')}]`;
}

/** A message as the file holds it: its role, content, turn info, patches, child sessions, call titles and attachments, nothing else. */
function stored(m: SessionMessage): SessionMessage {
  return { role: m.role, content: m.content, ...(m.info ? { info: m.info } : {}), ...(m.diffs ? { diffs: m.diffs } : {}), ...(m.children ? { children: m.children } : {}), ...(m.titles ? { titles: m.titles } : {}), ...(m.files ? { files: m.files } : {}), ...(m.added ? { added: m.added } : {}) };
}

const LIST_HINT = '`opencode session list` shows the sessions of this project; `--all` shows every project\'s.';

function errnoCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
}

function notFound(id: string): PantheonError {
  return new PantheonError('USAGE', `session ${id} does not exist.`, { hint: LIST_HINT });
}

function corrupted(file: string, reason: string, cause?: unknown): PantheonError {
  return new PantheonError('STORE_ERROR', `The session file ${file} is unreadable: ${reason}.`, {
    hint: 'The file is left as it is; move it aside or delete it. `opencode session list` reports every unreadable session file.',
    cause,
  });
}

function summaryOf(h: SessionHeader): SessionSummary {
  const s: SessionSummary = {
    id: h.id,
    projectRoot: h.projectRoot,
    agent: h.agent,
    title: h.title,
    createdAt: h.createdAt,
    updatedAt: h.updatedAt,
    messageCount: h.messageCount,
    usage: { inputTokens: h.usage.inputTokens, outputTokens: h.usage.outputTokens },
    models: [...h.models],
  };
  if (h.costUSD !== undefined) s.costUSD = h.costUSD;
  if (h.tags !== undefined) s.tags = [...h.tags];
  if (h.revert !== undefined) s.revert = { messageID: h.revert.messageID };
  if (h.parentID !== undefined) s.parentID = h.parentID;
  return s;
}

/** Newest first: by updatedAt, then by id (ids sort by creation time). */
function newestFirst(a: SessionSummary, b: SessionSummary): number {
  return b.updatedAt - a.updatedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Sessions under `$XDG_DATA_HOME/pantheon/sessions/`, one file per session (`<id>.json`, mode 0600,
 * folder 0700). Saves are atomic (temp file, fsync, rename), so readers and a crash only ever see a
 * whole file; two processes saving the same session: the last rename wins. Listings read only each
 * file's first line (see file-format.ts), so no shared index has to be kept consistent.
 */
export class SessionStore {
  readonly dir: string;
  readonly #now: () => number;
  readonly #blocking: boolean;
  #lastTime = 0;
  #dirReady: Promise<void> | undefined;
  /** Who is told of each session's events once they are written (watch). */
  readonly #watchers = new Map<string, Set<(events: readonly DurableEvent[]) => void>>();

  constructor(dir: string, options: SessionStoreOptions = {}) {
    this.dir = path.resolve(dir);
    this.#now = options.now ?? Date.now;
    this.#blocking = options.blockingSaves ?? false;
  }

  static open(env: NodeJS.ProcessEnv = process.env, options: SessionStoreOptions = {}): SessionStore {
    return new SessionStore(path.join(stateDir(env), 'sessions'), options);
  }

  /** `ses_` + 12 hex digits of the time in ms (increasing within a process) + 12 random characters. */
  newId(): string {
    const time = Math.max(this.#now(), this.#lastTime + 1);
    this.#lastTime = time;
    const random = [...randomBytes(12)].map((b) => ID_ALPHABET[b % ID_ALPHABET.length]).join('');
    return `ses_${time.toString(16).padStart(12, '0')}${random}`;
  }

  /**
   * Calls `listener` with the events of session `id` each save of this store writes, after the file
   * is written (so a load begun after the call sees them); returns what stops it. Saves by another
   * process are not seen.
   */
  watch(id: string, listener: (events: readonly DurableEvent[]) => void): () => void {
    let set = this.#watchers.get(id);
    if (!set) this.#watchers.set(id, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.#watchers.get(id) === set) this.#watchers.delete(id);
    };
  }

  /** How many listeners watch session `id` (a stream that ended must leave none behind). */
  watching(id: string): number {
    return this.#watchers.get(id)?.size ?? 0;
  }

  #announce(id: string, events: readonly DurableEvent[]): void {
    for (const listener of [...(this.#watchers.get(id) ?? [])]) {
      try {
        listener(events);
      } catch {
        // A listener's failure is its own; the save is done.
      }
    }
  }

  /** The file that holds session `id`. */
  fileOf(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  async load(id: string): Promise<SessionRecord> {
    if (!ID_PATTERN.test(id)) throw notFound(id);
    const file = this.fileOf(id);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') throw notFound(id);
      throw corrupted(file, `cannot read it (${errnoCode(error)})`, error);
    }
    try {
      const { header, messages, messagesJson: json, events, eventsJson: eventsText, revertFiles } = decodeSession(text, id);
      if (json !== undefined && (messages as object[]).every((m) => Object.keys(m).every((k) => MESSAGE_KEYS.has(k)))) remember(messages as SessionMessage[], json);
      const record: SessionRecord = {
        id: header.id,
        projectRoot: header.projectRoot,
        agent: header.agent,
        title: header.title,
        createdAt: header.createdAt,
        updatedAt: header.updatedAt,
        messages: messages as SessionMessage[],
        usage: { inputTokens: header.usage.inputTokens, outputTokens: header.usage.outputTokens },
        models: [...header.models],
      };
      if (header.costUSD !== undefined) record.costUSD = header.costUSD;
      if (header.permission !== undefined) record.permission = header.permission;
      if (header.model !== undefined) record.model = header.model;
      if (header.system !== undefined) record.system = header.system;
      if (header.tags !== undefined) record.tags = header.tags;
      if (header.todos !== undefined) record.todos = header.todos;
      if (header.revert !== undefined) record.revert = { messageID: header.revert.messageID, ...(revertFiles ? { files: revertFiles } : {}) };
      if (header.parentID !== undefined) record.parentID = header.parentID;
      if (events?.length) {
        record.events = events;
        rememberEvents(events, eventsText);
      }
      return record;
    } catch (error) {
      if (error instanceof FormatProblem) throw corrupted(file, error.message, error);
      throw error;
    }
  }

  /** The most recently updated session of `projectRoot` that is no other's child, or undefined when it has none. */
  async latest(projectRoot: string): Promise<SessionRecord | undefined> {
    return (await this.latestChecked(projectRoot)).record;
  }

  /**
   * The latest session of `projectRoot`, and the files that could not be read to tell (any of which
   * may have been a newer session of the project: `--continue` says so rather than going on quietly
   * with an older one).
   */
  async latestChecked(projectRoot: string): Promise<{ record: SessionRecord | undefined; problems: SessionProblem[] }> {
    const { sessions, problems } = await this.list({ projectRoot });
    const newest = sessions.find((s) => s.parentID === undefined);
    return { record: newest && (await this.load(newest.id)), problems };
  }

  /**
   * Makes the sessions folder ready (created, 0700) in the background, so that a save later is the
   * file's own writes only (a turn starts this before its model answers). A failure here is not
   * reported: the save tries again and reports its own.
   */
  prepare(): void {
    this.#ensureDir().catch(() => undefined);
  }

  /** Writes the record atomically. Only the record's own fields are written, never anything else. */
  async save(record: SessionRecord): Promise<void> {
    if (!ID_PATTERN.test(record.id)) {
      throw new PantheonError('STORE_ERROR', `Cannot save a session with the id "${record.id}": ids look like ses_….`, {
        hint: 'Take ids from SessionStore.newId().',
      });
    }
    const messages = record.messages;
    const json = messagesJson(messages);
    const header: SessionHeader = {
      id: record.id,
      projectRoot: path.resolve(record.projectRoot),
      agent: record.agent,
      title: record.title.trim() ? oneLine(record.title, MAX_TITLE) : titleFrom(messages),
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      messageCount: messages.length,
      usage: { inputTokens: record.usage.inputTokens, outputTokens: record.usage.outputTokens },
      ...(record.costUSD === undefined ? {} : { costUSD: record.costUSD }),
      models: [...record.models],
      ...(record.permission ? { permission: record.permission } : {}),
      ...(record.model ? { model: record.model } : {}),
      ...(record.system ? { system: record.system } : {}),
      ...(record.tags?.length ? { tags: record.tags } : {}),
      ...(record.todos?.length ? { todos: record.todos } : {}),
      ...(record.revert ? { revert: { messageID: record.revert.messageID } } : {}),
      ...(record.parentID ? { parentID: record.parentID } : {}),
    };
    const file = this.fileOf(record.id);
    try {
      await this.#ensureDir();
      const events = eventsJson(record.events);
      const text = encodeSession(header, messages, json, events, record.revert?.files);
      if (this.#blocking) writeFileAtomicSync(file, text, 0o600);
      else await writeFileAtomic(file, text, 0o600);
      remember(messages, json);
      rememberEvents(record.events, events);
      const added = takeFresh(record);
      if (added?.length) this.#announce(record.id, added);
    } catch (error) {
      throw new PantheonError('STORE_ERROR', `Cannot save session ${record.id} to ${file} (${errnoCode(error)}).`, {
        hint: `Check that ${this.dir} is writable and the disk is not full.`,
        cause: error,
      });
    }
  }

  /**
   * Read-modify-write of session `id`, one process at a time (save-lock.ts): `change` gets the
   * file's header as it is now (undefined: no file) and a way to load the whole of it, and returns
   * the record to save. So two processes adding turns to one session both keep theirs.
   */
  async update(id: string, change: (now: SessionUpdateView) => SessionRecord | Promise<SessionRecord>): Promise<SessionRecord> {
    const file = this.fileOf(id);
    try {
      await this.#ensureDir();
    } catch (error) {
      throw new PantheonError('STORE_ERROR', `Cannot save session ${id} to ${file} (${errnoCode(error)}).`, { hint: `Check that ${this.dir} is writable.`, cause: error });
    }
    if (!ID_PATTERN.test(id)) {
      // save() refuses the id, as it names no file of this folder.
      const record = await change({ load: () => this.load(id) });
      await this.save(record);
      return record;
    }
    const work = async (): Promise<SessionRecord> => {
      const read = await this.#readHeader(`${id}.json`);
      if (read && 'reason' in read) throw corrupted(file, read.reason);
      const record = await change({ ...(read ? { header: { updatedAt: read.updatedAt, messageCount: read.messageCount } } : {}), load: () => this.load(id) });
      await this.save(record);
      return record;
    };
    try {
      return await withSaveLock(file, work);
    } catch (error) {
      if (error instanceof PantheonError) throw error;
      // The lock file itself could not be made or removed (a read-only folder, a full disk).
      throw new PantheonError('STORE_ERROR', `Cannot save session ${id} to ${file} (${errnoCode(error)}).`, {
        hint: `Check that ${this.dir} is writable and the disk is not full.`,
        cause: error,
      });
    }
  }

  /** Deletes a session's file; an unknown id is SESSION_NOT_FOUND-like usage error from load(). */
  async remove(id: string): Promise<void> {
    if (!ID_PATTERN.test(id)) throw notFound(id);
    try {
      await fs.unlink(this.fileOf(id));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') throw notFound(id);
      throw new PantheonError('STORE_ERROR', `Cannot delete session ${id} (${errnoCode(error)}).`, { hint: `Check that ${this.dir} is writable.`, cause: error });
    }
  }

  /** Sessions newest first (of one project, or all); unreadable files are reported, never thrown. */
  async list(opts: { projectRoot?: string } = {}): Promise<{ sessions: SessionSummary[]; problems: SessionProblem[] }> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return { sessions: [], problems: [] };
      throw new PantheonError('STORE_ERROR', `Cannot read the sessions folder ${this.dir} (${errnoCode(error)}).`, { cause: error });
    }
    const files = names.filter((n) => FILE_PATTERN.test(n)).sort();
    const read = await mapLimited(files, LIST_CONCURRENCY, (name) => this.#readHeader(name));
    const root = opts.projectRoot === undefined ? undefined : path.resolve(opts.projectRoot);
    const sessions: SessionSummary[] = [];
    const problems: SessionProblem[] = [];
    for (const r of read) {
      if (r === undefined) continue;
      if ('reason' in r) problems.push(r);
      else if (root === undefined || r.projectRoot === root) sessions.push(summaryOf(r));
    }
    return { sessions: sessions.sort(newestFirst), problems };
  }

  /** One file's header; a problem when unreadable; undefined when it vanished meanwhile. */
  async #readHeader(name: string): Promise<SessionHeader | SessionProblem | undefined> {
    const file = path.join(this.dir, name);
    const id = name.slice(0, -'.json'.length);
    let handle;
    try {
      handle = await fs.open(file, 'r');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      return { file, reason: `cannot read it (${errnoCode(error)})` };
    }
    try {
      const { size } = await handle.stat();
      const head = Buffer.alloc(Math.min(HEAD_BYTES, size));
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      const header = decodeHeader(head.subarray(0, bytesRead), size, id);
      if (header) return header;
      // A header longer than HEAD_BYTES: read the whole file.
      const whole = Buffer.alloc(size);
      await handle.read(whole, 0, size, 0);
      return decodeHeader(whole, size, id) ?? { file, reason: 'not a session file (no header line)' };
    } catch (error) {
      if (error instanceof FormatProblem) return { file, reason: error.message };
      return { file, reason: `cannot read it (${errnoCode(error)})` };
    } finally {
      await handle.close();
    }
  }

  #ensureDir(): Promise<void> {
    this.#dirReady ??= (async () => {
      await makeDir(this.dir, 0o700);
      await fs.chmod(this.dir, 0o700);
    })().catch((error: unknown) => {
      this.#dirReady = undefined;
      throw error;
    });
    return this.#dirReady;
  }
}
