/**
 * One state-stream subscriber's frames (src/server/live-frames.ts): the snapshot first, changes after
 * it in order, and each log entry once, however the live state's batched log sends overlap the
 * snapshot. The overlap was seen in the stress run: a page showed 26 log entries for 24 cache hits.
 */
import { describe, expect, it } from 'vitest';
import type { LiveChange, LiveListener, LiveSnapshot } from '../../src/core/live/live-state.ts';
import type { LogEntry } from '../../src/core/live/event-log.ts';
import { streamLive } from '../../src/server/live-frames.ts';

const entry = (seq: number): LogEntry => ({ seq, time: 1000 + seq, type: 'cache_hit', sessionID: `s${seq}`, projectRoot: '/p' });
const snapshotWith = (seqs: number[]): LiveSnapshot => ({ version: 'v', now: 0, lanes: [], log: seqs.map(entry), usage: {} as LiveSnapshot['usage'], sessions: [], workflows: [] });

/** A live state whose snapshot resolves when the test says, with changes sent when the test says. */
function fakeLive() {
  let listener: LiveListener | undefined;
  let onEnd: (() => void) | undefined;
  let resolve!: (s: LiveSnapshot) => void;
  let reject!: (e: unknown) => void;
  const snapshot = new Promise<LiveSnapshot>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return {
    live: {
      subscribe(l: LiveListener, end?: () => void) {
        listener = l;
        onEnd = end;
        return () => {
          listener = undefined;
        };
      },
      snapshot: () => snapshot,
    },
    send: (change: LiveChange) => listener?.(change),
    end: () => onEnd?.(),
    resolve: async (s: LiveSnapshot) => {
      resolve(s);
      await snapshot;
      await Promise.resolve();
    },
    reject: async (e: unknown) => {
      reject(e);
      await snapshot.catch(() => undefined);
      await Promise.resolve();
    },
  };
}

function reader() {
  const decoder = new TextDecoder();
  const frames: { event: string; data: unknown }[] = [];
  const write = (bytes: Uint8Array) => {
    const [head, data] = decoder.decode(bytes).split('\n');
    frames.push({ event: head?.slice('event: '.length) ?? '', data: JSON.parse(data?.slice('data: '.length) ?? 'null') });
  };
  const seqs = () => frames.flatMap((f) => (f.event === 'snapshot' ? (f.data as LiveSnapshot).log : f.event === 'log' ? (f.data as LogEntry[]) : []).map((e) => e.seq));
  return { frames, write, seqs };
}

describe('a state-stream subscriber', () => {
  it('is not sent again, after its snapshot, a log entry the snapshot already held', async () => {
    const f = fakeLive();
    const r = reader();
    streamLive(f.live, r.write, () => undefined);
    // Entry 3 joined the state before the snapshot was read; its batch reaches listeners after the snapshot went out.
    await f.resolve(snapshotWith([1, 2, 3]));
    f.send({ kind: 'log', entries: [entry(3)] });
    f.send({ kind: 'log', entries: [entry(3), entry(4)] });
    f.send({ kind: 'log', entries: [entry(5)] });
    expect(r.seqs()).toEqual([1, 2, 3, 4, 5]);
    expect(r.frames.map((x) => x.event)).toEqual(['snapshot', 'log', 'log']);
  });

  it('gets the changes made while its snapshot was read after it, in order, each log entry once', async () => {
    const f = fakeLive();
    const r = reader();
    streamLive(f.live, r.write, () => undefined);
    f.send({ kind: 'log', entries: [entry(1), entry(2)] });
    f.send({ kind: 'sessions', sessions: [] });
    f.send({ kind: 'log', entries: [entry(3)] });
    expect(r.frames).toEqual([]);
    await f.resolve(snapshotWith([1]));
    expect(r.frames.map((x) => x.event)).toEqual(['snapshot', 'log', 'sessions', 'log']);
    expect(r.seqs()).toEqual([1, 2, 3]);
  });

  it('ends when the snapshot cannot be read, with the error, and when the state closes', async () => {
    const f = fakeLive();
    const ends: unknown[] = [];
    streamLive(f.live, reader().write, (e) => ends.push(e));
    await f.reject(new Error('ledger gone'));
    expect(ends).toEqual([new Error('ledger gone')]);
    const g = fakeLive();
    const ends2: unknown[] = [];
    streamLive(g.live, reader().write, (e) => ends2.push(e));
    g.end();
    expect(ends2).toEqual([undefined]);
  });
});
