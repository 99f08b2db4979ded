/** Remote servers: server-everything over streamable HTTP and over the older SSE transport, refusals and 401. */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { McpManager } from '../../src/mcp/manager.ts';
import type { McpConfig } from '../../src/config/schema-types.ts';
import type { McpWarning } from '../../src/mcp/types.ts';
import { freePort, START_TIMEOUT_MS, startHttpEverything } from './helpers.ts';
import type { HttpEverything } from './helpers.ts';

const TOKEN = 'mcp-token-abcdef123456';

describe('remote MCP servers', () => {
  let http: HttpEverything;
  let sse: HttpEverything;
  const managers: McpManager[] = [];
  const make = (servers: Record<string, McpConfig>) => {
    const m = new McpManager(servers);
    managers.push(m);
    return m;
  };

  beforeAll(async () => {
    [http, sse] = await Promise.all([startHttpEverything('streamableHttp'), startHttpEverything('sse')]);
  });
  afterAll(async () => {
    await Promise.all([http?.close(), sse?.close()]);
  });
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.shutdown()));
  });

  it('connects over streamable HTTP, lists tools and calls one', async () => {
    const m = make({ remote: { type: 'remote', url: http.url, headers: { 'X-Test': '1' }, timeout: START_TIMEOUT_MS } });
    const [status] = await m.start();
    expect(status).toMatchObject({ state: 'connected', transport: 'streamable-http', type: 'remote' });
    expect(status!.toolCount).toBeGreaterThanOrEqual(10);
    expect(status).not.toHaveProperty('pid');
    expect((await m.exposedTools()).map((t) => t.name)).toContain('remote_echo');
    expect(await m.callTool('remote', 'echo', { message: 'over http' })).toMatchObject({ isError: false, text: 'Echo: over http' });
    expect((await m.callTool('remote', 'echo', {})).text).toMatch(/^error: .*Input validation error/s);
  });

  it('falls back to SSE when the server does not speak streamable HTTP', async () => {
    const m = make({ old: { type: 'remote', url: sse.url, timeout: START_TIMEOUT_MS } });
    const [status] = await m.start();
    expect(status).toMatchObject({ state: 'connected', transport: 'sse' });
    expect(await m.callTool('old', 'echo', { message: 'over sse' })).toMatchObject({ isError: false, text: 'Echo: over sse' });
  });

  it('a url that is not an http(s) URL: failed, naming the field and what was expected', async () => {
    const [words, ws] = await make({ words: { type: 'remote', url: 'not a url' }, ws: { type: 'remote', url: 'ws://me:s3cret@h/mcp' } }).start();
    expect(words).toMatchObject({ state: 'failed', reason: 'url: expected an http(s) URL such as "https://mcp.example.com/mcp", found "not a url"' });
    expect(ws).toMatchObject({ state: 'failed', reason: 'url: expected an http(s) URL such as "https://mcp.example.com/mcp", found "ws://***@h/mcp"' });
  });

  it('a URL that refuses connections: failed, with the reason', async () => {
    const port = await freePort();
    const [status] = await make({ gone: { type: 'remote', url: `http://127.0.0.1:${port}/mcp` } }).start();
    expect(status).toMatchObject({ state: 'failed', reason: `connection refused at http://127.0.0.1:${port}/mcp` });
  });

  describe('a server that answers 401', () => {
    let server: Server;
    let url: string;
    const seen: IncomingHttpHeaders[] = [];
    beforeAll(async () => {
      server = createServer((req, res) => {
        // The MCP endpoint's requests (OAuth discovery asks the well-known paths too, and is refused the same).
        if (req.url === '/mcp') seen.push(req.headers);
        req.resume();
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_token' }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('a user and password in the URL go as Basic authorization and are never shown', async () => {
      seen.length = 0;
      const withUser = url.replace('http://', 'http://me:s3cret%2Fpw@');
      const [status] = await make({ basic: { type: 'remote', url: withUser } }).start();
      expect(status).toMatchObject({ state: 'needs_auth', reason: expect.stringMatching(new RegExp(`^HTTP 401 from ${url}: the server refused the credentials sent \\(mcp\\.basic\\.headers\\)`)) });
      expect(seen.at(-1)?.authorization).toBe(`Basic ${Buffer.from('me:s3cret/pw').toString('base64')}`);
      expect(JSON.stringify(status)).not.toContain('s3cret');
      const [header] = await make({ both: { type: 'remote', url: withUser, headers: { Authorization: `Bearer ${TOKEN}` } } }).start();
      expect(header?.state).toBe('needs_auth');
      expect(seen.at(-1)?.authorization).toBe(`Bearer ${TOKEN}`);
      expect(seen).toHaveLength(2);
    });

    it('a header value HTTP does not allow (a line break inside a token): failed naming the header, the value never shown, nothing sent', async () => {
      seen.length = 0;
      const warnings: McpWarning[] = [];
      const m = new McpManager({ broken: { type: 'remote', url, headers: { Authorization: `Bearer ${TOKEN}\nsecond-line-${TOKEN}` } } }, { onWarning: (w) => warnings.push(w) });
      managers.push(m);
      const [status] = await m.start();
      expect(status).toMatchObject({ state: 'failed', reason: expect.stringMatching(/^headers\.Authorization: the value holds a line break, .*\(the value is not shown\)/) });
      expect(JSON.stringify([status, warnings])).not.toContain(TOKEN.slice(4, 16));
      expect(seen).toHaveLength(0);
    });

    it('is needs_auth with an auth reason, sent the configured headers, and never shows the token', async () => {
      seen.length = 0;
      const [status] = await make({ locked: { type: 'remote', url, headers: { Authorization: `Bearer ${TOKEN}` } } }).start();
      expect(status).toMatchObject({
        state: 'needs_auth',
        reason: `HTTP 401 from ${url}: the server refused the credentials sent (mcp.locked.headers); OAuth is not used while the config sends its own Authorization, so check the token there, e.g. {"Authorization": "Bearer {env:TOKEN}"}`,
      });
      expect(seen.at(-1)?.authorization).toBe(`Bearer ${TOKEN}`);
      expect(seen).toHaveLength(1);
      expect(JSON.stringify(status)).not.toContain(TOKEN);
    });
  });

  it('a remote server that stops answering: tool error, then one reconnect on the next call', async () => {
    const own = await startHttpEverything('streamableHttp');
    try {
      const m = make({ flaky: { type: 'remote', url: own.url, timeout: 3000 } });
      await m.start();
      await own.close();
      const lost = await m.callTool('flaky', 'echo', { message: 'x' });
      expect(lost.isError).toBe(true);
      expect(lost.text).toMatch(/^error: MCP tool "echo" of server "flaky" could not be reached: /);
      expect(m.status()[0]).toMatchObject({ state: 'exited' });
      const retry = await m.callTool('flaky', 'echo', { message: 'x' });
      expect(retry.text).toMatch(/^error: MCP server "flaky" is not available: connection refused at /);
      expect(m.status()[0]).toMatchObject({ state: 'failed', restarts: 1 });
    } finally {
      await own.close();
    }
  });
});
