/**
 * A server whose tools change (`notifications/tools/list_changed`): the manager lists them anew for
 * the next turn and tells its listeners, at most once per gap however many notifications come; a
 * remote server that answers 401 is `needs_auth` with what to set, naming it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { McpManager } from '../../src/mcp/manager.ts';
import type { McpWarning } from '../../src/mcp/types.ts';
import { startHttpMcpServer, type HttpMcpServer } from '../support/http-mcp-server.ts';
import { eventually, START_TIMEOUT_MS } from './helpers.ts';

const managers: McpManager[] = [];
const servers: HttpMcpServer[] = [];

afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.shutdown()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function connected(tools: string[] = ['echo']) {
  const server = await startHttpMcpServer({ tools });
  servers.push(server);
  const manager = new McpManager({ srv: { type: 'remote', url: server.url, timeout: START_TIMEOUT_MS } });
  managers.push(manager);
  const changes: string[] = [];
  manager.onToolsChanged((name) => changes.push(name));
  const [status] = await manager.start();
  expect(status).toMatchObject({ state: 'connected', toolCount: tools.length });
  // A notification reaches a client once its stream is open.
  await eventually(() => server.listening() === 1, 10_000, 'the client’s notification stream');
  return { server, manager, changes };
}

describe('tools/list_changed', () => {
  it('the tools are listed anew, offered from the next listing on, and listeners told', async () => {
    const { server, manager, changes } = await connected(['echo']);
    expect((await manager.exposedTools()).map((t) => t.name)).toEqual(['srv_echo']);
    await server.setTools(['echo', 'added']);
    await eventually(() => changes.length === 1, 10_000, 'the change');
    expect(changes).toEqual(['srv']);
    expect((await manager.exposedTools()).map((t) => t.name)).toEqual(['srv_echo', 'srv_added']);
    expect(manager.status()[0]).toMatchObject({ state: 'connected', toolCount: 2 });
    expect(await manager.callTool('srv', 'added', { a: 1 })).toMatchObject({ isError: false, text: 'added: {"a":1}' });
  });

  it('a server that spams the notification: listed at most once per gap, the last one always followed by a listing', async () => {
    const { server, manager, changes } = await connected(['echo']);
    const before = server.listed();
    const began = Date.now();
    await server.notify(200);
    await server.setTools(['late']);
    // The first notification is listed at once; the others make one more listing a second later (more only if they took longer to come).
    await eventually(() => changes.length === 2, 10_000, 'two listings');
    expect((await manager.exposedTools()).map((t) => t.name)).toEqual(['srv_late']);
    const listings = server.listed() - before;
    expect(listings).toBeGreaterThanOrEqual(2);
    expect(listings).toBeLessThanOrEqual(1 + Math.ceil((Date.now() - began) / 1000));
    expect(changes).toHaveLength(listings);
  });

  it('a listing that fails (the server answers a JSON-RPC error): the tools stay as they were, no change told; the next notification lists again', async () => {
    const { server, manager, changes } = await connected(['echo']);
    server.failListing(true);
    const before = server.listed();
    await server.setTools(['echo', 'broken']);
    await eventually(() => server.listed() > before, 10_000, 'the failed listing');
    expect((await manager.exposedTools()).map((t) => t.name)).toEqual(['srv_echo']);
    expect(changes).toEqual([]);
    expect(manager.status()[0]).toMatchObject({ state: 'connected', toolCount: 1 });
    server.failListing(false);
    await server.setTools(['echo', 'mended']);
    await eventually(() => changes.length === 1, 10_000, 'the listing after');
    expect((await manager.exposedTools()).map((t) => t.name)).toEqual(['srv_echo', 'srv_mended']);
  });

  it('a disconnect drops what is due: no listing after it, no change told', async () => {
    const { server, manager, changes } = await connected(['echo']);
    await server.notify(1);
    await eventually(() => changes.length === 1, 10_000, 'the first listing');
    const before = server.listed();
    // Due a second later (the gap), then the server is disconnected.
    await server.notify(3);
    expect(await manager.disconnect('srv')).toBe(true);
    await server.setTools(['x']);
    const after = await manager.exposedTools(['srv']);
    expect(after).toEqual([]);
    expect(server.listed()).toBe(before);
    expect(changes).toEqual(['srv']);
  });
});

describe('a remote server that answers 401', () => {
  it('is needs_auth, naming the server and the header to set; connect tries again', async () => {
    const server = await startHttpMcpServer({ token: 'right-token-123456' });
    servers.push(server);
    const warnings: McpWarning[] = [];
    const manager = new McpManager(
      {
        bare: { type: 'remote', url: server.url, timeout: START_TIMEOUT_MS },
        wrong: { type: 'remote', url: server.url, headers: { Authorization: 'Bearer wrong-token-abcdef' }, timeout: START_TIMEOUT_MS },
        right: { type: 'remote', url: server.url, headers: { Authorization: 'Bearer right-token-123456' }, timeout: START_TIMEOUT_MS },
      },
      { onWarning: (w) => warnings.push(w) },
    );
    managers.push(manager);
    const [bare, wrong, right] = await manager.start();
    expect(bare).toMatchObject({
      state: 'needs_auth',
      reason: `HTTP 401 from ${server.url}: the server wants authentication, and it publishes no OAuth metadata: set a token in mcp.bare.headers in the config (or in the headers of POST /mcp), e.g. {"Authorization": "Bearer {env:TOKEN}"}`,
    });
    expect(wrong).toMatchObject({ state: 'needs_auth', reason: expect.stringMatching(/^HTTP 401 from .*: the server refused the credentials sent \(mcp\.wrong\.headers\); OAuth is not used while the config sends its own Authorization/) });
    expect(right).toMatchObject({ state: 'connected' });
    expect(warnings.map((w) => w.message)).toContain(`MCP server "bare" needs authentication: ${bare!.reason}; going on without its tools.`);
    expect(JSON.stringify([manager.status(), warnings])).not.toContain('wrong-token-abcdef');
    // Its tools are not offered, and a call says why.
    expect((await manager.exposedTools()).map((t) => t.server)).toEqual(['right']);
    expect((await manager.callTool('bare', 'echo', {})).text).toBe(`error: MCP server "bare" is not available: ${bare!.reason}.`);
    expect(await manager.connect('bare')).toBe(true);
    expect(manager.status(['bare'])[0]?.state).toBe('needs_auth');
  });
});
