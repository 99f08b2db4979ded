/**
 * The server's budget of request-body bytes held at once (body-budget.ts), on an in-process server
 * with a small budget: while one client's declared body holds most of it, another body that would go
 * over it is refused at once with a JSON 503 naming the limit (OpenCode's shape on a Hono route,
 * OpenAI's on the fast path, before it is read; Retry-After), a body that fits is served, a body sent in chunks is
 * refused once it would go over; when the first body is in, the budget is free again.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startInProcess, type InProcess } from './in-process.ts';

const BUDGET = 1000;
let server: InProcess | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/** A raw request declaring a body of `length` bytes; resolves once the server said `100 Continue` and the first bytes are written. */
async function holding(url: string, path: string, body: string): Promise<{ until(pattern: RegExp): Promise<string>; finish(): Promise<string> }> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  let received = '';
  let wake: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('utf8');
    wake?.();
  });
  socket.on('error', () => undefined);
  const until = async (pattern: RegExp): Promise<string> => {
    while (!pattern.test(received)) {
      if (socket.destroyed) throw new Error(`closed before ${String(pattern)}: ${received}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        socket.once('close', resolve);
      });
    }
    return received;
  };
  socket.write(`POST ${path} HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nexpect: 100-continue\r\n\r\n`);
  await until(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
  socket.write(body.slice(0, 10));
  return {
    until,
    async finish() {
      socket.write(body.slice(10));
      const all = await until(/\r\n\r\n[\s\S]*\}$/);
      socket.destroy();
      return all.slice(all.indexOf('HTTP/1.1', 5));
    },
  };
}

const padded = (bytes: number, fields: object): string => {
  const base = JSON.stringify({ ...fields, pad: '' });
  return JSON.stringify({ ...fields, pad: 'x'.repeat(bytes - base.length) });
};

describe('the server-wide request-body budget', () => {
  it('refuses a body that would go over it (JSON 503 naming the limit), serves one that fits, and is free again once the body is in', async () => {
    server = await startInProcess('budget', 10_000, { bodyBudgetBytes: BUDGET });
    const { url } = server;
    // The gateway's settings are read once, at its first request.
    expect((await fetch(`${url}/v1/models`)).status).toBe(200);
    const post = (path: string, body: string) => fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

    const big = await holding(url, '/v1/chat/completions', padded(800, { model: 'p/none', messages: [{ role: 'user', content: 'hi' }] }));
    expect(server.running.state.bodies.used).toBe(800);

    const hono = await post('/session', padded(300, { title: 't' }));
    expect(hono.status).toBe(503);
    expect(hono.headers.get('retry-after')).toBe('1');
    expect(await hono.json()).toMatchObject({ name: 'ServiceUnavailable', data: { code: 'SERVER_BUSY', message: expect.stringContaining(`${BUDGET} bytes`) } });

    // On the fast path a small body that came with its head is read at once; one still to come is refused before it is read.
    const fast = await (await holding(url, '/v1/chat/completions', padded(300, { model: 'p/none', messages: [{ role: 'user', content: 'hi' }] }))).until(/HTTP\/1\.1 503 [\s\S]*\}$/);
    expect(fast).toMatch(/\r\nretry-after: 1\r\n/i);
    const answer = JSON.parse(fast.slice(fast.indexOf('\r\n\r\n', fast.indexOf('HTTP/1.1 503')) + 4)) as unknown;
    expect(answer).toMatchObject({ error: { type: 'api_error', code: 'server_busy', message: expect.stringContaining(`${BUDGET} bytes`) } });

    // Sent in chunks (no length): refused once its bytes would go over.
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        const text = padded(400, { title: 'chunked' });
        controller.enqueue(new TextEncoder().encode(text.slice(0, 200)));
        controller.enqueue(new TextEncoder().encode(text.slice(200)));
        controller.close();
      },
    });
    const chunked = await fetch(`${url}/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chunks, duplex: 'half' } as RequestInit);
    expect(chunked.status).toBe(503);
    await chunked.json();

    const fits = await post('/session', padded(150, { title: 'fits' }));
    expect(fits.status).toBe(200);
    await fits.json();

    // The first body in: answered (no such model), not refused; the budget is all free again.
    expect(await big.finish()).toMatch(/^HTTP\/1\.1 404 [\s\S]*model_not_found/);
    expect(server.running.state.bodies.used).toBe(0);
    const again = await post('/session', padded(300, { title: 't' }));
    expect(again.status).toBe(200);
    await again.json();
  });
});
