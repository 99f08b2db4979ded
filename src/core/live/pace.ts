/**
 * When the next push of one kind of change may go: at once while changes are few (up to `burst` of
 * them after a quiet spell), then at most `perSecond` a second while they keep coming (a token
 * bucket). The dashboard's frames are paced so: under a stream of a thousand events a second, an
 * open page's renders, not the events, are what its browser's CPU follows (docs/performance.md), and
 * a person reads no faster.
 */
export class Pace {
  readonly #burst: number;
  readonly #everyMs: number;
  readonly #now: () => number;
  #tokens: number;
  #at: number;

  constructor(burst: number, perSecond: number, now: () => number) {
    this.#burst = burst;
    this.#everyMs = 1000 / perSecond;
    this.#now = now;
    this.#tokens = burst;
    this.#at = now();
  }

  /** Milliseconds until a push may go (0: now). */
  wait(): number {
    this.#refill();
    return this.#tokens >= 1 ? 0 : Math.ceil((1 - this.#tokens) * this.#everyMs);
  }

  /** A push went (one that could not wait, too). */
  took(): void {
    this.#refill();
    this.#tokens = Math.max(0, this.#tokens - 1);
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + Math.max(0, now - this.#at) / this.#everyMs);
    this.#at = now;
  }
}
