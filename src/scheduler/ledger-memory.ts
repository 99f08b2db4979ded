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
import { MemoryRows, Unit } from './ledger-memory-rows.ts';
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
import { byCodeUnit } from '../icu-free.ts';

interface SpendRow extends SpendAmount {
  key: string;
  id: string;
  until: number;
}

interface Lease {
  key: string;
  expires: number;
}

/** What one reservation holds. A reservation of one start and nothing else (most) is held as that unit alone. */
interface Held {
  starts: Unit[];
  tokens: Unit[];
  leases: Lease[] | undefined;
}

export class MemoryLedger implements Ledger {
  readonly #now: () => number;
  readonly #newId: () => string;
  readonly #starts = new MemoryRows();
  readonly #tokens = new MemoryRows();
  /** Live in-flight slots by concurrency key. */
  readonly #leases = new Map<string, Set<Lease>>();
  /**
   * The reservations not yet released, and the last RELEASED_KEPT released ones, by id: the one
   * lookup each call makes (what a reservation holds is reached through it).
   */
  readonly #held = new Map<string, Unit | Held>();
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
    const roomy = this.#roomy(req, now);
    if (roomy) {
      const id = this.#newId();
      this.#held.set(id, roomy);
      return { ok: true, id, at: now };
    }
    const decision = decide(req, this.#rows(req, now), now);
    if (!decision.ok) return decision;
    const id = this.#newId();
    const plan = planReservation(req, now);
    const held: Held = {
      starts: plan.starts.map((s) => this.#starts.add(s.key, now, s.until, 0)),
      tokens: plan.tokens.map((s) => this.#tokens.add(s.key, now, s.until, s.amount)),
      leases: undefined,
    };
    if (plan.leases.length > 0) {
      held.leases = plan.leases.map((l) => ({ key: l.key, expires: l.expires }));
      for (const l of held.leases) {
        const live = this.#leases.get(l.key);
        if (live) live.add(l);
        else this.#leases.set(l.key, new Set([l]));
      }
    }
    this.#held.set(id, held);
    return { ok: true, id, at: now };
  }

  /**
   * One window and nothing else, which holds fewer rows (sent or pending) than its limit, cannot be
   * full: what decide answers, without its reads. The start of such a request, added; else undefined.
   */
  #roomy(req: ReserveRequest, now: number): Unit | undefined {
    if (req.windows.length !== 1 || req.tokens.length > 0 || req.concurrency.length > 0 || req.learned) return undefined;
    const w = req.windows[0] as WindowLimit;
    return this.#starts.addBelow(w.key, w.maxRequests, now, now + Math.max(w.windowMs, START_RETAIN_MS), 0);
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
    const held = this.#held.get(id);
    if (held !== undefined) this.#settle(held, this.#now(), false);
    return DONE;
  }

  async renew(id: string, leaseMs: number): Promise<void> {
    this.#open();
    const now = this.#now();
    const held = this.#held.get(id);
    if (held instanceof Unit || !held?.leases) return;
    for (const l of held.leases) if (l.expires > now) l.expires = now + leaseMs;
  }

  /** Not async (see markSent). */
  release(id: string, opts: ReleaseOptions = {}): Promise<void> {
    if (this.#closed) return Promise.reject(ledgerClosed());
    const held = this.#held.get(id);
    if (held === undefined) return DONE;
    if (!(held instanceof Unit)) this.#dropLeases(held);
    if (opts.refund) {
      if (held instanceof Unit) this.#starts.drop(held);
      else {
        for (const unit of held.starts) this.#starts.drop(unit);
        for (const unit of held.tokens) this.#tokens.drop(unit);
      }
      this.#held.delete(id);
      return DONE;
    }
    // Marked sent already (most): its start stays where it is, and the clock is not read.
    if (!(held instanceof Unit && held.row !== undefined)) this.#settle(held, this.#now(), true);
    if (opts.actualTokens !== undefined && !(held instanceof Unit)) {
      const amount = Math.max(0, Math.ceil(opts.actualTokens));
      for (const unit of held.tokens) this.#tokens.correct(unit, amount);
    }
    // Its rows stay counted; they are found by id for a while only (released-ring.ts), not for as
    // long as they count (a day).
    const oldest = this.#released.add(id);
    if (oldest !== undefined && oldest !== id) this.#held.delete(oldest);
    return DONE;
  }

  #dropLeases(held: Held): void {
    for (const l of held.leases ?? []) this.#leases.get(l.key)?.delete(l);
    held.leases = undefined;
  }

  /** Moves the reservation's units to `now` (never backwards) and ends their pending state; `onlyPending` leaves sent ones alone. */
  #settle(held: Unit | Held, now: number, onlyPending: boolean): void {
    if (held instanceof Unit) return this.#starts.settle(held, now, onlyPending);
    for (const unit of held.starts) this.#starts.settle(unit, now, onlyPending);
    for (const unit of held.tokens) this.#tokens.settle(unit, now, onlyPending);
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
    return out.sort((a, b) => byCodeUnit(a.key, b.key));
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
    return this.#learnedOf(key);
  }

  learnedNow(key: string): LearnedLimit[] {
    return this.#learnedOf(key);
  }

  #learnedOf(key: string | undefined): LearnedLimit[] {
    this.#open();
    const now = this.#now();
    return this.#learned
      .filter((l) => (key === undefined || l.key === key) && learnedExpiry(l) > now)
      .map((l) => ({ ...l }))
      .sort((a, b) => byCodeUnit(a.key, b.key) || byCodeUnit(a.name, b.name));
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
    // A reservation is forgotten once nothing of it counts: no unit, no live slot.
    for (const [id, held] of this.#held) {
      if (held instanceof Unit) {
        if (!held.counts(now)) this.#held.delete(id);
        continue;
      }
      if (held.leases && !held.leases.some((l) => l.expires > now)) this.#dropLeases(held);
      if (!held.leases && !held.starts.some((u) => u.counts(now)) && !held.tokens.some((u) => u.counts(now))) this.#held.delete(id);
    }
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
