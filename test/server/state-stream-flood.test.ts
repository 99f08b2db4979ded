/**
 * A flood of log entries between two batches of `/api/state/stream`: the batch carries the newest
 * 500 (all the log keeps), in order, each once, in one frame, whatever the flood's size; the state
 * answers the same 500. An in-process server, so the flood can be put on the host's event stream
 * in one go.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LOG_KEPT } from '../../src/core/live/event-log.ts';
import { startInProcess, type InProcess } from './in-process.ts';
import { getJson } from './serve-helper.ts';
import { openStateStream } from './state-stream.ts';

let server: InProcess | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

interface Entry {
  seq: number;
  type: string;
  sessionID: string;
}

describe('/api/state/stream under a flood of log entries', () => {
  it('sends the newest entries the log keeps, in one frame, each once and in order', async () => {
    server = await startInProcess('flood', 1000);
    const { url, dir } = server;
    const hub = server.running.state.host.hub;
    const stream = await openStateStream(url);
    try {
      const snapshot = await stream.until((f) => f.event === 'snapshot');
      expect((snapshot.data as { log: Entry[] }).log).toEqual([]);
      // 3,000 cache hits in one tick: more than twice what the log keeps, so the pending batch is trimmed on the way too.
      const FLOOD = 3000;
      for (let i = 0; i < FLOOD; i++) {
        const sessionID = `ses_flood_${i}`;
        hub.emit({ type: 'pantheon', projectRoot: dir, sessionID, event: { type: 'cache_hit', timestamp: Date.now(), sessionID, agent: 'build', provider: 'p', model: 'p/m' } });
      }
      const frame = await stream.until((f) => f.event === 'log');
      const entries = frame.data as Entry[];
      expect(entries).toHaveLength(LOG_KEPT);
      expect(entries.map((e) => e.sessionID)).toEqual(Array.from({ length: LOG_KEPT }, (_, i) => `ses_flood_${FLOOD - LOG_KEPT + i}`));
      const seqs = entries.map((e) => e.seq);
      expect(seqs).toEqual(Array.from({ length: LOG_KEPT }, (_, i) => (seqs[0] as number) + i));
      const state = (await getJson(`${url}/api/state`)).body as { log: Entry[] };
      expect(state.log.map((e) => e.seq)).toEqual(seqs);
    } finally {
      stream.close();
    }
  });
});
