/**
 * Time spent waiting on rate limits, from events: a task waits from its first `rate_limited` until
 * its request goes out (`step_start`, emitted after admission) or it moves to another model. Waits
 * of parallel tasks add up.
 */
export class WaitClock {
  readonly #open = new Map<string, number>();
  #closedMs = 0;
  #last = 0;

  /** Feeds one event of task `taskID` that happened at `at` (ms). */
  handle(type: string, taskID: string, at: number): void {
    this.#last = Math.max(this.#last, at);
    if (type === 'rate_limited') {
      if (!this.#open.has(taskID)) this.#open.set(taskID, at);
      return;
    }
    if (type !== 'step_start' && type !== 'fallback' && type !== 'error') return;
    const since = this.#open.get(taskID);
    if (since === undefined) return;
    this.#closedMs += at - since;
    this.#open.delete(taskID);
  }

  /** Closed waits, plus waits still open counted up to the last event seen. */
  get totalMs(): number {
    let ms = this.#closedMs;
    for (const since of this.#open.values()) ms += this.#last - since;
    return ms;
  }
}
