import { announcementOf, learnFrom, readAnswer } from './learn-observer.ts';
import { DONE, PENDING_MAX_MS } from './ledger.ts';
import type { Ledger } from './ledger.ts';
import type { Announcement } from './rate-limit-headers.ts';
import { AttemptError } from './retry-policy.ts';

/**
 * The lease whose signal it is, kept on the signal itself rather than in a WeakMap: an entry whose
 * value (the lease) holds its key (the signal) is kept by every young-generation GC until the next
 * full one, and with it the lease and all it reaches (docs/performance.md, twenty-eighth session).
 */
const LEASE = Symbol('pantheon.lease');
type LeasedSignal = AbortSignal & { [LEASE]?: Lease };
/** A release's options when none are given (no object made per release). */
const NO_OPTIONS: { actualTokens?: number; refund?: boolean } = Object.freeze({});

/**
 * How long after handing a request to fetch its start may still be moved (see markingSends). A
 * provider counts a request when it arrives, which is always before its response begins; only a
 * response slower than this (a long time to first byte) is counted from hand-over + this margin, so
 * a slow provider costs at most this much extra spacing per window.
 */
export const ARRIVAL_MARGIN_MS = 2000;

/** Resolves when `promise` settles or after `ms`, whichever is first. */
export function settledOrAfter(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    promise.then(done, done);
  });
}

/**
 * A fetch that keeps the ledger's view of a request start at or after the provider's. The provider
 * counts a request when it arrives, which in a busy or just-started process can be tens of ms after
 * admission, or even after fetch is called. So the request's lease (found by the abort signal the
 * provider passes on) moves its start to when the response begins, or ARRIVAL_MARGIN_MS after the
 * hand-over if the response is slower than that.
 */
export function markingSends(custom?: typeof globalThis.fetch): typeof globalThis.fetch {
  const owner = custom ?? globalThis;
  let marking = markers.get(owner);
  if (!marking) markers.set(owner, (marking = marker(custom)));
  return marking;
}

/**
 * The lease whose signal a request carries (the attempt passes its lease's signal to the model),
 * for a client other than fetch that marks the send and reports the answer itself, as markingSends
 * does (providers/wire-language-model.ts).
 */
export function leaseOf(signal: AbortSignal | undefined): Lease | undefined {
  return (signal as LeasedSignal | undefined)?.[LEASE];
}

/** One wrapper per fetch, so that models built over it can be shared (see languageModelFor). */
const markers = new WeakMap<object, typeof globalThis.fetch>();

function marker(custom: typeof globalThis.fetch | undefined): typeof globalThis.fetch {
  return async (input, init) => {
    const lease = (init?.signal as LeasedSignal | null | undefined)?.[LEASE];
    lease?.handOver();
    const pending = (custom ?? globalThis.fetch)(input, init);
    if (!lease) return pending;
    await settledOrAfter(pending, ARRIVAL_MARGIN_MS);
    await lease.markSent();
    const response = await pending;
    await lease.observe(response);
    return response;
  };
}

/**
 * One admitted request: holds its ledger reservation (renewed while it runs), its abort signal and
 * an idle timer that aborts the request when no progress is seen for `timeoutMs`.
 */
export class Lease {
  /** When this process received the admission (wall clock ms). */
  readonly admittedAt: number;
  // The abort controller and signal are made on first use: an attempt that never reads the signal
  // (a cache hit, an in-process model) costs no AbortController or AbortSignal.any.
  private controller: AbortController | undefined;
  private ownSignal: AbortSignal | undefined;
  private readonly parent: AbortSignal | undefined;
  /** false: an admission with no ledger rows (a model without limits), so nothing to mark or release there. */
  private readonly tracked: boolean;
  private readonly ledger: Ledger;
  private readonly id: string;
  private readonly timeoutMs: number | undefined;
  private readonly chunkTimeoutMs: number | undefined;
  /** Progress seen so far: 0 before the lease's own start of the timer, 1 while the answer is awaited, then 2. */
  private progress = 0;
  /** Forwards the parent's abort to the controller while the lease is held. */
  private forward: (() => void) | undefined;
  /** Set when the idle timer fired (the signal's reason may also be the parent's). */
  private timedOut: AttemptError | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** The answer's reader waits for its own consumer (readerWaits): the idle timer does not fire meanwhile. */
  private readerWaiting = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private released = false;
  /** Whether the start was marked sent (a second mark would move it later). */
  private marked = false;
  private markTimer: NodeJS.Timeout | undefined;
  /** When the request was handed to the provider (handOver), if it was. */
  private handedOverAt: number | undefined;
  private readonly learnKey: string | undefined;
  private readonly nothingLearned: boolean;
  private readonly label: string;
  private readonly onAnswer: ((announced: Announcement, at: number) => void) | undefined;
  private readonly onRelease: ((options: { actualTokens?: number; refund?: boolean }) => void) | undefined;
  /**
   * The lease, for its timers and its listener on the parent signal, until it is released: what may
   * still hold one of them after that (a cleared timer, a removed listener) then holds nothing of
   * the request. Measured: a gateway request's lease and what it reaches otherwise outlived young-
   * generation GCs, ~1 KB a request promoted (docs/performance.md, twenty-eighth session).
   */
  private readonly held: { lease: Lease | undefined } = { lease: this };

  constructor(
    ledger: Ledger,
    id: string,
    options: {
      parent?: AbortSignal;
      timeoutMs?: number;
      /** The idle timeout once the answer began (default `timeoutMs`). */
      chunkTimeoutMs?: number | undefined;
      leaseMs: number;
      /** default true; only concurrency slots expire */ heartbeat?: boolean;
      /** Ledger key under which what the provider's answers announce is learned (rateLimit.learn). */
      learnKey?: string;
      /** The model (`provider/model`), for --debug notes about what its answers announce. */
      label?: string;
      /** Called with what each answer announces (balances, limits), learning on or off. */
      onAnswer?: (announced: Announcement, at: number) => void;
      /** Called once when the lease is released (the scheduler's lane counters). */
      onRelease?: (options: { actualTokens?: number; refund?: boolean }) => void;
      /** default true; false when the admission wrote nothing to the ledger (a model without limits). */
      tracked?: boolean;
      /**
       * The admission read no learned limits for the model: an answer that announces none has
       * nothing to forget, and no read is made to find out (most providers announce nothing).
       */
      nothingLearned?: boolean;
      /** When the ledger admitted it, for an admission made before its lease (Scheduler.admitAhead); default now. */
      admittedAt?: number | undefined;
    },
  ) {
    this.admittedAt = options.admittedAt ?? Date.now();
    this.ledger = ledger;
    this.id = id;
    this.onRelease = options.onRelease;
    this.learnKey = options.learnKey;
    this.label = options.label ?? options.learnKey?.replace(/^learned:/, '') ?? 'the provider';
    this.onAnswer = options.onAnswer;
    this.timeoutMs = options.timeoutMs;
    this.chunkTimeoutMs = 'chunkTimeoutMs' in options ? options.chunkTimeoutMs : options.timeoutMs;
    this.parent = options.parent;
    this.tracked = options.tracked ?? true;
    this.nothingLearned = options.nothingLearned ?? false;
    this.touch();
    if (options.heartbeat === false) return;
    const every = Math.max(1000, Math.floor(options.leaseMs / 3));
    const { leaseMs } = options;
    this.heartbeat = setInterval(() => {
      // A missed renewal only shortens the slot's lease; the next beat or the release settles it.
      ledger.renew(id, leaseMs).catch(() => undefined);
    }, every);
    this.heartbeat.unref();
  }

  /** Aborted on the lease's idle timeout or the parent's abort; what the attempt's request is sent with. */
  get signal(): AbortSignal {
    if (!this.ownSignal) {
      // One controller that the parent's abort is forwarded to, not AbortSignal.any: Node keeps a
      // composite signal with an 'abort' listener (fetch adds one) alive until it aborts, and with it
      // this lease and its whole turn — about 24 KB per prompt that a long-running `serve` never freed.
      // The forwarding listener is removed on release.
      const controller = this.abortController();
      const parent = this.parent;
      if (parent?.aborted) controller.abort(parent.reason);
      else if (parent && !this.released) {
        const held = this.held;
        this.forward = () => held.lease?.controller?.abort(held.lease.parent?.reason);
        parent.addEventListener('abort', this.forward, { once: true });
      }
      this.ownSignal = controller.signal;
      (this.ownSignal as LeasedSignal)[LEASE] = this;
    }
    return this.ownSignal;
  }

  private abortController(): AbortController {
    this.controller ??= new AbortController();
    return this.controller;
  }

  /**
   * Records progress: restarts the idle timer. The lease's own first call starts the wait for the
   * answer (`timeoutMs`); the next one, the answer's beginning, starts the wait between its parts
   * (`chunkTimeoutMs`).
   */
  touch(): void {
    if (this.released) return;
    if (this.progress < 2) {
      this.progress += 1;
      if (this.progress === 1) return this.startTimer(this.timeoutMs, 'no response for');
      if (this.chunkTimeoutMs !== this.timeoutMs) {
        if (this.idleTimer) clearTimeout(this.idleTimer);
        this.idleTimer = undefined;
        return this.startTimer(this.chunkTimeoutMs, 'the answer stalled: nothing more of it for');
      }
    }
    this.idleTimer?.refresh();
  }

  private startTimer(ms: number | undefined, what: string): void {
    if (ms === undefined) return;
    const held = this.held;
    this.idleTimer = setTimeout(() => held.lease?.idleFor(ms, what), ms);
    this.idleTimer.unref();
  }

  /**
   * The answer is not read on because its consumer does not take more (a gateway client that stops
   * reading: the provider's answer waits in its socket): `true` while it waits, `false` once it
   * reads again. The stall is not the provider's, so the idle timer does not fire meanwhile, and
   * counts afresh from the moment reading goes on.
   */
  readerWaits(waiting: boolean): void {
    this.readerWaiting = waiting;
    if (!waiting && !this.released) this.idleTimer?.refresh();
  }

  /** The idle timer fired: nothing was seen of the request for `ms`. */
  private idleFor(ms: number, what: string): void {
    // Its consumer holds the answer back, not the provider: the timer waits another round.
    if (this.readerWaiting) return void this.idleTimer?.refresh();
    const controller = this.abortController();
    if (controller.signal.aborted) return;
    this.timedOut = new AttemptError('timeout', `${what} ${ms} ms`);
    controller.abort(this.timedOut);
  }

  /**
   * The request is being handed to the provider: its time is kept, as what the answer announces
   * counts from it (learned.ts). Other processes count a pending start as "now" for at most
   * PENDING_MAX_MS: a request admitted longer ago than half of that (a process stalled for minutes)
   * is not sent; it is admitted again.
   */
  handOver(): void {
    const now = Date.now();
    if (now - this.admittedAt > PENDING_MAX_MS / 2) {
      throw new AttemptError('stale', `admitted ${Math.round((now - this.admittedAt) / 1000)} s before it could be sent`);
    }
    this.handedOverAt = now;
  }

  /** The request goes on the wire now: the ledger counts its start (and tokens) from this moment. */
  markSent(): Promise<void> {
    if (this.marked) return DONE;
    this.marked = true;
    if (this.markTimer) clearTimeout(this.markTimer);
    // A refunded reservation has no rows left to move; a released one still has its start.
    return this.tracked ? this.ledger.markSent(this.id) : DONE;
  }

  /**
   * For the gateway's own client (providers/openai-wire.ts), called as the request is handed over:
   * the start is marked sent `ms` from now unless something marks it sooner — an answer that
   * announces limits (`answered`), or the release, which settles a pending start at its own commit.
   * An answer that ends within `ms` (most of them) so costs no write of its own.
   */
  markSentWithin(ms: number): void {
    if (!this.tracked || this.marked || this.released) return;
    const held = this.held;
    this.markTimer = setTimeout(() => void held.lease?.markSent().catch(() => undefined), ms);
    this.markTimer.unref();
  }

  /**
   * The head of an answer to the gateway's own client is in: what it announces is passed on and
   * learned, as `observe` does. Limits are learned after the start is marked sent, so that the
   * provider's count is known to include it.
   */
  async answered(status: number, headers: Record<string, string>, body?: string): Promise<void> {
    if (this.learnKey === undefined && !this.onAnswer) return;
    const answer = { headers, status, ...(body ? { body } : {}) };
    let at = Date.now();
    let announced = announcementOf(answer, at, this.label);
    if (announced.limits.length > 0 && !this.marked) {
      await this.markSent();
      at = Date.now();
      announced = announcementOf(answer, at, this.label);
    }
    this.onAnswer?.(announced, at);
    if (this.learns(announced)) await learnFrom(this.ledger, this.learnKey as string, announced, status >= 200 && status < 300, this.handedOverAt ?? at);
  }

  /** Whether an answer's announcement is learned: learning is on, and it announces limits or there may be some to forget. */
  private learns(announced: Announcement): boolean {
    return this.learnKey !== undefined && (announced.limits.length > 0 || !this.nothingLearned);
  }

  /** Reads what the answer announces: passed on to `onAnswer`, and its limits learned when learning is on for the model. */
  async observe(response: Response): Promise<void> {
    if (this.learnKey === undefined && !this.onAnswer) return;
    const at = Date.now();
    const announced = await readAnswer(response, at, this.label);
    this.onAnswer?.(announced, at);
    if (this.learns(announced)) await learnFrom(this.ledger, this.learnKey as string, announced, response.ok, this.handedOverAt ?? at);
  }

  /** Why the lease's own signal fired (a timeout), if it did. */
  get timeoutReason(): AttemptError | undefined {
    return this.timedOut;
  }

  /** Ends the request: frees the concurrency slot and corrects the token reservation. Idempotent. */
  release(options: { actualTokens?: number; refund?: boolean } = NO_OPTIONS): Promise<void> {
    if (this.released) return DONE;
    this.released = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.markTimer) clearTimeout(this.markTimer);
    if (this.forward) this.parent?.removeEventListener('abort', this.forward);
    this.forward = undefined;
    this.held.lease = undefined;
    this.onRelease?.(options);
    return this.tracked ? this.ledger.release(this.id, options) : DONE;
  }
}
