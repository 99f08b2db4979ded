/**
 * The Responses API's stored responses (`store`, which OpenAI's API defaults to true): each
 * response the gateway completes is kept with its input and output items in
 * `$XDG_DATA_HOME/pantheon/responses.sqlite` (node:sqlite, WAL; shared by the servers of this
 * machine), so a client can continue a conversation with `previous_response_id`, point at an earlier
 * item with `item_reference`, read a response again, list its input items, or delete it. A response
 * belongs to the key that made it (a `server.keys` entry; the server password and an open server
 * are one client): another key sees none of it. Kept 30 days, as OpenAI keeps them, and at most
 * MAX_RESPONSES and MAX_STORE_BYTES (the oldest go first); the file is the user's alone (0600). A
 * conversation read back is bounded (MAX_CHAIN links, MAX_CHAIN_BYTES of items: what one request
 * body may hold, so a continued conversation costs no more memory than one sent whole).
 * Nothing here knows HTTP but the errors it throws.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { sizeText } from '../../config/read-text.ts';
import { makeDirSync } from '../../make-dir.ts';
import { stateDir } from '../../paths.ts';
import { retryBusy, useWal } from '../../state/sqlite-busy.ts';
import { HttpError } from '../http-error.ts';
import type { ServerState } from '../state.ts';

type Json = Record<string, unknown>;

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
const BUSY_TIMEOUT_MS = 5000;
/** Saves between two prunings of what is past its time or over the count. */
const PRUNE_EVERY = 256;

export interface StoredResponse {
  id: string;
  /** Who made it (client-keys.ts `Client.owner`). */
  owner: string;
  createdAt: number;
  previousId?: string;
  /** The response object as the client got it. */
  response: Json;
  /** Its input items, each with an id, item references replaced by the items they name. */
  input: Json[];
  output: Json[];
}

export interface ItemsPage {
  data: Json[];
  hasMore: boolean;
}

const notFound = (id: string, param: string | null, what = 'Response'): HttpError =>
  new HttpError(param ? 400 : 404, param ? 'PREVIOUS_RESPONSE_NOT_FOUND' : 'RESPONSE_NOT_FOUND', `${what} with id '${shown(id)}' not found.`, {
    hint: 'Responses are kept 30 days, for the API key that made them; one made with `store: false` is not kept.',
    details: { param },
  });

function shown(id: string): string {
  const clean = id.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 100 ? `${clean.slice(0, 100)}…` : clean;
}

export interface StoredResponsesOptions {
  now?: () => number;
  maxResponses?: number;
  maxChain?: number;
  maxChainBytes?: number;
  maxStoreBytes?: number;
}

export class StoredResponses {
  readonly #db: DatabaseSync;
  readonly #now: () => number;
  readonly #limits: { maxResponses: number; maxChain: number; maxChainBytes: number; maxStoreBytes: number };
  /** The bytes kept, as of the last pruning plus this process's saves since. */
  #bytes = 0;
  #saves = 0;
  readonly #insertResponse: StatementSync;
  readonly #insertItem: StatementSync;
  readonly #getResponse: StatementSync;
  readonly #itemsOf: StatementSync;

  constructor(file: string, options: StoredResponsesOptions = {}) {
    makeDirSync(path.dirname(file), 0o700);
    const db = new DatabaseSync(file, { timeout: BUSY_TIMEOUT_MS });
    this.#db = db;
    this.#now = options.now ?? Date.now;
    this.#limits = { maxResponses: options.maxResponses ?? MAX_RESPONSES, maxChain: options.maxChain ?? MAX_CHAIN, maxChainBytes: options.maxChainBytes ?? MAX_CHAIN_BYTES, maxStoreBytes: options.maxStoreBytes ?? MAX_STORE_BYTES };
    useWal(db, BUSY_TIMEOUT_MS);
    // A save is a commit to the WAL without waiting for the disk (as the ledger and the cache do):
    // it survives the process's end; a power cut may lose the last few, never half of one.
    db.exec('PRAGMA synchronous = NORMAL');
    retryBusy(
      () =>
        db.exec(`CREATE TABLE IF NOT EXISTS responses (id TEXT PRIMARY KEY, owner TEXT NOT NULL, created_at INTEGER NOT NULL, previous_id TEXT, response TEXT NOT NULL, bytes INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX IF NOT EXISTS responses_by_age ON responses (created_at);
        CREATE TABLE IF NOT EXISTS items (response_id TEXT NOT NULL, seq INTEGER NOT NULL, item_id TEXT NOT NULL, owner TEXT NOT NULL, output INTEGER NOT NULL, item TEXT NOT NULL, PRIMARY KEY (response_id, seq)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS items_by_id ON items (item_id, owner);`),
      BUSY_TIMEOUT_MS,
    );
    // Prompts and answers: nobody else's to read (SQLite gives its -wal and -shm files the same mode).
    fs.chmodSync(file, 0o600);
    this.#insertResponse = db.prepare('INSERT OR REPLACE INTO responses (id, owner, created_at, previous_id, response, bytes) VALUES (?, ?, ?, ?, ?, ?)');
    this.#insertItem = db.prepare('INSERT OR REPLACE INTO items (response_id, seq, item_id, owner, output, item) VALUES (?, ?, ?, ?, ?, ?)');
    this.#getResponse = db.prepare('SELECT owner, created_at, previous_id, response FROM responses WHERE id = ?');
    this.#itemsOf = db.prepare('SELECT item FROM items WHERE response_id = ? ORDER BY seq');
    this.prune();
  }

  /** Keeps a response and its items (one transaction: all or nothing). */
  save(stored: StoredResponse): void {
    const db = this.#db;
    db.exec('BEGIN IMMEDIATE');
    try {
      const response = JSON.stringify(stored.response);
      let bytes = response.length;
      let seq = 0;
      const items = [...stored.input.map((item) => [item, 0] as const), ...stored.output.map((item) => [item, 1] as const)].map(([item, output]) => {
        const json = JSON.stringify(item);
        bytes += json.length;
        return { id: String(item.id ?? ''), output, json };
      });
      this.#insertResponse.run(stored.id, stored.owner, stored.createdAt, stored.previousId ?? null, response, bytes);
      for (const item of items) this.#insertItem.run(stored.id, seq++, item.id, stored.owner, item.output, item.json);
      db.exec('COMMIT');
      this.#bytes += bytes;
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
    if (++this.#saves % PRUNE_EVERY === 0 || this.#bytes > this.#limits.maxStoreBytes) this.prune();
  }

  #row(id: string, owner: string): { created_at: number; previous_id: string | null; response: string } | undefined {
    const row = this.#getResponse.get(id) as { owner: string; created_at: number; previous_id: string | null; response: string } | undefined;
    if (!row || row.owner !== owner || row.created_at < this.#now() - RETENTION_MS) return undefined;
    return row;
  }

  /** The response object, or a 404 (none, another key's, or past its time). */
  get(id: string, owner: string): Json {
    const row = this.#row(id, owner);
    if (!row) throw notFound(id, null);
    return JSON.parse(row.response) as Json;
  }

  /** Deletes a response and its items, or a 404. Later responses that continued it can no longer be continued. */
  delete(id: string, owner: string): void {
    if (!this.#row(id, owner)) throw notFound(id, null);
    const db = this.#db;
    db.exec('BEGIN IMMEDIATE');
    try {
      db.prepare('DELETE FROM items WHERE response_id = ?').run(id);
      db.prepare('DELETE FROM responses WHERE id = ?').run(id);
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }

  /**
   * The conversation up to and including response `id`: every response of its chain, oldest
   * first, its input items then its output items. A 400 naming `previous_response_id` when it, or a
   * link of its chain, is not here; or when the chain is over MAX_CHAIN links or MAX_CHAIN_BYTES.
   */
  conversation(id: string, owner: string): Json[] {
    const { maxChain, maxChainBytes } = this.#limits;
    const parts: string[][] = [];
    let bytes = 0;
    let at: string | null = id;
    while (at !== null) {
      const row = this.#row(at, owner);
      if (!row) throw at === id ? notFound(id, 'previous_response_id', 'Previous response') : notFound(at, 'previous_response_id', `Response ${shown(id)} continues a response that is gone (deleted or past its time):`);
      if (parts.length >= maxChain) throw new HttpError(400, 'BAD_REQUEST', `previous_response_id: the conversation behind it links more than ${maxChain} responses.`, { hint: 'Start a new conversation with the whole context as `input`.', details: { param: 'previous_response_id' } });
      const items = (this.#itemsOf.all(at) as { item: string }[]).map((r) => r.item);
      for (const item of items) bytes += item.length;
      if (bytes > maxChainBytes) throw new HttpError(400, 'BAD_REQUEST', `previous_response_id: the conversation behind it is over ${sizeText(maxChainBytes)}.`, { hint: 'Start a new conversation with what matters of it as `input`.', details: { param: 'previous_response_id' } });
      parts.push(items);
      at = row.previous_id;
    }
    const out: Json[] = [];
    for (let i = parts.length - 1; i >= 0; i--) for (const item of parts[i] as string[]) out.push(JSON.parse(item) as Json);
    return out;
  }

  /** An item of one of the owner's responses by its id (the newest with that id), or undefined. */
  item(itemId: string, owner: string): Json | undefined {
    const rows = this.#db.prepare('SELECT i.item, r.created_at FROM items i JOIN responses r ON r.id = i.response_id WHERE i.item_id = ? AND i.owner = ? ORDER BY r.created_at DESC LIMIT 1').all(itemId, owner) as { item: string; created_at: number }[];
    const row = rows[0];
    if (!row || row.created_at < this.#now() - RETENTION_MS) return undefined;
    return JSON.parse(row.item) as Json;
  }

  /** A page of a response's input items: newest first (`desc`) or oldest first, after the item `after`. */
  inputItems(id: string, owner: string, page: { after?: string; limit: number; order: 'asc' | 'desc' }): ItemsPage {
    if (!this.#row(id, owner)) throw notFound(id, null);
    const rows = this.#db.prepare(`SELECT seq, item_id, item FROM items WHERE response_id = ? AND output = 0 ORDER BY seq ${page.order === 'asc' ? 'ASC' : 'DESC'}`).all(id) as { seq: number; item_id: string; item: string }[];
    let start = 0;
    if (page.after !== undefined) {
      const at = rows.findIndex((r) => r.item_id === page.after);
      if (at < 0) throw new HttpError(400, 'BAD_REQUEST', `after: no input item '${shown(page.after)}' in response '${shown(id)}'.`, { hint: 'Give the id of an item of an earlier page (its last_id).', details: { param: 'after' } });
      start = at + 1;
    }
    const chosen = rows.slice(start, start + page.limit);
    return { data: chosen.map((r) => JSON.parse(r.item) as Json), hasMore: start + page.limit < rows.length };
  }

  /** Drops what is past its time, then the oldest beyond MAX_RESPONSES and beyond MAX_STORE_BYTES. */
  prune(): void {
    const db = this.#db;
    const cutoff = this.#now() - RETENTION_MS;
    const { n, bytes } = db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS bytes FROM responses WHERE created_at >= ?').get(cutoff) as { n: number; bytes: number };
    const over = n - this.#limits.maxResponses;
    let before = cutoff;
    if (over > 0) before = Math.max(before, (db.prepare('SELECT created_at FROM responses ORDER BY created_at LIMIT 1 OFFSET ?').get(over - 1) as { created_at: number }).created_at + 1);
    if (bytes > this.#limits.maxStoreBytes) {
      // The oldest first, until what is left fits.
      let dropped = 0;
      for (const row of db.prepare('SELECT created_at, bytes FROM responses WHERE created_at >= ? ORDER BY created_at').iterate(cutoff) as Iterable<{ created_at: number; bytes: number }>) {
        if (bytes - dropped <= this.#limits.maxStoreBytes) break;
        dropped += row.bytes;
        before = Math.max(before, row.created_at + 1);
      }
    }
    retryBusy(() => {
      db.exec('BEGIN IMMEDIATE');
      try {
        db.prepare('DELETE FROM items WHERE response_id IN (SELECT id FROM responses WHERE created_at < ?)').run(before);
        db.prepare('DELETE FROM responses WHERE created_at < ?').run(before);
        db.exec('COMMIT');
        this.#bytes = (db.prepare('SELECT COALESCE(SUM(bytes), 0) AS bytes FROM responses').get() as { bytes: number }).bytes;
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      }
    }, BUSY_TIMEOUT_MS);
  }

  close(): void {
    this.#db.close();
  }
}

const opened = new WeakMap<ServerState, StoredResponses | HttpError>();

/**
 * The stored responses of `state`'s host, opened on first use; a file that cannot be opened is a
 * 503 naming it (logged once; the responses that would be kept are answered with `store: false`).
 */
export function storedResponsesOf(state: ServerState): StoredResponses | HttpError {
  let found = opened.get(state);
  if (!found) {
    const file = path.join(stateDir(state.host.env), 'responses.sqlite');
    try {
      found = new StoredResponses(file);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      state.log(`warning: the stored responses (${file}) cannot be opened: ${why}; responses are answered with store: false.`);
      found = new HttpError(503, 'STORE_UNAVAILABLE', `The stored responses (${file}) cannot be opened: ${why}.`, { hint: 'Send the whole conversation as `input`, or fix the file and restart the server.' });
    }
    opened.set(state, found);
  }
  return found;
}

/** The stored responses, or the 503 that says why there are none. */
export function requireStoredResponses(state: ServerState): StoredResponses {
  const found = storedResponsesOf(state);
  if (found instanceof HttpError) throw found;
  return found;
}

/** Closes the stored responses if they were opened (after the calls in flight have ended). */
export function closeStoredResponses(state: ServerState): void {
  const found = opened.get(state);
  if (found instanceof StoredResponses) found.close();
  opened.delete(state);
}
