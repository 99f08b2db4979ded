/**
 * The rate-limit ledger: one record of request starts, token reservations, in-flight slots and
 * cooldowns, shared by every caller that uses the same store. Implementations (in-memory, SQLite,
 * later Redis) keep the rows; the decision over those rows lives here, once, as pure functions.
 */
import { PantheonError } from '../errors.ts';
import { learnedQueries, learnedReadWindow, learnedWait } from './learned.ts';
import { startsId, tokensId } from './ledger-reads.ts';
import type { DecisionReads, StartsAnswer, StartsQuery, TokensAnswer, TokensQuery } from './ledger-reads.ts';
import type { LearnedLimit, LearnedReserve } from './learned.ts';
import type { SpendAmount, SpendRequest, SpendResult, UsageRecord } from './spend.ts';

/** At most `maxRequests` request starts in any sliding window of `windowMs`. */
export interface WindowLimit {
  key: string;
  maxRequests: number;
  windowMs: number;
}
/** At most `maxTokens` reserved (then actual) tokens over any sliding window of `windowMs`. */
export interface TokenLimit {
  key: string;
  maxTokens: number;
  windowMs: number;
}
/** At most `limit` requests in flight at once. */
export interface ConcurrencyLimit {
  key: string;
  limit: number;
}
export interface ReserveRequest {
  windows: WindowLimit[];
  tokens: { limit: TokenLimit; amount: number }[];
  concurrency: ConcurrencyLimit[];
  /** An in-flight slot held by a crashed process frees itself after this (extend it with `renew`). */
  leaseMs: number;
  /** The model's learned limits (rateLimit.learn): its start and tokens are recorded under `learned.key`. */
  learned?: LearnedReserve;
}
/** What blocked a reservation: a window or token limit gives an exact wait; concurrency is polled. */
export type BlockKind = 'window' | 'tokens' | 'concurrency';
/** A granted reservation. */
export interface Granted {
  ok: true;
  id: string;
  /** the start time counted by the ledger (ms) */
  at: number;
}
export type ReserveResult =
  | Granted
  | {
      ok: false;
      /** Earliest time it could succeed (ms from now); a short poll hint for concurrency; Infinity if it never can. */
      waitMs: number;
      /** Key and kind of the limit that decided the wait, e.g. `provider:nvidia-nim rpm`. */
      blockedBy: string;
      kind: BlockKind;
    };
export interface ReleaseOptions {
  /** Reported usage: replaces the token estimate reserved at start. */
  actualTokens?: number;
  /** The request was never sent: its starts and tokens are removed as well. */
  refund?: boolean;
}
export interface CooldownEntry {
  key: string;
  until: number;
  failures: number;
}
export interface Ledger {
  /**
   * Checks every limit and, if all allow it, records the start, tokens and slots — atomically. The
   * start is *pending* until `markSent` or `release`: until then it counts as starting "now" in
   * every other admission (see `effectiveStart`), so a process that is slow to send can never let
   * another one in behind it.
   */
  tryReserve(req: ReserveRequest): Promise<ReserveResult>;
  /**
   * An admission granted at once, without I/O, where this ledger can grant one so (MemoryLedger;
   * SqliteLedger's slots leased ahead): what tryReserve would grant. Undefined when only tryReserve
   * can answer (a refusal included), with nothing recorded. The scheduler asks it first.
   */
  admitNow?(req: ReserveRequest): Granted | undefined;
  /**
   * Starts this ledger holds leased and not yet handed out under the starts key `key` (SqliteLedger's
   * slots leased ahead): every process counts them as pending, this one may still admit as many.
   */
  ownUnused?(key: string): number;
  /** What tryReserve would answer now, without reserving: 0 when it would succeed, else its waitMs. */
  peekWait(req: ReserveRequest): Promise<number>;
  /**
   * The rows a decision on `req` would read now, without reserving or settling anything (pending
   * starts at their effective time): what the lane snapshot shows as used / limit.
   */
  inspect(req: ReserveRequest): Promise<{ now: number; rows: LedgerRows }>;
  /**
   * The request is going on the wire now: moves its recorded start (and token rows) forward to now.
   * Admission and sending are a few ms apart in a quiet process but can be hundreds of ms apart in
   * a process still starting up; counting the send time keeps the provider's view inside the limit.
   */
  markSent(id: string): Promise<void>;
  /** Heartbeat for long requests: extends the reservation's live in-flight slots to now + leaseMs. */
  renew(id: string, leaseMs: number): Promise<void>;
  /**
   * Ends the in-flight slots. Starts stay counted unless `refund` (a start still pending is counted
   * from now: the request may have arrived at any moment until now); tokens are corrected to
   * `actualTokens`. Idempotent.
   */
  release(id: string, opts?: ReleaseOptions): Promise<void>;
  /** Counts a failure; after `afterFailures` in a row the key cools down for `cooldownMs`. */
  recordFailure(key: string, afterFailures: number, cooldownMs: number): Promise<{ coolingUntil?: number }>;
  /** Resets the failure count and lifts any cooldown. */
  recordSuccess(key: string): Promise<void>;
  cooldownUntil(key: string): Promise<number | undefined>;
  listCooldowns(): Promise<CooldownEntry[]>;
  /**
   * Stores limits a provider announced for `key` (learned.ts): one entry per name, what the answer
   * to a request handed over later said replacing what an earlier one's said. An empty list forgets
   * every entry of the key from requests handed over at or before `observedAt` (the provider
   * stopped sending them), except those learned from a refusal (REFUSAL_SOURCES), which last until
   * they expire.
   */
  recordLearned(key: string, limits: LearnedLimit[], observedAt: number): Promise<void>;
  /** Learned limits not yet expired (learnedExpiry), of one key or all, ordered by key and name. */
  listLearned(key?: string): Promise<LearnedLimit[]>;
  /**
   * `listLearned(key)` answered at once, where this ledger reads without waiting (MemoryLedger,
   * SqliteLedger): the scheduler reads a model's learned limits so for an admission `admitNow` may
   * grant. Undefined from a ledger that must wait for them.
   */
  learnedNow?(key: string): LearnedLimit[] | undefined;
  /**
   * Checks the expected spend against every budget and, if all allow it, records it under each
   * budget's key — atomically, so processes sharing the ledger never overspend together.
   */
  reserveSpend(req: SpendRequest): Promise<SpendResult>;
  /** Replaces a reservation's expected spend with what the call really cost (0 when it was never sent). */
  settleSpend(id: string, actual: SpendAmount): Promise<void>;
  /** Spend recorded under each key (missing keys: zero). */
  spendTotals(keys: string[]): Promise<Record<string, SpendAmount>>;
  /** Appends one model call to the usage log (kept USAGE_RETAIN_MS). */
  recordUsage(record: UsageRecord): Promise<void>;
  /** The usage log from `since` (ms since the epoch) on, oldest first. */
  listUsage(since: number): Promise<UsageRecord[]>;
  /** Drops expired rows (also done lazily by `tryReserve`). */
  prune(): Promise<void>;
  close(): Promise<void>;
}
export interface LedgerClockOptions {
  /** Clock in integer ms (default Date.now). */
  now?: () => number;
  /** Reservation id generator (default crypto.randomUUID; a counter for the in-process MemoryLedger). */
  newId?: () => string;
}

/**
 * A start that was admitted but is not yet on the wire counts as starting "now" for at most this
 * long after its admission (then as admission + this). Its process marks it sent within ms in
 * normal operation; the bound only matters for a process that hangs, and senders refuse to send an
 * admission older than half of it (lease.ts), so the bound can never be crossed by a real request.
 */
export const PENDING_MAX_MS = 10 * 60_000;

/** The start time a row counts with: its own time once sent; "now" (bounded) while pending. */
export function effectiveStart(t: number, pending: boolean, now: number): number {
  return pending ? Math.max(t, Math.min(now, t + PENDING_MAX_MS)) : t;
}

/**
 * Failure counts and cooldowns written by other processes are seen within this long (real time)
 * by the SQLite and Redis ledgers. A read costs a read transaction on SQLite (~6 µs, more than the
 * scheduler's own work per request) and a round trip on Redis; a cooldown follows several failed
 * requests, each far longer than this.
 */
export const COOLDOWN_READ_MS = 100;

/** What a ledger call that has nothing to wait for answers: one shared promise, none made per call. */
export const DONE: Promise<void> = Promise.resolve();

/** The error every ledger gives once it is closed. */
export function ledgerClosed(): PantheonError {
  return new PantheonError('STORE_ERROR', 'The rate-limit ledger is closed.');
}

/** Concurrency blocks carry this poll hint; acquire() backs off from it. */
export const CONCURRENCY_POLL_MS = 5;
/** How often tryReserve prunes expired rows on its own. */
export const PRUNE_EVERY_MS = 60_000;
/**
 * Starts are kept at least this long (the rpd window), so a process whose config has a longer
 * window on the same key than the process that recorded the start still sees it.
 */
export const START_RETAIN_MS = 86_400_000;

export interface TokenRow {
  t: number;
  amount: number;
}
/**
 * What a decision read, inside the same transaction that will record the reservation: the answers
 * to `decisionReads(req, now)` (ledger-reads.ts), each by its question's id (`startsId`,
 * `tokensId`), and the live in-flight slots per concurrency key. Pending starts count at their
 * effective time (`effectiveStart`).
 */
export interface LedgerRows {
  starts: ReadonlyMap<string, StartsAnswer>;
  tokens: ReadonlyMap<string, TokensAnswer>;
  inFlight: ReadonlyMap<string, number>;
}
export type Decision = { ok: true } | { ok: false; waitMs: number; blockedBy: string; kind: BlockKind };

/** The rows a granted reservation adds: one start and one token row per key, one slot per concurrency key. */
export interface ReservationPlan {
  starts: { key: string; until: number }[];
  tokens: { key: string; amount: number; until: number }[];
  leases: { key: string; expires: number }[];
}

/** The keys a reservation writes under: per key, the longest window (how long its rows are kept). */
export interface KeyPlan {
  starts: { key: string; windowMs: number }[];
  tokens: { key: string; windowMs: number }[];
  concurrency: string[];
}

export function windowLabel(w: WindowLimit): string {
  if (w.windowMs === 60_000) return `${w.key} rpm`;
  if (w.windowMs === 86_400_000) return `${w.key} rpd`;
  return `${w.key} ${w.maxRequests}/${w.windowMs}ms`;
}
export function tokenLabel(l: TokenLimit): string {
  return l.windowMs === 60_000 ? `${l.key} tpm` : `${l.key} tokens/${l.windowMs}ms`;
}

function positiveInt(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new PantheonError('INTERNAL', `Rate limit ${what} must be a positive integer, got ${String(value)}.`);
  }
}

/** Rejects malformed requests (the config schema already keeps user values in range). */
export function validateReserveRequest(req: ReserveRequest): void {
  for (const w of req.windows) {
    positiveInt(w.maxRequests, `${w.key} maxRequests`);
    positiveInt(w.windowMs, `${w.key} windowMs`);
  }
  for (const { limit, amount } of req.tokens) {
    positiveInt(limit.maxTokens, `${limit.key} maxTokens`);
    positiveInt(limit.windowMs, `${limit.key} windowMs`);
    if (!Number.isFinite(amount) || amount < 0) {
      throw new PantheonError('INTERNAL', `Token amount for ${limit.key} must be a finite number >= 0.`);
    }
  }
  for (const c of req.concurrency) positiveInt(c.limit, `${c.key} concurrency`);
  positiveInt(req.leaseMs, 'leaseMs');
  if (req.learned && (!Number.isFinite(req.learned.tokens) || req.learned.tokens < 0)) {
    throw new PantheonError('INTERNAL', `Token estimate for ${req.learned.key} must be a finite number >= 0.`);
  }
}

function maxBy<T>(map: Map<string, T>, key: string, value: T, larger: (a: T, b: T) => T): void {
  const prev = map.get(key);
  map.set(key, prev === undefined ? value : larger(prev, value));
}

export function keyPlan(req: ReserveRequest): KeyPlan {
  const starts = new Map<string, number>();
  for (const w of req.windows) maxBy(starts, w.key, w.windowMs, Math.max);
  const tokens = new Map<string, number>();
  for (const { limit } of req.tokens) maxBy(tokens, limit.key, limit.windowMs, Math.max);
  if (req.learned) {
    const windowMs = learnedReadWindow(req.learned.limits);
    maxBy(starts, req.learned.key, windowMs, Math.max);
    maxBy(tokens, req.learned.key, windowMs, Math.max);
  }
  return {
    starts: [...starts].map(([key, windowMs]) => ({ key, windowMs })),
    tokens: [...tokens].map(([key, windowMs]) => ({ key, windowMs })),
    concurrency: [...new Set(req.concurrency.map((c) => c.key))],
  };
}

export function planReservation(req: ReserveRequest, now: number): ReservationPlan {
  const read = keyPlan(req);
  const amounts = new Map<string, number>();
  for (const { limit, amount } of req.tokens) maxBy(amounts, limit.key, Math.ceil(amount), Math.max);
  if (req.learned) maxBy(amounts, req.learned.key, Math.ceil(req.learned.tokens), Math.max);
  return {
    starts: read.starts.map((s) => ({ key: s.key, until: now + Math.max(s.windowMs, START_RETAIN_MS) })),
    tokens: read.tokens.map((s) => ({ key: s.key, amount: amounts.get(s.key) ?? 0, until: now + s.windowMs })),
    leases: read.concurrency.map((key) => ({ key, expires: now + req.leaseMs })),
  };
}

/**
 * Times are whole ms, so a start stamped `t` happened somewhere in [t, t+1). A start stays in the
 * window while `now - t <= windowMs`: the next one is admitted at least windowMs + 1 ms of clock
 * later, which is at least a full window of real time whatever the sub-ms phase.
 */
export function windowQuery(w: WindowLimit, now: number): StartsQuery {
  return { key: w.key, from: now - w.windowMs, upTo: w.maxRequests };
}
/** The question a token limit asks, or undefined when the amount can never fit. */
export function tokensQuery(limit: TokenLimit, amount: number, now: number): TokensQuery | undefined {
  const need = Math.ceil(amount);
  return need > limit.maxTokens ? undefined : { key: limit.key, from: now - limit.windowMs, room: limit.maxTokens - need };
}

/** Every question a decision on `req` at `now` asks, each once. */
export function decisionReads(req: ReserveRequest, now: number): DecisionReads {
  const starts = new Map<string, StartsQuery>();
  const tokens = new Map<string, TokensQuery>();
  const addStarts = (q: StartsQuery): void => void starts.set(startsId(q), q);
  const addTokens = (q: TokensQuery | undefined): void => void (q && tokens.set(tokensId(q), q));
  for (const w of req.windows) addStarts(windowQuery(w, now));
  for (const { limit, amount } of req.tokens) addTokens(tokensQuery(limit, amount, now));
  if (req.learned) {
    for (const q of learnedQueries(req.learned, now)) {
      if (q.kind === 'requests') addStarts(q.query);
      else addTokens(q.query);
    }
  }
  return { starts: [...starts.values()], tokens: [...tokens.values()], concurrency: [...new Set(req.concurrency.map((c) => c.key))] };
}

function answer<T>(map: ReadonlyMap<string, T>, id: string): T {
  const found = map.get(id);
  // A question the ledger did not answer would let the request through unchecked.
  if (found === undefined) throw new PantheonError('INTERNAL', `The ledger did not answer the question ${JSON.stringify(id.replaceAll('\u0000', ' '))}.`);
  return found;
}
/** The answer a ledger gave to a starts question. */
export const startsAnswer = (rows: LedgerRows, q: StartsQuery): StartsAnswer => answer(rows.starts, startsId(q));
/** The answer a ledger gave to a tokens question. */
export const tokensAnswer = (rows: LedgerRows, q: TokensQuery): TokensAnswer => answer(rows.tokens, tokensId(q));

/**
 * Decides a reservation over the ledger's answers. Every limit must allow it; when some do not,
 * the wait is the longest exact wait among window and token limits (all must clear), or a poll
 * hint when only concurrency blocks. A window waits until its maxRequests-th newest start leaves
 * it; a token limit until the row whose leaving makes room for the request has left.
 */
export function decide(req: ReserveRequest, rows: LedgerRows, now: number): Decision {
  let worst: { waitMs: number; blockedBy: string; kind: BlockKind } | undefined;
  const consider = (waitMs: number | undefined, blockedBy: string, kind: BlockKind): void => {
    if (waitMs !== undefined && (worst === undefined || waitMs > worst.waitMs)) worst = { waitMs, blockedBy, kind };
  };
  for (const w of req.windows) {
    const nth = startsAnswer(rows, windowQuery(w, now)).nth;
    consider(nth === undefined ? undefined : Math.max(1, nth + w.windowMs + 1 - now), windowLabel(w), 'window');
  }
  for (const { limit, amount } of req.tokens) {
    const q = tokensQuery(limit, amount, now);
    const over = q === undefined ? Infinity : tokensAnswer(rows, q).over;
    consider(over === undefined ? undefined : Math.max(1, over + limit.windowMs + 1 - now), tokenLabel(limit), 'tokens');
  }
  if (req.learned) {
    const learned = learnedWait(req.learned, rows, now);
    if (learned) consider(learned.waitMs, learned.blockedBy, learned.kind);
  }
  if (worst) return { ok: false, ...worst };
  for (const c of req.concurrency) {
    if ((rows.inFlight.get(c.key) ?? 0) >= c.limit) {
      return { ok: false, waitMs: CONCURRENCY_POLL_MS, blockedBy: `${c.key} concurrency`, kind: 'concurrency' };
    }
  }
  return { ok: true };
}

export interface FailureState {
  failures: number;
  until?: number;
}
/** Failure bookkeeping: consecutive failures; reaching `afterFailures` starts a cooldown (not extended while it runs). */
export function nextFailureState(
  prev: FailureState | undefined,
  afterFailures: number,
  cooldownMs: number,
  now: number,
): FailureState {
  const cooling = prev?.until !== undefined && prev.until > now;
  const ended = prev?.until !== undefined && prev.until <= now;
  const failures = (prev && !ended ? prev.failures : 0) + 1;
  if (cooling) return { failures, until: prev?.until };
  if (failures >= Math.max(1, afterFailures)) return { failures, until: now + Math.max(0, cooldownMs) };
  return { failures };
}
