/**
 * The embedded ledger shared by every process on the machine: one SQLite file (WAL mode), every
 * reservation inside `BEGIN IMMEDIATE … COMMIT` so concurrent processes take turns. The clock is
 * read after the write lock is taken, so recorded start times follow the order of commits.
 */
import path from 'node:path';
import { setImmediate, setTimeout } from 'node:timers';
import { randomBytes } from '../random-bytes.ts';
import { DatabaseSync } from 'node:sqlite';
import type { StatementSync } from 'node:sqlite';
import { PantheonError } from '../errors.ts';
import { stateDir } from '../paths.ts';
import { isBusy, retryBusy, useWal } from '../state/sqlite-busy.ts';
import {
  COOLDOWN_READ_MS,
  DONE,
  PENDING_MAX_MS,
  PRUNE_EVERY_MS,
  START_RETAIN_MS,
  decide,
  decisionReads,
  effectiveStart,
  ledgerClosed,
  nextFailureState,
  planReservation,
  validateReserveRequest,
} from './ledger.ts';
import { answerStarts, answerTokens, startsId, tokensId } from './ledger-reads.ts';
import type { SentStarts, SentTokens, StartsAnswer, TokensAnswer } from './ledger-reads.ts';
import type {
  CooldownEntry,
  FailureState,
  Granted,
  Ledger,
  LedgerClockOptions,
  LedgerRows,
  ReleaseOptions,
  ReserveRequest,
  ReserveResult,
  TokenRow,
} from './ledger.ts';
import { REFUSAL_SOURCES, keptLearned, learnedExpiry, type LearnedLimit } from './learned.ts';
import { LearnedSignal } from './learned-signal.ts';
import { USAGE_RETAIN_MS, exceededBudget, validSpend } from './spend.ts';
import { OwnRows, type OwnRow, type Unit } from './ledger-sqlite-own.ts';
import { ReleasedRing } from './released-ring.ts';
import { DEFER_MS, LEASE_MS, deferWithin, leaseCap, leaseKey, nextLeaseSize, slotTokens, takeAhead, windowsFor, type SlotPool } from './slot-lease.ts';
import type { SpendAmount, SpendRequest, SpendResult, UsageRecord } from './spend.ts';
import { makeDirSync } from '../make-dir.ts';

/**
 * Runs `fn` in the check phase of this turn of the event loop, after its I/O callbacks. Node's own
 * setImmediate, taken at load: a test's fake timers do not hold the ledger's commits back.
 */
const flushSoon: (fn: () => void) => void = setImmediate;
/** Node's own setTimeout, likewise: the batch's next try for the write lock (see #flush). */
const tryAgainIn: (fn: () => void, ms: number) => void = setTimeout;

export interface SqliteLedgerOptions extends LedgerClockOptions {
  /** Database file (default `ledger.sqlite` under the state folder). */
  path?: string;
  /** Environment used to find the state folder (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for another process's transaction (default 5000 ms). */
  busyTimeoutMs?: number;
  /** The pid recorded as the owner of this process's pending starts (default process.pid). */
  pid?: number;
  /** Whether the process with this pid still runs (default: `process.kill(pid, 0)` succeeds). */
  isAlive?: (pid: number) => boolean;
  /**
   * How long a read of the cooldowns table answers `cooldownUntil` and `recordSuccess` (default
   * COOLDOWN_READ_MS; 0: read on every call). This process's own failures and successes apply at once.
   */
  cooldownReadMs?: number;
}


/** True unless the process is certainly gone (ESRCH); a pid we may not signal (EPERM) is alive. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

interface LearnedRow {
  key: string;
  name: string;
  kind: string;
  lim: number | null;
  remaining: number;
  reset_at: number;
  observed_at: number;
  source: string;
}
interface UsageRow {
  t: number;
  run: string | null;
  agent: string;
  provider: string;
  model: string;
  input: number;
  output: number;
  cost: number | null;
  cached: number;
  saved: number | null;
  retries: number;
  fallbacks: number;
  waited: number;
}

interface PendingRow {
  row: number;
  t: number;
  owner: number | null;
  /** Starts only: how many it counts. */
  n?: number;
  amount?: number;
}

const SCHEMA_VERSION = 7;

/** A reservation as the ledger that admitted it knows it. */
interface Reservation {
  /** Its share of each row it is counted in: a start per starts key, its tokens per token key (ledger-sqlite-own.ts). */
  units: Unit[];
  leases: boolean;
  /** Not yet marked sent or released (only this process settles it while it runs). */
  pending: boolean;
  /** Its settles and a correction of its tokens downward wait for the next write, up to this long (ms; 0: they do not; slot-lease.ts deferWithin, #defer). */
  deferMs: number;
  /** Released: kept among the last RELEASED_KEPT for a markSent that may still come. */
  released: boolean;
}
/** What each reservation of one admission or lease is made of: its share of each row, its slots. */
interface Slot {
  rows: { row: OwnRow; amount: number }[];
  leases: { key: string; expires: number }[];
  deferMs: number;
}
/** Writes made meanwhile, committed together (SqliteLedger #batched). */
interface Batch {
  ops: ((now: number) => void)[];
  done: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}
/**
 * Version 2 adds `pending` (admitted, not yet on the wire: counts as starting now) and `owner` (the
 * admitting process's pid, so a start left pending by a killed process is settled by the next one).
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS starts (key TEXT NOT NULL, t INTEGER NOT NULL, id TEXT NOT NULL, until INTEGER NOT NULL, pending INTEGER NOT NULL DEFAULT 0, owner INTEGER) STRICT;
CREATE INDEX IF NOT EXISTS starts_id ON starts (id);
CREATE TABLE IF NOT EXISTS tokens (key TEXT NOT NULL, t INTEGER NOT NULL, id TEXT NOT NULL, until INTEGER NOT NULL, amount INTEGER NOT NULL, pending INTEGER NOT NULL DEFAULT 0, owner INTEGER) STRICT;
CREATE INDEX IF NOT EXISTS tokens_id ON tokens (id);
CREATE TABLE IF NOT EXISTS leases (key TEXT NOT NULL, id TEXT NOT NULL, expires INTEGER NOT NULL) STRICT;
CREATE INDEX IF NOT EXISTS leases_key_expires ON leases (key, expires);
CREATE INDEX IF NOT EXISTS leases_id ON leases (id);
CREATE TABLE IF NOT EXISTS cooldowns (key TEXT PRIMARY KEY, failures INTEGER NOT NULL, until INTEGER) STRICT;
`;
/** Version 3 adds learned limits, budget spend and the usage log `opencode stats` reads. */
const V3_TABLES = `
CREATE TABLE IF NOT EXISTS learned (key TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, lim INTEGER, remaining INTEGER NOT NULL, reset_at INTEGER NOT NULL, observed_at INTEGER NOT NULL, expires INTEGER NOT NULL, source TEXT NOT NULL, PRIMARY KEY (key, name)) STRICT;
CREATE TABLE IF NOT EXISTS spend (key TEXT NOT NULL, id TEXT NOT NULL, usd REAL NOT NULL, tokens INTEGER NOT NULL, until INTEGER NOT NULL) STRICT;
CREATE INDEX IF NOT EXISTS spend_key ON spend (key);
CREATE INDEX IF NOT EXISTS spend_id ON spend (id);
CREATE TABLE IF NOT EXISTS usage (t INTEGER NOT NULL, run TEXT, agent TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL, input INTEGER NOT NULL, output INTEGER NOT NULL, cost REAL, cached INTEGER NOT NULL, saved REAL, retries INTEGER NOT NULL, fallbacks INTEGER NOT NULL, waited INTEGER NOT NULL) STRICT;
CREATE INDEX IF NOT EXISTS usage_t ON usage (t);
`;
/**
 * Version 5: a decision counts and sums inside SQLite instead of reading a window's rows, so the
 * indexes lead with (key, pending, t) (covering the token amounts), and `start_keys` keeps each
 * key's row count (kept by triggers, whoever writes): a limit larger than every row a key holds
 * cannot be full, and is decided without reading any row. Every index is one more page written per
 * admission: the pending and `until` indexes went (pruning walks each key's (key, pending, t) range).
 */
const V5 = `
DROP INDEX IF EXISTS starts_key_t;
DROP INDEX IF EXISTS tokens_key_t;
DROP INDEX IF EXISTS starts_pending;
DROP INDEX IF EXISTS tokens_pending;
DROP INDEX IF EXISTS starts_until;
DROP INDEX IF EXISTS tokens_until;
CREATE INDEX IF NOT EXISTS starts_key_pending_t ON starts (key, pending, t);
CREATE INDEX IF NOT EXISTS tokens_key_pending_t ON tokens (key, pending, t, amount);
CREATE TABLE IF NOT EXISTS start_keys (key TEXT PRIMARY KEY, n INTEGER NOT NULL) STRICT;
CREATE TRIGGER IF NOT EXISTS starts_counted AFTER INSERT ON starts BEGIN
  INSERT INTO start_keys (key, n) VALUES (new.key, 1) ON CONFLICT (key) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS starts_uncounted AFTER DELETE ON starts BEGIN
  UPDATE start_keys SET n = n - 1 WHERE key = old.key;
END;
DELETE FROM start_keys;
INSERT INTO start_keys (key, n) SELECT key, COUNT(*) FROM starts GROUP BY key;
`;
/**
 * Version 6: no index on the reservation id of starts and tokens. The process that admitted a
 * reservation settles, corrects and refunds its rows by rowid (it keeps them from the insert);
 * another process settles a dead owner's pending row by the rowid it found it under. A random id's
 * index took a page of its own (at a random place) in every commit.
 */
const V6 = `
DROP INDEX IF EXISTS starts_id;
DROP INDEX IF EXISTS tokens_id;
`;
/**
 * Version 7: a row counts `n` starts (a token row, `n` reservations' tokens summed in `amount`): a
 * lease's slots are one row, and the settles of one commit drawing on one row move as one
 * (ledger-sqlite-own.ts). `start_keys` keeps each key's starts (`n`, a bound for every window)
 * and its rows (`rows`: when they are equal, every row counts one start and a window's m-th newest
 * start is the m-th newest row). A start inserted without its `n` is refused (`starts_need_n`): an
 * older Pantheon still running when the file was migrated would count every row as one start and
 * admit more than the limit; its next admission fails instead, telling it to restart.
 */
const V7 = `
DROP INDEX IF EXISTS starts_key_pending_t;
CREATE INDEX starts_key_pending_t ON starts (key, pending, t, n);
DROP TRIGGER IF EXISTS starts_counted;
DROP TRIGGER IF EXISTS starts_uncounted;
DROP TRIGGER IF EXISTS starts_recounted;
DROP TABLE IF EXISTS start_keys;
CREATE TABLE start_keys (key TEXT PRIMARY KEY, n INTEGER NOT NULL, rows INTEGER NOT NULL) STRICT;
CREATE TRIGGER starts_counted AFTER INSERT ON starts BEGIN
  INSERT INTO start_keys (key, n, rows) VALUES (new.key, new.n, 1) ON CONFLICT (key) DO UPDATE SET n = n + new.n, rows = rows + 1;
END;
CREATE TRIGGER starts_uncounted AFTER DELETE ON starts BEGIN
  UPDATE start_keys SET n = n - old.n, rows = rows - 1 WHERE key = old.key;
END;
CREATE TRIGGER starts_recounted AFTER UPDATE OF n ON starts BEGIN
  UPDATE start_keys SET n = n + new.n - old.n WHERE key = new.key;
END;
DROP TRIGGER IF EXISTS starts_need_n;
CREATE TRIGGER starts_need_n BEFORE INSERT ON starts WHEN new.n IS NULL BEGIN
  SELECT RAISE(ABORT, 'this rate-limit ledger was upgraded by a newer Pantheon (a row may count several starts): restart this process to use it');
END;
INSERT INTO start_keys (key, n, rows) SELECT key, SUM(n), COUNT(*) FROM starts GROUP BY key;
`;
/** From version 1: the two new columns (existing rows were all counted from their send already). */
const FROM_V1 = `
ALTER TABLE starts ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE starts ADD COLUMN owner INTEGER;
ALTER TABLE tokens ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN owner INTEGER;
`;

// A pending row's time moves to `now` when it is settled (sent, released, or its owner found dead):
// `until` moves with it, and a time never moves backwards.
const SETTLE = (table: string): string =>
  `UPDATE ${table} SET until = until + MAX(0, ?1 - t), t = MAX(t, ?1), pending = 0, owner = NULL WHERE rowid = ?2`;

export const SQL = {
  // The m-th newest sent start in a window and the one after it, where every row of the key counts
  // one start (covering index, reads m + 1 entries at most)…
  sentNth: 'SELECT t FROM starts WHERE key = ? AND pending = 0 AND t >= ? ORDER BY t DESC LIMIT 2 OFFSET ?',
  // …and where some count more: the rows newest first until their running count reaches m.
  sentNthCounted:
    'SELECT t, run FROM (SELECT t, SUM(n) OVER (ORDER BY t DESC ROWS UNBOUNDED PRECEDING) AS run FROM starts WHERE key = ?1 AND pending = 0 AND t >= ?2) WHERE run >= ?3 LIMIT 2',
  sentCount: 'SELECT COALESCE(SUM(n), 0) AS n FROM (SELECT n FROM starts WHERE key = ? AND pending = 0 AND t >= ? LIMIT ?)',
  sentOldest: 'SELECT MIN(t) AS t FROM starts WHERE key = ? AND pending = 0 AND t >= ?',
  keyRows: 'SELECT n, rows FROM start_keys WHERE key = ?',
  pendingStarts: 'SELECT rowid AS row, t, owner, n FROM starts WHERE key = ? AND pending = 1',
  tokenSum: 'SELECT COALESCE(SUM(amount), 0) AS n FROM tokens WHERE key = ? AND pending = 0 AND t >= ?',
  tokensNewest: 'SELECT t, amount FROM tokens WHERE key = ? AND pending = 0 AND t >= ? ORDER BY t DESC',
  pendingTokens: 'SELECT rowid AS row, t, amount, owner FROM tokens WHERE key = ? AND pending = 1',
  inFlight: 'SELECT COUNT(*) AS n FROM leases WHERE key = ? AND expires > ?',
  addStart: 'INSERT INTO starts (key, t, id, until, pending, owner, n) VALUES (?, ?, ?, ?, 1, ?, ?)',
  addTokens: 'INSERT INTO tokens (key, t, id, until, amount, pending, owner, n) VALUES (?, ?, ?, ?, ?, 1, ?, ?)',
  addSentStart: 'INSERT INTO starts (key, t, id, until, pending, owner, n) VALUES (?, ?, ?, ?, 0, NULL, ?)',
  addSentTokens: 'INSERT INTO tokens (key, t, id, until, amount, pending, owner, n) VALUES (?, ?, ?, ?, ?, 0, NULL, ?)',
  takeStarts: 'UPDATE starts SET n = n - ?1 WHERE rowid = ?2',
  takeTokens: 'UPDATE tokens SET n = n - ?1, amount = amount - ?3 WHERE rowid = ?2',
  addToTokens: 'UPDATE tokens SET amount = amount + ? WHERE rowid = ?',
  addLease: 'INSERT INTO leases (key, id, expires) VALUES (?, ?, ?)',
  renew: 'UPDATE leases SET expires = ? WHERE id = ? AND expires > ?',
  dropLeases: 'DELETE FROM leases WHERE id = ?',
  dropStart: 'DELETE FROM starts WHERE rowid = ?',
  dropTokens: 'DELETE FROM tokens WHERE rowid = ?',
  settleStart: SETTLE('starts'),
  settleTokensTo: `UPDATE tokens SET until = until + MAX(0, ?1 - t), t = MAX(t, ?1), pending = 0, owner = NULL, amount = ?3 WHERE rowid = ?2`,
  settlePendingStart: `${SETTLE('starts')} AND pending = 1`,
  settlePendingTokens: `${SETTLE('tokens')} AND pending = 1`,
  failure: 'SELECT failures, until FROM cooldowns WHERE key = ?',
  setFailure:
    'INSERT INTO cooldowns (key, failures, until) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, until = excluded.until',
  dropFailure: 'DELETE FROM cooldowns WHERE key = ?',
  cooling: 'SELECT key, until, failures FROM cooldowns WHERE until > ? ORDER BY key',
  failures: 'SELECT key, failures, until FROM cooldowns',
  // A row stamped t counts while now - t <= windowMs (until == t + windowMs): drop it only after
  // that; a pending row may count as late as t + PENDING_MAX_MS, so it is kept that much longer.
  // Key by key along (key, pending, t): a start is kept at least START_RETAIN_MS (until - t never
  // shrinks), so only the oldest part of a key's starts is walked.
  startKeys: 'SELECT key FROM start_keys',
  pruneSentStarts: 'DELETE FROM starts WHERE key = ?3 AND pending = 0 AND t < ?1 - ?4 AND until < ?1',
  prunePendingStarts: 'DELETE FROM starts WHERE key = ?3 AND pending = 1 AND t < ?1 - ?4 AND until + ?2 < ?1',
  dropStartKeys: 'DELETE FROM start_keys WHERE rows <= 0',
  tokenKeys: 'SELECT DISTINCT key FROM tokens',
  pruneTokensOf: 'DELETE FROM tokens WHERE key = ?3 AND until + pending * ?2 < ?1',
  pruneLeases: 'DELETE FROM leases WHERE expires <= ?',
  pruneCooldowns: 'DELETE FROM cooldowns WHERE until IS NOT NULL AND until <= ?',
  learnedOf: 'SELECT observed_at FROM learned WHERE key = ? AND name = ?',
  putLearned:
    'INSERT INTO learned (key, name, kind, lim, remaining, reset_at, observed_at, expires, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key, name) DO UPDATE SET kind = excluded.kind, lim = excluded.lim, remaining = excluded.remaining, reset_at = excluded.reset_at, observed_at = excluded.observed_at, expires = excluded.expires, source = excluded.source',
  forgetLearned: `DELETE FROM learned WHERE key = ? AND observed_at <= ? AND source NOT IN (${REFUSAL_SOURCES.map((s) => `'${s}'`).join(', ')})`,
  forgettable: `SELECT EXISTS (SELECT 1 FROM learned WHERE key = ? AND observed_at <= ? AND source NOT IN (${REFUSAL_SOURCES.map((s) => `'${s}'`).join(', ')})) AS n`,
  listLearned: 'SELECT key, name, kind, lim, remaining, reset_at, observed_at, source FROM learned WHERE expires > ? ORDER BY key, name',
  listLearnedOf: 'SELECT key, name, kind, lim, remaining, reset_at, observed_at, source FROM learned WHERE key = ? AND expires > ? ORDER BY name',
  pruneLearned: 'DELETE FROM learned WHERE expires <= ?',
  spendOf: 'SELECT COALESCE(SUM(usd), 0) AS usd, COALESCE(SUM(tokens), 0) AS tokens FROM spend WHERE key = ?',
  addSpend: 'INSERT INTO spend (key, id, usd, tokens, until) VALUES (?, ?, ?, ?, ?)',
  settleSpend: 'UPDATE spend SET usd = ?, tokens = ? WHERE id = ?',
  pruneSpend: 'DELETE FROM spend WHERE until <= ?',
  addUsage:
    'INSERT INTO usage (t, run, agent, provider, model, input, output, cost, cached, saved, retries, fallbacks, waited) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  listUsage: 'SELECT * FROM usage WHERE t >= ? ORDER BY t',
  pruneUsage: 'DELETE FROM usage WHERE t <= ?',
} as const;
type Statements = { -readonly [K in keyof typeof SQL]: StatementSync };

/** Where the shared ledger lives by default. */
export function defaultLedgerPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(stateDir(env), 'ledger.sqlite');
}

function storeError(file: string, error: unknown): PantheonError {
  if (error instanceof PantheonError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new PantheonError('STORE_ERROR', `The rate-limit ledger ${file} could not be used: ${reason}`, {
    hint: 'Check that the folder is writable; delete the file to start over (it only holds recent request counts).',
    cause: error,
  });
}

function schemaVersion(db: DatabaseSync, file: string): number {
  const { user_version: version } = db.prepare('PRAGMA user_version').get() as { user_version: number };
  if (version > SCHEMA_VERSION) {
    throw new PantheonError('STORE_ERROR', `The rate-limit ledger ${file} was written by a newer Pantheon.`, {
      hint: 'Upgrade Pantheon, or delete the file (it only holds recent request counts).',
    });
  }
  return version;
}

function migrate(db: DatabaseSync, file: string): void {
  if (schemaVersion(db, file) === SCHEMA_VERSION) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    // Read again under the write lock: another process may have migrated meanwhile.
    const version = schemaVersion(db, file);
    if (version === 1) db.exec(FROM_V1);
    else if (version === 0) db.exec(SCHEMA);
    db.exec(V3_TABLES);
    if (version < 5) db.exec(V5);
    db.exec(V6);
    const hasN = (table: string): boolean => (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).some((c) => c.name === 'n');
    // A start's `n` has no default: an insert that does not give it (an older Pantheon's) is refused (V7).
    if (!hasN('starts')) db.exec('ALTER TABLE starts ADD COLUMN n INTEGER; UPDATE starts SET n = 1;');
    if (!hasN('tokens')) db.exec('ALTER TABLE tokens ADD COLUMN n INTEGER NOT NULL DEFAULT 1');
    db.exec(V7);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec('COMMIT');
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
}

/** Each open ledger's flush for a process that exits without closing it (one 'exit' listener for all). */
const openLedgers = new Set<() => void>();
function flushOnExit(): void {
  for (const flush of openLedgers) flush();
}

/** Reservation ids: a random prefix per ledger (unique across processes) and a counter. */
function uniqueIds(): () => string {
  // 96 random bits: short ids hash and compare faster than a UUID in every lookup by id.
  const prefix = randomBytes(12).toString('base64url');
  let n = 0;
  return () => `${prefix}.${(++n).toString(36)}`;
}

export class SqliteLedger implements Ledger {
  readonly path: string;
  /** Leases taken (`ahead`: of them, taken ahead) and their slots (slot-lease.ts): handed out without a transaction, refunded unused. */
  readonly leases = { taken: 0, slots: 0, handedOut: 0, refunded: 0, ahead: 0 };
  readonly #db: DatabaseSync;
  readonly #q: Statements;
  /** The rows this ledger wrote, and the settles of the commit being written. */
  readonly #own: OwnRows;
  readonly #now: () => number;
  readonly #newId: () => string;
  readonly #pid: number;
  readonly #isAlive: (pid: number) => boolean;
  #lastPrune = Number.NEGATIVE_INFINITY;
  /**
   * The reservations this ledger admitted and has not released (their rows, by rowid), and the
   * last RELEASED_KEPT released ones (`released`: a markSent may still come).
   */
  readonly #mine = new Map<string, Reservation>();
  /**
   * Their ids in release order, a ring: the oldest is forgotten by its id. (Dropping a Map's first
   * key through `keys().next()` walks the holes earlier deletions left: ~1.5 µs a release.)
   */
  readonly #released = new ReleasedRing();
  readonly #cooldownReadMs: number;
  readonly #busyTimeoutMs: number;
  /** The cooldowns table as last read (this process's own writes applied), and when (performance.now()). */
  #failures = new Map<string, { failures: number; until: number | null }>();
  #failuresReadAt = Number.NEGATIVE_INFINITY;
  /** Each key's learned limits as last read, while no process has changed them since. */
  readonly #learned: LearnedSignal<readonly LearnedLimit[]>;
  /** markSent and release calls made since the last write, applied together in the next one. */
  #batch: Batch | undefined;
  /** Slots leased ahead per request kind (slot-lease.ts), by leaseKey. */
  readonly #pools = new Map<string, SlotPool<Slot>>();
  /** Writes that may come late (settles of leased slots, usage rows): made by the next write, at most DEFER_MS later. */
  #deferred: ((now: number) => void)[] = [];
  /** Reservations marked sent whose settles are deferred likewise (a list of them, not an op made for each). */
  #sentLater: Reservation[] = [];
  #deferTimer: NodeJS.Timeout | undefined;
  /** When the deferred writes' timer fires (performance.now()), and the wait it was armed with. */
  #deferAt = 0;
  #deferWait = 0;
  #returnTimer: NodeJS.Timeout | undefined;
  /** Commits what is deferred when the process exits without closing the ledger. */
  readonly #onExit = (): void => {
    try {
      if (this.#db.isOpen && (this.#hasDeferred() || this.#batch || this.#hasUnused() || this.#holdsSlots())) this.#tx((now) => this.#returnAll(now));
    } catch {
      // Exiting: a pending start left behind counts as "now" until another process settles it.
    }
  };

  /** Opens (creating if needed) the ledger at `file` or with `opts`; the default path is under the state folder. */
  static async open(fileOrOpts: string | SqliteLedgerOptions = {}): Promise<SqliteLedger> {
    return new SqliteLedger(typeof fileOrOpts === 'string' ? { path: fileOrOpts } : fileOrOpts);
  }

  constructor(opts: SqliteLedgerOptions = {}) {
    this.path = opts.path ?? defaultLedgerPath(opts.env);
    this.#now = opts.now ?? Date.now;
    this.#newId = opts.newId ?? uniqueIds();
    this.#pid = opts.pid ?? process.pid;
    this.#isAlive = opts.isAlive ?? processAlive;
    this.#cooldownReadMs = opts.cooldownReadMs ?? COOLDOWN_READ_MS;
    this.#busyTimeoutMs = opts.busyTimeoutMs ?? 5000;
    this.#learned = new LearnedSignal(this.path);
    let db: DatabaseSync | undefined;
    try {
      if (this.path !== ':memory:') makeDirSync(path.dirname(this.path), 0o700);
      const opened = new DatabaseSync(this.path, { timeout: this.#busyTimeoutMs });
      db = opened;
      useWal(opened, this.#busyTimeoutMs);
      opened.exec('PRAGMA synchronous = NORMAL');
      retryBusy(() => migrate(opened, this.path), this.#busyTimeoutMs);
      const q: Partial<Statements> = {};
      for (const name of Object.keys(SQL) as (keyof typeof SQL)[]) q[name] = db.prepare(SQL[name]);
      this.#q = q as Statements;
      this.#own = new OwnRows(this.#q, this.#pid);
      this.#db = db;
      openLedgers.add(this.#onExit);
      if (openLedgers.size === 1) process.on('exit', flushOnExit);
    } catch (error) {
      if (db?.isOpen) db.close();
      throw storeError(this.path, error);
    }
  }

  /**
   * Admissions made together share one commit with the other writes of the turn (see #batched):
   * each is decided in turn under the write lock, seeing the starts recorded before it, and every
   * caller resumes once the commit holding its start is on disk — before its request can be sent.
   */
  /** A slot leased ahead, when one is free for `req` (no transaction). */
  admitNow(req: ReserveRequest): Granted | undefined {
    if (this.#pools.size === 0) return undefined;
    validateReserveRequest(req);
    return leaseCap(req) > 0 ? this.#takeSlot(leaseKey(req), slotTokens(req), this.#now(), req) : undefined;
  }

  async tryReserve(req: ReserveRequest): Promise<ReserveResult> {
    validateReserveRequest(req);
    // Window limits alone, all large (and no learned limit): a slot leased ahead is handed out without a transaction.
    const cap = leaseCap(req);
    const key = cap > 0 || this.#pools.size > 0 ? leaseKey(req) : '';
    if (cap > 0) {
      const slot = this.#takeSlot(key, slotTokens(req), this.#now(), req);
      if (slot) return slot;
    }
    let result: ReserveResult | undefined;
    await this.#batched((now) => {
      if (now - this.#lastPrune >= PRUNE_EVERY_MS) this.#prune(now);
      if (cap > 0) {
        result = this.#lease(req, key, cap, now);
        return;
      }
      // A limit was learned for the key since its lease was taken: the unused slots go now.
      const pool = key === '' ? undefined : this.#pools.get(key);
      if (pool && (pool.free > 0 || pool.next)) this.#refund(pool);
      const decision = decide(req, this.#rows(req, now, true), now);
      result = decision.ok ? { ok: true, id: this.#insert(req, now, deferWithin(req)).id, at: now } : decision;
    });
    return result as ReserveResult;
  }

  /**
   * An unused slot of the lease under `key` carrying at least `tokens`, unless it ended. A leased
   * request has no concurrency limit (leaseCap), so handing a slot out writes nothing: it may run
   * outside a transaction (admitNow). Outside one, `ahead` (the request) asks for the next lease
   * ahead when this one runs low.
   */
  #takeSlot(key: string, tokens: number, now: number, ahead?: ReserveRequest): Granted | undefined {
    let pool = this.#pools.get(key);
    // Its slots are gone: the lease taken ahead takes over.
    if (pool?.free === 0 && pool.next) this.#pools.set(key, (pool = pool.next));
    if (!pool || pool.free === 0 || now >= pool.expires || tokens > pool.tokens) return undefined;
    this.leases.handedOut += 1;
    pool.free -= 1;
    const id = this.#newId();
    this.#admit(id, pool.slot);
    if (ahead && takeAhead(pool, now)) this.#leaseAhead(ahead, key, pool);
    return { ok: true, id, at: now };
  }

  /** Asks for the lease that takes over from `pool` (the lease of `req` under `key`) ahead: slot-lease.ts. */
  #leaseAhead(req: ReserveRequest, key: string, pool: SlotPool<Slot>): void {
    pool.ahead = true;
    this.#writeSoon((at) => {
      // Still the lease in use, and nothing learned meanwhile ended it.
      if (this.#pools.get(key) !== pool || at >= pool.expires || pool.next) return;
      pool.next = this.#newLease(req, Math.min(leaseCap(req), pool.taken * 2), Math.max(slotTokens(req), pool.tokens), at);
      if (pool.next) this.leases.ahead += 1;
    });
  }

  /**
   * Runs `fn` in a write transaction at once when the write lock is free (with what is batched so
   * far), else in the next batch; its failure is left to the next write. A process whose requests
   * keep its event loop busy (answers in the same turn) gets to no batch until they all wait for
   * one: what must be written before they run out is written now.
   */
  #writeSoon(fn: (now: number) => void): void {
    let began = false;
    try {
      began = this.#tryBegin();
    } catch {
      // Tried again with the next batch.
    }
    try {
      if (began) this.#tx(fn, true);
      else this.#batched(fn).catch(() => undefined);
    } catch {
      // #tx rejected the batch it carried with the error; nothing of `fn` was written.
    }
  }

  /**
   * A lease of `k` slots carrying `amount` tokens each under the learned key, when every window has
   * room for all k (in a write transaction): written, none handed out yet; else undefined.
   */
  #newLease(req: ReserveRequest, k: number, amount: number, now: number): SlotPool<Slot> | undefined {
    const learned = req.learned ? { ...req.learned, tokens: amount } : undefined;
    const wide: ReserveRequest = { ...req, windows: windowsFor(req.windows, k), ...(learned ? { learned } : {}) };
    if (!decide(wide, this.#rows(wide, now, true), now).ok) return undefined;
    const slot = this.#hold(learned ? { ...req, learned } : req, now, deferWithin(req), k, this.#newId());
    this.leases.taken += 1;
    this.leases.slots += k;
    this.#armReturn();
    return { free: k, slot, tokens: amount, expires: now + LEASE_MS, at: now, taken: k };
  }

  /**
   * Admits `req` (window limits alone) under the write lock: from a lease an earlier admission of
   * this commit took, else by taking a lease of nextLeaseSize slots — k admissions decided at once
   * (every window must have room for all k) — else as one admission. Slots carry the learned key's
   * tokens of the largest estimate seen lately (this request's or the last lease's), so a request
   * a little larger than the one before does not end the lease.
   */
  #lease(req: ReserveRequest, key: string, cap: number, now: number): ReserveResult {
    const tokens = slotTokens(req);
    const slot = this.#takeSlot(key, tokens, now);
    if (slot) return slot;
    let pool = this.#pools.get(key);
    // The lease ended with slots left, and the one taken ahead has not: the unused ones go, it takes over.
    if (pool?.next && now >= pool.expires && now < pool.next.expires) {
      this.#refund(pool, false);
      this.#pools.set(key, pool.next);
      const next = this.#takeSlot(key, tokens, now);
      if (next) return next;
      pool = this.#pools.get(key);
    }
    const k = nextLeaseSize(pool, cap, now);
    const amount = pool && k > 1 ? Math.max(tokens, pool.tokens) : tokens;
    if (pool) this.#refund(pool);
    const lease = k > 1 ? this.#newLease(req, k, amount, now) : undefined;
    if (lease) {
      // Its first slot is this request's.
      lease.free -= 1;
      this.#pools.set(key, lease);
      const id = this.#newId();
      this.#admit(id, lease.slot);
      return { ok: true, id, at: now };
    }
    const decision = decide(req, this.#rows(req, now, true), now);
    if (!decision.ok) return decision;
    const one = this.#insert(req, now, deferWithin(req));
    this.#pools.set(key, { free: 0, slot: one.slot, tokens, expires: now, at: now, taken: 1 });
    return { ok: true, id: one.id, at: now };
  }

  /** Refunds a lease's unused slots (in a write transaction): their rows go; with `next`, the lease taken ahead goes too. */
  #refund(pool: SlotPool<Slot>, next = true): void {
    this.leases.refunded += pool.free;
    for (const { row, amount } of pool.slot.rows) this.#own.refundUntaken(row, pool.free, amount);
    pool.free = 0;
    if (next && pool.next) {
      this.#refund(pool.next);
      pool.next = undefined;
    }
  }

  /** Refunds the unused slots of every lease that ended (`all`: of every lease); in a write transaction. */
  #returnUnused(now: number, all = false): void {
    for (const [key, pool] of this.#pools) {
      if (all) {
        this.#refund(pool);
        continue;
      }
      if (pool.free > 0 && now >= pool.expires) this.#refund(pool, false);
      const next = pool.next;
      if (!next) continue;
      if (now >= next.expires) {
        this.#refund(next);
        pool.next = undefined;
      } else if (now >= pool.expires) this.#pools.set(key, next);
    }
  }

  /** Whether a reservation admitted here still holds concurrency slots (not released yet). */
  #holdsSlots(): boolean {
    for (const mine of this.#mine.values()) if (mine.leases && !mine.released) return true;
    return false;
  }

  /**
   * Closing (or exiting): every lease's unused slots, and the concurrency slots of reservations not
   * released yet. Nothing of this process runs once its ledger is closed, so a slot left held would
   * only block other processes until its lease expired (30 s: a `concurrency: 1` model refused for
   * that long); a start it made still counts in its window. In a write transaction.
   */
  #returnAll(now: number): void {
    this.#returnUnused(now, true);
    for (const [id, mine] of this.#mine) {
      if (!mine.leases || mine.released) continue;
      this.#q.dropLeases.run(id);
      mine.leases = false;
    }
  }

  ownUnused(key: string): number {
    let n = 0;
    for (const pool of this.#pools.values()) {
      for (const lease of pool.next ? [pool, pool.next] : [pool]) {
        if (lease.free > 0 && lease.slot.rows.some(({ row }) => row.table === 'starts' && row.key === key)) n += lease.free;
      }
    }
    return n;
  }

  #hasUnused(): boolean {
    for (const pool of this.#pools.values()) if (pool.free > 0 || (pool.next?.free ?? 0) > 0) return true;
    return false;
  }

  /** Unused slots are refunded when their lease ends, with the next write or on a timer. */
  #armReturn(): void {
    if (this.#returnTimer) return;
    this.#returnTimer = setTimeout(() => {
      this.#returnTimer = undefined;
      if (!this.#db.isOpen || !this.#hasUnused()) return;
      this.#batched((now) => this.#returnUnused(now)).then(
        () => this.#hasUnused() && this.#armReturn(),
        () => undefined,
      );
    }, LEASE_MS + 1);
    this.#returnTimer.unref();
  }

  /** Writes one admission's starts and tokens (in a write transaction) and admits it. */
  #insert(req: ReserveRequest, now: number, deferMs: number): { id: string; slot: Slot } {
    const id = this.#newId();
    const slot = this.#hold(req, now, deferMs, 1, id);
    this.#admit(id, slot);
    return { id, slot };
  }

  /**
   * Writes `count` admissions' starts and tokens under `id` (in a write transaction): one row per
   * key counting all of them (ledger-sqlite-own.ts). Each admission is made from the slot when it
   * is handed out (#admit).
   */
  #hold(req: ReserveRequest, now: number, deferMs: number, count: number, id: string): Slot {
    const plan = planReservation(req, now);
    return {
      rows: [
        ...plan.starts.map((s) => ({ row: this.#own.hold('starts', s.key, now, id, s.until, count, 0), amount: 0 })),
        ...plan.tokens.map((s) => ({ row: this.#own.hold('tokens', s.key, now, id, s.until, count, s.amount), amount: s.amount })),
      ],
      leases: plan.leases,
      deferMs,
    };
  }

  /** Records the reservation `id` made from `slot` (its concurrency slots written now). */
  #admit(id: string, slot: Slot): void {
    for (const l of slot.leases) this.#q.addLease.run(l.key, id, l.expires);
    // Made at its length (a pushed-to empty array takes room for 17).
    const units = slot.rows.map(({ row, amount }) => this.#own.unit(row, amount));
    this.#mine.set(id, { units, leases: slot.leases.length > 0, pending: true, deferMs: slot.deferMs, released: false });
  }

  /** Runs `op` in the next write transaction, whichever comes first: another write, or `withinMs` from now. */
  #defer(op: (now: number) => void, withinMs = DEFER_MS): void {
    this.#deferred.push(op);
    this.#armDefer(withinMs);
  }

  /** Whether writes wait for the next one (#defer, markSent's settles). */
  #hasDeferred(): boolean {
    return this.#deferred.length > 0 || this.#sentLater.length > 0;
  }

  /** Makes sure the deferred writes are made within `withinMs` from now. */
  #armDefer(withinMs: number): void {
    // A timer armed with a wait no longer than this one fires in time: no clock to read (most calls).
    if (this.#deferTimer && this.#deferWait <= withinMs) return;
    const at = performance.now() + withinMs;
    if (this.#deferTimer && this.#deferAt <= at) return;
    clearTimeout(this.#deferTimer);
    this.#deferAt = at;
    this.#deferWait = withinMs;
    this.#deferTimer = setTimeout(() => {
      this.#deferTimer = undefined;
      if (this.#hasDeferred() && this.#db.isOpen) this.#batched(() => undefined).catch(() => undefined);
    }, withinMs);
    this.#deferTimer.unref();
  }

  async peekWait(req: ReserveRequest): Promise<number> {
    validateReserveRequest(req);
    return this.#snapshot(() => {
      const now = this.#now();
      const decision = decide(req, this.#rows(req, now, false), now);
      return decision.ok ? 0 : decision.waitMs;
    });
  }

  async inspect(req: ReserveRequest): Promise<{ now: number; rows: LedgerRows }> {
    validateReserveRequest(req);
    return this.#snapshot(() => {
      const now = this.#now();
      return { now, rows: this.#rows(req, now, false, true) };
    });
  }

  /** Not async: a deferred settle (most, with leased slots) answers with one shared promise. */
  markSent(id: string): Promise<void> {
    // A reservation this ledger did not admit has no rows it may move; one released a moment ago
    // (the request's response began after its attempt ended) still has its start to move later.
    const mine = this.#mine.get(id);
    if (!mine) return DONE;
    // Counted from the commit that settles it: later than now, never earlier.
    if (mine.deferMs > 0) {
      this.#sentLater.push(mine);
      this.#armDefer(mine.deferMs);
      mine.pending = false;
      return DONE;
    }
    return this.#batchedOrRejected((now) => this.#settleSent(mine, now)).then(() => {
      mine.pending = false;
    });
  }

  /** Moves a reservation marked sent to `now` (pending, or released before its markSent). */
  #settleSent(mine: Reservation, now: number): void {
    for (const unit of mine.units) this.#own.settle(unit, now, true);
  }

  async renew(id: string, leaseMs: number): Promise<void> {
    await this.#batched((now) => void this.#q.renew.run(now + Math.ceil(leaseMs), id, now));
  }

  /** Not async (see markSent). */
  release(id: string, opts: ReleaseOptions = {}): Promise<void> {
    if (!this.#db.isOpen) return Promise.reject(ledgerClosed());
    const mine = this.#mine.get(id);
    // Not admitted here, or released already: nothing of it to end.
    if (!mine || mine.released) return DONE;
    // Marked sent, its settle deferred, nothing to correct or refund (most releases): nothing to write.
    if (mine.deferMs > 0 && !mine.pending && !mine.leases && opts.actualTokens === undefined && !opts.refund) {
      this.#afterRelease(id, mine, opts);
      return DONE;
    }
    const amount = opts.actualTokens === undefined ? -1 : Math.max(0, Math.ceil(opts.actualTokens));
    const tokens = amount < 0 ? [] : mine.units.filter((u) => u.row.table === 'tokens');
    const correct = tokens.some((u) => u.amount !== amount);
    const settle = (now: number): void => {
      for (const unit of mine.units) this.#own.settle(unit, now, false);
      if (correct) for (const unit of tokens) this.#own.correct(unit, amount);
    };
    // Most releases come after markSent, of a reservation with no slot and nothing to correct: no
    // write transaction is taken (this ledger knows its own rows).
    // A correction upward may not wait: until it is written, others would count fewer tokens.
    if (mine.deferMs > 0 && !opts.refund && !tokens.some((u) => u.amount < amount)) {
      if (mine.pending || correct) this.#defer(settle, mine.deferMs);
    } else if (opts.refund || mine.leases || mine.pending || correct) {
      return this.#batchedOrRejected((now) => {
        if (mine.leases) this.#q.dropLeases.run(id);
        if (opts.refund) this.#own.refund(mine.units);
        else settle(now);
      }).then(() => this.#afterRelease(id, mine, opts));
    }
    this.#afterRelease(id, mine, opts);
    return DONE;
  }

  /** After the release's writes: forgets the reservation, or keeps it a while for a late markSent. */
  #afterRelease(id: string, mine: Reservation, opts: ReleaseOptions): void {
    if (opts.refund) {
      this.#mine.delete(id);
      return;
    }
    mine.pending = false;
    mine.leases = false;
    // Kept a while for a markSent that comes after the release (see markSent).
    mine.released = true;
    const oldest = this.#released.add(id);
    if (oldest !== undefined && oldest !== id) this.#mine.delete(oldest);
  }

  async recordFailure(key: string, afterFailures: number, cooldownMs: number): Promise<{ coolingUntil?: number }> {
    const { next, now } = this.#tx((now) => {
      const row = this.#q.failure.get(key) as { failures: number; until: number | null } | undefined;
      const prev: FailureState | undefined = row && { failures: row.failures, until: row.until ?? undefined };
      const next = nextFailureState(prev, afterFailures, cooldownMs, now);
      this.#q.setFailure.run(key, next.failures, next.until ?? null);
      return { next, now };
    });
    this.#failures.set(key, { failures: next.failures, until: next.until ?? null });
    return next.until !== undefined && next.until > now ? { coolingUntil: next.until } : {};
  }

  /** Not async (see markSent). */
  recordSuccess(key: string): Promise<void> {
    // Almost always there is nothing to reset: no write transaction (a failure another process
    // recorded less than cooldownReadMs ago overlapped this request, and is left to count).
    try {
      if (!this.#recentFailures().has(key)) return DONE;
      this.#tx(() => this.#q.dropFailure.run(key));
    } catch (error) {
      return Promise.reject(error);
    }
    this.#failures.delete(key);
    return DONE;
  }

  async cooldownUntil(key: string): Promise<number | undefined> {
    const until = this.#recentFailures().get(key)?.until;
    return until != null && until > this.#now() ? until : undefined;
  }

  /** The cooldowns table, read again when the last read is older than cooldownReadMs. */
  #recentFailures(): Map<string, { failures: number; until: number | null }> {
    const at = performance.now();
    if (at - this.#failuresReadAt >= this.#cooldownReadMs) {
      const rows = this.#read(() => this.#q.failures.all()) as unknown as { key: string; failures: number; until: number | null }[];
      this.#failures = new Map(rows.map((r) => [r.key, { failures: r.failures, until: r.until }]));
      this.#failuresReadAt = at;
    }
    return this.#failures;
  }

  async listCooldowns(): Promise<CooldownEntry[]> {
    return this.#read(() => this.#q.cooling.all(this.#now())) as unknown as CooldownEntry[];
  }

  async recordLearned(key: string, limits: LearnedLimit[], observedAt: number): Promise<void> {
    // An answer that announces nothing (most do, from most providers) forgets what was learned:
    // usually nothing, which a read says without a write transaction.
    if (limits.length === 0 && (this.#read(() => this.#q.forgettable.get(key, observedAt)) as { n: number }).n === 0) return;
    const changes = this.#tx(() => {
      if (limits.length === 0) return Number(this.#q.forgetLearned.run(key, observedAt).changes);
      let n = 0;
      for (const l of limits) {
        const prev = this.#q.learnedOf.get(key, l.name) as { observed_at: number } | undefined;
        if (prev && prev.observed_at > l.observedAt) continue;
        this.#q.putLearned.run(key, l.name, l.kind, l.limit ?? null, l.remaining, l.resetAt, l.observedAt, learnedExpiry(l), l.source);
        n++;
      }
      return n;
    });
    if (changes > 0) this.#learned.changed();
  }

  async listLearned(key?: string): Promise<LearnedLimit[]> {
    const now = this.#now();
    return key === undefined ? this.#listLearned(undefined, now) : this.#learnedOf(key, now);
  }

  learnedNow(key: string): LearnedLimit[] {
    return this.#learnedOf(key, this.#now());
  }

  #learnedOf(key: string, now: number): LearnedLimit[] {
    // Before every admission of a model with learning on: read again only when a process changed them (learned-signal.ts).
    const known = this.#learned.get(key, now);
    if (known) return [...known];
    const limits = this.#listLearned(key, now);
    const kept = keptLearned(limits);
    this.#learned.set(key, kept.limits, kept.until);
    return limits;
  }

  #listLearned(key: string | undefined, now: number): LearnedLimit[] {
    const rows = this.#read(() => (key === undefined ? this.#q.listLearned.all(now) : this.#q.listLearnedOf.all(key, now))) as unknown as LearnedRow[];
    return rows.map((r) => ({
      key: r.key,
      name: r.name,
      kind: r.kind === 'tokens' ? 'tokens' : 'requests',
      ...(r.lim === null ? {} : { limit: r.lim }),
      remaining: r.remaining,
      resetAt: r.reset_at,
      observedAt: r.observed_at,
      source: r.source,
    }));
  }

  async reserveSpend(req: SpendRequest): Promise<SpendResult> {
    return this.#tx(() => {
      const totals = this.#spendTotals(req.budgets.map((b) => b.key));
      const exceeded = exceededBudget(req, totals);
      if (exceeded) return { ok: false as const, exceeded, totals };
      const id = this.#newId();
      const expected = validSpend(req.expected);
      for (const b of req.budgets) this.#q.addSpend.run(b.key, id, expected.usd, expected.tokens, b.retainUntil);
      return { ok: true as const, id, totals };
    });
  }

  async settleSpend(id: string, actual: SpendAmount): Promise<void> {
    const clean = validSpend(actual);
    await this.#batched(() => void this.#q.settleSpend.run(clean.usd, clean.tokens, id));
  }

  async spendTotals(keys: string[]): Promise<Record<string, SpendAmount>> {
    return this.#read(() => this.#spendTotals(keys));
  }

  async recordUsage(r: UsageRecord): Promise<void> {
    this.#assertOpen();
    // A log line: written with the next write, or DEFER_MS from now (on close or exit at the latest).
    this.#defer(() =>
      void this.#q.addUsage.run(r.t, r.runId ?? null, r.agent, r.provider, r.model, r.inputTokens, r.outputTokens, r.costUSD ?? null, r.cached ? 1 : 0, r.savedUSD ?? null, r.retries, r.fallbacks, r.waitedMs),
    );
  }

  async listUsage(since: number): Promise<UsageRecord[]> {
    if (this.#hasDeferred()) this.#tx(() => undefined);
    const rows = this.#read(() => this.#q.listUsage.all(since)) as unknown as UsageRow[];
    return rows.map((r) => ({
      t: r.t,
      ...(r.run === null ? {} : { runId: r.run }),
      agent: r.agent,
      provider: r.provider,
      model: r.model,
      inputTokens: r.input,
      outputTokens: r.output,
      ...(r.cost === null ? {} : { costUSD: r.cost }),
      cached: r.cached === 1,
      ...(r.saved === null ? {} : { savedUSD: r.saved }),
      retries: r.retries,
      fallbacks: r.fallbacks,
      waitedMs: r.waited,
    }));
  }

  async prune(): Promise<void> {
    this.#tx((now) => this.#prune(now));
  }

  #spendTotals(keys: string[]): Record<string, SpendAmount> {
    const out: Record<string, SpendAmount> = {};
    for (const key of keys) {
      const row = this.#q.spendOf.get(key) as { usd: number; tokens: number };
      out[key] = { usd: row.usd, tokens: row.tokens };
    }
    return out;
  }

  async close(): Promise<void> {
    clearTimeout(this.#deferTimer);
    clearTimeout(this.#returnTimer);
    openLedgers.delete(this.#onExit);
    if (openLedgers.size === 0) process.off('exit', flushOnExit);
    if ((this.#batch || this.#hasDeferred() || this.#hasUnused() || this.#holdsSlots()) && this.#db.isOpen) this.#tx((now) => this.#returnAll(now));
    if (this.#db.isOpen) this.#db.close();
    this.#learned.close();
  }

  /**
   * The answers a decision on `req` needs (ledger-reads.ts), pending starts at their effective
   * time; `exact` (inspect) also counts and sums. In a write transaction (`settle`), a pending start
   * whose owner process is gone is settled at `now` when found: it may have reached the provider at
   * any moment until its process died, and it will never be marked sent. (One not read meanwhile
   * counts as now until admission + PENDING_MAX_MS, then at that time: later than any moment it
   * could have been sent, since no sender sends an admission older than half of that.)
   */
  #rows(req: ReserveRequest, now: number, settle: boolean, exact = false): LedgerRows {
    const reads = decisionReads(req, now);
    // A dead owner's row is settled where it was found (its other rows when a decision reads them;
    // until then they count as starting now, which is never earlier).
    const pendingTime = (row: PendingRow, settleRow: StatementSync): number | undefined => {
      if (row.owner === null || row.owner === this.#pid || this.#isAlive(row.owner)) return effectiveStart(row.t, true, now);
      if (!settle) return Math.max(row.t, now);
      settleRow.run(now, row.row);
      return undefined; // a sent row now, read with the sent ones
    };
    // A key's pending rows are read (a dead owner's settled) before its sent rows, and only when a
    // question needs them: a limit larger than every row of its key is answered without them.
    const pendingStarts = new Map<string, number[]>();
    const pendingTokens = new Map<string, TokenRow[]>();
    const startsOf = (key: string) => (): number[] => {
      let times = pendingStarts.get(key);
      if (!times) {
        pendingStarts.set(key, (times = []));
        for (const r of this.#q.pendingStarts.all(key) as unknown as PendingRow[]) {
          const t = pendingTime(r, this.#q.settlePendingStart);
          // A row counts n starts (a lease's slots), all at the same time.
          if (t !== undefined) for (let i = 0; i < (r.n ?? 1); i++) times.push(t);
        }
      }
      return times;
    };
    const tokensOf = (key: string) => (): TokenRow[] => {
      let out = pendingTokens.get(key);
      if (!out) {
        pendingTokens.set(key, (out = []));
        for (const r of this.#q.pendingTokens.all(key) as unknown as PendingRow[]) {
          const t = pendingTime(r, this.#q.settlePendingTokens);
          if (t !== undefined) out.push({ t, amount: r.amount ?? 0 });
        }
      }
      return out;
    };
    const starts = new Map<string, StartsAnswer>();
    for (const q of reads.starts) starts.set(startsId(q), answerStarts(q, this.#sentStarts(q.key), startsOf(q.key), exact));
    const tokens = new Map<string, TokensAnswer>();
    for (const q of reads.tokens) tokens.set(tokensId(q), answerTokens(q, this.#sentTokens(q.key), tokensOf(q.key), exact));
    const inFlight = new Map<string, number>();
    for (const key of reads.concurrency) {
      inFlight.set(key, (this.#q.inFlight.get(key, now) as { n: number }).n);
    }
    return { starts, tokens, inFlight };
  }

  #sentStarts(key: string): SentStarts {
    const q = this.#q;
    let counts: { n: number; rows: number } | undefined;
    const keyCounts = (): { n: number; rows: number } => (counts ??= (q.keyRows.get(key) as { n: number; rows: number } | undefined) ?? { n: 0, rows: 0 });
    return {
      nth: (from, m) => {
        if (keyCounts().n === keyCounts().rows) {
          const rows = q.sentNth.all(key, from, m - 1) as unknown as { t: number }[];
          return [rows[0]?.t, rows[1]?.t];
        }
        // The row holding the m-th newest start, and the (m+1)-th: in the same row when it holds more.
        const [first, second] = q.sentNthCounted.all(key, from, m) as unknown as { t: number; run: number }[];
        if (first === undefined) return [undefined, undefined];
        return [first.t, first.run > m ? first.t : second?.t];
      },
      count: (from, cap) => Math.min(cap, (q.sentCount.get(key, from, cap) as { n: number }).n),
      oldest: (from) => (q.sentOldest.get(key, from) as { t: number | null }).t ?? undefined,
      bound: () => keyCounts().n,
    };
  }

  #sentTokens(key: string): SentTokens {
    const q = this.#q;
    return {
      sum: (from) => (q.tokenSum.get(key, from) as { n: number }).n,
      newestFirst: (from) => q.tokensNewest.iterate(key, from) as unknown as Iterable<TokenRow>,
    };
  }

  #prune(now: number): void {
    this.#lastPrune = now;
    for (const { key } of this.#q.startKeys.all() as { key: string }[]) {
      this.#q.pruneSentStarts.run(now, PENDING_MAX_MS, key, START_RETAIN_MS);
      this.#q.prunePendingStarts.run(now, PENDING_MAX_MS, key, START_RETAIN_MS);
    }
    this.#q.dropStartKeys.run();
    for (const { key } of this.#q.tokenKeys.all() as { key: string }[]) this.#q.pruneTokensOf.run(now, PENDING_MAX_MS, key);
    this.#q.pruneLeases.run(now);
    this.#q.pruneCooldowns.run(now);
    this.#q.pruneLearned.run(now);
    this.#q.pruneSpend.run(now);
    this.#q.pruneUsage.run(now - USAGE_RETAIN_MS);
  }

  /**
   * Runs `fn` in the next write transaction, together with every other admission, markSent and
   * release of this process made meanwhile: concurrent requests share one commit (each commit
   * writes its pages to the WAL). The transaction starts once this turn of the event loop has
   * handled its I/O (so requests that arrived or were answered in the same turn, each in its own
   * callback, join), or earlier with any other write; resolves once committed. Nothing is held
   * back: the caller awaits the commit, and the clock is read under the lock, so a start moves to
   * the commit's time, never earlier.
   */
  /** #batched, a closed ledger's error as a rejection rather than thrown. */
  #batchedOrRejected(fn: (now: number) => void): Promise<void> {
    try {
      return this.#batched(fn);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #batched(fn: (now: number) => void): Promise<void> {
    this.#assertOpen();
    if (!this.#batch) {
      let resolve!: () => void;
      let reject!: (e: unknown) => void;
      const done = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.#batch = { ops: [], done, resolve, reject };
      const batch = this.#batch;
      flushSoon(() => this.#flush(batch, performance.now(), 0));
    }
    this.#batch.ops.push(fn);
    return this.#batch.done;
  }

  /**
   * Commits `batch` (unless a write committed it meanwhile) once the write lock is free. While
   * another process holds the lock, the batch is tried again in 1–4 ms, the event loop running
   * meanwhile, instead of waiting in SQLite's busy handler: its sleeps grow to 25–100 ms, so a
   * process waiting for a window to open (or twelve starting at once) overslept the holder's commit
   * by that much (bench/parallel-runs.ts). Calls batched meanwhile join it. After busyTimeoutMs
   * the batch fails with SQLite's "database is locked", as a blocking wait would.
   */
  #flush(batch: Batch, since: number, tries: number): void {
    if (this.#batch !== batch || !this.#db.isOpen) return;
    let began: boolean;
    try {
      began = this.#tryBegin();
    } catch (error) {
      this.#batch = undefined;
      batch.reject(storeError(this.path, error));
      return;
    }
    if (!began) {
      if (performance.now() - since < this.#busyTimeoutMs) {
        tryAgainIn(() => this.#flush(batch, since, tries + 1), Math.min(4, 1 + (tries >> 2)));
        return;
      }
      this.#batch = undefined;
      batch.reject(storeError(this.path, new Error('database is locked')));
      return;
    }
    try {
      this.#tx(() => undefined, true);
    } catch {
      // #tx rejected the batch's promise with the error.
    }
  }

  /** BEGIN IMMEDIATE without waiting: false when another connection holds the write lock. */
  #tryBegin(): boolean {
    this.#db.exec('PRAGMA busy_timeout = 0');
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      return true;
    } catch (error) {
      if (isBusy(error)) return false;
      throw error;
    } finally {
      this.#db.exec(`PRAGMA busy_timeout = ${this.#busyTimeoutMs}`);
    }
  }

  /**
   * Runs `fn` in a write transaction (after the calls batched so far); the clock is read once the
   * lock is held. `began`: the transaction is already open (#flush took the lock).
   */
  #tx<T>(fn: (now: number) => T, began = false): T {
    this.#assertOpen();
    const batch = this.#batch;
    this.#batch = undefined;
    if (!began) {
      try {
        this.#db.exec('BEGIN IMMEDIATE');
      } catch (error) {
        batch?.reject(storeError(this.path, error));
        throw storeError(this.path, error);
      }
    }
    try {
      const now = this.#now();
      if (this.#sentLater.length > 0) {
        const sent = this.#sentLater;
        this.#sentLater = [];
        for (const mine of sent) this.#settleSent(mine, now);
      }
      if (this.#deferred.length > 0) {
        const deferred = this.#deferred;
        this.#deferred = [];
        for (const op of deferred) op(now);
      }
      for (const op of batch?.ops ?? []) op(now);
      const result = fn(now);
      this.#own.flush(now);
      this.#db.exec('COMMIT');
      batch?.resolve();
      return result;
    } catch (error) {
      this.#own.abandon();
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      batch?.reject(storeError(this.path, error));
      throw storeError(this.path, error);
    }
  }

  /**
   * Several reads in one read transaction: they see the ledger as of one moment (no other process's
   * commit between two of them, which could count a start both pending and sent, or neither), and
   * its locks are taken once instead of once a statement.
   */
  #snapshot<T>(fn: () => T): T {
    this.#assertOpen();
    if (this.#db.isTransaction) return this.#read(fn);
    try {
      this.#db.exec('BEGIN');
      try {
        return fn();
      } finally {
        if (this.#db.isTransaction) this.#db.exec('COMMIT');
      }
    } catch (error) {
      throw storeError(this.path, error);
    }
  }

  #read<T>(fn: () => T): T {
    this.#assertOpen();
    try {
      return fn();
    } catch (error) {
      throw storeError(this.path, error);
    }
  }

  #assertOpen(): void {
    if (!this.#db.isOpen) throw ledgerClosed();
  }
}

