/**
 * What one `GET /api/state/stream` subscriber is sent: the snapshot first, then every change after
 * it, in order, and each log entry at most once (a batch carries the newest 500, all the log keeps:
 * under a flood the older ones between two batches are skipped). A log entry joins the state at once but reaches
 * listeners a moment later (the live state sends the log in batches), so a subscriber whose snapshot
 * already holds an entry can still be handed it afterwards, before or after its snapshot was sent:
 * entries are passed on only when newer than the newest this subscriber was sent.
 */
import type { LiveChange, LiveListener, LiveSnapshot } from '../core/live/live-state.ts';

const encoder = new TextEncoder();

export function frame(event: string, data: unknown): Uint8Array {
  return encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** Each change is encoded once, however many pages and clients listen. */
const encoded = new WeakMap<LiveChange, Uint8Array>();

function payloadOf(change: LiveChange): unknown {
  switch (change.kind) {
    case 'lanes':
      return change.lanes;
    case 'lanesError':
      return change.error;
    case 'log':
      return change.entries;
    case 'usage':
      return change.usage;
    case 'sessions':
      return change.sessions;
    case 'workflows':
      return change.workflows;
  }
}

function frameOf(change: LiveChange): Uint8Array {
  let bytes = encoded.get(change);
  if (!bytes) {
    bytes = frame(change.kind, payloadOf(change));
    encoded.set(change, bytes);
  }
  return bytes;
}

export interface LiveSource {
  subscribe(listener: LiveListener, onEnd?: () => void): () => void;
  snapshot(): Promise<LiveSnapshot>;
}

/** Subscribes `write` to `live`; answers the unsubscribe. `onEnd` when the state closes or the snapshot failed. */
export function streamLive(live: LiveSource, write: (bytes: Uint8Array) => void, onEnd: (error?: unknown) => void): () => void {
  // Changes that happen while the snapshot is read are sent after it, in order.
  const early: LiveChange[] = [];
  let sentSnapshot = false;
  /** The newest log entry this subscriber was sent (its seq). */
  let lastSeq = 0;
  const send = (change: LiveChange): void => {
    if (change.kind !== 'log') return write(frameOf(change));
    const newest = change.entries.at(-1)?.seq ?? 0;
    if (newest <= lastSeq) return;
    const fresh = (change.entries[0]?.seq ?? 0) > lastSeq ? change : { kind: 'log' as const, entries: change.entries.filter((e) => e.seq > lastSeq) };
    lastSeq = newest;
    write(fresh === change ? frameOf(change) : frame('log', fresh.entries));
  };
  const off = live.subscribe(
    (change) => {
      if (sentSnapshot) send(change);
      else early.push(change);
    },
    () => onEnd(),
  );
  live.snapshot().then(
    (snapshot) => {
      write(frame('snapshot', snapshot));
      sentSnapshot = true;
      lastSeq = snapshot.log.at(-1)?.seq ?? 0;
      for (const change of early) send(change);
      early.length = 0;
    },
    (error: unknown) => onEnd(error),
  );
  return off;
}
