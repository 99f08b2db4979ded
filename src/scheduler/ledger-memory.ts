/**
 * The ledger kept in this process only: for library use without shared state, and for tests.
 * It decides with the same pure functions as the SQLite ledger.
 */
import { randomUUID } from 'node:crypto';
import { PantheonError } from '../errors.ts';
import {
  PENDING_MAX_MS,
  PRUNE_EVERY_MS,
  decide,
  effectiveStart,
  nextFailureState,
  planReservation,
  readPlan,
  validateReserveRequest,
} from './ledger.ts';
import type {
  CooldownEntry,
  FailureState,
  Ledger,
  LedgerClockOptions,
  LedgerRows,
  ReleaseOptions,
  ReserveRequest,
  ReserveResult,
  TokenRow,
} from './ledger.ts';
import { REFUSAL_SOURCES, learnedExpiry, mergeLearned, type LearnedLimit } from './learned.ts';
import { USAGE_RETAIN_MS, exceededBudget, validSpend } from './spend.ts';
import type { SpendAmount, SpendRequest, SpendResult, UsageRecord } from './spend.ts';

interface SpendRow extends SpendAmount {
  key: string;
  id: string;
  until: number;
}

interface StartRow {
  key: string;
  t: number;
  id: string;
  until: number;
  /** Admitted, not yet marked sent or released: counts as starting now (effectiveStart). */
  pending: boolean;
}
interface TokenReservation extends StartRow {
  amount: number;
}
interface Lease {
  key: string;
  id: string;
  expires: number;
}

export class MemoryLedger implements Ledger {
  readonly #now: () => number;
  readonly #newId: () => string;
  #starts: StartRow[] = [];
  #tokens: TokenReservation[] = [];
  #leases: Lease[] = [];
  readonly #failures = new Map<string, FailureState>();
  #learned: LearnedLimit[] = [];
  #spend: SpendRow[] = [];
  #usage: UsageRecord[] = [];
  #lastPrune: number;
  #closed = false;

  constructor(opts: LedgerClockOptions = {}) {
    this.#now = opts.now ?? Date.now;
    this.#newId = opts.newId ?? randomUUID;
    this.#lastPrune = this.#now();
  }

  async tryReserve(req: ReserveRequest): Promise<ReserveResult> {
    this.#open();
    validateReserveRequest(req);
    const now = this.#now();
    if (now - this.#lastPrune >= PRUNE_EVERY_MS) this.#prune(now);
    const decision = decide(req, this.#rows(req, now), now);
    if (!decision.ok) return decision;
    const id = this.#newId();
    const plan = planReservation(req, now);
    for (const s of plan.starts) this.#starts.push({ key: s.key, t: now, id, until: s.until, pending: true });
    for (const s of plan.tokens) this.#tokens.push({ key: s.key, t: now, id, until: s.until, amount: s.amount, pending: true });
    for (const l of plan.leases) this.#leases.push({ key: l.key, id, expires: l.expires });
    return { ok: true, id, at: now };
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
    return { now, rows: this.#rows(req, now) };
  }

  async markSent(id: string): Promise<void> {
    this.#open();
    this.#settle(id, this.#now(), false);
  }

  async renew(id: string, leaseMs: number): Promise<void> {
    this.#open();
    const now = this.#now();
    for (const l of this.#leases) if (l.id === id && l.expires > now) l.expires = now + leaseMs;
  }

  async release(id: string, opts: ReleaseOptions = {}): Promise<void> {
    this.#open();
    this.#leases = this.#leases.filter((l) => l.id !== id);
    if (opts.refund) {
      this.#starts = this.#starts.filter((s) => s.id !== id);
      this.#tokens = this.#tokens.filter((s) => s.id !== id);
      return;
    }
    this.#settle(id, this.#now(), true);
    if (opts.actualTokens !== undefined) {
      const actual = Math.max(0, Math.ceil(opts.actualTokens));
      for (const row of this.#tokens) if (row.id === id) row.amount = actual;
    }
  }

  /** Moves the request's rows to `now` (never backwards) and ends their pending state; `onlyPending` leaves sent rows alone. */
  #settle(id: string, now: number, onlyPending: boolean): void {
    for (const row of [...this.#starts, ...this.#tokens]) {
      if (row.id !== id || (onlyPending && !row.pending)) continue;
      row.pending = false;
      if (row.t < now) {
        row.until += now - row.t;
        row.t = now;
      }
    }
  }

  async recordFailure(key: string, afterFailures: number, cooldownMs: number): Promise<{ coolingUntil?: number }> {
    this.#open();
    const now = this.#now();
    const next = nextFailureState(this.#failures.get(key), afterFailures, cooldownMs, now);
    this.#failures.set(key, next);
    return next.until !== undefined && next.until > now ? { coolingUntil: next.until } : {};
  }

  async recordSuccess(key: string): Promise<void> {
    this.#open();
    this.#failures.delete(key);
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

  #rows(req: ReserveRequest, now: number): LedgerRows {
    const plan = readPlan(req);
    const starts = new Map<string, number[]>();
    for (const { key, windowMs } of plan.starts) {
      const times = this.#starts.filter((s) => s.key === key).map((s) => effectiveStart(s.t, s.pending, now));
      starts.set(key, times.filter((t) => t >= now - windowMs));
    }
    const tokens = new Map<string, TokenRow[]>();
    for (const { key, windowMs } of plan.tokens) {
      const rows = this.#tokens.filter((s) => s.key === key).map((s) => ({ t: effectiveStart(s.t, s.pending, now), amount: s.amount }));
      tokens.set(key, rows.filter((r) => r.t >= now - windowMs));
    }
    const inFlight = new Map<string, number>();
    for (const key of plan.concurrency) {
      inFlight.set(key, this.#leases.filter((l) => l.key === key && l.expires > now).length);
    }
    return { starts, tokens, inFlight };
  }

  #prune(now: number): void {
    this.#lastPrune = now;
    // A row stamped t counts while now - t <= windowMs, i.e. until now == until: keep it that long.
    // A pending row may count as late as t + PENDING_MAX_MS: keep it that much longer.
    const keep = (s: StartRow): boolean => s.until + (s.pending ? PENDING_MAX_MS : 0) >= now;
    this.#starts = this.#starts.filter(keep);
    this.#tokens = this.#tokens.filter(keep);
    this.#leases = this.#leases.filter((l) => l.expires > now);
    for (const [key, s] of this.#failures) if (s.until !== undefined && s.until <= now) this.#failures.delete(key);
    this.#learned = this.#learned.filter((l) => learnedExpiry(l) > now);
    this.#spend = this.#spend.filter((r) => r.until > now);
    this.#usage = this.#usage.filter((r) => r.t > now - USAGE_RETAIN_MS);
  }

  #open(): void {
    if (this.#closed) throw new PantheonError('STORE_ERROR', 'The rate-limit ledger is closed.');
  }
}
