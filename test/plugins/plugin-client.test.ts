/**
 * The plugins' `client` (src/plugins/plugin-client.ts): OpenCode's SDK client answered in-process
 * by the process's own server. Under `serve`, the server's own application behind its own password
 * (no way around it: a request without the credentials is refused in-process as over HTTP), and
 * `client.app.log` while plugins load, before the server answers; under `run`, a log line written at
 * once and OpenCode's API made over the run's core on the first other call, the run's own runtime
 * lent and never closed by it. Making the client loads neither the SDK nor the server.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { Host } from '../../src/core/host.ts';
import { setDebugSink } from '../../src/debug-note.ts';
import { ServerSlot } from '../../src/plugins/in-process-server.ts';
import { pluginClient, serverAuth } from '../../src/plugins/plugin-client.ts';
import { runServer, type RunServer } from '../../src/plugins/run-server.ts';
import { openRuntime, type Runtime } from '../../src/run/runtime.ts';
import { MemoryLedger } from '../../src/scheduler/ledger-memory.ts';
import { startServer, type RunningServer } from '../../src/server/start.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';

const PASSWORD = 'plugin-client-pw-7Qx';
const AUTH = { username: 'opencode', password: PASSWORD };
const repoRoot = path.resolve(import.meta.dirname, '..', '..');

async function project(prefix: string, baseURL = 'http://127.0.0.1:9/v1'): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), `pantheon-${prefix}-`)));
  await fs.mkdir(path.join(dir, '.git'));
  await fs.writeFile(path.join(dir, 'opencode.json'), JSON.stringify({ model: 'p/m', provider: { p: { options: { baseURL, apiKey: 'sk-plugin-client-test' }, models: { m: {} } } } }));
  return { dir, env: { HOME: dir, XDG_CONFIG_HOME: path.join(dir, 'c'), XDG_DATA_HOME: path.join(dir, 'd'), XDG_CACHE_HOME: path.join(dir, 'k'), XDG_RUNTIME_DIR: path.join(dir, 'r') } };
}

describe('under serve: the server’s own application, in-process', () => {
  let dir: string;
  let running: RunningServer;
  let host: Host;
  const lines: string[] = [];

  beforeAll(async () => {
    const p = await project('plugin-client-serve');
    dir = p.dir;
    host = await Host.open({ cwd: dir, env: p.env, ledger: new MemoryLedger() });
    running = await startServer(host, { hostname: '127.0.0.1', port: 0, cors: [], maxBodyBytes: 1 << 20, drainMs: 1000, debug: false, heartbeatMs: 10_000, auth: AUTH }, { version: 'test', log: (line) => lines.push(line) });
  });

  afterAll(async () => {
    await running?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('app.log, session.create/list, config.get, path.get and tui.showToast answer as the server does; serverUrl is its URL', async () => {
    const { client, serverUrl } = pluginClient({ directory: dir, server: host.server, auth: AUTH });
    expect(serverUrl.href).toBe(`${running.url}/`);
    const logged = await client.app.log({ body: { service: 'my-plugin', level: 'info', message: 'loaded\nsecond line', extra: { n: 1 } } });
    expect(logged.data).toBe(true);
    expect(lines).toContain('client log: info my-plugin: loaded\\nsecond line {"n":1}');
    const created = await client.session.create({ body: { title: 'from a plugin' } });
    expect(created.response.status).toBe(200);
    const listed = await client.session.list();
    expect(listed.data?.map((s) => s.id)).toContain(created.data?.id);
    expect((await client.config.get()).data).toMatchObject({ model: 'p/m' });
    expect((await client.path.get()).data).toMatchObject({ directory: dir, worktree: dir });
    expect((await client.tui.showToast({ body: { message: 'hi', variant: 'info' } })).data).toBe(true);
  });

  it('the in-process path is behind the same password: without the credentials it is refused, in-process as over HTTP', async () => {
    const outside = await fetch(`${running.url}/session`);
    expect(outside.status).toBe(401);
    const bare = await host.server.fetch(new Request(`${running.url}/session`));
    expect(bare.status).toBe(401);
    const wrong = pluginClient({ directory: dir, server: host.server, auth: { username: 'opencode', password: 'guess' } });
    expect((await wrong.client.session.list()).response.status).toBe(401);
    const without = pluginClient({ directory: dir, server: host.server });
    expect((await without.client.path.get()).response.status).toBe(401);
    // And the right credentials, over HTTP as in-process.
    const right = await fetch(`${running.url}/session`, { headers: { authorization: `Basic ${Buffer.from(`opencode:${PASSWORD}`).toString('base64')}` } });
    expect(right.status).toBe(200);
  });

  it('event.subscribe streams from the listening server with the client’s credentials (the SDK streams over HTTP)', async () => {
    const { client } = pluginClient({ directory: dir, server: host.server, auth: AUTH });
    const controller = new AbortController();
    const subscribed = await client.event.subscribe({ signal: controller.signal, sseMaxRetryAttempts: 1 });
    try {
      const first = await subscribed.stream.next();
      expect(first.value).toMatchObject({ type: 'server.connected' });
    } finally {
      controller.abort();
    }
    // An event stream asked of the in-process server itself goes over HTTP too (the app writes streams to a socket).
    const direct = new AbortController();
    const streamed = await host.server.fetch(new Request(`${running.url}/global/event`, { headers: { authorization: `Basic ${Buffer.from(`opencode:${PASSWORD}`).toString('base64')}` }, signal: direct.signal }));
    try {
      expect(streamed.status).toBe(200);
      expect(streamed.headers.get('content-type')).toContain('text/event-stream');
      const reader = (streamed.body as ReadableStream<Uint8Array>).getReader();
      expect(Buffer.from((await reader.read()).value ?? []).toString()).toContain('server.connected');
    } finally {
      direct.abort();
    }
  });

  it('the credentials come from OPENCODE_SERVER_PASSWORD and OPENCODE_SERVER_USERNAME, as OpenCode’s plugin client takes them', () => {
    expect(serverAuth({})).toBeUndefined();
    expect(serverAuth({ OPENCODE_SERVER_PASSWORD: 'x' })).toEqual({ username: 'opencode', password: 'x' });
    expect(serverAuth({ OPENCODE_SERVER_PASSWORD: 'x', OPENCODE_SERVER_USERNAME: 'me' })).toEqual({ username: 'me', password: 'x' });
  });
});

describe('while plugins load, before the server made its application', () => {
  it('client.app.log is written; any other call is answered 503 with a sentence, not left hanging', async () => {
    const lines: string[] = [];
    const slot = new ServerSlot((line) => lines.push(line));
    const { client, serverUrl } = pluginClient({ directory: os.tmpdir(), server: slot });
    expect(serverUrl.href).toBe('http://localhost:4096/');
    expect((await client.app.log({ body: { service: 'early', level: 'warn', message: 'starting \u001b[31mred' } })).data).toBe(true);
    expect(lines).toEqual(['client log: warn early: starting \\x1b[31mred']);
    const listed = await client.session.list();
    expect(listed.response.status).toBe(503);
    expect(JSON.stringify(listed.error)).toContain('GET /session: the server does not answer yet: plugins load before it starts.');
    const bad = await client.app.log({ body: { service: 'early', level: 'loud' as 'info', message: 'x' } });
    expect(bad.response.status).toBe(400);
    expect(JSON.stringify(bad.error)).toContain('body.level: expected one of debug, info, error, warn.');
    // Once the server listens, the client made while it loaded is the server's: its URL (event streams go there).
    const config = () => (client as unknown as { _client: { getConfig(): { baseUrl?: string } } })._client.getConfig();
    expect(config().baseUrl).toBe('http://localhost:4096');
    slot.attach(() => Response.json([]), (line) => lines.push(line));
    slot.listening('http://127.0.0.1:4749');
    expect(serverUrl.href).toBe('http://localhost:4096/');
    expect(pluginClient({ directory: os.tmpdir(), server: slot }).serverUrl.href).toBe('http://127.0.0.1:4749/');
    expect(config().baseUrl).toBe('http://127.0.0.1:4749');
    expect((await client.session.list()).request.url).toMatch(/^http:\/\/127\.0\.0\.1:4749\/session\?directory=/);
  });
});

describe('a project whose plugins are loading (its instance waits for them)', () => {
  it('a call about that project is answered 503 until they loaded (it would wait for itself); other projects and log lines pass', async () => {
    const lines: string[] = [];
    const slot = new ServerSlot();
    const asked: string[] = [];
    slot.attach((request) => {
      asked.push(new URL(request.url).pathname);
      return Response.json([]);
    }, (line) => lines.push(line));
    let loaded!: () => void;
    slot.loading('/work/loading project', new Promise<void>((resolve) => (loaded = resolve)));
    const loading = pluginClient({ directory: '/work/loading project', server: slot }).client;
    const other = pluginClient({ directory: '/work/other', server: slot }).client;
    const refused = await loading.session.list();
    expect(refused.response.status).toBe(503);
    expect(JSON.stringify(refused.error)).toContain('GET /session: the project /work/loading project is still loading its plugins.');
    // A POST names its project in the header (URL-encoded), not the query.
    expect((await loading.session.create({ body: {} })).response.status).toBe(503);
    expect((await other.session.list()).response.status).toBe(200);
    expect((await loading.app.log({ body: { service: 'p', level: 'info', message: 'loading' } })).response.status).toBe(200);
    expect(asked).toEqual(['/session', '/log']);
    loaded();
    await new Promise((resolve) => setImmediate(resolve));
    expect((await loading.session.list()).response.status).toBe(200);
    expect(asked).toEqual(['/session', '/log', '/session']);
  });
});

describe('under run: a log line at once, OpenCode’s API made over the run’s core on the first other call', () => {
  let dir: string;
  let runtime: Runtime;
  let closes = 0;
  let server: RunServer;

  beforeAll(async () => {
    const p = await project('plugin-client-run');
    dir = p.dir;
    const loaded = await loadConfig({ cwd: dir, env: p.env });
    runtime = await openRuntime(loaded.config, { env: p.env, ledger: new MemoryLedger() });
    const close = runtime.close.bind(runtime);
    runtime.close = () => {
      closes++;
      return close();
    };
    server = runServer({ cwd: dir, env: p.env, loaded, runtime, version: 'test' });
  });

  afterAll(async () => {
    await server?.close();
    await runtime?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('the SDK is loaded on the first call, not when the client is made; app.log makes no server', async () => {
    const load = vi.fn(() => import('@opencode-ai/sdk/client'));
    const { client, serverUrl } = pluginClient({ directory: dir, server, load });
    // Reaching into it loads nothing either.
    const session = client.session;
    expect(typeof session.list).toBe('function');
    expect(load).not.toHaveBeenCalled();
    expect(serverUrl.href).toBe('http://localhost:4096/');
    const notes: string[] = [];
    setDebugSink((text) => notes.push(text));
    const written = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect((await client.app.log({ body: { service: 'p', level: 'info', message: 'quiet' } })).data).toBe(true);
      expect((await client.app.log({ body: { service: 'p', level: 'error', message: 'loud' } })).data).toBe(true);
      expect(written.mock.calls.map((c) => String(c[0]))).toEqual(['client log: error p: loud\n']);
    } finally {
      written.mockRestore();
      setDebugSink(undefined);
    }
    expect(notes).toEqual(['client log: info p: quiet']);
    expect(load).toHaveBeenCalledTimes(1);
    expect(server.made).toBe(false);
    // A method got before the load works after it (bound to its owner).
    expect((await session.list()).response.status).toBe(200);
    expect(server.made).toBe(true);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('session.list, config.get, path.get and tui.showToast answer; an event stream is refused with a sentence', async () => {
    const { client } = pluginClient({ directory: dir, server });
    const created = await client.session.create({ body: { title: 'from a run’s plugin' } });
    expect((await client.session.list()).data?.map((s) => s.id)).toContain(created.data?.id);
    expect((await client.config.get()).data).toMatchObject({ model: 'p/m' });
    expect((await client.path.get()).data).toMatchObject({ directory: dir, worktree: dir });
    expect((await client.tui.showToast({ body: { message: 'no TUI', variant: 'info' } })).data).toBe(true);
    const stream = await server.fetch(new Request('http://localhost:4096/event'));
    expect(stream.status).toBe(501);
    expect(JSON.stringify(await stream.json())).toContain('GET /event: opencode run has no server to stream events from.');
    // Disposing the project's instance lets the run's pieces be: the next call opens one of its own.
    expect((await client.instance.dispose()).data).toBe(true);
    expect(closes).toBe(0);
    expect((await client.path.get()).data).toMatchObject({ directory: dir });
  });

  it('its close leaves the run’s runtime to the run; a call after it is answered 503', async () => {
    await server.close();
    expect(closes).toBe(0);
    const { client } = pluginClient({ directory: dir, server });
    const after = await client.session.list();
    expect(after.response.status).toBe(503);
    expect(JSON.stringify(after.error)).toContain('GET /session: the run has ended.');
  });
});

describe('under run: a plugin’s session.prompt', () => {
  it('runs a turn on the run’s own runtime (its scheduler), answered as under serve', async () => {
    const upstream: ScriptedServer = await startScriptedServer({ apiKey: 'sk-plugin-client-test' });
    const p = await project('plugin-client-prompt', upstream.url);
    const loaded = await loadConfig({ cwd: p.dir, env: p.env });
    const runtime = await openRuntime(loaded.config, { env: p.env, ledger: new MemoryLedger() });
    const scheduled = vi.spyOn(runtime.scheduler, 'execute');
    const server = runServer({ cwd: p.dir, env: p.env, loaded, runtime, version: 'test' });
    try {
      const { client } = pluginClient({ directory: p.dir, server });
      const id = (await client.session.create({ body: {} })).data?.id ?? '';
      const answered = await client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'from a plugin' }] } });
      expect(answered.data?.parts.find((part) => part.type === 'text')).toMatchObject({ text: 'echo: from a plugin' });
      expect(scheduled).toHaveBeenCalled();
      const messages = await client.session.messages({ path: { id } });
      expect(messages.data?.map((m) => m.info.role)).toEqual(['user', 'assistant']);
    } finally {
      await server.close();
      await runtime.close();
      await upstream.close();
      await fs.rm(p.dir, { recursive: true, force: true });
    }
  });
});

describe('making the client loads nothing heavy', () => {
  it('neither the SDK nor the server is imported by making it and reaching into it; app.log under run loads the SDK only', () => {
    // Node runs the TypeScript sources itself; a resolve hook records every module the process loads.
    const script = `
      import { registerHooks } from 'node:module';
      const seen = [];
      registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r; } });
      const heavy = () => ({ sdk: seen.some((u) => u.includes('@opencode-ai')), hono: seen.some((u) => u.includes('/hono/')), app: seen.some((u) => u.endsWith('/src/server/app.ts')), host: seen.some((u) => u.endsWith('/src/core/host.ts')) });
      const { pluginClient } = await import(${JSON.stringify(path.join(repoRoot, 'src/plugins/plugin-client.ts'))});
      const { runServer } = await import(${JSON.stringify(path.join(repoRoot, 'src/plugins/run-server.ts'))});
      const server = runServer({ env: {}, loaded: {}, runtime: {}, version: '0', log: () => undefined });
      const { client } = pluginClient({ directory: process.cwd(), server });
      void client.session.list;
      const made = heavy();
      await client.app.log({ body: { service: 'p', level: 'info', message: 'm' } });
      console.log(JSON.stringify({ made, logged: heavy() }));
    `;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 });
    expect(result.stderr).not.toMatch(/Error/);
    const { made, logged } = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, Record<string, boolean>>;
    expect(made).toEqual({ sdk: false, hono: false, app: false, host: false });
    expect(logged).toEqual({ sdk: true, hono: false, app: false, host: false });
  });
});
