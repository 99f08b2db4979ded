/**
 * Reading an upstream answer's whole body (providers/openai-wire.ts `readBody`) over a real socket:
 * a small answer that came in with its head is taken at once (before its stream's `end`), and its
 * connection still goes back to the pool; a body over the limit is dropped; a body that comes in
 * pieces, split inside a UTF-8 character, reads the same; a connection cut mid-body is an error.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { readBody } from '../../src/providers/openai-wire.ts';

let server: http.Server | undefined;
const agent = new http.Agent({ keepAlive: true });
afterEach(async () => {
  agent.destroy();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A server answering every request with `answer`; resolves with its port. */
async function serve(answer: (res: http.ServerResponse) => void): Promise<number> {
  server = http.createServer((req, res) => {
    req.resume();
    answer(res);
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** One request through the keep-alive agent: its response (head in, body unread) and whether its socket was reused. */
function get(port: number): Promise<{ res: http.IncomingMessage; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', agent }, (res) => resolve({ res, reused: req.reusedSocket }));
    req.on('error', reject);
    req.end('{}');
  });
}

/** Waits until the response (if it is still being read) has ended: a promise continuation runs first. */
function ended(res: http.IncomingMessage): Promise<void> {
  return res.readableEnded ? Promise.resolve() : new Promise((resolve) => res.once('end', () => resolve()));
}

describe('readBody', () => {
  it('takes a body that came with its head at once, and the connection is used again', async () => {
    const body = JSON.stringify({ id: 'x', choices: [{ message: { role: 'assistant', content: 'héllo' } }] });
    const port = await serve((res) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body));
    const first = await get(port);
    let endSeen = false;
    first.res.once('end', () => (endSeen = true));
    // The test's own continuation runs after node:http parsed the whole small message.
    expect(first.res.complete).toBe(true);
    expect(await readBody(first.res)).toBe(body);
    // Read without waiting for the stream's `end`, which still comes and frees the connection.
    expect(endSeen).toBe(false);
    await ended(first.res);
    expect(endSeen).toBe(true);
    const second = await get(port);
    expect(second.reused).toBe(true);
    expect(await readBody(second.res)).toBe(body);
  });

  it('drops a whole body over the limit and answers undefined', async () => {
    const body = 'x'.repeat(4096);
    const port = await serve((res) => res.writeHead(500, { 'content-length': body.length }).end(body));
    const { res } = await get(port);
    expect(res.complete).toBe(true);
    expect(await readBody(res, 1024)).toBeUndefined();
    expect(res.destroyed).toBe(true);
  });

  it('reads a body that comes in pieces, split inside a character, as one text', async () => {
    const text = '{"content":"ünïcödé ✓"}';
    const bytes = Buffer.from(text);
    const port = await serve((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // Chunked, each byte its own write after the head: the body is not all in with the head.
      let i = 0;
      const next = (): void => {
        if (i >= bytes.length) return void res.end();
        res.write(bytes.subarray(i, ++i), () => setImmediate(next));
      };
      next();
    });
    const { res } = await get(port);
    expect(res.complete).toBe(false);
    expect(await readBody(res)).toBe(text);
  });

  it('rejects with ECONNRESET when the connection is cut before the body is complete', async () => {
    const port = await serve((res) => {
      res.writeHead(200, { 'content-length': 100 });
      res.write('{"partial":', () => res.socket?.destroy());
    });
    const { res } = await get(port);
    await expect(readBody(res)).rejects.toMatchObject({ code: 'ECONNRESET' });
  });
});
