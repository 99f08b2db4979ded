/**
 * Paths with dot segments, sent as raw bytes (fetch and the SDKs resolve them before sending): the
 * server's URL parsing resolved `%2e%2e` and `..` before routing, so `/%2e%2e/` answered the
 * dashboard's HTML and `/x/%2e%2e/health` answered /health. Every such path is a JSON 404 in its
 * API's shape; the routes themselves and `..` in a query answer as before.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { serve, type Served } from './serve-helper.ts';

let model: ScriptedServer;
let sb: Sandbox;
let s: Served;
let port: number;

beforeAll(async () => {
  model = await startScriptedServer({ apiKey: SECRET, models: { m: {} } });
  sb = await sandbox();
  sb.write('opencode.json', { ...providerConfig(model, { m: {} }), model: 'p/m', cache: { enabled: false } });
  s = await serve(sb);
  port = Number(new URL(s.url).port);
});

afterAll(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
});

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** `GET <target>` exactly as written, on a connection of its own. */
function rawGet(target: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const [status, ...lines] = text.slice(0, split).split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      let body = text.slice(split + 4);
      // Chunked: the JSON answers here come in one chunk.
      if (headers['transfer-encoding'] === 'chunked') body = body.split('\r\n').filter((_, i) => i % 2 === 1).join('');
      resolve({ status: Number(status?.split(' ')[1]), headers, body });
    });
  });
}

describe('a request path with dot segments', () => {
  it.each([
    '/%2e%2e/',
    '/%2E%2E/',
    '/%2E%2E%2f',
    '/%2e%2e',
    '/.%2e/',
    '/%2e/',
    '/..',
    '/./',
    '/a/../',
    '/dashboard/%2e%2e/',
    '/dashboard/%2e%2e/dashboard/app.js',
    '/dashboard/..%2fapp.js',
    '/x/%2e%2e/health',
    '/.%2e/api/state',
    '/session/%2e%2e',
  ])('%s is a JSON 404 in OpenCode\'s shape naming the path as sent', async (target) => {
    const r = await rawGet(target);
    expect(r.status).toBe(404);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.headers['x-request-id']).toMatch(/^[\w-]{8,}$/);
    expect(JSON.parse(r.body)).toEqual({
      name: 'NotFoundError',
      data: { code: 'ROUTE_NOT_FOUND', message: `No route GET ${target}: no path with a "." or ".." segment (%2e is a dot) names a route.`, hint: 'GET /doc lists every route.' },
    });
  });

  it('under /api/v1 and /v1: the 404 in that API\'s own error shape', async () => {
    const rest = await rawGet('/api/v1/%2e%2e/');
    expect(rest.status).toBe(404);
    expect(JSON.parse(rest.body)).toMatchObject({ error: { code: 'not_found', message: expect.stringContaining('No route GET /api/v1/%2e%2e/') } });
    const gateway = await rawGet('/v1/x/%2e%2e/models');
    expect(gateway.status).toBe(404);
    expect(JSON.parse(gateway.body)).toMatchObject({ error: { message: expect.stringContaining('No route GET /v1/x/%2e%2e/models'), type: 'invalid_request_error' } });
  });

  it('the routes themselves, names with dots in them and ".." in a query answer as before', async () => {
    const page = await rawGet('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect((await rawGet('/dashboard/app.js')).status).toBe(200);
    expect((await rawGet('/health?from=/../')).status).toBe(200);
    const dotted = await rawGet('/dashboard/...');
    expect(dotted.status).toBe(404);
    expect(JSON.parse(dotted.body)).toMatchObject({ data: { message: 'No dashboard file "...".' } });
  });
});
