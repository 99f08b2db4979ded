/**
 * The head of a request Pantheon's own client sends to a provider (providers/openai-wire.ts
 * `postChat`), as a real server receives it: node:http is handed the fields as a ready-made list, so
 * what it would add to an object's fields by itself (`Host`, Basic `Authorization` from the URL's
 * user) is added by the client, each unless a configured field of that name is given in any case,
 * the last of a name given winning; the body's length is the client's own; a connection is used
 * again; a value HTTP does not allow is refused before anything is sent.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { postChat, readBody, wireTarget, type WireTarget } from '../../src/providers/openai-wire.ts';

interface Received {
  raw: string[];
  body: string;
}

let server: http.Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A server that keeps each request's raw head fields and body; resolves with its port, the requests and its connection count. */
async function serve(): Promise<{ port: number; received: Received[]; connections: () => number }> {
  const received: Received[] = [];
  let connections = 0;
  server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      received.push({ raw: req.rawHeaders, body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, received, connections: () => connections };
}

function target(baseURL: string, apiKey?: string, headers?: Record<string, string>): WireTarget {
  const made = wireTarget({ providerId: 'p', baseURL, providerOptions: {}, env: {}, ...(apiKey ? { apiKey } : {}), ...(headers ? { headers } : {}) });
  if (!made) throw new Error('no wire target');
  return made;
}

/** One request, read to its end (its connection back in the pool). */
async function send(to: WireTarget, body: string): Promise<void> {
  const res = await postChat(to, body, new AbortController().signal);
  await readBody(res);
  if (!res.readableEnded) await new Promise((resolve) => res.once('end', resolve));
}

/** The values of field `name` (any case) in a raw head, in order. */
function values(raw: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if ((raw[i] as string).toLowerCase() === name) out.push(raw[i + 1] as string);
  return out;
}

describe('the head of a request to a provider', () => {
  it('carries Host, the configured fields (the last of a name wins) and the body’s own length, on one connection', async () => {
    const { port, received, connections } = await serve();
    const to = target(`http://127.0.0.1:${port}/v1`, 'sk-test-123', { 'User-Agent': 'my-app/1.0', 'X-Title': 'Pantheon test', 'Content-Length': '3' });
    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'héllo ✓' }] });
    await send(to, body);
    await send(to, body);
    expect(received).toHaveLength(2);
    for (const { raw, body: got } of received) {
      expect(got).toBe(body);
      expect(values(raw, 'host')).toEqual([`127.0.0.1:${port}`]);
      expect(values(raw, 'authorization')).toEqual(['Bearer sk-test-123']);
      expect(values(raw, 'user-agent')).toEqual(['my-app/1.0']);
      expect(values(raw, 'x-title')).toEqual(['Pantheon test']);
      expect(values(raw, 'content-type')).toEqual(['application/json']);
      // The configured length is not the body's: the client's own is sent, once.
      expect(values(raw, 'content-length')).toEqual([String(Buffer.byteLength(body))]);
      expect(values(raw, 'connection')).toEqual(['keep-alive']);
    }
    expect(connections()).toBe(1);
  });

  it('sends Basic authorization for a URL with a user, unless a key or a configured field says otherwise', async () => {
    const { port, received } = await serve();
    await send(target(`http://me:p%40ss@127.0.0.1:${port}/v1`), '{}');
    await send(target(`http://me:p%40ss@127.0.0.1:${port}/v1`, 'sk-key'), '{}');
    await send(target(`http://me:p%40ss@127.0.0.1:${port}/v1`, undefined, { AUTHORIZATION: 'Token abc' }), '{}');
    expect(received.map((r) => values(r.raw, 'authorization'))).toEqual([[`Basic ${Buffer.from('me:p@ss').toString('base64')}`], ['Bearer sk-key'], ['Token abc']]);
  });

  it('takes a configured Host over the URL’s', async () => {
    const { port, received } = await serve();
    await send(target(`http://127.0.0.1:${port}/v1`, undefined, { Host: 'api.example.test' }), '{}');
    expect(values(received[0]?.raw ?? [], 'host')).toEqual(['api.example.test']);
  });

  it('refuses a field value HTTP does not allow, sending nothing', async () => {
    const { port, received, connections } = await serve();
    const to = target(`http://127.0.0.1:${port}/v1`, undefined, { 'X-Bad': 'a\r\nX-Injected: 1' });
    await expect(postChat(to, '{}', new AbortController().signal)).rejects.toMatchObject({ code: 'ERR_INVALID_CHAR' });
    expect(received).toHaveLength(0);
    expect(connections()).toBe(0);
  });
});
