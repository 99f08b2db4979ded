/**
 * Coalesces a server's `notifications/tools/list_changed`: the first one re-lists its tools at
 * once; any that come while a listing runs, or sooner than `minGapMs` after the last one began,
 * make one more listing when the gap is over. However many notifications a server sends, its
 * tools are listed at most once per gap, and the last notification is always followed by a listing.
 */

export interface ToolsRefresh {
  /** A notification came. */
  poke(): void;
  /** Resolves once the listing running or due at the time of the call is done (not later ones). */
  settled(): Promise<void>;
  /** No more listings (the connection closed, or was replaced). */
  cancel(): void;
}

export function toolsRefresh(list: () => Promise<void>, minGapMs: number): ToolsRefresh {
  let lastStart = Number.NEGATIVE_INFINITY;
  let running: Promise<void> | undefined;
  /** The next listing, due when the gap is over: its promise, and how to start it. */
  let due: { promise: Promise<void>; timer: NodeJS.Timeout | undefined; resolve: () => void } | undefined;
  let cancelled = false;

  const run = (): Promise<void> => {
    lastStart = Date.now();
    const current = list()
      .catch(() => undefined)
      .finally(() => {
        if (running === current) running = undefined;
        if (due && !due.timer) schedule();
      });
    running = current;
    return current;
  };

  /** Starts the due listing when the gap since the last one is over (and none runs). */
  const schedule = (): void => {
    if (!due || cancelled) return;
    const d = due;
    const wait = Math.max(0, lastStart + minGapMs - Date.now());
    d.timer = setTimeout(() => {
      if (due !== d) return;
      due = undefined;
      if (cancelled) return d.resolve();
      void run().then(d.resolve);
    }, wait);
    d.timer.unref?.();
  };

  return {
    poke() {
      if (cancelled || due) return;
      if (!running && Date.now() - lastStart >= minGapMs) {
        void run();
        return;
      }
      let resolve: () => void = () => undefined;
      const promise = new Promise<void>((r) => (resolve = r));
      due = { promise, timer: undefined, resolve };
      if (!running) schedule();
    },
    settled() {
      return due?.promise ?? running ?? Promise.resolve();
    },
    cancel() {
      cancelled = true;
      if (due) {
        if (due.timer) clearTimeout(due.timer);
        due.resolve();
        due = undefined;
      }
    },
  };
}
