/**
 * OpenCode's MCP routes with remote servers, against `opencode serve` and a real Streamable HTTP MCP
 * server the test runs (the SDK's server transport on 127.0.0.1, test/support/http-mcp-server.ts):
 * connect and disconnect, a server that goes away while connected and comes back, a server whose
 * tools change (`mcp.tools.changed` on /event, the new tools offered from the next turn), one that
 * answers 401 (`needs_auth`), and `POST /mcp` racing `POST /instance/dispose` (no server left running).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createOpencodeClient } from '@opencode-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { SHUT_DOWN } from '../../src/mcp/manager.ts';
import { eventually, MEMORY } from '../mcp/helpers.ts';
import { startHttpMcpServer, type HttpMcpServer } from '../support/http-mcp-server.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { idleOf, watchedSession } from './sdk-helper.ts';
import { getJson, serve, type Served } from './serve-helper.ts';
import { childrenOf } from '../support/proc-children.ts';

let upstream: ScriptedServer;
let remote: HttpMcpServer;
let locked: HttpMcpServer;
let sb: Sandbox;
let s: Served;
let client: ReturnType<typeof createOpencodeClient>;

const TOKEN = 'remote-token-0123456789';

beforeAll(async () => {
  [upstream, remote, locked] = await Promise.all([startScriptedServer(), startHttpMcpServer({ tools: ['echo'] }), startHttpMcpServer({ token: TOKEN })]);
  sb = await sandbox();
  sb.write('opencode.json', {
    ...providerConfig(upstream, { m: {} }),
    model: 'p/m',
    cache: { enabled: false },
    mcp: {
      far: { type: 'remote', url: remote.url, timeout: 30_000 },
      locked: { type: 'remote', url: locked.url, timeout: 30_000 },
      keyed: { type: 'remote', url: locked.url, headers: { Authorization: `Bearer {env:LOCKED_TOKEN}` }, timeout: 30_000 },
    },
  });
  s = await serve(sb, [], { LOCKED_TOKEN: TOKEN });
  client = createOpencodeClient({ baseUrl: s.url, directory: sb.project });
});

afterAll(async () => {
  await s?.stop();
  await Promise.all([upstream?.close(), remote?.close(), locked?.close()]);
  await sb?.remove();
});

type Stream = Awaited<ReturnType<typeof watchedSession>>['stream'];

/** One turn that answers text; the tool names the model was offered. */
async function offeredTools(): Promise<string[]> {
  const { client: c, id, stream, close } = await watchedSession(s.url, sb.project);
  try {
    upstream.script('m', { type: 'text', text: 'ok' });
    const before = upstream.log.length;
    await c.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'hi' }] } });
    await stream.until(idleOf(id));
    const tools = upstream.log.slice(before).find((e) => e.tools?.length)?.tools ?? [];
    return tools.map((t) => (t as { function: { name: string } }).function.name);
  } finally {
    close();
  }
}

const toolsChanged = (stream: Stream, server: string) => stream.events.filter((e) => e.type === 'mcp.tools.changed' && e.properties.server === server);

describe('remote MCP servers through OpenCode’s routes', () => {
  it('disconnect closes the client and withdraws its tools; connect brings them back', async () => {
    expect((await client.mcp.status()).data).toMatchObject({ far: { status: 'connected' } });
    await eventually(() => remote.listening() === 1, 10_000, 'the client’s notification stream');
    expect(await offeredTools()).toContain('far_echo');

    const off = await client.mcp.disconnect({ path: { name: 'far' } });
    expect(off.data).toBe(true);
    expect((await client.mcp.status()).data).toMatchObject({ far: { status: 'disabled' } });
    // Its notification stream is closed with the client.
    await eventually(() => remote.listening() === 0, 10_000, 'the stream to close');
    expect((await offeredTools()).filter((t) => t.startsWith('far_'))).toEqual([]);

    expect((await client.mcp.connect({ path: { name: 'far' } })).data).toBe(true);
    expect((await client.mcp.status()).data).toMatchObject({ far: { status: 'connected' } });
    expect(await offeredTools()).toContain('far_echo');
  });

  it('a server whose tools change: mcp.tools.changed on /event, the new tools offered from the next turn; a burst of notifications is listed at most once a second', async () => {
    expect((await client.mcp.status()).data).toMatchObject({ far: { status: 'connected' } });
    await eventually(() => remote.listening() === 1, 10_000, 'the client’s notification stream');
    const { stream, close } = await watchedSession(s.url, sb.project);
    try {
      await remote.setTools(['echo', 'fresh']);
      await stream.until((e) => e.type === 'mcp.tools.changed');
      expect(toolsChanged(stream, 'far').map((e) => e.properties)).toEqual([{ server: 'far' }]);
      expect(await offeredTools()).toEqual(expect.arrayContaining(['far_echo', 'far_fresh']));

      const before = remote.listed();
      const began = Date.now();
      await remote.notify(100);
      await remote.setTools(['last']);
      // The last notification is always followed by a listing: the turn after it is offered the last tools.
      await eventually(async () => (await offeredTools()).includes('far_last'), 20_000, 'the last tools to be offered');
      // 101 notifications: at most one listing at once, then one per second (the gap) while they come.
      const listings = remote.listed() - before;
      expect(listings).toBeGreaterThanOrEqual(1);
      expect(listings).toBeLessThanOrEqual(1 + Math.ceil((Date.now() - began) / 1000));
      expect(toolsChanged(stream, 'far')).toHaveLength(1 + listings);
      expect(await offeredTools()).not.toContain('far_fresh');
    } finally {
      close();
    }
  });

  it('a server that goes away while connected: a call ends with a tool error, its status says why, connect fails until it is back', async () => {
    const port = remote.port;
    const { client: c, id, stream, close } = await watchedSession(s.url, sb.project);
    try {
      await remote.close();
      upstream.script('m', { type: 'tool_calls', calls: [{ id: 'c_gone', name: 'far_last', arguments: {} }] }, { type: 'text', text: 'after' });
      await c.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'go' }] } });
      await stream.until(idleOf(id));
      type ToolPart = { type: string; callID?: string; state?: { status: string; error?: string } };
      const messages = (await c.session.messages({ path: { id } })).data ?? [];
      const part = messages.flatMap((m) => m.parts as ToolPart[]).find((p) => p.callID === 'c_gone');
      expect(part?.state).toMatchObject({ status: 'error', error: expect.stringMatching(/^MCP tool "last" of server "far" could not be reached: /) });
      // Its tools are gone with it: OpenCode's event says so.
      expect(toolsChanged(stream, 'far')).toHaveLength(1);
      const status = (await client.mcp.status()).data as Record<string, { status: string; error?: string }>;
      expect(status.far?.status).toBe('failed');

      // Down: connect answers true, and the status says why.
      expect((await client.mcp.connect({ path: { name: 'far' } })).data).toBe(true);
      expect((await client.mcp.status()).data).toMatchObject({ far: { status: 'failed', error: `connection refused at ${remote.url}` } });

      // Back where it was: connect brings it and its tools back.
      remote = await startHttpMcpServer({ tools: ['echo'], port });
      expect((await client.mcp.connect({ path: { name: 'far' } })).data).toBe(true);
      expect((await client.mcp.status()).data).toMatchObject({ far: { status: 'connected' } });
      expect(await offeredTools()).toContain('far_echo');
    } finally {
      close();
    }
  });

  it('a server that answers 401: needs_auth with an error naming it and the header to set; with the token in its headers it connects', async () => {
    const status = (await client.mcp.status()).data as Record<string, { status: string; error?: string }>;
    expect(status.locked).toEqual({
      status: 'needs_auth',
      error: `MCP server "locked" needs authentication: HTTP 401 from ${locked.url}: the server wants authentication, and it publishes no OAuth metadata: set a token in mcp.locked.headers in the config (or in the headers of POST /mcp), e.g. {"Authorization": "Bearer {env:TOKEN}"}`,
    });
    expect(status.keyed).toEqual({ status: 'connected' });
    // POST /mcp with a wrong token: needs_auth, the token never shown.
    const wrong = await client.mcp.add({ body: { name: 'wrong', config: { type: 'remote', url: locked.url, headers: { Authorization: 'Bearer not-the-token-987654' }, timeout: 30_000 } as never } });
    expect(wrong.data).toMatchObject({ wrong: { status: 'needs_auth', error: expect.stringContaining('the server refused the credentials sent (mcp.wrong.headers)') } });
    expect(JSON.stringify(wrong.data)).not.toContain('not-the-token-987654');
    const fixed = await client.mcp.add({ body: { name: 'wrong', config: { type: 'remote', url: locked.url, headers: { Authorization: `Bearer ${TOKEN}` }, timeout: 30_000 } as never } });
    expect(fixed.data).toMatchObject({ wrong: { status: 'connected' } });
    expect(JSON.stringify(fixed.data)).not.toContain(TOKEN);
    // The REST API's view of it.
    const rest = (await getJson(`${s.url}/api/v1/mcp/status`, { headers: { 'x-opencode-directory': sb.project } })).body as { servers?: unknown[] } & Record<string, unknown>;
    expect(JSON.stringify(rest)).toContain('needs_auth');
  });
});

describe('POST /mcp racing POST /instance/dispose', () => {
  /** The live processes whose parent is the server and whose command line holds `needle`. */
  const serverChildren = (needle: string): number[] => childrenOf(s.proc.child.pid as number, needle);

  it('the server added to a project let go meanwhile does not keep running', async () => {
    const marker = path.join(sb.root, 'race-marker');
    for (let i = 0; i < 4; i++) {
      // A project opened by these very requests (no MCP server in its config): the dispose lands while POST /mcp is under way.
      const dir = path.join(sb.root, `race-${i}`);
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'opencode.json'), JSON.stringify({ ...providerConfig(upstream, { m: {} }), model: 'p/m' }));
      const headers = { 'content-type': 'application/json', 'x-opencode-directory': encodeURIComponent(dir) };
      const config = { type: 'local', command: [process.execPath, MEMORY, `${marker}-${i}`], timeout: 30_000 };
      const [added, disposed] = await Promise.all([
        getJson(`${s.url}/mcp`, { method: 'POST', headers, body: JSON.stringify({ name: 'mem', config }) }),
        getJson(`${s.url}/instance/dispose`, { method: 'POST', headers }),
      ]);
      expect(added.status).toBe(200);
      expect(disposed.status).toBe(200);
      const mem = (added.body as Record<string, { status: string; error?: string }>).mem;
      // Either it was added before the dispose (and stopped with the instance), or after (not started): never left running.
      if (mem?.status !== 'connected') expect(mem).toEqual({ status: 'failed', error: SHUT_DOWN });
      // The next request opens the project anew: without the server added to the old one, or, when
      // the add came after the dispose had ended, with it (added to the project opened anew), which
      // is then let go too. A server left to the old project is in neither and is caught below.
      const listed = (await getJson(`${s.url}/mcp`, { headers })).body;
      expect([{}, { mem: { status: 'connected' } }]).toContainEqual(listed);
      if (Object.keys(listed as object).length) expect((await getJson(`${s.url}/instance/dispose`, { method: 'POST', headers })).status).toBe(200);
    }
    await eventually(() => serverChildren(marker).length === 0, 10_000, 'no server added to a project let go to be left running');
  });
});
