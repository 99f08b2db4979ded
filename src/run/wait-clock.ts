/**
 * Time spent waiting on rate limits, from `rate_limited` events: each announces a wait from its
 * timestamp to timestamp + waitMs, and a request that waits longer is announced again with a
 * later end. Per task the announced intervals are merged, so a wait counts once however often it
 * is re-announced, and parallel tasks' waits add up.
 */
export class WaitClock {
  readonly #open = new Map<string, { start: number; end: number }>();
  #closedMs = 0;

  /** Counts a `rate_limited` event of task `taskID` announced at `at` for `waitMs`. */
  add(taskID: string, at: number, waitMs: number): void {
    const end = at + waitMs;
    const open = this.#open.get(taskID);
    if (open && at <= open.end) {
      open.end = Math.max(open.end, end);
      return;
    }
    if (open) this.#closedMs += open.end - open.start;
    this.#open.set(taskID, { start: at, end });
  }

  get totalMs(): number {
    let ms = this.#closedMs;
    for (const { start, end } of this.#open.values()) ms += end - start;
    return ms;
  }
}
