/**
 * What OpenCode's TUI asks a server for when it attaches (`opencode attach URL`; seen with
 * OpenCode 1.18.33 against `opencode serve`), through `@opencode-ai/sdk`'s v1 and v2 clients: the
 * agents with the default one first (the TUI starts with the first), the custom commands of its
 * `/` menu, the file search of its `@` mentions, the MCP servers' status, the git branch and the
 * project; bad parameters answered with a 400 naming them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createOpencodeClient as createV1 } from '@opencode-ai/sdk';
import { createOpencodeClient as createV2 } from '@opencode-ai/sdk/v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEMORY_SERVER } from '../doctor/helper.ts';
import { sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { getJson, serve, type Served } from './serve-helper.ts';

let sb: Sandbox;
let s: Served;
let v1: ReturnType<typeof createV1>;
let v2: ReturnType<typeof createV2>;

beforeAll(async () => {
  sb = await sandbox();
  sb.write('opencode.json', {
    model: 'p/m',
    provider: { p: { options: { baseURL: 'http://127.0.0.1:9/v1' }, models: { m: {} } } },
    command: {
      review: { template: 'Review $1 against $2, then $ARGUMENTS', description: 'Review a change', agent: 'momus', model: 'p/m:high' },
      plain: { template: 'Say hi' },
    },
    mcp: {
      memory: { type: 'local', command: [MEMORY_SERVER] },
      off: { type: 'local', command: [MEMORY_SERVER], enabled: false },
      broken: { type: 'local', command: [path.join(sb.project, 'no-such-server')] },
    },
  });
  const files = ['src/server/index.ts', 'src/app.ts', 'README.md', 'docs/guide/setup.md', 'node_modules/dep/index.js', 'build.log', '.git/config'];
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(sb.project, file)), { recursive: true });
    fs.writeFileSync(path.join(sb.project, file), 'x');
  }
  fs.mkdirSync(path.join(sb.project, '.opencode', 'command'), { recursive: true });
  fs.writeFileSync(path.join(sb.project, '.opencode', 'command', 'ship.md'), '---\ndescription: Ship it\n---\nShip $1 now\n');
  fs.writeFileSync(path.join(sb.project, '.gitignore'), '*.log\n');
  fs.writeFileSync(path.join(sb.project, '.git', 'HEAD'), 'ref: refs/heads/feature/tui\n');
  s = await serve(sb);
  v1 = createV1({ baseUrl: s.url, directory: sb.project });
  v2 = createV2({ baseUrl: s.url, directory: sb.project });
});

afterAll(async () => {
  await s?.stop();
  await sb?.remove();
});

describe('the routes OpenCode’s TUI asks for', () => {
  it('agents: the default agent first (the one the TUI starts with), the others by name', async () => {
    const names = ((await v1.app.agents()).data ?? []).map((a) => a.name);
    expect(names[0]).toBe('sisyphus');
    const rest = names.slice(1);
    expect(rest).toEqual([...rest].sort());
    const own = await sandbox();
    own.write('opencode.json', { model: 'p/m', provider: { p: { options: { baseURL: 'http://127.0.0.1:9/v1' }, models: { m: {} } } }, default_agent: 'plan' });
    const other = await serve(own);
    try {
      const listed = (await createV1({ baseUrl: other.url, directory: own.project }).app.agents()).data ?? [];
      expect(listed[0]?.name).toBe('plan');
    } finally {
      await other.stop();
      await own.remove();
    }
  });

  it('commands: OpenCode’s built-in init, the config’s and the markdown files’ (the config’s review in place of the built-in), with the placeholders each takes (v1), and as v2 lists them', async () => {
    const { data } = await v1.command.list();
    expect(data).toEqual([
      { name: 'init', template: expect.stringContaining(`If \`AGENTS.md\` already exists at \`${sb.project}\``), description: 'guided AGENTS.md setup', source: 'command', hints: ['$ARGUMENTS'] },
      { name: 'review', template: 'Review $1 against $2, then $ARGUMENTS', description: 'Review a change', agent: 'momus', model: 'p/m:high', source: 'command', hints: ['$1', '$2', '$ARGUMENTS'] },
      { name: 'plain', template: 'Say hi', source: 'command', hints: [] },
      { name: 'ship', template: 'Ship $1 now', description: 'Ship it', source: 'command', hints: ['$1'] },
    ]);
    const listed = await v2.v2.command.list({ location: { directory: sb.project } });
    expect(listed.response.status).toBe(200);
    expect(listed.data?.location).toMatchObject({ directory: sb.project, project: { directory: sb.project } });
    expect(listed.data?.data.find((c) => c.name === 'review')?.model).toEqual({ providerID: 'p', id: 'm', variant: 'high' });
    expect(listed.data?.data.map((c) => c.name)).toEqual(['init', 'review', 'plain', 'ship']);
  });

  it('file search: fuzzy, folders with a trailing slash, ignored files left out; the type, dirs and limit parameters', async () => {
    const found = (await v1.find.files({ query: { query: 'srvidx' } })).data ?? [];
    expect(found[0]).toBe('src/server/index.ts');
    const all = (await v2.find.files({ query: '', limit: 200 })).data ?? [];
    expect(all).toEqual(expect.arrayContaining(['src/', 'src/server/', 'docs/guide/', 'README.md', 'src/app.ts', '.gitignore']));
    expect(all.some((p) => p.includes('node_modules') || p.startsWith('.git/') || p.endsWith('.log'))).toBe(false);
    // Shallow entries first.
    expect(all.indexOf('README.md')).toBeLessThan(all.indexOf('src/server/index.ts'));
    const files = (await v1.find.files({ query: { query: 'src', dirs: 'false' } })).data ?? [];
    expect(files.length).toBeGreaterThan(0);
    expect(files.every((p) => !p.endsWith('/'))).toBe(true);
    const dirs = (await v2.find.files({ query: 'gd', type: 'directory' })).data ?? [];
    expect(dirs).toContain('docs/guide/');
    expect(dirs.every((p) => p.endsWith('/'))).toBe(true);
    expect(((await v2.find.files({ query: '', limit: 2 })).data ?? []).length).toBe(2);
  });

  it('file search in v2’s shape, for the folder its location names', async () => {
    const { data, response } = await v2.v2.fs.find({ location: { directory: sb.project }, query: 'setup', limit: '5' });
    expect(response.status).toBe(200);
    expect(data?.location.directory).toBe(sb.project);
    expect(data?.data[0]).toEqual({ path: 'docs/guide/setup.md', type: 'file' });
    const sub = await v2.v2.fs.find({ location: { directory: path.join(sb.project, 'src') }, query: 'index' });
    expect(sub.data?.data[0]).toEqual({ path: 'server/index.ts', type: 'file' });
  });

  it('file search of a huge folder: the walk stops at the most entries a listing keeps, says so in the log, and answers from what it found', async () => {
    // 300 folders of 100 files, searched by a server whose listings keep at most 1,000 entries.
    const tree = path.join(sb.root, 'huge');
    for (let d = 0; d < 300; d++) {
      const dir = path.join(tree, `d${String(d).padStart(3, '0')}`);
      fs.mkdirSync(dir, { recursive: true });
      for (let f = 0; f < 100; f++) fs.writeFileSync(path.join(dir, `f${f}.txt`), '');
    }
    fs.writeFileSync(path.join(tree, 'zz-top.txt'), '');
    const capped = await serve(sb, [], { PANTHEON_FIND_MAX_ENTRIES: '1000' });
    try {
      const ask = async (query: string) => (await getJson(`${capped.url}/find/file?${query}&limit=200&directory=${encodeURIComponent(tree)}`)).body as string[];
      const dirs = await ask('query=&type=directory');
      // Without the bound all 300 folders are listed (the first 200 answered); with it, the few read before it stopped.
      expect(dirs.length).toBeGreaterThan(0);
      expect(dirs.length).toBeLessThan(100);
      const logged = await capped.proc.stderrMatches(/file search: the walk of .* stopped at 1,000 entries; its ([\d,]+) entries are searched/);
      const kept = Number(/its ([\d,]+) entries are searched/.exec(logged)?.[1]?.replace(/,/g, ''));
      expect(kept).toBeLessThanOrEqual(1000);
      // The folder's own files were read first: still found.
      expect((await ask('query=zztop'))[0]).toBe('zz-top.txt');
      expect((await getJson(`${capped.url}/global/health`)).status).toBe(200);
    } finally {
      await capped.stop();
    }
  });

  it('bad search parameters: a 400 naming the parameter, in OpenCode’s error shape', async () => {
    const cases: [string, string][] = [
      ['/find/file', 'query parameter "query": is required.'],
      ['/find/file?query=a&limit=0', 'query parameter "limit": expected a whole number from 1 to 200, found "0".'],
      ['/find/file?query=a&limit=abc', 'query parameter "limit": expected a whole number from 1 to 200, found "abc".'],
      ['/find/file?query=a&type=symlink', 'query parameter "type": expected "file" or "directory", found "symlink".'],
      ['/find/file?query=a&dirs=yes', 'query parameter "dirs": expected "true" or "false", found "yes".'],
      [`/find/file?query=${'a'.repeat(1025)}`, 'query parameter "query": must be at most 1,024 characters.'],
      ['/api/fs/find?query=a&limit=500', 'query parameter "limit": expected a whole number from 1 to 200, found "500".'],
    ];
    for (const [url, message] of cases) {
      const res = await fetch(`${s.url}${url}`, { headers: { 'x-opencode-directory': sb.project } });
      expect(res.status, url).toBe(400);
      expect(JSON.stringify(await res.json()), url).toContain(message.replace(/"/g, '\\"'));
    }
    const missing = await fetch(`${s.url}/find/file?query=a&directory=${encodeURIComponent(path.join(sb.project, 'nope'))}`);
    expect(missing.status).toBe(400);
  });

  it('behind the server’s password; clients that go away before an answer leave the server serving', async () => {
    const routes = ['/command', '/api/command', '/find/file?query=src', '/api/fs/find?query=src', '/mcp', '/vcs', '/session/ses_nope/todo'];
    const guarded = await serve(sb, [], { OPENCODE_SERVER_PASSWORD: 'pw-for-the-test' });
    try {
      for (const route of routes) expect((await fetch(`${guarded.url}${route}`)).status, route).toBe(401);
      const authorization = `Basic ${Buffer.from('opencode:pw-for-the-test').toString('base64')}`;
      const headers = { authorization, 'x-opencode-directory': sb.project };
      // Each request aborted as soon as it is sent (the MCP servers of this server are not started yet: /mcp is mid-start).
      await Promise.all(routes.map(async (route) => {
        const abort = new AbortController();
        const pending = fetch(`${guarded.url}${route}`, { headers, signal: abort.signal }).catch((e: unknown) => e);
        abort.abort();
        expect(await pending).toBeInstanceOf(Error);
      }));
      expect((await fetch(`${guarded.url}/global/health`, { headers })).status).toBe(200);
      expect(((await (await fetch(`${guarded.url}/find/file?query=srvidx`, { headers })).json()) as string[])[0]).toBe('src/server/index.ts');
      expect(await (await fetch(`${guarded.url}/mcp`, { headers })).json()).toMatchObject({ memory: { status: 'connected' } });
    } finally {
      await guarded.stop();
    }
  });

  it('MCP status: servers not started yet are started; connected, disabled, failed with why', async () => {
    const { data } = await v1.mcp.status();
    expect(data?.memory).toEqual({ status: 'connected' });
    expect(data?.off).toEqual({ status: 'disabled' });
    expect(data?.broken).toMatchObject({ status: 'failed' });
    expect((data?.broken as { error: string }).error).toMatch(/no-such-server|ENOENT|not found/);
  });

  it('MCP status and tools asked by a page of another site (an <img>, a foreign Origin) start none of the folder’s servers; a client’s ask does', async () => {
    // A folder the page names: its config's MCP server, when run, leaves a mark.
    const other = await sandbox();
    const mark = path.join(other.root, 'mcp-ran');
    other.write('opencode.json', { mcp: { spy: { type: 'local', command: [process.execPath, '-e', 'require("fs").writeFileSync(process.env.MARK, "ran")'], environment: { MARK: mark } } } });
    try {
      const query = `directory=${encodeURIComponent(other.project)}`;
      const image = { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' };
      const page = { origin: 'https://evil.example' };
      for (const headers of [image, page]) {
        const status = await getJson(`${s.url}/mcp?${query}`, { headers });
        expect(status.status).toBe(200);
        expect(status.body).toEqual({ spy: { status: 'failed', error: expect.stringMatching(/^not started/) } });
        const tools = await getJson(`${s.url}/api/v1/tools?${query}`, { headers });
        expect(tools.status).toBe(200);
        expect((tools.body as { mcp_servers: unknown[] }).mcp_servers).toEqual([expect.objectContaining({ name: 'spy', state: 'idle' })]);
      }
      expect(fs.existsSync(mark)).toBe(false);
      // OpenCode's client (no Origin, no Sec-Fetch-Site) starts them, as OpenCode does.
      const { data } = await createV1({ baseUrl: s.url, directory: other.project }).mcp.status();
      expect(data?.spy).toMatchObject({ status: 'failed', error: expect.stringMatching(/exited with code 0 during start-up/) });
      expect(fs.readFileSync(mark, 'utf8')).toBe('ran');
    } finally {
      await other.remove();
    }
  });

  it('the git branch (v2’s vcs.get), the project with its vcs and times; outside a checkout, no branch and no vcs', async () => {
    expect((await v2.vcs.get()).data).toEqual({ branch: 'feature/tui' });
    const project = (await v2.project.current()).data;
    expect(project).toMatchObject({ worktree: sb.project, vcs: 'git' });
    expect(typeof project?.time.updated).toBe('number');
    const plain = await sandbox({ git: false });
    plain.write('opencode.json', { model: 'p/m', provider: { p: { options: { baseURL: 'http://127.0.0.1:9/v1' }, models: { m: {} } } } });
    const other = await serve(plain);
    try {
      const client = createV2({ baseUrl: other.url, directory: plain.project });
      expect((await client.vcs.get()).data).toEqual({});
      expect((await client.project.current()).data).not.toHaveProperty('vcs');
    } finally {
      await other.stop();
      await plain.remove();
    }
  });
});
