/**
 * The event streams' writer (src/server/sse-stream.ts), on an in-process server: the headers set
 * before the route (request id, CORS) arrive with the stream's own; a client that stops reading is
 * dropped once 8 MiB are queued for it while a reading one gets every frame; one that takes nothing
 * for the stall limit is dropped with less queued, while a slow one that keeps reading is not; HEAD
 * subscribes no one.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/start.ts';
import { startInProcess, type InProcess } from './in-process.ts';
import { getJson } from './serve-helper.ts';

let inProcess: InProcess | undefined;
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await inProcess?.stop();
  inProcess = undefined;
});

async function start(options: { sendStallMs?: number } = {}): Promise<RunningServer> {
  inProcess = await startInProcess('sse', 10_000, options);
  return inProcess.running;
}

/** A client that sends `GET path` and then never reads a byte. */
function stalledClient(url: string, requestPath: string): Promise<net.Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) }, () => {
      socket.write(`GET ${requestPath} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n\r\n`);
      // The status line and the first frame, then nothing more is read.
      socket.once('data', () => {
        socket.pause();
        resolve(socket);
      });
    });
    socket.on('error', () => undefined);
    socket.once('error', reject);
    sockets.push(socket);
  });
}

describe('the event streams’ writer', () => {
  it('sends the request id and CORS headers with the stream’s own', async () => {
    const server = await start();
    const abort = new AbortController();
    const res = await fetch(`${server.url}/event`, { signal: abort.signal, headers: { 'x-request-id': 'req-sse-1', origin: 'http://localhost:3000' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-request-id')).toBe('req-sse-1');
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    const first = await (res.body as ReadableStream<Uint8Array>).getReader().read();
    expect(new TextDecoder().decode(first.value)).toMatch(/^data: \{.*"type":"server\.connected"/);
    abort.abort();
    await expect.poll(() => server.state.events.size).toBe(0);
  });

  it('HEAD answers the stream’s headers and subscribes no one', async () => {
    const server = await start();
    const res = await fetch(`${server.url}/global/event`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(server.state.events.size).toBe(0);
  });

  it.each(['/global/event', '/api/event'])('%s: drops a client that stops reading once 8 MiB are queued for it; a reading client gets every frame', async (route) => {
    const server = await start();
    const stalled = await stalledClient(server.url, route);
    const closed = new Promise<void>((resolve) => stalled.once('close', () => resolve()));
    const res = await fetch(`${server.url}${route}`);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read(); // server.connected
    expect(server.state.events.size).toBe(2);
    // 400 frames of 64 KB (25 MiB: more than the stalled client's socket buffers and the 8 MiB
    // bound), 20 at a time, each lot once the reading client has read the one before.
    const text = 'x'.repeat(64 * 1024);
    let seen = 0;
    let buffer = '';
    const decoder = new TextDecoder();
    for (let lot = 0; lot < 20; lot++) {
      for (let i = 0; i < 20; i++) server.state.host.hub.emit({ type: 'pantheon', projectRoot: inProcess?.dir as string, sessionID: 'ses_sse', event: { type: 'text', timestamp: Date.now(), sessionID: 'ses_sse', text } });
      while (seen < (lot + 1) * 20) {
        const { done, value } = await reader.read();
        if (done) throw new Error('the reading client’s stream ended');
        buffer += decoder.decode(value, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          if (buffer.slice(0, cut).includes('"type":"pantheon.text"')) seen += 1;
          buffer = buffer.slice(cut + 2);
        }
      }
    }
    expect(seen).toBe(400);
    // The stalled client was dropped: the hub has only the reader left, and its connection was cut
    // (it sees the end once it reads again).
    await expect.poll(() => server.state.events.size).toBe(1);
    stalled.resume();
    await closed;
    await reader.cancel();
    await expect.poll(() => server.state.events.size).toBe(0);
    expect((await getJson(`${server.url}/global/health`)).status).toBe(200);
  });

  it('drops a client that takes nothing for the stall limit with less than 8 MiB queued; a reading client gets every frame', async () => {
    const server = await start({ sendStallMs: 1000 });
    const stalled = await stalledClient(server.url, '/global/event');
    const stalledGone = new Promise<void>((resolve) => stalled.once('close', () => resolve()));
    const res = await fetch(`${server.url}/global/event`);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read(); // server.connected
    expect(server.state.events.size).toBe(2);
    // 7 MiB, 8 frames (512 KB) at a time, each lot once the reading client has read the one before
    // (so its connection never stays full for long): more than a paused client's socket buffers
    // hold (the server holds the rest and the stalled client's connection stays full), less than
    // the 8 MiB bound.
    const FRAMES = 112;
    const text = 'x'.repeat(64 * 1024);
    let seen = 0;
    let buffer = '';
    const decoder = new TextDecoder();
    for (let lot = 0; lot < FRAMES / 8; lot++) {
      for (let i = 0; i < 8; i++) server.state.host.hub.emit({ type: 'pantheon', projectRoot: inProcess?.dir as string, sessionID: 'ses_sse', event: { type: 'text', timestamp: Date.now(), sessionID: 'ses_sse', text } });
      while (seen < (lot + 1) * 8) {
        const { done, value } = await reader.read();
        if (done) throw new Error('the reading client’s stream ended');
        buffer += decoder.decode(value, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          if (buffer.slice(0, cut).includes('"type":"pantheon.text"')) seen += 1;
          buffer = buffer.slice(cut + 2);
        }
      }
    }
    // The stalled client is dropped a second after its connection filled (the hub has only the
    // reader left) and its connection cut: it sees the end once it reads again.
    await expect.poll(() => server.state.events.size, { timeout: 30_000 }).toBe(1);
    stalled.resume();
    await stalledGone;
    await reader.cancel();
    await expect.poll(() => server.state.events.size).toBe(0);
  });

  it('/api/event: v2’s frames, `{id, type, location, data}`, after server.connected; heartbeats are comments, one at once; a client that leaves is forgotten', async () => {
    inProcess = await startInProcess('sse-v2', 100);
    const server = inProcess.running;
    const abort = new AbortController();
    const res = await fetch(`${server.url}/api/event`, { signal: abort.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const until = async (needle: string, times = 1): Promise<void> => {
      while (text.split(needle).length - 1 < times) {
        const { done, value } = await reader.read();
        if (done) throw new Error('the stream ended');
        text += decoder.decode(value, { stream: true });
      }
    };
    await until(': heartbeat\n\n');
    expect(text).toMatch(/^data: \{"id":"evt_[0-9a-f]+","type":"server\.connected","data":\{\}\}\n\n: heartbeat\n\n/);
    server.state.host.hub.emit({ type: 'pantheon', projectRoot: inProcess.dir, sessionID: 'ses_v2', event: { type: 'text', timestamp: 1, sessionID: 'ses_v2', text: 'hi' } });
    await until('pantheon.text');
    await until('\n\n', 3);
    const frame = text.split('\n\n').find((f) => f.includes('pantheon.text')) as string;
    expect(JSON.parse(frame.replace(/^data: /, ''))).toEqual({ id: expect.stringMatching(/^evt_/), type: 'pantheon.text', location: { directory: inProcess.dir }, data: { type: 'text', timestamp: 1, sessionID: 'ses_v2', text: 'hi' } });
    // More heartbeats at the server's interval, never a server.heartbeat event.
    await until(': heartbeat\n\n', 3);
    expect(text).not.toContain('server.heartbeat');
    expect(server.state.events.listens(inProcess.dir)).toBe(true);
    abort.abort();
    await expect.poll(() => server.state.events.size).toBe(0);
  });
});
