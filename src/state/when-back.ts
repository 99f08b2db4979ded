/**
 * Records the Redis ledger keeps while Redis is away (what happened after an admission: sent,
 * released, learned, spent, succeeded or failed) and sends, in order, once it is back.
 */
import { StateUnavailableError } from './redis-connection.ts';

/** Records kept while Redis is away, at most (a long outage drops the oldest). */
const MAX_KEPT = 10_000;

export class WhenBack {
  readonly #kept: (() => Promise<unknown>)[] = [];

  /** Runs `op`; when Redis cannot be reached, keeps it for `replay` and resolves to undefined. */
  async run<T>(op: () => Promise<T>): Promise<T | undefined> {
    try {
      return await op();
    } catch (error) {
      if (!(error instanceof StateUnavailableError)) throw error;
      if (this.#kept.length >= MAX_KEPT) this.#kept.shift();
      this.#kept.push(op);
      return undefined;
    }
  }

  /** How many records wait to be sent. */
  get size(): number {
    return this.#kept.length;
  }

  /** Sends what was kept, oldest first; stops (keeping the rest) at the first failure. */
  async replay(): Promise<void> {
    while (this.#kept.length > 0) {
      await this.#kept[0]!();
      this.#kept.shift();
    }
  }
}
