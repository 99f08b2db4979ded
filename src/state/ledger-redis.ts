/**
 * The ledger shared by every machine that names the same Redis (`state.store: "redis://…"`). Each
 * operation is a Lua script run with EVALSHA, atomic on the server, timed by Redis's clock
 * (ledger-redis-admit.ts and the other ledger-redis-*.ts scripts); admissions, sent marks, releases
 * and successes made in the same turn of the event loop share one run (ledger-redis-batch.ts). Each process is an "owner" that keeps a short-lived
 * `alive` key fresh; when a machine dies, its key expires and its concurrency slots and pending
 * starts are settled by the next admission anywhere.
 */
import { DEFAULT_KEY_PREFIX } from './key-prefix.ts';
import { randomUUID } from '../random-bytes.ts';
import { PantheonError } from '../errors.ts';
import { COOLDOWN_READ_MS, PENDING_MAX_MS, START_RETAIN_MS, decisionReads, keyPlan, ledgerClosed, validateReserveRequest } from '../scheduler/ledger.ts';
import { startsId, tokensId, type StartsAnswer, type TokensAnswer } from '../scheduler/ledger-reads.ts';
import type { BlockKind, CooldownEntry, Ledger, LedgerRows, ReleaseOptions, ReserveRequest, ReserveResult } from '../scheduler/ledger.ts';
import { LEARNED_TTL_MS, REFUSAL_SOURCES, keptLearned, learnedExpiry, type LearnedLimit } from '../scheduler/learned.ts';
import { USAGE_RETAIN_MS, validSpend, type SpendAmount, type SpendRequest, type SpendResult, type UsageRecord } from '../scheduler/spend.ts';
import { refusalOf, reserveArgs } from './ledger-redis-admit.ts';
import { BATCH, RedisBatch, type BatchCode } from './ledger-redis-batch.ts';
import { COOLDOWNS, FAILURE, PRUNE, SERVER_TIME } from './ledger-redis-scripts.ts';
import { INSPECT, LIST_LEARNED, PRUNE_MORE, RECORD_LEARNED, RECORD_STARTS, RESERVE_SPEND, SETTLE_SPEND, SPEND_TOTALS } from './ledger-redis-more-scripts.ts';
import { RedisConnection } from './redis-connection.ts';
import { WhenBack } from './when-back.ts';
import { byCodeUnit } from '../icu-free.ts';

/** How long a key's learned limits are answered without reading them (an older Pantheon changes them without counting up their generation). */
export const LEARNED_KEPT_MS = 1000;
/** Admissions tried with learned limits read again after another process changed them, before one is made unchecked. */
const MAX_LEARNED_TRIES = 3;
/** An owner whose process has not refreshed its `alive` key for this long counts as gone. */
export const OWNER_TTL_MS = 10_000;

export interface RedisLedgerOptions {
  /** `redis://…` or `rediss://…`, credentials included. */
  url: string;
  /** Prefix of every key (default `pantheon:`). */
  keyPrefix?: string;
  /** Wait for the first connection and for each reply (default 2000 ms). */
  timeoutMs?: number;
  /** Tests only: use this clock instead of Redis's TIME (the contract tests drive a fake clock). */
  now?: () => number;
  /** Reservation id generator (default crypto.randomUUID). */
  newId?: () => string;
  /** How long this process counts as alive after its last heartbeat (default OWNER_TTL_MS). */
  ownerTtlMs?: number;
}

/** Budgets' USD are kept as whole nano-dollars on the server, so totals add up exactly. */
const NANO = 1e9;
const toNano = (usd: number): number => Math.round(usd * NANO);
/** `{[name]: value}` when value is defined, else `{}` (for exactOptionalPropertyTypes). */
function defined<K extends string>(name: K, value: number | undefined): { [P in K]?: number } {
  return value === undefined ? {} : ({ [name]: value } as { [P in K]?: number });
}
function amountOf(text: unknown): SpendAmount {
  const [usd = '0', tokens = '0'] = String(text).split('|');
  return { usd: Number(usd) / NANO, tokens: Number(tokens) };
}

export class RedisLedger implements Ledger {
  readonly connection: RedisConnection;
  readonly keyPrefix: string;
  /** This process's owner id: its pending starts and slots live while `alive:<owner>` does. */
  readonly owner = randomUUID();
  readonly #now: (() => number) | undefined;
  readonly #newId: () => string;
  readonly #ownerTtlMs: number;
  #heartbeat: NodeJS.Timeout | undefined;
  /** The replay of what was kept while Redis was away: the one in flight, the next try's timer. */
  #replaying: Promise<void> | undefined;
  #replayTimer: NodeJS.Timeout | undefined;
  /** Replays of what was kept: tried, and failed (Redis back but not serving yet, or not in time). */
  readonly replays = { tried: 0, failed: 0 };
  #spareId: string | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  /** This turn's admissions, sent marks, renewals, releases and successes, sent as one script run. */
  readonly batch: RedisBatch;
  /** Each key's learned limits as last read (see listLearned), with Redis's time and the generation then. */
  readonly #learnedKept = new Map<string, { limits: readonly LearnedLimit[]; generation: string; at: number; serverNow: number; until: number }>();
  /** The generation each list of learned limits handed out was read at, by the list. */
  readonly #generationOf = new WeakMap<LearnedLimit[], string>();

  private constructor(connection: RedisConnection, opts: RedisLedgerOptions) {
    this.connection = connection;
    this.keyPrefix = opts.keyPrefix ?? DEFAULT_KEY_PREFIX;
    this.#now = opts.now;
    this.#newId = opts.newId ?? randomUUID;
    this.#ownerTtlMs = opts.ownerTtlMs ?? OWNER_TTL_MS;
    this.batch = new RedisBatch({ owner: this.owner, description: () => this.description, run: (argv) => this.#runBatch(argv) });
  }

  /** Connects and announces this process; throws StateUnavailableError (exit 2) when Redis cannot be reached. */
  static async open(opts: RedisLedgerOptions): Promise<RedisLedger> {
    const connection = await RedisConnection.open(opts.url, opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs });
    const ledger = new RedisLedger(connection, opts);
    try {
      await ledger.#announce();
    } catch (error) {
      await connection.close();
      throw error;
    }
    ledger.#heartbeat = setInterval(() => {
      // A missed beat is harmless while the key lives (OWNER_TTL_MS); the next one renews it.
      ledger.#announce().catch(() => undefined);
    }, ledger.#ownerTtlMs / 4);
    ledger.#heartbeat.unref();
    connection.onReconnect(() => ledger.#replaySoon(0));
    return ledger;
  }

  get description(): string {
    return this.connection.description;
  }

  async tryReserve(req: ReserveRequest): Promise<ReserveResult> {
    validateReserveRequest(req);
    // An id not used by a refused admission is kept for the next one (ids are spent only on admissions).
    const id = this.#takeId();
    const reply = await this.#admit(req, id);
    if (reply[0] === 1) return { ok: true, id, at: Number(reply[1]) };
    this.#spareId = id;
    return this.#blocked(req, reply);
  }

  /**
   * Admits `req`; made with learned limits this ledger handed out, only while their generation is
   * still Redis's: else they are read again (into `req`) and the admission is decided with them. The
   * last try is not checked (learned limits changing on every answer cannot hold an admission back).
   */
  async #admit(req: ReserveRequest, id: string): Promise<number[]> {
    for (let tries = 1; ; tries++) {
      const learned = req.learned;
      const generation = learned && tries < MAX_LEARNED_TRIES ? this.#generationOf.get(learned.limits) : undefined;
      if (generation === undefined) return this.#reserve(req, id, true);
      const reply = (await this.#grouped<number[]>('g', [generation, ...reserveArgs(req, id)], false)) as number[];
      if (reply[0] !== -2) return reply;
      this.#learnedKept.delete(learned!.key);
      learned!.limits = await this.listLearned(learned!.key);
    }
  }

  async peekWait(req: ReserveRequest): Promise<number> {
    validateReserveRequest(req);
    const reply = await this.#reserve(req, '', false);
    return reply[0] === 1 ? 0 : this.#blocked(req, reply).waitMs;
  }

  /**
   * What is recorded after a request was admitted (markSent, release, what the answer taught, its
   * usage and spend, a success or failure) never fails the request: while Redis is away it is kept
   * and sent when it is back (the start stays counted as "now" meanwhile), so a request that already
   * reached its provider does not fail for it. Admissions and checks do fail (onUnavailable).
   */
  async markSent(id: string): Promise<void> {
    await this.#grouped('s', [id], true);
  }

  async renew(id: string, leaseMs: number): Promise<void> {
    await this.#grouped('n', [id, Math.ceil(leaseMs)], false);
  }

  async release(id: string, opts: ReleaseOptions = {}): Promise<void> {
    const actual = opts.actualTokens === undefined ? '' : Math.max(0, Math.ceil(opts.actualTokens));
    await this.#grouped('r', [id, opts.refund ? '1' : '0', actual], true);
  }

  /** Counts starts admitted by another ledger `ageMs` ago (see FallbackLedger) as sent in the shared windows. */
  async recordStarts(req: ReserveRequest, id: string, ageMs: number): Promise<void> {
    const plan = keyPlan(req);
    const amounts = new Map<string, number>();
    for (const { limit, amount } of req.tokens) amounts.set(limit.key, Math.max(amounts.get(limit.key) ?? 0, Math.ceil(amount)));
    const args: (string | number)[] = [id, Math.max(0, Math.round(ageMs)), plan.starts.length, ...plan.starts.map((s) => s.key)];
    for (const [key, amount] of amounts) args.push(key, amount);
    await this.#run(RECORD_STARTS, args);
  }

  /** What was recorded while Redis was away, sent when it is back. */
  readonly #later = new WhenBack();

  async #orWhenBack(script: string, args: (string | number)[]): Promise<void> {
    await this.#later.run(() => this.#run(script, args));
  }

  /** A request in this turn's group (`later`: kept while Redis is away, as #orWhenBack). */
  async #grouped<T>(code: BatchCode, args: (string | number)[], later: boolean): Promise<T | undefined> {
    this.#assertOpen();
    return later ? this.#later.run(() => this.batch.add<T>(code, args)) : this.batch.add<T>(code, args);
  }

  /** How many records (sent marks, releases, usage, …) wait for Redis to be back. */
  get kept(): number {
    return this.#later.size;
  }

  /**
   * Announces this process again and sends what was kept, once the connection is back. A server
   * that accepts connections may not serve yet (still loading its data after a restart: LOADING),
   * or not in time: while records are kept, the replay is tried again, at most a second apart,
   * rather than waiting for the next reconnect, which may never come.
   */
  #replaySoon(tries: number): void {
    if (this.#closed || this.#replaying) return;
    clearTimeout(this.#replayTimer);
    this.replays.tried += 1;
    this.#replaying = this.#replay().then(
      () => {
        this.#replaying = undefined;
      },
      () => {
        this.#replaying = undefined;
        this.replays.failed += 1;
        if (this.#closed || this.#later.size === 0) return;
        this.#replayTimer = setTimeout(() => this.#replaySoon(tries + 1), Math.min(100 * 2 ** tries, 1000));
        this.#replayTimer.unref();
      },
    );
  }

  async #replay(): Promise<void> {
    await this.#announce();
    await this.#later.replay();
  }

  async recordFailure(key: string, afterFailures: number, cooldownMs: number): Promise<{ coolingUntil?: number }> {
    // Until a grouped run sent after this one answers, successes and cooldowns are read from Redis.
    this.#failureCalls += 1;
    this.#failuresSeen = undefined;
    const until = await this.#later.run(() => this.#run<number>(FAILURE, [key, afterFailures, cooldownMs]));
    return until !== undefined && until >= 0 ? { coolingUntil: until } : {};
  }

  /**
   * Resets the key's failure count. When the last grouped run (less than COOLDOWN_READ_MS ago) saw
   * no failure count anywhere, there is nothing to reset and nothing is sent — as the embedded
   * ledger does (a failure another machine recorded since then is left to count).
   */
  async recordSuccess(key: string): Promise<void> {
    if (this.#noFailures()) return;
    await this.#grouped('k', [key], true);
  }

  async cooldownUntil(key: string): Promise<number | undefined> {
    if (this.#noFailures()) return undefined;
    return (await this.#cooldowns(key))[0]?.until;
  }

  /** recordFailure calls made, and what the last grouped run sent after the last of them saw. */
  #failureCalls = 0;
  #failuresSeen: { count: number; at: number } | undefined;

  #noFailures(): boolean {
    const seen = this.#failuresSeen;
    return seen !== undefined && seen.count === 0 && performance.now() - seen.at < COOLDOWN_READ_MS;
  }

  async #runBatch(argv: (string | number)[]): Promise<unknown[]> {
    const calls = this.#failureCalls;
    const at = performance.now();
    const answers = await this.#run<unknown[]>(BATCH, argv);
    if (calls === this.#failureCalls) this.#failuresSeen = { count: Number(answers[0]), at };
    return answers;
  }

  async listCooldowns(): Promise<CooldownEntry[]> {
    return (await this.#cooldowns('')).sort((a, b) => byCodeUnit(a.key, b.key));
  }

  async inspect(req: ReserveRequest): Promise<{ now: number; rows: LedgerRows }> {
    validateReserveRequest(req);
    // The questions depend on the time: read Redis's clock, then answer them as of that moment.
    const now = this.#now ? Math.floor(this.#now()) : await this.serverTime();
    const reads = decisionReads(req, now);
    const args: (string | number)[] = [this.owner, PENDING_MAX_MS, reads.starts.length, reads.tokens.length, reads.concurrency.length];
    for (const q of reads.starts) args.push(q.key, q.from, q.upTo);
    for (const q of reads.tokens) args.push(q.key, q.from, q.room);
    args.push(...reads.concurrency);
    type Answer = (number | string)[];
    const [, starts, tokens, inFlight] = await this.#runAt<[number, Answer[], Answer[], number[]]>(INSPECT, String(now), args);
    const given = (v: number | string | undefined): number | undefined => (v === '' || v === undefined ? undefined : Number(v));
    const rows: LedgerRows = {
      starts: new Map(
        reads.starts.map((q, i): [string, StartsAnswer] => {
          const [count, nth, oldest] = starts[i] ?? [];
          return [startsId(q), { count: Number(count ?? 0), ...defined('nth', given(nth)), ...defined('oldest', given(oldest)) }];
        }),
      ),
      tokens: new Map(
        reads.tokens.map((q, i): [string, TokensAnswer] => {
          const [sum, over] = tokens[i] ?? [];
          return [tokensId(q), { sum: Number(sum ?? 0), ...defined('over', given(over)) }];
        }),
      ),
      inFlight: new Map(reads.concurrency.map((key, i) => [key, Number(inFlight[i] ?? 0)])),
    };
    return { now, rows };
  }

  async recordLearned(key: string, limits: LearnedLimit[], observedAt: number): Promise<void> {
    this.#learnedKept.delete(key);
    await this.#orWhenBack(RECORD_LEARNED, [key, observedAt, REFUSAL_SOURCES.join('\n'), ...limits.map((l) => JSON.stringify({ ...l, key }))]);
  }

  /**
   * A key's learned limits are answered from what was last read for up to LEARNED_KEPT_MS, without a
   * round trip: an admission made with them is checked in its own script run against the
   * generation they were read at, and read again and decided anew when another process changed
   * them meanwhile (tryReserve). So a limit another machine learns applies from the next admission,
   * at one round trip an admission instead of two.
   */
  async listLearned(key?: string): Promise<LearnedLimit[]> {
    if (key !== undefined) {
      const kept = this.#learnedKept.get(key);
      if (kept) {
        const age = performance.now() - kept.at;
        const now = this.#now ? this.#now() : kept.serverNow + age;
        if (age < LEARNED_KEPT_MS && now < kept.until) {
          const limits = [...kept.limits];
          this.#generationOf.set(limits, kept.generation);
          return limits;
        }
        this.#learnedKept.delete(key);
      }
    }
    const [now, generation, ...entries] = await this.#run<[number, string, ...string[]]>(LIST_LEARNED, [key ?? '']);
    const limits = entries
      .map((json) => JSON.parse(json) as LearnedLimit)
      .filter((l) => (key === undefined || l.key === key) && learnedExpiry(l) > Number(now))
      .sort((a, b) => byCodeUnit(a.key, b.key) || byCodeUnit(a.name, b.name));
    if (key !== undefined) {
      this.#learnedKept.set(key, { ...keptLearned(limits), generation: String(generation), at: performance.now(), serverNow: Number(now) });
      this.#generationOf.set(limits, String(generation));
    }
    return limits;
  }

  async reserveSpend(req: SpendRequest): Promise<SpendResult> {
    const expected = validSpend(req.expected);
    const id = this.#takeId();
    const args: (string | number)[] = [id, toNano(expected.usd), expected.tokens];
    for (const b of req.budgets) args.push(b.key, b.usd === undefined ? '' : toNano(b.usd), b.tokens ?? '', Math.ceil(b.retainUntil));
    const [ok, crossed, ...before] = await this.#run<[number, number, ...string[]]>(RESERVE_SPEND, args);
    const totals: Record<string, SpendAmount> = {};
    req.budgets.forEach((b, i) => (totals[b.key] = amountOf(before[i])));
    if (ok === 1) return { ok: true, id, totals };
    this.#spareId = id;
    return { ok: false, exceeded: req.budgets[crossed - 1]!, totals };
  }

  async settleSpend(id: string, actual: SpendAmount): Promise<void> {
    const clean = validSpend(actual);
    await this.#orWhenBack(SETTLE_SPEND, [id, toNano(clean.usd), clean.tokens]);
  }

  async spendTotals(keys: string[]): Promise<Record<string, SpendAmount>> {
    const values = keys.length === 0 ? [] : await this.#run<string[]>(SPEND_TOTALS, keys);
    return Object.fromEntries(keys.map((key, i) => [key, amountOf(values[i])]));
  }

  async recordUsage(record: UsageRecord): Promise<void> {
    this.#assertOpen();
    const args = ['ZADD', `${this.keyPrefix}u`, String(record.t), `${randomUUID()} ${JSON.stringify(record)}`];
    await this.#later.run(() => this.connection.command(args));
  }

  async listUsage(since: number): Promise<UsageRecord[]> {
    this.#assertOpen();
    const members = await this.connection.command<string[]>(['ZRANGEBYSCORE', `${this.keyPrefix}u`, String(since), '+inf']);
    return members.map((m) => JSON.parse(m.slice(m.indexOf(' ') + 1)) as UsageRecord);
  }

  async prune(): Promise<void> {
    await this.#run(PRUNE, [START_RETAIN_MS, PENDING_MAX_MS]);
    await this.#run(PRUNE_MORE, [LEARNED_TTL_MS, USAGE_RETAIN_MS]);
  }

  /** Redis's clock in ms (one round trip): doctor compares it with this machine's. */
  async serverTime(): Promise<number> {
    return this.#run<number>(SERVER_TIME, []);
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    clearInterval(this.#heartbeat);
    clearTimeout(this.#replayTimer);
    // What this turn has grouped so far is still sent (as the embedded ledger commits its batch).
    await this.batch.drain();
    this.#closed = true;
    // This process is gone: whatever it left pending is settled by the next admission.
    await this.connection.command(['DEL', `${this.keyPrefix}alive:${this.owner}`]).catch(() => undefined);
    await this.connection.close();
  }

  async #announce(): Promise<void> {
    await this.connection.command(['SET', `${this.keyPrefix}alive:${this.owner}`, '1', 'PX', String(this.#ownerTtlMs)]);
  }

  async #reserve(req: ReserveRequest, id: string, write: boolean): Promise<number[]> {
    return (await this.#grouped<number[]>(write ? 'a' : 'p', reserveArgs(req, id), false)) as number[];
  }

  #blocked(req: ReserveRequest, reply: number[]): { ok: false; waitMs: number; blockedBy: string; kind: BlockKind } {
    const blocked = refusalOf(req, reply);
    if (!blocked) throw new PantheonError('STORE_ERROR', `The state store ${this.description} gave an unexpected answer.`);
    return blocked;
  }

  async #cooldowns(key: string): Promise<CooldownEntry[]> {
    const flat = await this.#run<(string | number)[]>(COOLDOWNS, [key]);
    const out: CooldownEntry[] = [];
    for (let i = 1; i + 2 < flat.length; i += 3) {
      out.push({ key: String(flat[i]), until: Number(flat[i + 1]), failures: Number(flat[i + 2]) });
    }
    return out;
  }

  #run<T>(script: string, args: (string | number)[]): Promise<T> {
    return this.#runAt<T>(script, this.#now ? String(Math.floor(this.#now())) : '', args);
  }

  /** Runs a script at `clock` (ms; '' for Redis's own TIME). */
  #runAt<T>(script: string, clock: string, args: (string | number)[]): Promise<T> {
    this.#assertOpen();
    return this.connection.script<T>(script, [clock, this.keyPrefix, ...args]);
  }

  #takeId(): string {
    const id = this.#spareId ?? this.#newId();
    this.#spareId = undefined;
    return id;
  }

  #assertOpen(): void {
    if (this.#closed) throw ledgerClosed();
  }
}
