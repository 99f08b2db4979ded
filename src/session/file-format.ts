/**
 * The on-disk form of one session: a single JSON document laid out on lines so that a listing can
 * read the first line alone.
 *
 *   {"format":"pantheon-session/1","bodyBytes":N,"session":{id, projectRoot, agent, title, …, messageCount},
 *   "revertFiles":[…],
 *   "events":[…],
 *   "messages":[…]}
 *
 * Line 1 (the header) ends with a comma; replacing it with `}` makes it a JSON document of its own.
 * The revertFiles line (what a revert did to the files, revert-diff.ts) is there only while the
 * session is reverted; the events line (its durable events, durable-events.ts) only when it has some.
 * `bodyBytes` is the byte length of what follows line 1, so a listing detects a truncated or extended
 * file from its size without reading the messages.
 */
import type { PermissionTable } from '../permissions/rules.ts';
import type { Todo } from '../run/todo-list.ts';
import { isEventList, type DurableEvent } from './durable-events.ts';
import type { RevertFile } from './revert-diff.ts';

export const FORMAT = 'pantheon-session/1';

/** What a listing shows: everything but the messages. */
export interface SessionHeader {
  id: string;
  projectRoot: string;
  agent: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  messageCount: number;
  usage: { inputTokens: number; outputTokens: number };
  costUSD?: number;
  models: string[];
  /** Approval rules for `ask` tools in server turns. */
  permission?: PermissionTable;
  /** The session's own model and system prompt for its turns, and its tags (the REST API's PATCH). */
  model?: string;
  system?: string;
  tags?: string[];
  /** The agent's task list (`todowrite`). */
  todos?: Todo[];
  /** Reverted from this turn on (OpenCode's revert). */
  revert?: { messageID: string };
  /** The session whose `task` call made this one. */
  parentID?: string;
}

/** Binary parts (image attachments) are stored as base64 text, which the AI SDK takes as file data. */
function replacer(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  if (raw instanceof Uint8Array) return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
  if (raw instanceof ArrayBuffer) return Buffer.from(raw).toString('base64');
  return value;
}

/** One message as the file holds it (the same text as its place in `JSON.stringify(messages)`). */
export function encodeMessage(message: unknown): string {
  return JSON.stringify(message, replacer);
}

/**
 * The file's text; `messagesJson`, when given, is `messages` already serialised (see store.ts).
 * `eventsJson`, the session's durable events (durable-events.ts) serialised, is a line of its own
 * between the header and the messages (left out when the session has none), after `revertFiles`'s.
 */
export function encodeSession(header: SessionHeader, messages: unknown[], messagesJson?: string, eventsJson?: string, revertFiles?: readonly RevertFile[]): string {
  const revert = revertFiles && header.revert ? `"revertFiles":${JSON.stringify(revertFiles)},\n` : '';
  const body = `${revert}${eventsJson ? `"events":${eventsJson},\n` : ''}"messages":${messagesJson ?? JSON.stringify(messages, replacer)}}\n`;
  const bodyBytes = Buffer.byteLength(body);
  return `{"format":${JSON.stringify(FORMAT)},"bodyBytes":${bodyBytes},"session":${JSON.stringify(header, replacer)},\n${body}`;
}

/** Why a file is not a session, as a short phrase ("not JSON: …", "missing \"session.id\""). */
export class FormatProblem extends Error {}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function need(ok: boolean, what: string): void {
  if (!ok) throw new FormatProblem(what);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** Checks the header's fields; throws FormatProblem naming the first bad one. */
export function checkHeader(value: unknown, expectedId: string): SessionHeader {
  need(isObject(value), 'no "session" object');
  const s = value as Record<string, unknown>;
  for (const key of ['id', 'projectRoot', 'agent', 'title'] as const) need(typeof s[key] === 'string', `"session.${key}" is not text`);
  need(s.id === expectedId, `it holds session "${String(s.id)}", not ${expectedId}`);
  for (const key of ['createdAt', 'updatedAt', 'messageCount'] as const) need(isCount(s[key]), `"session.${key}" is not a number`);
  const usage = s.usage as Record<string, unknown> | undefined;
  need(isObject(usage) && isCount(usage.inputTokens) && isCount(usage.outputTokens), '"session.usage" is not {inputTokens, outputTokens}');
  need(s.costUSD === undefined || isCount(s.costUSD), '"session.costUSD" is not a number');
  need(Array.isArray(s.models) && s.models.every((m) => typeof m === 'string'), '"session.models" is not a list of model names');
  need(s.permission === undefined || isObject(s.permission), '"session.permission" is not an object');
  for (const key of ['model', 'system'] as const) need(s[key] === undefined || typeof s[key] === 'string', `"session.${key}" is not text`);
  need(s.tags === undefined || (Array.isArray(s.tags) && s.tags.every((t) => typeof t === 'string')), '"session.tags" is not a list of tags');
  need(s.todos === undefined || (Array.isArray(s.todos) && s.todos.every(isTodo)), '"session.todos" is not a list of {id, content, status, priority}');
  need(s.revert === undefined || (isObject(s.revert) && typeof s.revert.messageID === 'string'), '"session.revert" is not {messageID}');
  need(s.parentID === undefined || isParentId(s.parentID), '"session.parentID" is not a session id');
  return s as unknown as SessionHeader;
}

/** A session id as OpenCode's POST /session takes a parent's: `ses…` (here also: at most 200 characters, none a control character). */
export function isParentId(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 200 && value.startsWith('ses') && !/\p{Cc}/u.test(value);
}

function isRevertFile(value: unknown): boolean {
  if (!isObject(value)) return false;
  return typeof value.file === 'string' && ['added', 'deleted', 'modified'].includes(value.status as string) && isCount(value.additions) && isCount(value.deletions) && typeof value.patch === 'string';
}

function isTodo(value: unknown): boolean {
  if (!isObject(value)) return false;
  return ['id', 'content', 'status', 'priority'].every((key) => typeof value[key] === 'string');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const why = (error as Error).message.replace(/\s+/g, ' ').trim();
    throw new FormatProblem(`not valid JSON (${why.length > 120 ? `${why.slice(0, 119)}…` : why})`);
  }
}

function checkEnvelope(doc: unknown): Record<string, unknown> {
  need(isObject(doc), 'not a JSON object');
  const d = doc as Record<string, unknown>;
  need(d.format === FORMAT, `format is ${JSON.stringify(d.format)}, expected "${FORMAT}"`);
  return d;
}

/**
 * Parses a whole file: header and messages, checked against each other. `messagesJson` is the
 * messages' own text in the file (`[…]`), when the file is laid out as encodeSession writes it.
 */
export function decodeSession(text: string, expectedId: string): { header: SessionHeader; messages: unknown[]; messagesJson?: string; events?: DurableEvent[]; eventsJson?: string; revertFiles?: RevertFile[] } {
  const doc = checkEnvelope(parseJson(text));
  const header = checkHeader(doc.session, expectedId);
  need(doc.revertFiles === undefined || (Array.isArray(doc.revertFiles) && doc.revertFiles.every(isRevertFile)), '"revertFiles" is not a list of {file, status, additions, deletions, patch}');
  need(doc.events === undefined || isEventList(doc.events), '"events" is not a list of {id, type, seq, data} in ascending seq');
  need(Array.isArray(doc.messages), '"messages" is not a list');
  const messages = doc.messages as unknown[];
  need(messages.length === header.messageCount, `it lists ${header.messageCount} messages but holds ${messages.length}`);
  const body = text.indexOf('\n"messages":[') + 1;
  const messagesJson = body > 0 && text.endsWith(']}\n') ? text.slice(body + '"messages":'.length, -2) : undefined;
  const eventsAt = doc.events === undefined ? -1 : text.indexOf('\n"events":[');
  const eventsJson = eventsAt >= 0 && body > eventsAt ? text.slice(eventsAt + '\n"events":'.length, body - ',\n'.length) : undefined;
  const revertFiles = header.revert && doc.revertFiles !== undefined ? { revertFiles: doc.revertFiles as RevertFile[] } : {};
  return { header, messages, ...(messagesJson === undefined ? {} : { messagesJson }), ...(doc.events === undefined ? {} : { events: doc.events as DurableEvent[], ...(eventsJson === undefined ? {} : { eventsJson }) }), ...revertFiles };
}

/**
 * Parses the header from the start of a file (`head`, at least its first line) and checks the file's
 * size against it. Returns undefined when `head` holds no complete first line (the caller reads more).
 */
export function decodeHeader(head: Buffer, fileSize: number, expectedId: string): SessionHeader | undefined {
  const newline = head.indexOf(0x0a);
  if (newline < 0) {
    if (head.length >= fileSize) throw new FormatProblem('not a session file (no header line)');
    return undefined;
  }
  const line = head.subarray(0, newline).toString('utf8');
  need(line.endsWith(','), 'not a session file (its first line is not a session header)');
  const doc = checkEnvelope(parseJson(`${line.slice(0, -1)}}`));
  need(isCount(doc.bodyBytes), '"bodyBytes" is not a number');
  const expected = newline + 1 + (doc.bodyBytes as number);
  need(expected === fileSize, `it is ${fileSize} bytes long, expected ${expected} (cut off or appended to)`);
  return checkHeader(doc.session, expectedId);
}
