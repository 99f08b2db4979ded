/**
 * Clients that go away mid-stream: /api/state/stream and /event forget them at once (the live
 * state's and the event hub's subscriber counts go back), and the server keeps serving; hundreds of
 * clients coming and going leave no subscriber, listener or timer behind. An in-process server, so
 * the counts can be read.
 */
import net from 'node:net';
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

  it('hundreds of clients connecting and leaving, politely or not, leave no subscriber, hub listener or timer behind', async () => {
    const server = await start();
    const { state } = server;
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = { hub: state.host.hub.listenerCount, timers: timers() };
    const { port } = new URL(server.url);
    const paths = ['/event', '/global/event', '/api/state/stream'];
    for (let round = 0; round < 100; round++) {
      await Promise.all(
        paths.map(
          (p, i) =>
            new Promise<void>((resolve) => {
              const socket = net.connect({ host: '127.0.0.1', port: Number(port) }, () => socket.write(`GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`));
              // Once the stream has begun: half end the connection, half reset it.
              socket.once('data', () => ((round + i) % 2 ? socket.resetAndDestroy() : socket.end()));
              socket.on('error', () => undefined);
              socket.once('close', () => resolve());
            }),
        ),
      );
    }
    await expect.poll(() => state.events.size).toBe(0);
    await expect.poll(() => state.live.listenerCount).toBe(0);
    expect(state.host.hub.listenerCount).toBe(before.hub);
    // Each stream's heartbeat (and the live state's polling while anyone watched) is gone with it.
    expect(timers()).toBeLessThanOrEqual(before.timers);
    expect((await getJson(`${server.url}/global/health`)).status).toBe(200);
  });
});
