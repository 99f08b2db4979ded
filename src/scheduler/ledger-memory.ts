/**
 * The ledger kept in this process only: for library use without shared state, and for tests.
 * It decides with the same pure functions as the SQLite ledger.
 */
import {
  DONE,
  PRUNE_EVERY_MS,
  START_RETAIN_MS,
  decide,
  decisionReads,
  ledgerClosed,
  nextFailureState,
  planReservation,
  validateReserveRequest,
} from './ledger.ts';
import { answerStarts, answerTokens, startsId, tokensId, type StartsAnswer, type TokensAnswer } from './ledger-reads.ts';
import { MemoryRows } from './ledger-memory-rows.ts';
import { ReleasedRing } from './released-ring.ts';
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
  WindowLimit,
} from './ledger.ts';
import { REFUSAL_SOURCES, learnedExpiry, mergeLearned, type LearnedLimit } from './learned.ts';
import { USAGE_RETAIN_MS, exceededBudget, validSpend } from './spend.ts';
import type { SpendAmount, SpendRequest, SpendResult, UsageRecord } from './spend.ts';

interface SpendRow extends SpendAmount {
  key: string;
  id: string;
  until: number;
}

interface Lease {
  key: string;
  id: string;
  expires: number;
}

export class MemoryLedger implements Ledger {
  readonly #now: () => number;
  readonly #newId: () => string;
  readonly #starts = new MemoryRows();
  readonly #tokens = new MemoryRows();
  /** Live in-flight slots by concurrency key, and by reservation. */
  readonly #leases = new Map<string, Set<Lease>>();
  readonly #leasesOf = new Map<string, Lease[]>();
  readonly #failures = new Map<string, FailureState>();
  #learned: LearnedLimit[] = [];
  #spend: SpendRow[] = [];
  #usage: UsageRecord[] = [];
  #lastPrune: number;
  #closed = false;
  /** The last released reservations, whose rows are still found by id. */
  readonly #released = new ReleasedRing();

  constructor(opts: LedgerClockOptions = {}) {
    this.#now = opts.now ?? Date.now;
    this.#newId = opts.newId ?? nextId;
    this.#lastPrune = this.#now();
  }

  admitNow(req: ReserveRequest): Granted | undefined {
    const result = this.#reserve(req);
    return result.ok ? result : undefined;
  }

  async tryReserve(req: ReserveRequest): Promise<ReserveResult> {
    return this.#reserve(req);
  }

  #reserve(req: ReserveRequest): ReserveResult {
    this.#open();
    validateReserveRequest(req);
    const now = this.#now();
    if (now - this.#lastPrune >= PRUNE_EVERY_MS) this.#prune(now);
    if (this.#roomy(req)) {
      // What decide answers here (every window holds fewer rows than its limit), without its reads.
      const id = this.#newId();
      const w = req.windows[0] as WindowLimit;
      this.#starts.add(w.key, now, id, now + Math.max(w.windowMs, START_RETAIN_MS), 0);
      return { ok: true, id, at: now };
    }
    const decision = decide(req, this.#rows(req, now), now);
    if (!decision.ok) return decision;
    const id = this.#newId();
    const plan = planReservation(req, now);
    for (const s of plan.starts) this.#starts.add(s.key, now, id, s.until, 0);
    for (const s of plan.tokens) this.#tokens.add(s.key, now, id, s.until, s.amount);
    const leases = plan.leases.map((l) => ({ key: l.key, id, expires: l.expires }));
    for (const l of leases) {
      const live = this.#leases.get(l.key);
      if (live) live.add(l);
      else this.#leases.set(l.key, new Set([l]));
    }
    if (leases.length > 0) this.#leasesOf.set(id, leases);
    return { ok: true, id, at: now };
  }

  /** One window and nothing else, which holds fewer rows (sent or pending) than its limit: it cannot be full. */
  #roomy(req: ReserveRequest): boolean {
    if (req.windows.length !== 1 || req.tokens.length > 0 || req.concurrency.length > 0 || req.learned) return false;
    const w = req.windows[0] as WindowLimit;
    return this.#starts.count(w.key) < w.maxRequests;
  }

  async peekWait(req: ReserveRequest): Promise<number> {
    this.#open();
    validateReserveRequest(req);
    const now = this.#now();
    const decision = decide(req, this.#rows(req, now), now);
    return decision.ok ? 0 : decision.waitMs;
  }

  async inspect(req: ReserveRequest): Promise<{ now: number; rows: LedgerRows }> {
    this.#open();
    validateReserveRequest(req);
    const now = this.#now();
    return { now, rows: this.#rows(req, now, true) };
  }

  /** Not async, as every call after a request: one shared promise, none made per call. */
  markSent(id: string): Promise<void> {
    if (this.#closed) return Promise.reject(ledgerClosed());
    this.#settle(id, this.#now(), false);
    return DONE;
  }

  async renew(id: string, leaseMs: number): Promise<void> {
    this.#open();
    const now = this.#now();
    for (const l of this.#leasesOf.get(id) ?? []) if (l.expires > now) l.expires = now + leaseMs;
  }

  /** Not async (see markSent). */
  release(id: string, opts: ReleaseOptions = {}): Promise<void> {
    if (this.#closed) return Promise.reject(ledgerClosed());
    this.#dropLeases(id);
    if (opts.refund) {
      this.#starts.drop(id);
      this.#tokens.drop(id);
      return DONE;
    }
    this.#settle(id, this.#now(), true);
    if (opts.actualTokens !== undefined) this.#tokens.correct(id, Math.max(0, Math.ceil(opts.actualTokens)));
    // Its rows stay counted; they are found by id for a while only (released-ring.ts), not for as
    // long as they count (a day).
    const oldest = this.#released.add(id);
    if (oldest !== undefined && oldest !== id) {
      this.#starts.forget(oldest);
      this.#tokens.forget(oldest);
    }
    return DONE;
  }

  #dropLeases(id: string): void {
    for (const l of this.#leasesOf.get(id) ?? []) this.#leases.get(l.key)?.delete(l);
    this.#leasesOf.delete(id);
  }

  /** Moves the request's rows to `now` (never backwards) and ends their pending state; `onlyPending` leaves sent rows alone. */
  #settle(id: string, now: number, onlyPending: boolean): void {
    this.#starts.settle(id, now, onlyPending);
    this.#tokens.settle(id, now, onlyPending);
  }

  async recordFailure(key: string, afterFailures: number, cooldownMs: number): Promise<{ coolingUntil?: number }> {
    this.#open();
    const now = this.#now();
    const next = nextFailureState(this.#failures.get(key), afterFailures, cooldownMs, now);
    this.#failures.set(key, next);
    return next.until !== undefined && next.until > now ? { coolingUntil: next.until } : {};
  }

  /** Not async: called after every request, it answers with one shared promise (no promise made per call). */
  recordSuccess(key: string): Promise<void> {
    if (this.#closed) return Promise.reject(ledgerClosed());
    this.#failures.delete(key);
    return DONE;
  }

  async cooldownUntil(key: string): Promise<number | undefined> {
    this.#open();
    const until = this.#failures.get(key)?.until;
    return until !== undefined && until > this.#now() ? until : undefined;
  }

  async listCooldowns(): Promise<CooldownEntry[]> {
    this.#open();
    const now = this.#now();
    const out: CooldownEntry[] = [];
    for (const [key, s] of this.#failures) {
      if (s.until !== undefined && s.until > now) out.push({ key, until: s.until, failures: s.failures });
    }
    return out.sort((a, b) => a.key.localeCompare(b.key));
  }

  async recordLearned(key: string, limits: LearnedLimit[], observedAt: number): Promise<void> {
    this.#open();
    if (limits.length === 0) {
      this.#learned = this.#learned.filter((l) => l.key !== key || l.observedAt > observedAt || REFUSAL_SOURCES.includes(l.source));
      return;
    }
    this.#learned = mergeLearned(this.#learned, limits.map((l) => ({ ...l, key })));
  }

  async listLearned(key?: string): Promise<LearnedLimit[]> {
    this.#open();
    const now = this.#now();
    return this.#learned
      .filter((l) => (key === undefined || l.key === key) && learnedExpiry(l) > now)
      .map((l) => ({ ...l }))
      .sort((a, b) => a.key.localeCompare(b.key) || a.name.localeCompare(b.name));
  }

  async reserveSpend(req: SpendRequest): Promise<SpendResult> {
    this.#open();
    const totals = this.#totals(req.budgets.map((b) => b.key));
    const exceeded = exceededBudget(req, totals);
    if (exceeded) return { ok: false, exceeded, totals };
    const id = this.#newId();
    const expected = validSpend(req.expected);
    for (const b of req.budgets) this.#spend.push({ key: b.key, id, until: b.retainUntil, ...expected });
    return { ok: true, id, totals };
  }

  async settleSpend(id: string, actual: SpendAmount): Promise<void> {
    this.#open();
    const clean = validSpend(actual);
    for (const row of this.#spend) if (row.id === id) Object.assign(row, clean);
  }

  async spendTotals(keys: string[]): Promise<Record<string, SpendAmount>> {
    this.#open();
    return this.#totals(keys);
  }

  async recordUsage(record: UsageRecord): Promise<void> {
    this.#open();
    this.#usage.push({ ...record });
  }

  async listUsage(since: number): Promise<UsageRecord[]> {
    this.#open();
    return this.#usage.filter((r) => r.t >= since).sort((a, b) => a.t - b.t).map((r) => ({ ...r }));
  }

  async prune(): Promise<void> {
    this.#open();
    this.#prune(this.#now());
  }

  #totals(keys: string[]): Record<string, SpendAmount> {
    const out: Record<string, SpendAmount> = {};
    for (const key of keys) out[key] = { usd: 0, tokens: 0 };
    for (const row of this.#spend) {
      const total = out[row.key];
      if (!total) continue;
      total.usd += row.usd;
      total.tokens += row.tokens;
    }
    return out;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #rows(req: ReserveRequest, now: number, exact = false): LedgerRows {
    const reads = decisionReads(req, now);
    const starts = new Map<string, StartsAnswer>();
    for (const q of reads.starts) {
      const pending = () => this.#starts.pending(q.key, now).map((r) => r.t);
      starts.set(startsId(q), answerStarts(q, this.#starts.sentStarts(q.key), pending, exact));
    }
    const tokens = new Map<string, TokensAnswer>();
    for (const q of reads.tokens) tokens.set(tokensId(q), answerTokens(q, this.#tokens.sentTokens(q.key), () => this.#tokens.pending(q.key, now), exact));
    const inFlight = new Map<string, number>();
    for (const key of reads.concurrency) {
      let n = 0;
      for (const l of this.#leases.get(key) ?? []) if (l.expires > now) n++;
      inFlight.set(key, n);
    }
    return { starts, tokens, inFlight };
  }

  #prune(now: number): void {
    this.#lastPrune = now;
    // A row stamped t counts while now - t <= windowMs, i.e. until now == until: keep it that long.
    // A pending row may count as late as t + PENDING_MAX_MS: keep it that much longer.
    this.#starts.prune(now);
    this.#tokens.prune(now);
    for (const [id, leases] of this.#leasesOf) if (!leases.some((l) => l.expires > now)) this.#dropLeases(id);
    for (const [key, s] of this.#failures) if (s.until !== undefined && s.until <= now) this.#failures.delete(key);
    this.#learned = this.#learned.filter((l) => learnedExpiry(l) > now);
    this.#spend = this.#spend.filter((r) => r.until > now);
    this.#usage = this.#usage.filter((r) => r.t > now - USAGE_RETAIN_MS);
  }

  #open(): void {
    if (this.#closed) throw ledgerClosed();
  }
}

/**
 * Reservation ids, unique in this process (the only place a memory ledger's ids mean anything): a
 * counter, not a UUID, which cost a third of an admission here (bench/scheduler-overhead.ts).
 */
let issued = 0;
function nextId(): string {
  return `mem-${(++issued).toString(36)}`;
}
