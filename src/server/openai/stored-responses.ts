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
 * A background response (background-responses.ts) is kept from the moment it is accepted, with
 * its run (`runs`: who runs it, when it last said so, whether it was asked to stop). This is the
 * store of a local `state`; with Redis, stored-responses-redis.ts holds the same things there.
 * Nothing here knows HTTP but the errors it throws.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { makeDirSync } from '../../make-dir.ts';
import { retryBusy, useWal } from '../../state/sqlite-busy.ts';
import { isRunning, itemsPage, limitsOf, notFound, RETENTION_MS, shown, stillRunning, tooBig, tooLong, type EventsPage, type ItemsPage, type ResponseStore, type RunInfo, type SaveOptions, type StoreLimitOptions, type StoreLimits, type StoredResponse } from './response-store.ts';

export { MAX_CHAIN, MAX_CHAIN_BYTES, MAX_RESPONSES, MAX_STORE_BYTES, RETENTION_MS, type ItemsPage, type StoredResponse } from './response-store.ts';

type Json = Record<string, unknown>;

const BUSY_TIMEOUT_MS = 5000;
/** Saves between two prunings of what is past its time or over the count. */
const PRUNE_EVERY = 256;

export type StoredResponsesOptions = StoreLimitOptions;

export class StoredResponses {
  readonly #db: DatabaseSync;
  readonly #now: () => number;
  readonly #limits: StoreLimits;
  /** The bytes kept, as of the last pruning plus this process's saves since. */
  #bytes = 0;
  #saves = 0;
  readonly #insertResponse: StatementSync;
  readonly #insertItem: StatementSync;
  readonly #getResponse: StatementSync;
  readonly #itemsOf: StatementSync;
  readonly #statements = new Map<string, StatementSync>();

  constructor(file: string, options: StoredResponsesOptions = {}) {
    makeDirSync(path.dirname(file), 0o700);
    const db = new DatabaseSync(file, { timeout: BUSY_TIMEOUT_MS });
    this.#db = db;
    this.#now = options.now ?? Date.now;
    this.#limits = limitsOf(options);
    useWal(db, BUSY_TIMEOUT_MS);
    // A save is a commit to the WAL without waiting for the disk (as the ledger and the cache do):
    // it survives the process's end; a power cut may lose the last few, never half of one.
    db.exec('PRAGMA synchronous = NORMAL');
    retryBusy(
      () =>
        db.exec(`CREATE TABLE IF NOT EXISTS responses (id TEXT PRIMARY KEY, owner TEXT NOT NULL, created_at INTEGER NOT NULL, previous_id TEXT, response TEXT NOT NULL, bytes INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX IF NOT EXISTS responses_by_age ON responses (created_at);
        CREATE TABLE IF NOT EXISTS items (response_id TEXT NOT NULL, seq INTEGER NOT NULL, item_id TEXT NOT NULL, owner TEXT NOT NULL, output INTEGER NOT NULL, item TEXT NOT NULL, PRIMARY KEY (response_id, seq)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS items_by_id ON items (item_id, owner);
        CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, runner TEXT NOT NULL, beat INTEGER NOT NULL, cancel INTEGER NOT NULL DEFAULT 0, streamed INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS events (response_id TEXT NOT NULL, seq INTEGER NOT NULL, frame TEXT NOT NULL, PRIMARY KEY (response_id, seq)) WITHOUT ROWID;`),
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

  /**
   * Keeps a response and its items (one transaction: all or nothing); with `ifRunning`, only while
   * the one kept is still running (false otherwise: it was cancelled or marked failed meanwhile).
   */
  save(stored: StoredResponse, options: SaveOptions = {}): boolean {
    const db = this.#db;
    db.exec('BEGIN IMMEDIATE');
    try {
      if (options.ifRunning && !isRunning(this.#statusOf(stored.id))) {
        db.exec('ROLLBACK');
        return false;
      }
      const response = JSON.stringify(stored.response);
      let bytes = response.length;
      let seq = 0;
      const items = [...stored.input.map((item) => [item, 0] as const), ...stored.output.map((item) => [item, 1] as const)].map(([item, output]) => {
        const json = JSON.stringify(item);
        bytes += json.length;
        return { id: String(item.id ?? ''), output, json };
      });
      // A streamed background response's events stay (and count) across its saves.
      bytes += (this.#sql('SELECT COALESCE(SUM(LENGTH(frame)), 0) AS n FROM events WHERE response_id = ?').get(stored.id) as { n: number }).n;
      this.#insertResponse.run(stored.id, stored.owner, stored.createdAt, stored.previousId ?? null, response, bytes);
      this.#sql('DELETE FROM items WHERE response_id = ?').run(stored.id);
      for (const item of items) this.#insertItem.run(stored.id, seq++, item.id, stored.owner, item.output, item.json);
      if (options.run) this.#sql('INSERT OR REPLACE INTO runs (id, runner, beat, cancel, streamed) VALUES (?, ?, ?, 0, ?)').run(stored.id, options.run.runner, options.run.beat, options.run.streamed ? 1 : 0);
      else if (!isRunning(stored.response.status)) this.#sql('DELETE FROM runs WHERE id = ?').run(stored.id);
      db.exec('COMMIT');
      this.#bytes += bytes;
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
    if (++this.#saves % PRUNE_EVERY === 0 || this.#bytes > this.#limits.maxStoreBytes) this.prune();
    return true;
  }

  /** The statement of `sql`, prepared on its first use and kept (SQLite parses and plans each `prepare`: tens of µs). */
  #sql(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) this.#statements.set(sql, (statement = this.#db.prepare(sql)));
    return statement;
  }

  #statusOf(id: string): unknown {
    const row = this.#getResponse.get(id) as { response: string } | undefined;
    return row ? (JSON.parse(row.response) as Json).status : undefined;
  }

  /** The response object and, for a background one still running, its run; or a 404. */
  read(id: string, owner: string): { response: Json; run?: RunInfo } {
    const response = this.get(id, owner);
    const run = this.#sql('SELECT runner, beat, cancel FROM runs WHERE id = ?').get(id) as { runner: string; beat: number; cancel: number } | undefined;
    return { response, ...(run ? { run: { runner: run.runner, beat: run.beat, cancel: run.cancel === 1 } } : {}) };
  }

  /** Replaces a running response's object (its items kept); false when it is no longer running. */
  settle(id: string, response: Json, options: { cancel?: boolean } = {}): boolean {
    const db = this.#db;
    db.exec('BEGIN IMMEDIATE');
    try {
      if (!isRunning(this.#statusOf(id))) {
        db.exec('ROLLBACK');
        return false;
      }
      this.#sql('UPDATE responses SET response = ? WHERE id = ?').run(JSON.stringify(response), id);
      if (options.cancel) this.#sql('UPDATE runs SET cancel = 1 WHERE id = ?').run(id);
      else this.#sql('DELETE FROM runs WHERE id = ?').run(id);
      db.exec('COMMIT');
      return true;
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }

  /** Appends a streamed run's next frames, while the response is kept. */
  addEvents(id: string, frames: string[]): void {
    const db = this.#db;
    db.exec('BEGIN IMMEDIATE');
    try {
      if (this.#getResponse.get(id)) {
        let seq = (this.#sql('SELECT COUNT(*) AS n FROM events WHERE response_id = ?').get(id) as { n: number }).n;
        const insert = this.#sql('INSERT INTO events (response_id, seq, frame) VALUES (?, ?, ?)');
        let bytes = 0;
        for (const frame of frames) {
          insert.run(id, seq++, frame);
          bytes += frame.length;
        }
        this.#sql('UPDATE responses SET bytes = bytes + ? WHERE id = ?').run(bytes, id);
        this.#bytes += bytes;
      }
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }

  /** A streamed background response's frames after `after`, or a 404. */
  eventsAfter(id: string, owner: string, after: number): EventsPage {
    const { response } = this.read(id, owner);
    const frames = (this.#sql('SELECT frame FROM events WHERE response_id = ? AND seq > ? ORDER BY seq').all(id, after) as { frame: string }[]).map((r) => r.frame);
    const run = this.#sql('SELECT streamed FROM runs WHERE id = ?').get(id) as { streamed: number } | undefined;
    const streamed = run?.streamed === 1 || this.#sql('SELECT 1 AS one FROM events WHERE response_id = ? LIMIT 1').get(id) !== undefined;
    return { frames, response, streamed };
  }

  /** A run says it still runs; true when it was asked to stop. */
  beat(id: string, at: number): boolean {
    this.#sql('UPDATE runs SET beat = ? WHERE id = ?').run(at, id);
    const row = this.#sql('SELECT cancel FROM runs WHERE id = ?').get(id) as { cancel: number } | undefined;
    return row?.cancel === 1;
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
      this.#sql('DELETE FROM items WHERE response_id = ?').run(id);
      this.#sql('DELETE FROM responses WHERE id = ?').run(id);
      this.#sql('DELETE FROM runs WHERE id = ?').run(id);
      this.#sql('DELETE FROM events WHERE response_id = ?').run(id);
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
      if (parts.length >= maxChain) throw tooLong(maxChain);
      if (at === id && isRunning((JSON.parse(row.response) as Json).status)) throw stillRunning(id);
      const items = (this.#itemsOf.all(at) as { item: string }[]).map((r) => r.item);
      for (const item of items) bytes += item.length;
      if (bytes > maxChainBytes) throw tooBig(maxChainBytes);
      parts.push(items);
      at = row.previous_id;
    }
    const out: Json[] = [];
    for (let i = parts.length - 1; i >= 0; i--) for (const item of parts[i] as string[]) out.push(JSON.parse(item) as Json);
    return out;
  }

  /** An item of one of the owner's responses by its id (the newest with that id), or undefined. */
  item(itemId: string, owner: string): Json | undefined {
    const rows = this.#sql('SELECT i.item, r.created_at FROM items i JOIN responses r ON r.id = i.response_id WHERE i.item_id = ? AND i.owner = ? ORDER BY r.created_at DESC LIMIT 1').all(itemId, owner) as { item: string; created_at: number }[];
    const row = rows[0];
    if (!row || row.created_at < this.#now() - RETENTION_MS) return undefined;
    return JSON.parse(row.item) as Json;
  }

  /** A page of a response's input items: newest first (`desc`) or oldest first, after the item `after`. */
  inputItems(id: string, owner: string, page: { after?: string; limit: number; order: 'asc' | 'desc' }): ItemsPage {
    if (!this.#row(id, owner)) throw notFound(id, null);
    const rows = this.#sql('SELECT item_id, item FROM items WHERE response_id = ? AND output = 0 ORDER BY seq').all(id) as { item_id: string; item: string }[];
    return itemsPage(id, rows.map((r) => ({ itemId: r.item_id, json: r.item })), page);
  }

  /** Drops what is past its time, then the oldest beyond MAX_RESPONSES and beyond MAX_STORE_BYTES. */
  prune(): void {
    const db = this.#db;
    const cutoff = this.#now() - RETENTION_MS;
    const { n, bytes } = this.#sql('SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS bytes FROM responses WHERE created_at >= ?').get(cutoff) as { n: number; bytes: number };
    const over = n - this.#limits.maxResponses;
    let before = cutoff;
    if (over > 0) before = Math.max(before, (this.#sql('SELECT created_at FROM responses ORDER BY created_at LIMIT 1 OFFSET ?').get(over - 1) as { created_at: number }).created_at + 1);
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
        this.#sql('DELETE FROM items WHERE response_id IN (SELECT id FROM responses WHERE created_at < ?)').run(before);
        this.#sql('DELETE FROM responses WHERE created_at < ?').run(before);
        this.#sql('DELETE FROM runs WHERE id NOT IN (SELECT id FROM responses)').run();
        this.#sql('DELETE FROM events WHERE response_id NOT IN (SELECT id FROM responses)').run();
        db.exec('COMMIT');
        this.#bytes = (this.#sql('SELECT COALESCE(SUM(bytes), 0) AS bytes FROM responses').get() as { bytes: number }).bytes;
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

/** The file as a ResponseStore (its calls are synchronous: each one a short transaction). */
export class SqliteResponseStore implements ResponseStore {
  readonly description: string;
  readonly #file: StoredResponses;

  constructor(file: string, options: StoredResponsesOptions = {}) {
    this.#file = new StoredResponses(file, options);
    this.description = file;
  }

  async save(stored: StoredResponse, options?: SaveOptions): Promise<boolean> {
    return this.#file.save(stored, options);
  }

  async read(id: string, owner: string): Promise<{ response: Json; run?: RunInfo }> {
    return this.#file.read(id, owner);
  }

  async delete(id: string, owner: string): Promise<void> {
    this.#file.delete(id, owner);
  }

  async conversation(id: string, owner: string): Promise<Json[]> {
    return this.#file.conversation(id, owner);
  }

  async item(itemId: string, owner: string): Promise<Json | undefined> {
    return this.#file.item(itemId, owner);
  }

  async inputItems(id: string, owner: string, page: { after?: string; limit: number; order: 'asc' | 'desc' }): Promise<ItemsPage> {
    return this.#file.inputItems(id, owner, page);
  }

  async settle(id: string, response: Json, options?: { cancel?: boolean }): Promise<boolean> {
    return this.#file.settle(id, response, options);
  }

  async beat(id: string, at: number): Promise<boolean> {
    return this.#file.beat(id, at);
  }

  async addEvents(id: string, frames: string[]): Promise<void> {
    this.#file.addEvents(id, frames);
  }

  async eventsAfter(id: string, owner: string, after: number): Promise<EventsPage> {
    return this.#file.eventsAfter(id, owner, after);
  }

  async close(): Promise<void> {
    this.#file.close();
  }
}
