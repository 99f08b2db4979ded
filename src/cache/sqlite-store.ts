import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import { retryBusy, useWal } from '../state/sqlite-busy.ts';
import { makeDirSync } from '../make-dir.ts';

export interface SqliteStoreOptions {
  /** The database file; its folder is created (mode 0700) when missing. */
  file: string;
  /** Most entries kept in the file; the least recently used go first. */
  maxSize: number;
  /** Wall clock in ms, for expiry. Injectable for tests; defaults to Date.now. */
  now?: () => number;
  /** How long to wait for another process's write lock, in ms (default 5000). */
  busyTimeoutMs?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS cache_entries (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  expires INTEGER,
  accessed INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS cache_entries_accessed ON cache_entries (accessed);
CREATE INDEX IF NOT EXISTS cache_entries_expires ON cache_entries (expires);
`;

/** The next value of the file-wide access counter; a logical clock shared by every process. */
const NEXT_ACCESS = '(SELECT COALESCE(MAX(accessed), 0) + 1 FROM cache_entries)';

/**
 * A Keyv 5 store adapter over Node's built-in `node:sqlite`: one file shared by every process on
 * the machine (WAL journal, busy timeout, writes in `BEGIN IMMEDIATE` transactions).
 *
 * Keyv serialises values and prefixes keys with its namespace (`pantheon:`); this store keeps the
 * strings it is given. Expiry: Keyv checks the `expires` inside each value, and this store also
 * records it in a column so expired rows are never returned and are deleted on write. Size: after
 * every write, the least recently used rows beyond `maxSize` are deleted; a read marks its row as
 * used. Recency is a counter kept in the file, so it is exact across processes.
 *
 * Open it with `SqliteStore.open()`, which loads `node:sqlite` only when this store is used.
 */
export class SqliteStore extends EventEmitter implements KeyvStoreAdapter {
  readonly opts: { dialect: 'sqlite'; uri: string; file: string; maxSize: number };
  /** Set by Keyv; `clear()` removes only this namespace's entries. */
  namespace: string | undefined;
  private readonly db: DatabaseSync;
  private readonly now: () => number;
  private readonly statements: {
    read: StatementSync;
    dropExpiredKey: StatementSync;
    has: StatementSync;
    upsert: StatementSync;
    dropExpired: StatementSync;
    count: StatementSync;
    evict: StatementSync;
    remove: StatementSync;
  };

  static async open(options: SqliteStoreOptions): Promise<SqliteStore> {
    const sqlite = await import('node:sqlite');
    const file = path.resolve(options.file);
    explainFsError(() => makeDirSync(path.dirname(file), 0o700));
    // Create the file ourselves so it is private (0600); SQLite gives its -wal and -shm files the
    // same mode.
    explainFsError(() => fs.closeSync(fs.openSync(file, 'a', 0o600)));
    const db = new sqlite.DatabaseSync(file);
    try {
      const busyMs = Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000));
      db.exec(`PRAGMA busy_timeout = ${busyMs}`);
      useWal(db, busyMs);
      db.exec('PRAGMA synchronous = NORMAL');
      retryBusy(() => db.exec(SCHEMA), busyMs);
      return new SqliteStore(db, file, options);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  private constructor(db: DatabaseSync, file: string, options: SqliteStoreOptions) {
    super();
    this.db = db;
    this.now = options.now ?? (() => Date.now());
    this.opts = { dialect: 'sqlite', uri: `sqlite://${file}`, file, maxSize: options.maxSize };
    this.statements = {
      read: db.prepare(
        `UPDATE cache_entries SET accessed = ${NEXT_ACCESS}
         WHERE key = ? AND (expires IS NULL OR expires > ?) RETURNING value`,
      ),
      dropExpiredKey: db.prepare('DELETE FROM cache_entries WHERE key = ? AND expires IS NOT NULL AND expires <= ?'),
      has: db.prepare('SELECT 1 AS found FROM cache_entries WHERE key = ? AND (expires IS NULL OR expires > ?)'),
      upsert: db.prepare(
        `INSERT INTO cache_entries (key, value, expires, accessed) VALUES (?, ?, ?, ${NEXT_ACCESS})
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires, accessed = excluded.accessed`,
      ),
      dropExpired: db.prepare('DELETE FROM cache_entries WHERE expires IS NOT NULL AND expires <= ?'),
      count: db.prepare('SELECT COUNT(*) AS n FROM cache_entries'),
      evict: db.prepare(
        'DELETE FROM cache_entries WHERE key IN (SELECT key FROM cache_entries ORDER BY accessed ASC LIMIT ?)',
      ),
      remove: db.prepare('DELETE FROM cache_entries WHERE key = ?'),
    };
  }

  /** The stored string (Keyv's serialised entry); Keyv's typings call it StoredData. */
  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    this.ensureOpen();
    const now = this.now();
    const row = this.statements.read.get(key, now) as { value: string } | undefined;
    if (row) return row.value as StoredData<Value>;
    this.statements.dropExpiredKey.run(key, now);
    return undefined;
  }

  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    const values: Array<StoredData<Value | undefined>> = [];
    for (const key of keys) values.push(await this.get<Value>(key));
    return values;
  }

  async has(key: string): Promise<boolean> {
    this.ensureOpen();
    return this.statements.has.get(key, this.now()) !== undefined;
  }

  /** `ttl` is in ms, as Keyv passes it; none (or 0) means the entry never expires. */
  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const now = this.now();
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    const expires = typeof ttl === 'number' && ttl > 0 ? now + ttl : null;
    this.transaction(() => {
      this.statements.upsert.run(key, text, expires);
      this.statements.dropExpired.run(now);
      const { n } = this.statements.count.get() as { n: number };
      const excess = n - this.opts.maxSize;
      if (excess > 0) this.statements.evict.run(excess);
    });
    return true;
  }

  async setMany(entries: Array<{ key: string; value: unknown; ttl?: number }>): Promise<void> {
    for (const entry of entries) await this.set(entry.key, entry.value, entry.ttl);
  }

  async delete(key: string): Promise<boolean> {
    this.ensureOpen();
    return Number(this.statements.remove.run(key).changes) > 0;
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    let removed = 0;
    this.transaction(() => {
      for (const key of keys) removed += Number(this.statements.remove.run(key).changes);
    });
    return removed > 0;
  }

  /** Removes this namespace's entries (every entry when Keyv set no namespace). */
  async clear(): Promise<void> {
    this.ensureOpen();
    if (this.namespace === undefined || this.namespace === '') {
      this.db.exec('DELETE FROM cache_entries');
      return;
    }
    const prefix = `${this.namespace}:`;
    this.db.prepare('DELETE FROM cache_entries WHERE substr(key, 1, ?) = ?').run(prefix.length, prefix);
  }

  /** Closes the database; later calls do nothing. */
  async disconnect(): Promise<void> {
    if (this.db.isOpen) this.db.close();
  }

  private ensureOpen(): void {
    if (!this.db.isOpen) throw new Error(`the cache database ${this.opts.file} is closed`);
  }

  private transaction(work: () => void): void {
    this.ensureOpen();
    this.db.exec('BEGIN IMMEDIATE');
    try {
      work();
      this.db.exec('COMMIT');
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
  }
}

/** Runs a file-system call, turning its common failures into plain words. */
function explainFsError(action: () => void): void {
  try {
    action();
  } catch (error) {
    const { code, path: where } = error as NodeJS.ErrnoException;
    const reason =
      code === 'EEXIST' || code === 'ENOTDIR'
        ? `${where} is a file, not a folder`
        : code === 'EISDIR'
          ? `${where} is a folder, not a file`
          : code === 'EACCES' || code === 'EPERM'
            ? `no permission to write ${where}`
            : code === 'EROFS'
              ? `${where} is on a read-only file system`
              : code === 'ENOENT'
                ? `no folder can be made at ${where} (a file system of the kernel's, such as /proc, or a link to nothing)`
                : undefined;
    if (reason === undefined || where === undefined) throw error;
    throw new Error(reason, { cause: error });
  }
}
