/**
 * One API key's request limit: sliding windows counted in 100 buckets each (memory stays bounded
 * whatever the limit; a bucket counts until its whole span has left the window, so the count errs
 * on the strict side by at most 1 % of the window), and optionally requests in flight.
 */
import type { WindowLimit } from '../scheduler/ledger.ts';

const BUCKETS = 100;

/** What the X-RateLimit-* headers report: the tightest window. */
export interface LimitState {
  limit: number;
  remaining: number;
  /** When the next slot frees (ms since the epoch). */
  resetAt: number;
}

class Window {
  readonly max: number;
  readonly span: number;
  readonly width: number;
  readonly starts: number[] = [];
  readonly counts: number[] = [];
  total = 0;

  constructor(limit: WindowLimit) {
    this.max = limit.maxRequests;
    this.span = limit.windowMs;
    this.width = Math.max(1, Math.ceil(limit.windowMs / BUCKETS));
  }

  prune(now: number): void {
    while (this.starts.length && (this.starts[0] as number) + this.width <= now - this.span) {
      this.starts.shift();
      this.total -= this.counts.shift() as number;
    }
  }

  /** When a slot frees: the oldest bucket leaving the window. */
  freeAt(now: number): number {
    return this.starts.length ? (this.starts[0] as number) + this.width + this.span : now;
  }

  add(now: number): void {
    const start = now - (now % this.width);
    if (this.starts.at(-1) === start) this.counts[this.counts.length - 1] = (this.counts.at(-1) as number) + 1;
    else {
      this.starts.push(start);
      this.counts.push(1);
    }
    this.total += 1;
  }
}

export type StartResult =
  | { ok: true; state: LimitState | undefined; release: () => void }
  | { ok: false; retryAfterMs: number; limit: string; state: LimitState | undefined };

export class KeyLimiter {
  readonly #windows: Window[];
  readonly #concurrency: number | undefined;
  #inFlight = 0;

  constructor(windows: WindowLimit[], concurrency?: number) {
    this.#windows = windows.map((w) => new Window(w));
    this.#concurrency = concurrency;
  }

  #state(now: number): LimitState | undefined {
    let tightest: Window | undefined;
    for (const w of this.#windows) if (!tightest || w.max - w.total < tightest.max - tightest.total) tightest = w;
    return tightest ? { limit: tightest.max, remaining: Math.max(0, tightest.max - tightest.total), resetAt: tightest.freeAt(now) } : undefined;
  }

  tryStart(now: number): StartResult {
    for (const w of this.#windows) w.prune(now);
    const full = this.#windows.find((w) => w.total >= w.max);
    if (full) return { ok: false, retryAfterMs: Math.max(1, full.freeAt(now) - now), limit: `${full.max} per ${full.span} ms`, state: this.#state(now) };
    if (this.#concurrency !== undefined && this.#inFlight >= this.#concurrency) {
      return { ok: false, retryAfterMs: 1000, limit: `${this.#concurrency} in flight`, state: this.#state(now) };
    }
    for (const w of this.#windows) w.add(now);
    this.#inFlight += 1;
    let released = false;
    return {
      ok: true,
      state: this.#state(now),
      release: () => {
        if (released) return;
        released = true;
        this.#inFlight -= 1;
      },
    };
  }
}
