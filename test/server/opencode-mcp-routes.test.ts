/**
 * OpenCode's MCP management routes through `@opencode-ai/sdk` (as OpenCode 1.18.33's server answers
 * them, and as its TUI's MCPs dialog calls them), against `opencode serve` with real MCP servers:
 * a disconnect stops the server's process and takes its tools out of the next turn, a connect brings
 * them back, a disconnect during a turn's call ends that call with a clear tool error, `POST /mcp`
 * adds a server for the process's lifetime (no file written), bad bodies are 400s naming the field,
 * unknown names OpenCode's 404, and the OAuth routes refuse a server that cannot sign in (400 `{error}`;
 * the sign-in itself: opencode-mcp-oauth.test.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createOpencodeClient } from '@opencode-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { EVERYTHING, MEMORY, eventually } from '../mcp/helpers.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { idleOf, watchedSession } from './sdk-helper.ts';
import { getJson, serve, type Served } from './serve-helper.ts';
import { childrenOf } from '../support/proc-children.ts';

const WAITING = path.join(import.meta.dirname, 'fixtures', 'waiting-tool-mcp.mjs');
const MEM = { type: 'local', command: [process.execPath, MEMORY], timeout: 30_000 } as const;

let upstream: ScriptedServer;
let sb: Sandbox;
let s: Served;
let client: ReturnType<typeof createOpencodeClient>;
let configText = '';

const memoryProcesses = () => childrenOf(s.proc.child.pid as number, MEMORY);
const toolNamesOf = (tools: unknown[] | undefined) => (tools ?? []).map((t) => (t as { function: { name: string } }).function.name);

beforeAll(async () => {
  upstream = await startScriptedServer();
  sb = await sandbox();
  sb.write('opencode.json', {
    ...providerConfig(upstream, { m: {} }),
    model: 'p/m',
    cache: { enabled: false },
    mcp: {
      mem: MEM,
      off: { ...MEM, enabled: false },
      ev: { type: 'local', command: [process.execPath, EVERYTHING, 'stdio'], timeout: 30_000 },
    },
  });
  configText = fs.readFileSync(`${sb.project}/opencode.json`, 'utf8');
  s = await serve(sb);
  client = createOpencodeClient({ baseUrl: s.url, directory: sb.project });
});

afterAll(async () => {
  await s?.stop();
  await upstream?.close();
  await sb?.remove();
});

/** One turn that answers text; the tool names the model was offered. */
async function offeredTools(): Promise<string[]> {
  const { client: c, id, stream, close } = await watchedSession(s.url, sb.project);
  try {
    upstream.script('m', { type: 'text', text: 'ok' });
    const before = upstream.log.length;
    await c.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'hi' }] } });
    await stream.until(idleOf(id));
    // The turn's request (a title's, if one is asked for, offers no tools).
    return toolNamesOf(upstream.log.slice(before).find((e) => e.tools?.length)?.tools);
  } finally {
    close();
  }
}

describe('OpenCode’s MCP routes', () => {
  it('disconnect stops the server and takes its tools out of the next turn; connect brings them back; two connects at once start one process', async () => {
    const { stream, close } = await watchedSession(s.url, sb.project);
    try {
      expect((await client.mcp.status()).data).toMatchObject({ mem: { status: 'connected' }, off: { status: 'disabled' }, ev: { status: 'connected' } });
      const [pid] = memoryProcesses();
      expect(pid).toBeDefined();
      expect((await offeredTools()).filter((t) => t.startsWith('mem_'))).toContain('mem_read_graph');

      const off = await client.mcp.disconnect({ path: { name: 'mem' } });
      expect(off.response.status).toBe(200);
      expect(off.data).toBe(true);
      // The answer comes once the process is gone.
      expect(memoryProcesses()).toEqual([]);
      expect((await client.mcp.status()).data).toMatchObject({ mem: { status: 'disabled' }, ev: { status: 'connected' } });
      const without = await offeredTools();
      expect(without.filter((t) => t.startsWith('mem_'))).toEqual([]);
      expect(without.some((t) => t.startsWith('ev_'))).toBe(true);
      const rest = (await getJson(`${s.url}/api/v1/tools`)).body as { tools: { name: string }[] };
      expect(rest.tools.filter((t) => t.name.startsWith('mem_'))).toEqual([]);

      const on = await Promise.all([client.mcp.connect({ path: { name: 'mem' } }), client.mcp.connect({ path: { name: 'mem' } })]);
      expect(on.map((r) => r.data)).toEqual([true, true]);
      const after = memoryProcesses();
      expect(after).toHaveLength(1);
      expect(after[0]).not.toBe(pid);
      expect((await client.mcp.status()).data).toMatchObject({ mem: { status: 'connected' } });
      expect((await offeredTools()).filter((t) => t.startsWith('mem_'))).toContain('mem_read_graph');

      // A server the config disables connects too, and its tools are offered.
      expect((await client.mcp.connect({ path: { name: 'off' } })).data).toBe(true);
      expect((await client.mcp.status()).data).toMatchObject({ off: { status: 'connected' } });
      expect(await offeredTools()).toContain('off_read_graph');
      await client.mcp.disconnect({ path: { name: 'off' } });
      // OpenCode publishes nothing on /event when a server is connected or disconnected (its TUI reads GET /mcp again).
      expect(stream.events.filter((e) => e.type.startsWith('mcp.'))).toEqual([]);
    } finally {
      close();
    }
  });

  it('a disconnect during a turn that is calling the server’s tool: the call ends with a clear tool error, the turn goes on', async () => {
    const called = path.join(sb.root, 'called');
    // The tool never answers and its timeout is two minutes: the turn can only end in time because the disconnect cuts the call short.
    await client.mcp.add({ body: { name: 'slow', config: { type: 'local', command: [process.execPath, WAITING], environment: { CALLED_FILE: called }, timeout: 120_000 } as never } });
    const { client: c, id, stream, close } = await watchedSession(s.url, sb.project);
    try {
      upstream.script('m', { type: 'tool_calls', calls: [{ id: 'c_wait', name: 'slow_wait', arguments: {} }] }, { type: 'text', text: 'after' });
      const prompt = c.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'go' }] } });
      await eventually(() => fs.existsSync(called), 30_000, 'the tool to be called');
      expect((await client.mcp.disconnect({ path: { name: 'slow' } })).data).toBe(true);
      await prompt;
      await stream.until(idleOf(id));
      type ToolPart = { type: string; callID?: string; state?: { status: string; error?: string } };
      const messages = (await c.session.messages({ path: { id } })).data ?? [];
      const part = messages.flatMap((m) => m.parts as ToolPart[]).find((p) => p.callID === 'c_wait');
      expect(part?.state).toMatchObject({ status: 'error', error: 'MCP server "slow" was disconnected during the call to "wait"; connect it again to use its tools.' });
      expect(JSON.stringify(messages.at(-1)?.parts)).toContain('after');
      expect((await client.mcp.status()).data).toMatchObject({ slow: { status: 'disabled' } });
    } finally {
      close();
    }
  });

  it('POST /mcp adds a server for the process’s lifetime (no file written), and adding it again replaces it', async () => {
    const added = await client.mcp.add({ body: { name: 'added', config: MEM as never } });
    expect(added.response.status).toBe(200);
    expect(added.data).toMatchObject({ mem: { status: 'connected' }, added: { status: 'connected' } });
    expect(memoryProcesses().length).toBeGreaterThanOrEqual(2);
    expect(await offeredTools()).toContain('added_read_graph');
    expect(fs.readFileSync(`${sb.project}/opencode.json`, 'utf8')).toBe(configText);

    const before = memoryProcesses();
    const replaced = await client.mcp.add({ body: { name: 'added', config: { ...MEM, enabled: false } as never } });
    expect(replaced.data).toMatchObject({ added: { status: 'disabled' } });
    expect(memoryProcesses()).toHaveLength(before.length - 1);
    expect(await offeredTools()).not.toContain('added_read_graph');

    const failing = await client.mcp.add({ body: { name: 'missing', config: { type: 'local', command: [`${sb.project}/no-such-server`] } as never } });
    expect(failing.response.status).toBe(200);
    expect(failing.data).toMatchObject({ missing: { status: 'failed', error: expect.stringContaining('no-such-server') } });
  });

  it('POST /mcp in a project whose config has no MCP server', async () => {
    const other = await sandbox();
    try {
      other.write('opencode.json', { ...providerConfig(upstream, { m: {} }), model: 'p/m' });
      const o = createOpencodeClient({ baseUrl: s.url, directory: other.project });
      expect((await o.mcp.status()).data).toEqual({});
      expect((await o.mcp.connect({ path: { name: 'mem' } })).response.status).toBe(404);
      expect((await o.mcp.add({ body: { name: 'solo', config: MEM as never } })).data).toEqual({ solo: { status: 'connected' } });
      expect((await o.mcp.disconnect({ path: { name: 'solo' } })).data).toBe(true);
      expect((await o.mcp.status()).data).toEqual({ solo: { status: 'disabled' } });
    } finally {
      await other.remove();
    }
  });

  it('bad bodies: a 400 naming the field', async () => {
    const post = (body: unknown) => getJson(`${s.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-opencode-directory': sb.project }, body: JSON.stringify(body) });
    const cases: [unknown, string, RegExp][] = [
      [{ name: 'x' }, 'config', /is required/],
      [{ config: MEM }, 'name', /is required/],
      [{ name: '', config: MEM }, 'name', /empty/],
      [{ name: 'a\u001bb', config: MEM }, 'name', /control characters/],
      [{ name: 'x', config: { command: ['true'] } }, 'config.type', /missing; expected "local"/],
      [{ name: 'x', config: { type: 'lokal', command: ['true'] } }, 'config.type', /expected one of "local", "remote"/],
      [{ name: 'x', config: { type: 'local' } }, 'config.command', /missing; required/],
      [{ name: 'x', config: { type: 'local', command: [] } }, 'config.command', /empty list/],
      [{ name: 'x', config: { type: 'local', command: ['true'], enviroment: {} } }, 'config.enviroment', /unknown key; did you mean "environment"\?$/],
      [{ name: 'x', config: { type: 'local', command: ['true'], timeout: 0 } }, 'config.timeout', /from 1/],
      [{ name: 'x', config: { type: 'remote', url: 'not a url' } }, 'config.url', /http:\/\/ or https:\/\//],
      [{ name: 'x', config: { type: 'remote', url: 'file:///etc/passwd' } }, 'config.url', /http:\/\/ or https:\/\//],
    ];
    for (const [body, field, message] of cases) {
      const res = await post(body);
      const data = (res.body as { name: string; data: { field: string; message: string } }).data;
      expect({ status: res.status, name: (res.body as { name: string }).name, field: data.field }, JSON.stringify(body)).toEqual({ status: 400, name: 'BadRequest', field });
      expect(data.message).toMatch(message);
      expect(data.message).toContain(`"${field}"`);
      expect(data.message).not.toContain('\u001b');
    }
    const status = (await client.mcp.status()).data as Record<string, unknown>;
    expect(Object.keys(status)).not.toContain('x');
  });

  it('unknown names: OpenCode’s 404 on every route of a server', async () => {
    const calls = [
      client.mcp.connect({ path: { name: 'nope' } }),
      client.mcp.disconnect({ path: { name: 'nope' } }),
      client.mcp.auth.start({ path: { name: 'nope' } }),
      client.mcp.auth.authenticate({ path: { name: 'nope' } }),
      client.mcp.auth.callback({ path: { name: 'nope' }, body: { code: 'abc' } }),
      client.mcp.auth.remove({ path: { name: 'nope' } }),
    ];
    for (const res of await Promise.all(calls)) {
      expect(res.response.status).toBe(404);
      expect(res.error).toMatchObject({ _tag: 'McpServerNotFoundError', name: 'nope', message: 'MCP server not found: nope', hint: expect.stringContaining('POST /mcp') });
    }
  });

  it('OAuth: a local server, an unreachable one and a callback without a flow are 400s saying why; nothing stored to remove', async () => {
    const local = await client.mcp.auth.start({ path: { name: 'mem' } });
    expect(local.response.status).toBe(400);
    expect(local.error).toEqual({ error: 'MCP server "mem" is a local server: OAuth is for remote servers. A local server gets secrets through mcp.mem.environment, e.g. "environment": {"GITHUB_TOKEN": "{env:GITHUB_TOKEN}"}.' });
    await client.mcp.add({ body: { name: 'far', config: { type: 'remote', url: 'http://127.0.0.1:9/mcp', enabled: false } as never } });
    const far = await client.mcp.auth.authenticate({ path: { name: 'far' } });
    expect(far.response.status).toBe(400);
    expect((far.error as unknown as { error: string }).error).toMatch(/^Could not start signing in to MCP server "far": .+\. Check mcp\.far\.url/);
    const callback = await client.mcp.auth.callback({ path: { name: 'far' }, body: { code: 'abc' } });
    expect(callback.response.status).toBe(400);
    expect(callback.error).toEqual({ error: 'No pending OAuth flow for MCP server: far. Start one with POST /mcp/far/auth.' });
    const noCode = await client.mcp.auth.callback({ path: { name: 'far' }, body: {} as never });
    expect(noCode.response.status).toBe(400);
    expect(noCode.error).toMatchObject({ data: { field: 'code' } });
    const removed = await client.mcp.auth.remove({ path: { name: 'far' } });
    expect(removed.response.status).toBe(200);
    expect(removed.data).toEqual({ success: true });
  });

  it('the server stops every process it started, added ones included', async () => {
    await client.mcp.connect({ path: { name: 'added' } });
    const pids = memoryProcesses();
    expect(pids.length).toBeGreaterThanOrEqual(2);
    const pid = s.proc.child.pid as number;
    const { code } = await s.stop();
    expect(code).toBe(0);
    await eventually(() => childrenOf(pid, MEMORY).length === 0 && pids.every((p) => !fs.existsSync(`/proc/${p}`) || fs.readFileSync(`/proc/${p}/stat`, 'utf8').includes(') Z')), 10_000, 'the servers to be gone');
  });
});
