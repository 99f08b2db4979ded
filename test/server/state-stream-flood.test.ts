/**
 * A flood of log entries between two batches of `/api/state/stream`: the batch carries the newest
 * 500 (all the log keeps), in order, each once, in one frame, whatever the flood's size; the state
 * answers the same 500. An in-process server, so the flood can be put on the host's event stream
 * in one go.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Host } from '../../src/core/host.ts';
import { LOG_KEPT } from '../../src/core/live/event-log.ts';
import { MemoryLedger } from '../../src/scheduler/ledger-memory.ts';
import { startServer, type RunningServer } from '../../src/server/start.ts';
import { getJson } from './serve-helper.ts';
import { openStateStream } from './state-stream.ts';

let running: RunningServer | undefined;
let dir: string | undefined;
afterEach(async () => {
  await running?.close();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
  running = undefined;
  dir = undefined;
});

interface Entry {
  seq: number;
  type: string;
  sessionID: string;
}

describe('/api/state/stream under a flood of log entries', () => {
  it('sends the newest entries the log keeps, in one frame, each once and in order', async () => {
    dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-flood-')));
    await fs.mkdir(path.join(dir, '.git'));
    const env = { HOME: dir, XDG_CONFIG_HOME: path.join(dir, 'c'), XDG_DATA_HOME: path.join(dir, 'd'), XDG_CACHE_HOME: path.join(dir, 'k') };
    const host = await Host.open({ cwd: dir, env, ledger: new MemoryLedger() });
    running = await startServer(host, { hostname: '127.0.0.1', port: 0, cors: [], maxBodyBytes: 1 << 20, drainMs: 1000, debug: false, heartbeatMs: 1000 }, { version: 'test', log: () => undefined });
    const stream = await openStateStream(running.url);
    try {
      const snapshot = await stream.until((f) => f.event === 'snapshot');
      expect((snapshot.data as { log: Entry[] }).log).toEqual([]);
      // 3,000 cache hits in one tick: more than twice what the log keeps, so the pending batch is trimmed on the way too.
      const FLOOD = 3000;
      for (let i = 0; i < FLOOD; i++) {
        const sessionID = `ses_flood_${i}`;
        host.hub.emit({ type: 'pantheon', projectRoot: dir, sessionID, event: { type: 'cache_hit', timestamp: Date.now(), sessionID, agent: 'build', provider: 'p', model: 'p/m' } });
      }
      const frame = await stream.until((f) => f.event === 'log');
      const entries = frame.data as Entry[];
      expect(entries).toHaveLength(LOG_KEPT);
      expect(entries.map((e) => e.sessionID)).toEqual(Array.from({ length: LOG_KEPT }, (_, i) => `ses_flood_${FLOOD - LOG_KEPT + i}`));
      const seqs = entries.map((e) => e.seq);
      expect(seqs).toEqual(Array.from({ length: LOG_KEPT }, (_, i) => (seqs[0] as number) + i));
      const state = (await getJson(`${running.url}/api/state`)).body as { log: Entry[] };
      expect(state.log.map((e) => e.seq)).toEqual(seqs);
    } finally {
      stream.close();
    }
  });
});
