/**
 * `state.onUnavailable: "local"`: the Redis ledger while Redis answers, this machine's embedded
 * SQLite ledger while it does not, and Redis again as soon as it is back. Each switch is announced
 * as a `warning` event to whoever watches (the runs and turns in progress).
 *
 * So that neither side forgets recent starts, and so that a machine never goes over the limit on its
 * own: while on Redis, every admission is also admitted by the embedded ledger (this machine's share,
 * which is what it can hold while Redis is away). That ledger can know starts Redis never heard of —
 * made during an outage by a process of this machine that ended before Redis came back — so when it
 * refuses, the Redis admission is refunded and its wait is the answer. While on the embedded ledger,
 * admissions are kept and, when Redis is back, recorded there as sent at their age, before any new
 * admission goes to Redis.
 */
import { ledgerClosed, type Ledger, type ReleaseOptions, type ReserveRequest, type ReserveResult } from '../scheduler/ledger.ts';
import type { LearnedLimit } from '../scheduler/learned.ts';
import type { SpendAmount, SpendRequest, UsageRecord } from '../scheduler/spend.ts';
import type { RedisLedger } from './ledger-redis.ts';
import { StateUnavailableError } from './redis-connection.ts';

export interface StateWarning {
  code: 'STATE_LOCAL' | 'STATE_SHARED';
  message: string;
}

/** How often a missing Redis is tried again. */
const RETRY_MS = 500;

export class FallbackLedger implements Ledger {
  readonly #open: () => Promise<RedisLedger>;
  readonly local: Ledger;
  readonly #description: string;
  #redis: RedisLedger | undefined;
  #onLocal = false;
  #outage: string | undefined;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #listeners = new Set<(w: StateWarning) => void>();
  /** Reservation id in Redis → its mirror in the embedded ledger. */
  readonly #mirror = new Map<string, string>();
  /** Admissions made on the embedded ledger while Redis was away (local id → request, when). */
  readonly #localOnly = new Map<string, { req: ReserveRequest; at: number }>();

  constructor(options: { open: () => Promise<RedisLedger>; local: Ledger; description: string }) {
    this.#open = options.open;
    this.local = options.local;
    this.#description = options.description;
  }

  /** Connects to Redis, or starts on the embedded ledger (with a warning) when it cannot. */
  async start(): Promise<this> {
    try {
      this.#redis = await this.#open();
    } catch (error) {
      if (!(error instanceof StateUnavailableError)) throw error;
      this.#toLocal(error);
    }
    return this;
  }

  /** Whether admissions go to the embedded ledger now. */
  get onLocal(): boolean {
    return this.#onLocal;
  }

  /** Warnings about switches; a watcher that arrives during an outage hears about it at once. */
  watch(listener: (w: StateWarning) => void): () => void {
    this.#listeners.add(listener);
    if (this.#onLocal && this.#outage) listener({ code: 'STATE_LOCAL', message: this.#outage });
    return () => this.#listeners.delete(listener);
  }

  async tryReserve(req: ReserveRequest): Promise<ReserveResult> {
    const redis = await this.#shared();
    if (redis) {
      try {
        const result = await redis.tryReserve(req);
        return result.ok ? await this.#alsoLocal(redis, result, req) : result;
      } catch (error) {
        this.#failed(error);
      }
    }
    const result = await this.local.tryReserve(req);
    if (result.ok) this.#localOnly.set(result.id, { req, at: Date.now() });
    return result;
  }

  peekWait(req: ReserveRequest): Promise<number> {
    return this.#either((l) => l.peekWait(req));
  }
  inspect(req: ReserveRequest) {
    return this.#either((l) => l.inspect(req));
  }

  async markSent(id: string): Promise<void> {
    const mirror = this.#mirror.get(id);
    if (mirror) await this.local.markSent(mirror).catch(() => undefined);
    await (this.#localOnly.has(id) || !this.#redis ? this.local : this.#redis).markSent(id);
  }

  async renew(id: string, leaseMs: number): Promise<void> {
    const mirror = this.#mirror.get(id);
    if (mirror) await this.local.renew(mirror, leaseMs).catch(() => undefined);
    if (this.#localOnly.has(id) || !this.#redis) await this.local.renew(id, leaseMs);
    else await this.#redis.renew(id, leaseMs).catch((error: unknown) => this.#failed(error));
  }

  async release(id: string, opts?: ReleaseOptions): Promise<void> {
    const mirror = this.#mirror.get(id);
    this.#mirror.delete(id);
    if (mirror) await this.local.release(mirror, opts).catch(() => undefined);
    if (this.#localOnly.has(id) || !this.#redis) {
      if (opts?.refund) this.#localOnly.delete(id);
      await this.local.release(id, opts);
    } else await this.#redis.release(id, opts);
  }

  recordFailure(key: string, afterFailures: number, cooldownMs: number) {
    return this.#either((l) => l.recordFailure(key, afterFailures, cooldownMs));
  }
  recordSuccess(key: string) {
    return this.#either((l) => l.recordSuccess(key));
  }
  cooldownUntil(key: string) {
    return this.#either((l) => l.cooldownUntil(key));
  }
  listCooldowns() {
    return this.#either((l) => l.listCooldowns());
  }
  recordLearned(key: string, limits: LearnedLimit[], observedAt: number) {
    return this.#either((l) => l.recordLearned(key, limits, observedAt));
  }
  listLearned(key?: string) {
    return this.#either((l) => l.listLearned(key));
  }
  reserveSpend(req: SpendRequest) {
    return this.#either((l) => l.reserveSpend(req));
  }
  settleSpend(id: string, actual: SpendAmount) {
    return this.#either((l) => l.settleSpend(id, actual));
  }
  spendTotals(keys: string[]) {
    return this.#either((l) => l.spendTotals(keys));
  }
  recordUsage(record: UsageRecord) {
    return this.#either((l) => l.recordUsage(record));
  }
  listUsage(since: number) {
    return this.#either((l) => l.listUsage(since));
  }
  prune() {
    return this.#either((l) => l.prune());
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    await Promise.allSettled([this.#redis?.close(), this.local.close()]);
  }

  /** Runs `op` on Redis while it answers, else on the embedded ledger. */
  async #either<T>(op: (ledger: Ledger) => Promise<T>): Promise<T> {
    const redis = await this.#shared();
    if (redis) {
      try {
        return await op(redis);
      } catch (error) {
        this.#failed(error);
      }
    }
    return op(this.local);
  }

  /**
   * A Redis admission is admitted by the embedded ledger as well (best effort: if that ledger cannot
   * be used, Redis alone decides). When it refuses — this machine already holds the limit with starts
   * Redis does not know — the Redis admission is refunded and the embedded ledger's wait is the answer.
   * Its timestamps are never later than Redis's once sent (markSent reaches it first), so it does not
   * refuse what Redis rightly admitted for any other reason.
   */
  async #alsoLocal(redis: RedisLedger, admitted: ReserveResult & { ok: true }, req: ReserveRequest): Promise<ReserveResult> {
    const copy = await this.local.tryReserve(req).catch(() => undefined);
    if (copy?.ok) this.#mirror.set(admitted.id, copy.id);
    if (copy === undefined || copy.ok) return admitted;
    await redis.release(admitted.id, { refund: true });
    return copy;
  }

  /** Redis when it is in use; when back after an outage, first counts there what was admitted locally. */
  async #shared(): Promise<RedisLedger | undefined> {
    if (this.#closed) throw ledgerClosed();
    if (!this.#onLocal || !this.#redis?.connection.ready) return this.#onLocal ? undefined : this.#redis;
    try {
      const now = Date.now();
      for (const [id, { req, at }] of this.#localOnly) await this.#redis.recordStarts(req, id, now - at);
    } catch (error) {
      this.#failed(error);
      return undefined;
    }
    this.#localOnly.clear();
    this.#onLocal = false;
    this.#outage = undefined;
    this.#emit({ code: 'STATE_SHARED', message: `the state store ${this.#description} answers again: limits are shared across machines again` });
    return this.#redis;
  }

  #failed(error: unknown): void {
    if (!(error instanceof StateUnavailableError)) throw error;
    this.#toLocal(error);
  }

  #toLocal(error: StateUnavailableError): void {
    if (this.#onLocal) return;
    this.#onLocal = true;
    this.#outage = `${error.message.replace(/\.$/, '')}; using this machine's ledger until it is back (limits are held per machine meanwhile)`;
    this.#emit({ code: 'STATE_LOCAL', message: this.#outage });
    if (!this.#redis) this.#reopen();
  }

  /** Redis could not be reached at start: try to connect again in the background. */
  #reopen(): void {
    if (this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#open().then(
        (redis) => {
          if (this.#closed) void redis.close();
          else this.#redis = redis;
        },
        () => this.#reopen(),
      );
    }, RETRY_MS);
    this.#retry.unref();
  }

  #emit(warning: StateWarning): void {
    for (const listener of this.#listeners) listener(warning);
  }
}

/** Warnings of a ledger that can fall back (a no-op for the others). */
export function watchLedger(ledger: Ledger, listener: (w: StateWarning) => void): () => void {
  return ledger instanceof FallbackLedger ? ledger.watch(listener) : () => undefined;
}
