/**
 * Clients that go away mid-stream: /api/state/stream and /event forget them at once (the live
 * state's and the event hub's subscriber counts go back), and the server keeps serving. An in-process
 * server, so the counts can be read.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/start.ts';
import { startInProcess, type InProcess } from './in-process.ts';
import { getJson } from './serve-helper.ts';
import { openStateStream } from './state-stream.ts';

let server: InProcess | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function start(): Promise<RunningServer> {
  server = await startInProcess('state', 50);
  return server.running;
}

describe('a client leaving a stream mid-way', () => {
  it('/api/state/stream: its subscription ends at once, the others go on, and the server keeps serving', async () => {
    const server = await start();
    const live = server.state.live;
    const streams = await Promise.all([openStateStream(server.url), openStateStream(server.url), openStateStream(server.url)]);
    await Promise.all(streams.map((s) => s.until((f) => f.event === 'snapshot')));
    expect(live.listenerCount).toBe(3);
    // Two leave mid-stream (the connection is closed under the server's feet).
    streams[0]?.close();
    streams[1]?.close();
    await expect.poll(() => live.listenerCount).toBe(1);
    // The one left still gets frames (heartbeats keep its connection busy) and the server answers.
    const kept = streams[2] as Awaited<ReturnType<typeof openStateStream>>;
    expect((await getJson(`${server.url}/api/state`)).status).toBe(200);
    const again = await openStateStream(server.url);
    await again.until((f) => f.event === 'snapshot');
    expect(live.listenerCount).toBe(2);
    again.close();
    kept.close();
    await expect.poll(() => live.listenerCount).toBe(0);
    await Promise.all([kept.done, again.done]);
  });

  it('/event: the hub forgets a client that closed its stream', async () => {
    const server = await start();
    const abort = new AbortController();
    const res = await fetch(`${server.url}/event`, { signal: abort.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read(); // server.connected
    expect(server.state.events.size).toBe(1);
    abort.abort();
    await expect.poll(() => server.state.events.size).toBe(0);
    expect((await getJson(`${server.url}/global/health`)).status).toBe(200);
  });
});
