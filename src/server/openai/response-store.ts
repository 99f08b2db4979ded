/**
 * Where the Responses API's stored responses live: this machine's SQLite file
 * (stored-responses.ts) when the config's `state` is local, the state's Redis
 * (stored-responses-redis.ts) when it is Redis, so that every server on that Redis sees every
 * response (a client behind a load balancer continues, reads, cancels or deletes a response on any
 * of them). Both keep the same things with the same bounds; this is what the routes call.
 */
import path from 'node:path';
import { sizeText } from '../../config/read-text.ts';
import { stateDir } from '../../paths.ts';
import { stateStoreOf } from '../../state/open-state.ts';
import { StateUnavailableError } from '../../state/redis-connection.ts';
import { HttpError } from '../http-error.ts';
import type { ServerState } from '../state.ts';

type Json = Record<string, unknown>;

export interface StoredResponse {
  id: string;
  /** Who made it (client-keys.ts `Client.owner`). */
  owner: string;
  createdAt: number;
  previousId?: string;
  /** The response object as the client got it (or, for a background one, as it is now). */
  response: Json;
  /** Its input items, each with an id, item references replaced by the items they name. */
  input: Json[];
  output: Json[];
}

export interface ItemsPage {
  data: Json[];
  hasMore: boolean;
}

/** Who runs a background response, when it last said it still does, and whether it was asked to stop. */
export interface RunInfo {
  runner: string;
  beat: number;
  cancel: boolean;
}

/** A background streamed response's events after a sequence number, and whether it still runs. */
export interface EventsPage {
  /** Each event's SSE frame (`event: …\ndata: …\n\n`), in order, its index its sequence number. */
  frames: string[];
  /** The response as it stands. */
  response: Json;
  /** It was made with `stream: true` (its events are kept). */
  streamed: boolean;
}

export interface SaveOptions {
  /** Save only while the stored response is still `queued` or `in_progress` (not cancelled or failed meanwhile). */
  ifRunning?: boolean;
  /** A background response's runner (kept with it until it is done). */
  run?: { runner: string; beat: number; streamed?: boolean };
}

/** The stored responses, whatever holds them: every method may throw an HttpError (a 404, a 400 naming the field, a 503). */
export interface ResponseStore {
  /** `responses.sqlite`'s path, or the Redis URL without credentials. */
  readonly description: string;
  /** Keeps a response and its items, all or nothing; false when `ifRunning` and it is no longer running. */
  save(stored: StoredResponse, options?: SaveOptions): Promise<boolean>;
  /** The response object and its run (a background one's), or a 404. */
  read(id: string, owner: string): Promise<{ response: Json; run?: RunInfo }>;
  /** Deletes a response and its items, or a 404. */
  delete(id: string, owner: string): Promise<void>;
  /** The conversation up to and including `id`, oldest first (a 400 naming `previous_response_id`). */
  conversation(id: string, owner: string): Promise<Json[]>;
  /** An item of one of the owner's responses by its id (the newest with that id). */
  item(itemId: string, owner: string): Promise<Json | undefined>;
  /** A page of a response's input items. */
  inputItems(id: string, owner: string, page: { after?: string; limit: number; order: 'asc' | 'desc' }): Promise<ItemsPage>;
  /** Replaces the response object while it is still running (cancelled, failed), keeping its items; `cancel` asks its runner to stop. False when it was no longer running. */
  settle(id: string, response: Json, options?: { cancel?: boolean }): Promise<boolean>;
  /** A background run says it still runs; true when it was asked to stop (cancelled elsewhere). */
  beat(id: string, at: number): Promise<boolean>;
  /** Appends a streamed background response's next SSE frames (counted in its bytes; dropped with it). */
  addEvents(id: string, frames: string[]): Promise<void>;
  /** The frames after sequence number `after` (-1: all), or a 404. */
  eventsAfter(id: string, owner: string, after: number): Promise<EventsPage>;
  close(): Promise<void>;
}

/** How long a response is kept (OpenAI's 30 days). */
export const RETENTION_MS = 30 * 24 * 3600 * 1000;
/** Responses kept at most (the oldest go first). */
export const MAX_RESPONSES = 100_000;
/** Responses a conversation read back may link through (`previous_response_id` after `previous_response_id`). */
export const MAX_CHAIN = 10_000;
/** The items of a conversation read back, at most (their JSON): the server's per-body limit. */
export const MAX_CHAIN_BYTES = 16 * 1024 * 1024;
/** The responses' and items' JSON kept at most, all keys together (the oldest go first). */
export const MAX_STORE_BYTES = 1024 * 1024 * 1024;

export interface StoreLimits {
  maxResponses: number;
  maxChain: number;
  maxChainBytes: number;
  maxStoreBytes: number;
}

export interface StoreLimitOptions {
  now?: () => number;
  maxResponses?: number;
  maxChain?: number;
  maxChainBytes?: number;
  maxStoreBytes?: number;
}

export const limitsOf = (options: StoreLimitOptions): StoreLimits => ({ maxResponses: options.maxResponses ?? MAX_RESPONSES, maxChain: options.maxChain ?? MAX_CHAIN, maxChainBytes: options.maxChainBytes ?? MAX_CHAIN_BYTES, maxStoreBytes: options.maxStoreBytes ?? MAX_STORE_BYTES });

/** An id as it may appear in a message: printable, at most 100 characters. */
export function shown(id: string): string {
  const clean = id.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 100 ? `${clean.slice(0, 100)}…` : clean;
}

export const notFound = (id: string, param: string | null, what = 'Response'): HttpError =>
  new HttpError(param ? 400 : 404, param ? 'PREVIOUS_RESPONSE_NOT_FOUND' : 'RESPONSE_NOT_FOUND', `${what} with id '${shown(id)}' not found.`, {
    hint: 'Responses are kept 30 days, for the API key that made them; one made with `store: false` is not kept.',
    details: { param },
  });

export const tooLong = (maxChain: number): HttpError =>
  new HttpError(400, 'BAD_REQUEST', `previous_response_id: the conversation behind it links more than ${maxChain} responses.`, { hint: 'Start a new conversation with the whole context as `input`.', details: { param: 'previous_response_id' } });

export const tooBig = (maxChainBytes: number): HttpError =>
  new HttpError(400, 'BAD_REQUEST', `previous_response_id: the conversation behind it is over ${sizeText(maxChainBytes)}.`, { hint: 'Start a new conversation with what matters of it as `input`.', details: { param: 'previous_response_id' } });

/** A page of input items (`items` oldest first, each its id and JSON), or a 400 naming `after`. */
export function itemsPage(id: string, items: { itemId: string; json: string }[], page: { after?: string; limit: number; order: 'asc' | 'desc' }): ItemsPage {
  const rows = page.order === 'asc' ? items : [...items].reverse();
  let start = 0;
  if (page.after !== undefined) {
    const at = rows.findIndex((r) => r.itemId === page.after);
    if (at < 0) throw new HttpError(400, 'BAD_REQUEST', `after: no input item '${shown(page.after)}' in response '${shown(id)}'.`, { hint: 'Give the id of an item of an earlier page (its last_id).', details: { param: 'after' } });
    start = at + 1;
  }
  const chosen = rows.slice(start, start + page.limit);
  return { data: chosen.map((r) => JSON.parse(r.json) as Json), hasMore: start + page.limit < rows.length };
}

export const stillRunning = (id: string): HttpError =>
  new HttpError(400, 'BAD_REQUEST', `previous_response_id: response '${shown(id)}' is still running (a background response), so it cannot be continued yet.`, { hint: 'Poll GET /v1/responses/{id} until its status is `completed`, then continue it.', details: { param: 'previous_response_id' } });

/** Whether a response's status says it has not finished. */
export const isRunning = (status: unknown): boolean => status === 'queued' || status === 'in_progress';

/** A Redis store that does not answer, as the 503 the request that needs it gets (the server serves the rest). */
export function storeUnavailable(error: StateUnavailableError): HttpError {
  const where = /^The state store (\S+) cannot be reached: (.*?)\.?$/s.exec(error.message);
  const message = where ? `The stored responses on ${where[1]} cannot be reached: ${where[2]}.` : `The stored responses cannot be reached: ${error.message.replace(/[.\s]+$/, '')}.`;
  return new HttpError(503, 'STORE_UNAVAILABLE', message, { hint: 'Send the whole conversation as `input` with `store: false`, or try again once the Redis server is back.', retryAfter: 1 });
}

/** How long opening a Redis store that could not be reached is not tried again. */
const REOPEN_AFTER_MS = 1000;

interface Opened {
  store?: ResponseStore;
  failure?: HttpError;
  failedAt?: number;
  opening?: Promise<ResponseStore>;
}

const opened = new WeakMap<ServerState, Opened>();

/** The file or Redis the server's config puts the stored responses in (a file that cannot be opened: an error naming it). */
async function open(state: ServerState): Promise<ResponseStore> {
  const instance = await state.host.instance();
  const where = stateStoreOf(instance.config.state, state.host.env);
  if (where.kind === 'redis' && where.url) {
    const { RedisResponseStore } = await import('./stored-responses-redis.ts');
    return RedisResponseStore.open(where.url, where.keyPrefix);
  }
  const { SqliteResponseStore } = await import('./stored-responses.ts');
  const file = path.join(stateDir(state.host.env), 'responses.sqlite');
  try {
    return new SqliteResponseStore(file);
  } catch (error) {
    throw new Error(`(${file}) cannot be opened: ${(error instanceof Error ? error.message : String(error)).replace(/[.\s]+$/, '')}`, { cause: error });
  }
}

/**
 * The stored responses of `state`'s server, opened on first use. A store that cannot be opened is
 * a 503 naming it (logged; a Redis one is tried again a second later, a file is not).
 */
export async function responseStoreOf(state: ServerState): Promise<ResponseStore | HttpError> {
  let entry = opened.get(state);
  if (!entry) opened.set(state, (entry = {}));
  if (entry.store) return entry.store;
  if (entry.failure && (entry.failedAt === undefined || Date.now() - entry.failedAt < REOPEN_AFTER_MS)) return entry.failure;
  const found = entry;
  found.opening ??= open(state);
  try {
    const store = await found.opening;
    found.store = store;
    found.failure = undefined;
    return store;
  } catch (error) {
    const redis = error instanceof StateUnavailableError;
    const why = (error instanceof Error ? error.message : String(error)).replace(/[.\s]+$/, '');
    const first = !found.failure;
    found.failure = redis ? storeUnavailable(error) : new HttpError(503, 'STORE_UNAVAILABLE', `The stored responses ${why}.`, { hint: 'Send the whole conversation as `input`, or fix the file and restart the server.' });
    if (first) state.log(`warning: t${found.failure.message.slice(1).replace(/\.$/, '')}; responses are answered with store: false until they can be kept.`);
    found.failedAt = redis ? Date.now() : undefined;
    return found.failure;
  } finally {
    found.opening = undefined;
  }
}

/** The stored responses, or the 503 that says why there are none. */
export async function requireResponseStore(state: ServerState): Promise<ResponseStore> {
  const found = await responseStoreOf(state);
  if (found instanceof HttpError) throw found;
  return found;
}

/** Closes the stored responses if they were opened (after the calls in flight have ended). */
export async function closeResponseStore(state: ServerState): Promise<void> {
  const entry = opened.get(state);
  opened.delete(state);
  const store = entry?.store ?? (await entry?.opening?.catch(() => undefined));
  await store?.close();
}
