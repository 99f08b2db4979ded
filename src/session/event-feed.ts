/**
 * A session's durable events read from the store and then followed as they are committed, with no
 * gap and no repeat at the seam: it listens to the store (SessionStore.watch) before it reads the
 * session, keeps what is committed meanwhile, and once started sends the events read past `after`,
 * then those kept and the live ones, each only if its number is past the last sent. What is kept
 * while reading is bounded: beyond MAX_PENDING the feed ends after the events read (the reader
 * resumes from the last it got).
 */
import type { DurableEvent } from './durable-events.ts';
import type { SessionRecord, SessionStore } from './store.ts';

const MAX_PENDING = 10_000;

export interface EventFeed {
  /** The session as read. */
  record: SessionRecord;
  /** Sends to `write` (false: the reader is gone, stop); `end` when the feed cannot go on. Returns what stops it. */
  start(write: (event: DurableEvent) => boolean, end: () => void): () => void;
  /** Stops listening without starting (the request failed). */
  cancel(): void;
}

/** The index of the first event numbered past `after` (events ascend). */
export function firstAfter(events: readonly DurableEvent[], after: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((events[mid] as DurableEvent).seq <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export async function openFeed(store: Pick<SessionStore, 'watch'>, sessionID: string, load: () => Promise<SessionRecord>, after: number): Promise<EventFeed> {
  let pending: DurableEvent[] | undefined = [];
  let overflow = false;
  let live: ((events: readonly DurableEvent[]) => void) | undefined;
  // Listening first: an event committed while the session is read is in what is read, or kept here, or both.
  const unwatch = store.watch(sessionID, (events) => {
    if (live) return live(events);
    if (!pending) return;
    if (pending.length + events.length > MAX_PENDING) {
      overflow = true;
      pending = undefined;
    } else pending.push(...events);
  });
  let record: SessionRecord;
  try {
    record = await load();
  } catch (error) {
    unwatch();
    throw error;
  }
  return {
    record,
    cancel: unwatch,
    start(write, end) {
      let last = after;
      let open = true;
      const send = (events: readonly DurableEvent[]): void => {
        for (const event of events) {
          if (!open) return;
          if (event.seq <= last) continue;
          last = event.seq;
          if (!write(event)) open = false;
        }
      };
      const events = record.events ?? [];
      send(events.slice(firstAfter(events, after)));
      if (overflow) {
        unwatch();
        end();
        return unwatch;
      }
      send(pending ?? []);
      pending = undefined;
      live = send;
      return unwatch;
    },
  };
}
