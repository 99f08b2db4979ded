/**
 * Waiting for a reservation: try, and when blocked sleep exactly until the blocking window frees
 * (or poll with a short backoff while only concurrency blocks), then try again.
 */
import { PantheonError } from '../errors.ts';
import { CONCURRENCY_POLL_MS } from './ledger.ts';
import type { Ledger, ReserveRequest } from './ledger.ts';

/** Upper bound of the concurrency poll backoff (5, 10, 20, 40, 50, 50, … ms). */
export const CONCURRENCY_POLL_MAX_MS = 50;

export interface AcquireOptions {
  /** Aborting rejects with the signal's reason; a reservation won meanwhile is refunded. */
  signal?: AbortSignal;
  /** Clock for `maxWaitMs` (default Date.now). */
  now?: () => number;
  /** Abortable sleep (default: setTimeout-based `abortableSleep`). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /**
   * Called before each sleep, so the caller can emit `rate_limited {waitMs}`. Repeated concurrency
   * polls on the same key are reported once, when that wait begins.
   */
  onWait?: (waitMs: number, blockedBy: string) => void;
  /** Give up (RateLimitWaitError) instead of waiting longer than this in total. */
  maxWaitMs?: number;
  /** Brings the request up to date before each try after a wait (learned limits may have changed meanwhile). */
  refresh?: (req: ReserveRequest) => Promise<unknown>;
}

/** The wait would be longer than allowed (or the request can never fit its limits). */
export class RateLimitWaitError extends PantheonError {
  readonly waitMs: number;
  readonly blockedBy: string;

  constructor(waitMs: number, blockedBy: string) {
    super(
      'RATE_LIMITED',
      Number.isFinite(waitMs)
        ? `Waiting for the rate limit ${blockedBy} would take longer than allowed.`
        : `The request can never fit the rate limit ${blockedBy}.`,
      {
        hint: Number.isFinite(waitMs)
          ? 'Raise the limit, or allow a longer wait.'
          : 'The token estimate is larger than the whole limit: raise it or shorten the request.',
      },
    );
    this.name = 'RateLimitWaitError';
    this.waitMs = waitMs;
    this.blockedBy = blockedBy;
  }
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Reserves against every limit in `req`, waiting as long as needed; resolves to the reservation id. */
export async function acquire(ledger: Ledger, req: ReserveRequest, opts: AcquireOptions = {}): Promise<string> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? abortableSleep;
  const started = now();
  let polls = 0;
  let reported: string | undefined;
  for (let tries = 0; ; tries++) {
    opts.signal?.throwIfAborted();
    if (tries > 0 && opts.refresh) await opts.refresh(req);
    const result = await ledger.tryReserve(req);
    if (result.ok) {
      if (opts.signal?.aborted) {
        await ledger.release(result.id, { refund: true });
        opts.signal.throwIfAborted();
      }
      return result.id;
    }
    if (!Number.isFinite(result.waitMs)) throw new RateLimitWaitError(result.waitMs, result.blockedBy);
    let delay = result.waitMs;
    let report = true;
    if (result.kind === 'concurrency') {
      delay = Math.min(CONCURRENCY_POLL_MAX_MS, Math.max(result.waitMs, CONCURRENCY_POLL_MS * 2 ** polls));
      polls += 1;
      report = reported !== result.blockedBy;
      reported = result.blockedBy;
    } else {
      polls = 0;
      reported = undefined;
    }
    if (opts.maxWaitMs !== undefined && now() - started + delay > opts.maxWaitMs) {
      throw new RateLimitWaitError(result.kind === 'concurrency' ? delay : result.waitMs, result.blockedBy);
    }
    if (report) opts.onWait?.(delay, result.blockedBy);
    await sleep(delay, opts.signal);
  }
}
