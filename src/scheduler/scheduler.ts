import PQueue from 'p-queue';
import type { EventInput } from '../events.ts';
import { isPantheonError, PantheonError } from '../errors.ts';
import { acquire, RateLimitWaitError } from './acquire.ts';
import { calledWithoutKey, refusedKey } from './key-cooldown.ts';
import { LaneActivity, type LaneSpec } from './lane-activity.ts';
import { snapshotLanes, type LaneSnapshot } from './lane-snapshot.ts';
import { Lease } from './lease.ts';
import { DONE, type ConcurrencyLimit, type Ledger, type ReserveRequest, type TokenLimit, type WindowLimit } from './ledger.ts';
import { classifyFailure, preferFallback, retryDelay, type Failure, type RetryPolicy } from './retry-policy.ts';

/** A model as the scheduler sees it: a name, its limits, its cooldown key and its per-attempt timeout. */
export interface ScheduledModel {
  label: string;
  provider: string;
  /** Key for cooldowns and failure counts, e.g. `model:nvidia-nim/qwen-3.5-397b`. */
  key: string;
  /**
   * Key for the cooldown of the API key this process calls the model with (key-cooldown.ts): a 401
   * or 403 counts here, not under `key`, so processes with another key keep using the model.
   */
  keyCooldown?: string;
  windows: WindowLimit[];
  tokens: TokenLimit[];
  concurrency: ConcurrencyLimit[];
  /** Aborts an attempt that has no answer this long after it was admitted (OpenCode's `headerTimeout`; undefined: none). */
  timeoutMs?: number;
  /** Once the answer began: aborts it when no part of it arrives for this long (OpenCode's `chunkTimeout`; absent: `timeoutMs`; undefined: none). */
  chunkTimeoutMs?: number;
  /** Ledger key of the limits learned from this model's answers (`learned:provider/model`); absent when `rateLimit.learn` is off. */
  learnKey?: string;
  /** Masks this model's secrets (its API key) in provider messages, which may echo them. */
  redact?: (text: string) => string;
}

export interface AttemptRecord {
  model: string;
  attempt: number;
  status: number | string;
  message: string;
}

export interface CooldownPolicy {
  afterFailures: number;
  ms: number;
}

export interface ExecuteContext {
  signal?: AbortSignal;
  emit: (event: EventInput) => void;
  /** Event fields that identify the task (agent, taskID, …). */
  tags?: { agent?: string; taskID?: string; parentTaskID?: string };
  /** Tokens this request is expected to use (prompt estimate + output budget), for tpm limits. */
  estimatedTokens?: number;
  /**
   * Longest wait for a rate limit on one admission (ms): a longer one moves to the next model, or
   * on the last model fails with RateLimitWaitError (the gateway answers 429 + Retry-After).
   */
  maxWaitMs?: number;
  /** What `admitAhead` did for this task's first request: its first admission on that model takes the reservation. */
  ahead?: Ahead;
  /**
   * Whom the request is for (a gateway key's name): a lane takes the queued requests of each in
   * turn, so a client with many queued cannot hold the others behind all of its own.
   */
  fairness?: string;
}

/**
 * What `Scheduler.admitAhead` did for a task's first request on `model`: admitted it (`id`, until
 * the first admission on the model takes it), or waited for it (`waitingSince`, `announcedUntil`).
 */
export interface Ahead {
  readonly model: ScheduledModel;
  id?: string;
  admittedAt?: number;
  nothingLearned?: boolean;
  /** When the wait began (the request's wait is counted from here) and the end it announced. */
  waitingSince?: number;
  announcedUntil?: number;
}

export interface SchedulerOptions {
  ledger: Ledger;
  retry: RetryPolicy;
  cooldown: CooldownPolicy;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /** How long a crashed process may hold a concurrency slot. */
  leaseMs?: number;
}

/**
 * How `execute` began a request's first attempt before handing it to the loop: the ledger did not
 * grant it at once (or threw `error`), or the attempt was made with `lease` and failed with `error`.
 */
type FirstTry = { admitted: false } | { admitted: false; error: unknown } | { admitted: true; lease: Lease; error: unknown };

/** What `execute` answers: the attempt's value, its lease (the caller releases it) and the model that served it. */
export interface Executed<T> {
  value: T;
  lease: Lease;
  model: ScheduledModel;
}

type LaneHooks = Required<Pick<ConstructorParameters<typeof Lease>[2], 'onRelease' | 'onAnswer'>>;

export type Attempt<T> = (model: ScheduledModel, lease: Lease) => Promise<T>;

/** The lease id of an admission that wrote no ledger rows (never passed to the ledger). */
const UNTRACKED = 'untracked';

/** A wait that ends at most this much later than the one already announced is not announced again. */
const ANNOUNCE_SLACK_MS = 50;

const defaultSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

class MoveOn extends Error {
  readonly failure: Failure;
  readonly reason: string;
  /** False when the model did not fail (it was only busy): no failure is counted toward its cooldown. */
  readonly countsAsFailure: boolean;
  constructor(failure: Failure, reason: string, options: { cause?: unknown; countsAsFailure?: boolean } = {}) {
    super(failure.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.failure = failure;
    this.reason = reason;
    this.countsAsFailure = options.countsAsFailure ?? true;
  }
}

function describeAttempts(records: AttemptRecord[]): string[] {
  return records.map((r) => `${r.model} attempt ${r.attempt}: ${r.status} ${r.message}`);
}

/**
 * Runs one request along a model chain: waits for rate limits (shared through the ledger), retries
 * what can be retried, falls back to the next model when that is quicker or the model is refused,
 * and skips models in cooldown. On success the caller owns the returned lease and must release it.
 */
export class Scheduler {
  private readonly opts: Required<Omit<SchedulerOptions, 'random'>> & { random: () => number };
  private readonly queues = new Map<string, PQueue>();
  /** Per lane: how many requests of each `fairness` client are in it (queued or being admitted). */
  private readonly inLane = new Map<string, Map<string, number>>();
  private readonly hooks = new WeakMap<ScheduledModel, LaneHooks>();
  private readonly requests = new WeakMap<ScheduledModel, ReserveRequest>();
  /** This process's requests per lane: in flight, queued, and the wait they were told. */
  readonly activity: LaneActivity;

  constructor(options: SchedulerOptions) {
    this.opts = { now: Date.now, sleep: defaultSleep, random: Math.random, leaseMs: 30_000, ...options };
    this.activity = new LaneActivity(this.opts.now);
  }

  /** The lanes as they stand now: `specs` (say, every configured model) and every lane this scheduler has used. */
  lanes(specs: readonly LaneSpec[] = []): Promise<LaneSnapshot[]> {
    return snapshotLanes(this.opts.ledger, specs, this.activity.list());
  }

  get ledger(): Ledger {
    return this.opts.ledger;
  }

  get retryPolicy(): RetryPolicy {
    return this.opts.retry;
  }

  /**
   * For a process about to load what its first request needs (`opencode run`: the AI SDK, the
   * tools, the provider's code), asks the ledger for that request now, so that processes started
   * together do not all load everything before any of them may send (docs/performance.md). Admitted:
   * the reservation counts as starting now for every other process, as any admission does, and
   * `execute` with the result as `ctx.ahead` takes it for its first admission on `model`;
   * `dropAhead` refunds it when none did. Blocked by a window for longer than `leadMs`: announces
   * the wait and sleeps until `leadMs` before it ends, leaving the cores to processes that can go
   * now; the request is then admitted as usual. Only for a request that does not depend on the
   * task: no token limits (configured or learned).
   */
  async admitAhead(model: ScheduledModel, ctx: ExecuteContext, leadMs: number): Promise<Ahead | undefined> {
    if (unlimited(model) || model.tokens.length > 0) return undefined;
    const request = model.learnKey === undefined ? this.fixedRequest(model) : await this.request(model, { ...ctx, estimatedTokens: 0 });
    if (request.learned?.limits.some((l) => l.kind === 'tokens')) return undefined;
    const first = await this.opts.ledger.tryReserve(request);
    const at = this.opts.now();
    if (first.ok) return { model, id: first.id, admittedAt: at, nothingLearned: request.learned !== undefined && request.learned.limits.length === 0 };
    if (first.kind !== 'window' || first.waitMs <= leadMs) return undefined;
    const until = at + first.waitMs;
    this.activity.enqueue(model);
    try {
      this.activity.waiting(model, until, first.blockedBy);
      this.emit(ctx, model, { type: 'rate_limited', waitMs: first.waitMs, limit: first.blockedBy });
      await this.opts.sleep(first.waitMs - leadMs, ctx.signal).catch((reason: unknown) => {
        throw new PantheonError('CANCELLED', 'Cancelled.', { cause: reason });
      });
    } finally {
      this.activity.dequeue(model);
    }
    return { model, waitingSince: at, announcedUntil: until };
  }

  /** Refunds what `admitAhead` admitted when no admission took it. */
  async dropAhead(ahead: Ahead): Promise<void> {
    const id = ahead.id;
    if (id === undefined) return;
    ahead.id = undefined;
    await this.opts.ledger.release(id, { refund: true });
  }

  execute<T>(chain: ScheduledModel[], attempt: Attempt<T>, ctx: ExecuteContext): Promise<Executed<T>> {
    // Most requests: a chain of one (tried whether or not its model cools down: nothing to read),
    // admitted at once and answered on the first attempt. They take no turn of the loop below,
    // whose asynchronous frame (every attempt's state) is made only for a request that must wait,
    // retry or fall back: it goes on from the first attempt's failure.
    const model = chain.length === 1 ? (chain[0] as ScheduledModel) : undefined;
    let lease: Lease | undefined;
    try {
      lease = model && (unlimited(model) ? this.lease(model, UNTRACKED, ctx, false) : this.admitNow(model, ctx));
    } catch (error) {
      // The loop decides what the ledger's error leads to, as for any admission.
      return this.attempts(chain, attempt, ctx, { admitted: false, error });
    }
    if (!model) return this.attempts(chain, attempt, ctx);
    // Not granted at once: the loop waits for it (asking the ledger again, not at once).
    if (!lease) return this.attempts(chain, attempt, ctx, { admitted: false });
    const failed = (error: unknown) => this.attempts(chain, attempt, ctx, { admitted: true, lease, error });
    return started(attempt, model, lease).then((value) => {
      this.activity.reached(model.key);
      const done = { value, lease, model };
      const recorded = this.recordSuccess(model);
      return recorded === DONE ? done : recorded.then(() => done, failed);
    }, failed);
  }

  /** The attempts of `execute` along the chain, from how it began the first one on the first model (`first`), when it did. */
  private async attempts<T>(chain: ScheduledModel[], attempt: Attempt<T>, ctx: ExecuteContext, first?: FirstTry): Promise<Executed<T>> {
    const records: AttemptRecord[] = [];
    let moves: MoveOn[] | undefined;
    const order = chain.length === 1 ? chain : await this.orderByCooldown(chain, ctx);
    for (let i = 0; i < order.length; i++) {
      const model = order[i] as ScheduledModel;
      const next = order[i + 1];
      // The attempts on one model: each one admitted, sent, and on failure classified by the
      // policy functions (retry after a wait, move to the next model, or fail the task). A plain
      // loop, inline (no async call per request): the policy decides every wait, so a retry
      // library would only add its per-call work.
      try {
        for (let attemptNo = 1; ; attemptNo++) {
          let lease: Lease;
          const tried = first;
          first = undefined;
          try {
            if (tried && !tried.admitted && 'error' in tried) throw tried.error;
            if (tried?.admitted) lease = tried.lease;
            // A model with no limits has nothing to count: no ledger round trip (its lease writes nothing).
            else if (unlimited(model)) lease = this.lease(model, UNTRACKED, ctx, false);
            else lease = (tried ? undefined : this.admitNow(model, ctx)) ?? (await this.admit(model, next, ctx, records, attemptNo));
          } catch (error) {
            if (attemptNo <= this.opts.retry.maxRetries && triedAgainAtOnce(error)) continue;
            throw error;
          }
          try {
            if (tried?.admitted) throw tried.error;
            const value = await attempt(model, lease);
            this.activity.reached(model.key);
            const recorded = this.recordSuccess(model);
            if (recorded !== DONE) await recorded;
            return { value, lease, model };
          } catch (error) {
            try {
              // Throws what ends the attempts on this model; returns once the retry's wait is over.
              await this.afterFailure(error, lease, model, next, ctx, records, attemptNo);
            } catch (final) {
              if (attemptNo <= this.opts.retry.maxRetries && triedAgainAtOnce(final)) continue;
              throw final;
            }
          }
        }
      } catch (error) {
        if (!(error instanceof MoveOn)) throw error;
        (moves ??= []).push(error);
        if (error.countsAsFailure) await this.recordModelFailure(model, error.failure);
        if (next) this.emit(ctx, model, { type: 'fallback', from: model.label, to: next.label, reason: error.reason });
      }
    }
    // Nothing could even be sent because provider packages are missing, or logins do not serve the
    // models: that is a setup problem, say which.
    const missing = moves?.[0]?.cause;
    if (missing instanceof PantheonError && moves?.every((m) => m.reason === 'package_missing' || m.reason === 'login')) {
      throw new PantheonError(missing.code, missing.message, { ...(missing.hint ? { hint: missing.hint } : {}), details: describeAttempts(records) });
    }
    // No attempt got an answer from anyone (names not resolved, connections refused or cut): the
    // network or the providers' addresses, not the keys or the limits.
    throw new PantheonError('ALL_FALLBACKS_FAILED', `Every model in the chain failed (${order.map((m) => m.label).join(' → ')}).`, {
      details: describeAttempts(records),
      hint: chainHint(records, order),
    });
  }

  /**
   * A request on `model` succeeded: its failure counts (and its API key's) start again. A ledger
   * with nothing to write answers DONE (most successes): not awaited, no turn of the microtask
   * queue per request.
   */
  private recordSuccess(model: ScheduledModel): Promise<void> {
    const ledger = this.opts.ledger;
    const own = ledger.recordSuccess(model.key);
    const keyCooldown = model.keyCooldown;
    if (keyCooldown === undefined) return own;
    return own === DONE ? ledger.recordSuccess(keyCooldown) : own.then(() => ledger.recordSuccess(keyCooldown));
  }

  /** What a failed attempt leads to: an error that ends the attempts on this model, or (resolving) a retry after its wait. */
  private async afterFailure(error: unknown, lease: Lease, model: ScheduledModel, next: ScheduledModel | undefined, ctx: ExecuteContext, records: AttemptRecord[], attemptNo: number): Promise<void> {
    const policy = this.opts.retry;
    // A plugin's hook on the call failed before it was sent (plugins/call-hooks.ts): not the provider's failure, so neither retried nor moved on from.
    if (isPantheonError(error) && error.code === 'PLUGIN_FAILED') {
      await lease.release({ refund: true });
      throw error;
    }
    const failure = classifyFailure(lease.timeoutReason ?? error, policy, ctx.signal, this.opts.now());
    if (model.redact) {
      failure.message = model.redact(failure.message);
      // A provider's code or param holding a secret is not shown at all.
      if (failure.providerCode !== undefined && model.redact(failure.providerCode) !== failure.providerCode) delete failure.providerCode;
      if (failure.providerParam !== undefined && model.redact(failure.providerParam) !== failure.providerParam) delete failure.providerParam;
    }
    // A model whose package is missing was never called, and a request that never reached the
    // provider (a failed name lookup or connect) was never counted there: its start is refunded.
    await lease.release(failure.status === 'package_missing' || failure.status === 'login' || failure.notSent ? { refund: true } : {});
    if (failure.kind === 'cancelled') throw new PantheonError('CANCELLED', 'Cancelled.', { cause: error });
    records.push({ model: model.label, attempt: attemptNo, status: failure.status, message: failure.message });
    if (failure.kind === 'fatal') {
      throw new PantheonError(typeof failure.status === 'number' && failure.status < 500 ? 'PROVIDER_BAD_REQUEST' : 'PROVIDER_ERROR', `${model.label} refused the request: ${failure.status} ${failure.message}`, {
        hint: 'This is not retried: fix the request or the model settings.',
        details: describeAttempts(records),
        fields: { ...(failure.providerCode ? { code: failure.providerCode } : {}), ...(failure.providerParam ? { param: failure.providerParam } : {}) },
      });
    }
    // A login to renew is not the model failing: no cooldown that would outlast the next login.
    if (failure.kind === 'next-model') throw new MoveOn(failure, reasonFor(failure), { cause: error, countsAsFailure: failure.status !== 'login' });
    if (attemptNo > policy.maxRetries) throw new MoveOn(failure, 'retries_exhausted', { cause: error });
    // Not reached from here (its name did not resolve, no connection was made): the next model,
    // elsewhere, may well be; a backoff here would most likely wait for nothing. Alone in its
    // chain, the model is retried after its backoff.
    if (failure.notSent && next) throw new MoveOn(failure, reasonFor(failure), { cause: error });
    const delay = retryDelay(failure, attemptNo - 1, policy, this.opts.random);
    // A wait the server asked for may be long: take a fallback that can start sooner. Our own
    // backoff stays on this model until maxRetries is used up.
    if (failure.retryAfterMs !== undefined && next) {
      if (preferFallback(delay, await this.expectedStart(next), policy)) throw new MoveOn(failure, reasonFor(failure), { cause: error });
    }
    // The server asks for a longer wait than the caller allows: no sleeping past it.
    if (ctx.maxWaitMs !== undefined && failure.retryAfterMs !== undefined && delay > ctx.maxWaitMs) {
      if (next) throw new MoveOn(failure, reasonFor(failure), { cause: error });
      throw new RateLimitWaitError(delay, `${model.label} Retry-After`);
    }
    this.emit(ctx, model, { type: 'retry', attempt: attemptNo, delayMs: delay, status: failure.status, message: failure.message });
    await this.opts.sleep(delay, ctx.signal).catch((reason: unknown) => {
      throw new PantheonError('CANCELLED', 'Cancelled.', { cause: reason });
    });
  }

  /**
   * An admission the ledger grants at once, without I/O (Ledger.admitNow), for a model without a
   * token limit (its learned limits read at once too, Ledger.learnedNow) and with nothing admitted
   * ahead: no asynchronous step between the request and its lease. Undefined: `admit` decides.
   */
  private admitNow(model: ScheduledModel, ctx: ExecuteContext): Lease | undefined {
    const ledger = this.opts.ledger;
    if (!ledger.admitNow || model.tokens.length > 0 || ctx.ahead?.id !== undefined) return undefined;
    const fixed = this.fixedRequest(model);
    if (model.learnKey === undefined) {
      const granted = ledger.admitNow(fixed);
      return granted && this.lease(model, granted.id, ctx, true);
    }
    const limits = ledger.learnedNow?.(model.learnKey);
    if (limits === undefined) return undefined;
    const granted = ledger.admitNow({ ...fixed, learned: { key: model.learnKey, tokens: ctx.estimatedTokens ?? 0, limits } });
    return granted && this.lease(model, granted.id, ctx, true, limits.length === 0);
  }

  /** Waits for the model's limits (or moves on when the fallback would start sooner). */
  private async admit(model: ScheduledModel, next: ScheduledModel | undefined, ctx: ExecuteContext, records: AttemptRecord[], attemptNo: number): Promise<Lease> {
    const ahead = ctx.ahead;
    if (ahead?.id !== undefined && ahead.model === model) {
      const id = ahead.id;
      ahead.id = undefined;
      return this.lease(model, id, ctx, true, ahead.nothingLearned, ahead.admittedAt);
    }
    const request = model.learnKey === undefined && model.tokens.length === 0 ? this.fixedRequest(model) : await this.request(model, ctx);
    const first = await this.opts.ledger.tryReserve(request);
    // The wait is counted from the ledger's answer, not from after the fallback's expected start was asked.
    const answeredAt = this.opts.now();
    let id: string;
    if (first.ok) id = first.id;
    else {
      const fallbackStart = next ? await this.expectedStart(next) : undefined;
      if (preferFallback(first.waitMs, fallbackStart, this.opts.retry)) {
        const message = `not sent: the rate limit ${first.blockedBy} would need a ${first.waitMs} ms wait`;
        records.push({ model: model.label, attempt: attemptNo, status: 'rate_limited', message });
        // The model is busy, not failing: that is no reason for a cooldown.
        throw new MoveOn({ kind: 'next-model', status: 'rate_limited', message }, 'rate_limited', { countsAsFailure: false });
      }
      if (ctx.maxWaitMs !== undefined && first.waitMs > ctx.maxWaitMs) {
        if (!next) throw new RateLimitWaitError(first.waitMs, first.blockedBy);
        const message = `not sent: the rate limit ${first.blockedBy} would need a ${first.waitMs} ms wait, longer than the ${ctx.maxWaitMs} ms allowed`;
        records.push({ model: model.label, attempt: attemptNo, status: 'rate_limited', message });
        throw new MoveOn({ kind: 'next-model', status: 'rate_limited', message }, 'rate_limited', { countsAsFailure: false });
      }
      const lane = this.queue(model);
      const signal = ctx.signal;
      const queuedAt = this.opts.now();
      // Announced when the wait begins (also for requests queued behind another in the lane), and
      // again only when the expected end moves later.
      // A wait admitAhead announced is not announced again unless it ends later.
      let announcedUntil = 0;
      if (ahead?.model === model) {
        announcedUntil = ahead.announcedUntil ?? 0;
        ahead.announcedUntil = undefined;
      }
      const announce = (waitMs: number, blockedBy: string, at = this.opts.now()): void => {
        const until = at + waitMs;
        if (until <= announcedUntil + ANNOUNCE_SLACK_MS) return;
        announcedUntil = until;
        // The lane shows the wait before the event goes out, so a reader reacting to it sees it.
        this.activity.waiting(model, until, blockedBy);
        this.emit(ctx, model, { type: 'rate_limited', waitMs, limit: blockedBy });
      };
      this.activity.enqueue(model);
      // A client's n-th request in the lane goes behind every other client's n-th (p-queue keeps
      // the order of equal priorities): each client's requests are taken in turn.
      const who = ctx.fairness;
      const mine = who === undefined ? undefined : this.inLaneOf(model.key);
      const priority = mine === undefined ? 0 : -(mine.get(who as string) ?? 0);
      if (mine) mine.set(who as string, 1 - priority);
      try {
        announce(first.waitMs, first.blockedBy, answeredAt);
        id = await lane
          .add(
            () =>
              acquire(this.opts.ledger, request, {
                ...(signal ? { signal } : {}),
                onWait: announce,
                // What the provider announces while this request waits (another answer, another process) applies at once.
                ...(request.learned ? { refresh: async (r: ReserveRequest) => Object.assign(r, await this.learned(model, ctx.estimatedTokens ?? 0)) } : {}),
                // Time spent queued behind others in the lane counts toward the allowed wait.
                ...(ctx.maxWaitMs === undefined ? {} : { maxWaitMs: Math.max(0, ctx.maxWaitMs - (this.opts.now() - queuedAt)) }),
              }),
            { ...(signal ? { signal } : {}), ...(priority ? { priority } : {}) },
          )
          .catch((reason: unknown) => {
            if (signal?.aborted) throw new PantheonError('CANCELLED', 'Cancelled.', { cause: reason });
            throw reason;
          });
      } finally {
        this.activity.dequeue(model);
        if (mine) {
          const left = (mine.get(who as string) ?? 1) - 1;
          if (left > 0) mine.set(who as string, left);
          else mine.delete(who as string);
        }
      }
    }
    return this.lease(model, id, ctx, true, request.learned !== undefined && request.learned.limits.length === 0);
  }

  /** The admitted request's lease; `tracked`: the admission wrote ledger rows (false for a model without limits). */
  private lease(model: ScheduledModel, id: string, ctx: ExecuteContext, tracked: boolean, nothingLearned = false, admittedAt?: number): Lease {
    this.activity.started(model);
    const hooks = this.laneHooks(model);
    return new Lease(this.opts.ledger, id, {
      onRelease: hooks.onRelease,
      onAnswer: hooks.onAnswer,
      label: model.label,
      learnKey: model.learnKey,
      leaseMs: this.opts.leaseMs,
      heartbeat: model.concurrency.length > 0,
      tracked,
      nothingLearned,
      parent: ctx.signal,
      timeoutMs: model.timeoutMs,
      // Without its own, the wait between an answer's parts is the wait for it (ScheduledModel).
      chunkTimeoutMs: 'chunkTimeoutMs' in model ? model.chunkTimeoutMs : model.timeoutMs,
      admittedAt,
    });
  }

  /** The lane counters' callbacks of a model's leases, made once per model. */
  private laneHooks(model: ScheduledModel): LaneHooks {
    let hooks = this.hooks.get(model);
    if (!hooks) {
      hooks = {
        onRelease: ({ actualTokens, refund }) => this.activity.finished(model, refund ? undefined : actualTokens),
        onAnswer: (announced, at) => this.activity.announced(model, announced.balances, at),
      };
      this.hooks.set(model, hooks);
    }
    return hooks;
  }

  /** What an admission on `model` asks the ledger for. */
  private async request(model: ScheduledModel, ctx: ExecuteContext): Promise<ReserveRequest> {
    return {
      windows: model.windows,
      concurrency: model.concurrency,
      tokens: model.tokens.map((limit) => ({ limit, amount: Math.min(ctx.estimatedTokens ?? 0, limit.maxTokens) })),
      leaseMs: this.opts.leaseMs,
      ...(await this.learned(model, ctx.estimatedTokens ?? 0)),
    };
  }

  /** The request of a model whose admissions never depend on the task (no token limit, no learned limits): made once. */
  private fixedRequest(model: ScheduledModel): ReserveRequest {
    let request = this.requests.get(model);
    if (!request) {
      request = { windows: model.windows, concurrency: model.concurrency, tokens: [], leaseMs: this.opts.leaseMs };
      this.requests.set(model, request);
    }
    return request;
  }

  /** Milliseconds until a request could start on `model`: its cooldown, else its rate-limit wait. */
  private async expectedStart(model: ScheduledModel): Promise<number> {
    const cooling = Math.max(0, (await this.coolingUntil(model)) - this.opts.now());
    const wait = await this.opts.ledger.peekWait({ windows: model.windows, concurrency: model.concurrency, tokens: [], leaseMs: this.opts.leaseMs, ...(await this.learned(model, 0)) });
    return Math.max(cooling, wait);
  }

  /** The model's learned limits as a request part (nothing when learning is off for it). */
  private async learned(model: ScheduledModel, tokens: number): Promise<Pick<ReserveRequest, 'learned'>> {
    if (model.learnKey === undefined) return {};
    return { learned: { key: model.learnKey, tokens, limits: await this.opts.ledger.listLearned(model.learnKey) } };
  }

  /** Models not in cooldown first (in chain order); cooling ones are kept only as a last resort. */
  private async orderByCooldown(chain: ScheduledModel[], ctx: ExecuteContext): Promise<ScheduledModel[]> {
    const now = this.opts.now();
    const ready: ScheduledModel[] = [];
    const cooling: ScheduledModel[] = [];
    for (const model of chain) {
      if ((await this.coolingUntil(model)) > now) cooling.push(model);
      else ready.push(model);
    }
    if (ready.length > 0 && cooling.length > 0) {
      for (const model of cooling) {
        const to = ready.find((m) => chain.indexOf(m) > chain.indexOf(model)) ?? (ready[0] as ScheduledModel);
        this.emit(ctx, model, { type: 'fallback', from: model.label, to: to.label, reason: 'cooldown' });
      }
    }
    return ready.length > 0 ? ready : cooling;
  }

  /**
   * When `model`'s cooldown ends (0: none): the shared one, its API key's (refused), or this
   * process's for a model it could not reach.
   */
  private async coolingUntil(model: ScheduledModel): Promise<number> {
    const ledger = this.opts.ledger;
    const keyUntil = model.keyCooldown === undefined ? 0 : ((await ledger.cooldownUntil(model.keyCooldown)) ?? 0);
    return Math.max((await ledger.cooldownUntil(model.key)) ?? 0, keyUntil, this.activity.unreachableUntil(model.key));
  }

  /**
   * A task failed on `model`: toward its cooldown in the shared ledger, or in this process alone when
   * the model could not be reached from here (Failure.notSent): that says nothing of the model to
   * every other process and machine (each has its own network and its own localhost). A refused
   * API key counts toward the cooldown of that key alone (key-cooldown.ts).
   */
  private async recordModelFailure(model: ScheduledModel, failure: Failure): Promise<void> {
    const { afterFailures, ms } = this.opts.cooldown;
    if (failure.notSent) this.activity.unreachableFailure(model, afterFailures, ms);
    else await this.opts.ledger.recordFailure(model.keyCooldown !== undefined && refusedKey(failure) ? model.keyCooldown : model.key, afterFailures, ms);
  }

  private inLaneOf(key: string): Map<string, number> {
    let counts = this.inLane.get(key);
    if (!counts) this.inLane.set(key, (counts = new Map()));
    return counts;
  }

  private queue(model: ScheduledModel): PQueue {
    let lane = this.queues.get(model.key);
    if (!lane) {
      lane = new PQueue({ concurrency: 1 });
      this.queues.set(model.key, lane);
    }
    return lane;
  }

  private emit(ctx: ExecuteContext, model: ScheduledModel, event: EventInput): void {
    ctx.emit({ ...ctx.tags, provider: model.provider, model: model.label, ...event } as EventInput);
  }
}

/** The attempt's promise; what it throws at once, as its rejection. */
function started<T>(attempt: Attempt<T>, model: ScheduledModel, lease: Lease): Promise<T> {
  try {
    return attempt(model, lease);
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * An error of the ledger or the bookkeeping around an attempt (not the attempt's own, which the
 * policy classifies) is tried again at once, up to maxRetries times, unless it is ours or a bug.
 */
function triedAgainAtOnce(error: unknown): boolean {
  return error instanceof Error && !(error instanceof MoveOn) && !(error instanceof PantheonError) && !(error instanceof TypeError);
}

/** A model with nothing to count in the ledger: no configured limit, no learned one. */
function unlimited(model: ScheduledModel): boolean {
  return model.windows.length === 0 && model.concurrency.length === 0 && model.tokens.length === 0 && model.learnKey === undefined;
}

/** What to do when every model failed: said from what the attempts met, when they all met the same. */
function chainHint(records: readonly AttemptRecord[], order: readonly ScheduledModel[]): string {
  const all = (test: (r: AttemptRecord) => boolean) => records.length > 0 && records.every(test);
  if (all((r) => r.status === 'network' || r.status === 'reset')) {
    return "No provider answered: check the network connection and each provider's baseURL (`opencode doctor` tries them).";
  }
  if (all((r) => r.status === 401 || r.status === 403)) {
    const tried = order.filter((m) => records.some((r) => r.model === m.label));
    // Called without a key at all: the provider wants one.
    const keyless = [...new Set(tried.filter((m) => calledWithoutKey(m.keyCooldown)).map((m) => m.provider))];
    if (keyless.length > 0) {
      return `No API key is set for ${keyless.join(', ')}, and the provider${keyless.length === 1 ? ' asks' : 's ask'} for one: set it with \`opencode auth login ${keyless.length === 1 ? keyless[0] : '<provider>'}\` (or \`provider.<id>.options.apiKey\` in the config).`;
    }
    const providers = [...new Set(tried.map((m) => m.provider))];
    return `The provider${providers.length === 1 ? '' : 's'} refused the API key${providers.length === 1 ? '' : 's'}: check ${providers.length === 1 ? 'it' : 'them'} with \`opencode auth list\`, or set ${providers.length === 1 ? 'it' : 'one'} again with \`opencode auth login ${providers.length === 1 ? providers[0] : '<provider>'}\`.`;
  }
  if (all((r) => r.status === 'bad_response' || r.status === 'truncated')) {
    const last = records.at(-1) as AttemptRecord;
    return `Every answer was broken or cut off (the last: ${last.message}): check the model's id and the provider's baseURL, or try again later.`;
  }
  return 'Check the keys and limits with `opencode doctor`, or add fallbacks on another provider.';
}

function reasonFor(failure: Failure): string {
  if (failure.status === 401 || failure.status === 403) return 'auth';
  if (failure.status === 404) return 'not_found';
  if (failure.status === 429 || failure.status === 'rate_limited') return 'rate_limited';
  return typeof failure.status === 'number' ? `http_${failure.status}` : failure.status;
}
