/**
 * A ReadableStream fed by a producer that runs from the stream's start, rather than by `pull`:
 * `pull` only wakes the producer when the reader wants more (`room`: back-pressure).
 *
 * Why not `pull`: in Node (20 to 24, measured), a chunk enqueued from inside `pull` keeps the
 * stream — and everything its source reaches — alive through every young-generation GC until the
 * next full one. On the gateway's path that was the whole request (its lease, its answer, its
 * signals): ~3 KB a request promoted to the old generation, each scavenge copying ~120 KB of it
 * (docs/performance.md, twenty-eighth session). Chunks enqueued by a producer started in `start`
 * die young, as they should.
 */
export type Room = () => Promise<void> | undefined;

/**
 * `produce` runs from the stream's start and enqueues, closes or errors through `controller`; it
 * may wait on `room()` (undefined when the queue already wants more) to follow the reader's pace.
 * Its rejection errors the stream. `cancel` runs when the reader cancels; a producer waiting on
 * `room` is woken then, and should see that it was cancelled. `highWaterMark`: how many chunks may
 * wait unread before `room()` asks the producer to wait (default 1).
 */
export function pushStream<T>(
  produce: (controller: ReadableStreamDefaultController<T>, room: Room) => Promise<void>,
  cancel?: (reason: unknown) => void | Promise<void>,
  highWaterMark = 1,
): ReadableStream<T> {
  let wake: (() => void) | undefined;
  // The reader asked for more while the producer was not waiting: its next `room()` goes on at once.
  let wanted = false;
  const woken = (): void => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  return new ReadableStream<T>({
    start(controller) {
      const room: Room = () => {
        if (wanted || (controller.desiredSize ?? 0) > 0) {
          wanted = false;
          return undefined;
        }
        return new Promise<void>((resolve) => (wake = resolve));
      };
      produce(controller, room).catch((error: unknown) => {
        try {
          controller.error(error);
        } catch {
          // Already closed or cancelled: nobody is left to tell.
        }
      });
    },
    pull() {
      if (wake) woken();
      else wanted = true;
    },
    cancel(reason) {
      woken();
      return cancel?.(reason);
    },
  }, { highWaterMark });
}
