/**
 * OpenCode's file and instance routes over real HTTP through `@opencode-ai/sdk` (v1 and v2), against a
 * password-protected `opencode serve` in a real git checkout: folder listings with git's ignore
 * flags, file contents (text, binary, missing, too large), git status, text and symbol search, the
 * projects, client log lines, instance dispose, the tools, /init and sharing. Shapes as OpenCode
 * 1.18.33's own server answers them (recorded offline); paths that leave the project refused.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createOpencodeClient as createV1, type File, type FileContent, type FileNode, type ToolListItem } from '@opencode-ai/sdk';
import { createOpencodeClient as createV2 } from '@opencode-ai/sdk/v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET, userText, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { basic, getJson, serve, type Served } from './serve-helper.ts';

const PASSWORD = 'open sesame, but only for tests';
const AUTH = { authorization: basic('opencode', PASSWORD) };

// The SDK types' keys, each listed: a key the SDK adds or renames fails the typecheck here.
const FILE_NODE_KEYS = { name: true, path: true, absolute: true, type: true, ignored: true } satisfies Record<keyof FileNode, true>;
const FILE_KEYS = { path: true, added: true, removed: true, status: true } satisfies Record<keyof File, true>;
const CONTENT_KEYS = { type: true, content: true, diff: true, patch: true, encoding: true, mimeType: true } satisfies Record<keyof FileContent, true>;
const TOOL_KEYS = { id: true, description: true, parameters: true } satisfies Record<keyof ToolListItem, true>;

let sb: Sandbox;
let model: ScriptedServer;
let s: Served;
let v1: ReturnType<typeof createV1>;
let v2: ReturnType<typeof createV2>;
let outside: string;

function git(...args: string[]): void {
  execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', '-c', 'commit.gpgsign=false', ...args], { cwd: sb.project, stdio: 'ignore' });
}

function write(rel: string, content: string | Buffer): void {
  fs.mkdirSync(path.dirname(path.join(sb.project, rel)), { recursive: true });
  fs.writeFileSync(path.join(sb.project, rel), content);
}

beforeAll(async () => {
  model = await startScriptedServer({ apiKey: SECRET, models: { m: {} } });
  sb = await sandbox({ git: false });
  sb.write('opencode.json', { ...providerConfig(model, { m: {} }), model: 'p/m', cache: { enabled: false } });
  write('.gitignore', '*.log\nbuild/\n');
  write('README.md', 'readme\n');
  write('src/app.ts', 'export const greeting = "hello";\n// TODO: é, say hello to people\n');
  write('many/needles.txt', 'needle and needle\n'.repeat(30));
  write('src/gone.ts', 'one\ntwo\n');
  write('notes.txt', 'first\nsecond\nthird\n');
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'start');
  write('notes.txt', 'first\nsecond changed\nthird\nfourth\n');
  fs.rmSync(path.join(sb.project, 'src/gone.ts'));
  write('staged.ts', 'a\nb\n');
  git('add', 'staged.ts');
  write('fresh.md', 'x\ny\nz');
  // Over the 1 MB that text search reads and that status counts lines of.
  write('huge-notes.txt', 'needle\n'.repeat(150_000));
  write('debug.log', 'hello from a log\n');
  write('build/out.js', 'hello from a build\n');
  write('pic.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]));
  write('latin1.txt', Buffer.from([0x63, 0x61, 0x66, 0xe9]));
  outside = path.join(sb.root, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'not for clients');
  fs.symlinkSync(outside, path.join(sb.project, 'escape'));
  fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(sb.project, 'secret-link.txt'));
  fs.symlinkSync(path.join(sb.project, 'src'), path.join(sb.project, 'src-link'));
  s = await serve(sb, [], { OPENCODE_SERVER_PASSWORD: PASSWORD });
  v1 = createV1({ baseUrl: s.url, directory: sb.project, headers: AUTH });
  v2 = createV2({ baseUrl: s.url, directory: sb.project, headers: AUTH });
});

afterAll(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
});

describe('GET /file', () => {
  it('lists a folder as OpenCode does: folders first, then by name, no symlinks, git’s ignore flags', async () => {
    const { data, response } = await v1.file.list({ query: { path: '' } });
    expect(response.status).toBe(200);
    const nodes = data as FileNode[];
    for (const node of nodes) expect(Object.keys(node).sort()).toEqual(Object.keys(FILE_NODE_KEYS).sort());
    expect(nodes.map((n) => n.path)).toEqual(['.git/', 'build/', 'many/', 'src/', '.gitignore', 'debug.log', 'fresh.md', 'huge-notes.txt', 'latin1.txt', 'notes.txt', 'opencode.json', 'pic.png', 'README.md', 'staged.ts']);
    expect(nodes.find((n) => n.name === 'build')).toEqual({ name: 'build', path: 'build/', absolute: path.join(sb.project, 'build'), type: 'directory', ignored: true });
    expect(nodes.find((n) => n.name === 'debug.log')?.ignored).toBe(true);
    expect(nodes.filter((n) => n.ignored).map((n) => n.name)).toEqual(['build', 'debug.log']);
    const sub = await v2.file.list({ path: 'src' });
    expect(sub.data).toEqual([{ name: 'app.ts', path: 'src/app.ts', absolute: path.join(sb.project, 'src/app.ts'), type: 'file', ignored: false }]);
    // A symlink inside the project may be walked through, as OpenCode allows; its entries keep the path asked for.
    expect((await v1.file.list({ query: { path: 'src-link' } })).data).toEqual([{ name: 'app.ts', path: 'src-link/app.ts', absolute: path.join(sb.project, 'src-link/app.ts'), type: 'file', ignored: false }]);
  });

  it('refuses paths out of the project (.., absolute elsewhere, a symlink out) with a 403 naming the parameter; a file or a missing folder is named too', async () => {
    for (const given of ['..', '../outside', outside, 'escape', 'src/../../outside']) {
      const r = await v1.file.list({ query: { path: given } });
      expect(r.response.status, given).toBe(403);
      expect(r.error).toMatchObject({ name: 'ForbiddenError', data: { code: 'PATH_OUTSIDE_PROJECT', field: 'path', message: expect.stringContaining('query parameter "path"') } });
    }
    expect(JSON.stringify((await v1.file.list({ query: { path: 'escape' } })).error)).not.toContain('secret');
    const file = await v1.file.list({ query: { path: 'README.md' } });
    expect(file.response.status).toBe(400);
    expect(file.error).toMatchObject({ data: { field: 'path', message: 'query parameter "path": "README.md" is a file, not a folder.' } });
    expect((await v1.file.list({ query: { path: 'nope' } })).response.status).toBe(404);
    const missing = await getJson(`${s.url}/file`, { headers: { ...AUTH, 'x-opencode-directory': encodeURIComponent(sb.project) } });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ name: 'BadRequest', data: { field: 'path', message: 'query parameter "path": is required.' } });
  });

  it('answers at most 5,000 entries of a folder, and says so in a header', async () => {
    const big = path.join(sb.project, 'build', 'many');
    fs.mkdirSync(big, { recursive: true });
    for (let i = 0; i <= 5_000; i++) fs.writeFileSync(path.join(big, `f${i}`), '');
    const r = await v1.file.list({ query: { path: 'build/many' } });
    expect(r.response.status).toBe(200);
    expect((r.data as FileNode[]).length).toBe(5_000);
    expect(r.response.headers.get('x-pantheon-truncated')).toBe('true');
    expect((await v1.file.list({ query: { path: 'src' } })).response.headers.get('x-pantheon-truncated')).toBeNull();
    fs.rmSync(big, { recursive: true });
  });
});

describe('GET /file/content', () => {
  it('text trimmed, binary as base64 with its MIME type, a missing file as empty text', async () => {
    const text = await v1.file.read({ query: { path: 'notes.txt' } });
    expect(text.data).toEqual({ type: 'text', content: 'first\nsecond changed\nthird\nfourth' });
    for (const key of Object.keys(text.data as object)) expect(Object.keys(CONTENT_KEYS)).toContain(key);
    const png = await v2.file.read({ path: 'pic.png' });
    expect(png.data).toEqual({ type: 'binary', content: fs.readFileSync(path.join(sb.project, 'pic.png')).toString('base64'), encoding: 'base64', mimeType: 'image/png' });
    // Not UTF-8 (OpenCode 1.18.33 fails with a 500 here): binary.
    expect((await v1.file.read({ query: { path: 'latin1.txt' } })).data).toEqual({ type: 'binary', content: Buffer.from([0x63, 0x61, 0x66, 0xe9]).toString('base64'), encoding: 'base64', mimeType: 'application/octet-stream' });
    expect((await v1.file.read({ query: { path: 'no/such.txt' } })).data).toEqual({ type: 'text', content: '' });
    expect((await v1.file.read({ query: { path: path.join(sb.project, 'README.md') } })).data).toEqual({ type: 'text', content: 'readme' });
    expect((await v1.file.read({ query: { path: 'src-link/app.ts' } })).data).toMatchObject({ type: 'text', content: expect.stringContaining('greeting') });
  });

  it('refuses a symlink out of the project, `..` and absolute paths elsewhere (403), and a folder (400)', async () => {
    for (const given of ['secret-link.txt', 'escape/secret.txt', '../outside/secret.txt', path.join(outside, 'secret.txt')]) {
      const r = await v1.file.read({ query: { path: given } });
      expect(r.response.status, given).toBe(403);
      expect(r.error).toMatchObject({ data: { code: 'PATH_OUTSIDE_PROJECT', field: 'path' } });
      expect(JSON.stringify(r.error)).not.toContain('not for clients');
    }
    const folder = await v1.file.read({ query: { path: 'src' } });
    expect(folder.response.status).toBe(400);
    expect(folder.error).toMatchObject({ data: { field: 'path', message: 'query parameter "path": "src" is a folder, not a file.' } });
  });

  it('refuses a file over 5 MB with a 400 naming it, without reading it', async () => {
    const huge = path.join(sb.project, 'build', 'huge.bin');
    fs.writeFileSync(huge, '');
    fs.truncateSync(huge, 5 * 1024 * 1024 + 1);
    const r = await v1.file.read({ query: { path: 'build/huge.bin' } });
    expect(r.response.status).toBe(400);
    expect(r.error).toMatchObject({ data: { code: 'FILE_TOO_LARGE', field: 'path', message: 'query parameter "path": "build/huge.bin" is 5,242,881 bytes, over the 5,242,880 bytes GET /file/content reads.' } });
    fs.rmSync(huge);
  });
});

describe('GET /file/status', () => {
  it('the changes since the last commit, then the untracked files, as OpenCode’s File', async () => {
    const { data } = await v1.file.status();
    const files = data as File[];
    for (const file of files) expect(Object.keys(file).sort()).toEqual(Object.keys(FILE_KEYS).sort());
    expect(files).toEqual([
      { path: 'notes.txt', added: 2, removed: 1, status: 'modified' },
      { path: 'src/gone.ts', added: 0, removed: 2, status: 'deleted' },
      { path: 'staged.ts', added: 2, removed: 0, status: 'added' },
      { path: 'escape', added: 0, removed: 0, status: 'added' },
      { path: 'fresh.md', added: 3, removed: 0, status: 'added' },
      { path: 'huge-notes.txt', added: 0, removed: 0, status: 'added' },
      { path: 'latin1.txt', added: 1, removed: 0, status: 'added' },
      { path: 'pic.png', added: 0, removed: 0, status: 'added' },
      { path: 'secret-link.txt', added: 0, removed: 0, status: 'added' },
      { path: 'src-link', added: 0, removed: 0, status: 'added' },
    ]);
    // Relative to the folder asked about, and only its changes.
    expect((await createV1({ baseUrl: s.url, directory: path.join(sb.project, 'src'), headers: AUTH }).file.status()).data).toEqual([{ path: 'gone.ts', added: 0, removed: 2, status: 'deleted' }]);
  });

  it('a page of another site does not get git run: /file/status refused, /file without ignore flags', async () => {
    const crossSite = { ...AUTH, 'sec-fetch-site': 'cross-site', 'x-opencode-directory': encodeURIComponent(sb.project) };
    const status = await getJson(`${s.url}/file/status`, { headers: crossSite });
    expect(status.status).toBe(403);
    expect(status.body).toMatchObject({ data: { code: 'FORBIDDEN_ORIGIN' } });
    const listed = await getJson(`${s.url}/file?path=`, { headers: crossSite });
    expect(listed.status).toBe(200);
    expect((listed.body as FileNode[]).some((n) => n.name === 'build')).toBe(true);
    expect((listed.body as FileNode[]).filter((n) => n.ignored)).toEqual([]);
  });

  it('a folder whose git status runs past 16 MiB answers its first 2,000 files and says so (was a 500: git\'s output was buffered whole)', async () => {
    const repo = path.join(sb.root, 'long-names');
    // 14 folders of 250 characters: each untracked file's path is ~3,800 bytes, 4,600 of them ~17 MiB of `git ls-files`.
    const deep = path.join(repo, ...Array.from({ length: 14 }, (_, i) => `${String(i)}${'d'.repeat(249)}`));
    fs.mkdirSync(deep, { recursive: true });
    for (let i = 0; i < 4_600; i++) fs.writeFileSync(path.join(deep, `${String(i).padStart(4, '0')}${'f'.repeat(240)}`), '');
    execFileSync('git', ['init', '-q'], { cwd: repo });
    const r = await createV1({ baseUrl: s.url, directory: repo, headers: AUTH }).file.status();
    expect(r.response.status).toBe(200);
    const files = r.data as File[];
    expect(files).toHaveLength(2_000);
    expect(files[0]).toEqual({ path: path.relative(repo, path.join(deep, `0000${'f'.repeat(240)}`)), added: 0, removed: 0, status: 'added' });
    expect(r.response.headers.get('x-pantheon-truncated')).toBe('true');
    fs.rmSync(repo, { recursive: true });
  });

  it('more than 2,000 changed files: the first 2,000 in git\'s order, each with its own counts', async () => {
    const repo = path.join(sb.root, 'many-changes');
    fs.mkdirSync(path.join(repo, 'd'), { recursive: true });
    for (let i = 0; i < 2_001; i++) fs.writeFileSync(path.join(repo, 'd', `f${String(i).padStart(4, '0')}.txt`), 'x\n'.repeat(1 + (i % 3)));
    const inRepo = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', '-c', 'commit.gpgsign=false', ...args], { cwd: repo, stdio: 'ignore' });
    inRepo('init', '-q');
    inRepo('add', '-A');
    inRepo('commit', '-qm', 'start');
    fs.rmSync(path.join(repo, 'd'), { recursive: true });
    fs.writeFileSync(path.join(repo, 'untracked.txt'), 'u\n');
    const r = await createV1({ baseUrl: s.url, directory: repo, headers: AUTH }).file.status();
    const files = r.data as File[];
    expect(files).toHaveLength(2_000);
    expect(files.slice(0, 4)).toEqual([0, 1, 2, 3].map((i) => ({ path: `d/f${String(i).padStart(4, '0')}.txt`, added: 0, removed: 1 + (i % 3), status: 'deleted' })));
    expect(files.at(-1)).toEqual({ path: 'd/f1999.txt', added: 0, removed: 1 + (1999 % 3), status: 'deleted' });
    expect(r.response.headers.get('x-pantheon-truncated')).toBe('true');
    // Under the cap: everything, and no header.
    fs.mkdirSync(path.join(repo, 'd'));
    for (let i = 2; i < 2_001; i++) fs.writeFileSync(path.join(repo, 'd', `f${String(i).padStart(4, '0')}.txt`), 'x\n'.repeat(1 + (i % 3)));
    const under = await createV1({ baseUrl: s.url, directory: repo, headers: AUTH }).file.status();
    expect(under.data).toEqual([
      { path: 'd/f0000.txt', added: 0, removed: 1, status: 'deleted' },
      { path: 'd/f0001.txt', added: 0, removed: 2, status: 'deleted' },
      { path: 'untracked.txt', added: 1, removed: 0, status: 'added' },
    ]);
    expect(under.response.headers.get('x-pantheon-truncated')).toBeNull();
    fs.rmSync(repo, { recursive: true });
  });

  it('is empty outside a git checkout', async () => {
    const plain = path.join(sb.root, 'plain');
    fs.mkdirSync(plain);
    fs.writeFileSync(path.join(plain, 'a.txt'), 'a\n');
    expect((await createV1({ baseUrl: s.url, directory: plain, headers: AUTH }).file.status()).data).toEqual([]);
  });
});

describe('GET /find and GET /find/symbol', () => {
  it('finds text as ripgrep’s JSON matches (byte offsets), skipping ignored files and files over 1 MB; at most 10', async () => {
    const { data } = await v1.find.text({ query: { pattern: 'hel+o' } });
    expect(data).toEqual([
      {
        path: { text: 'src/app.ts' },
        lines: { text: 'export const greeting = "hello";\n' },
        line_number: 1,
        absolute_offset: 0,
        submatches: [{ match: { text: 'hello' }, start: 25, end: 30 }],
      },
      {
        path: { text: 'src/app.ts' },
        lines: { text: '// TODO: é, say hello to people\n' },
        line_number: 2,
        absolute_offset: 33,
        submatches: [{ match: { text: 'hello' }, start: 17, end: 22 }],
      },
    ]);
    const found = (await v2.find.text({ pattern: 'needle' })).data as { line_number: number; absolute_offset: number; submatches: { start: number }[] }[];
    expect(found).toHaveLength(10);
    expect(found[3]).toMatchObject({ path: { text: 'many/needles.txt' }, line_number: 4, absolute_offset: 54, submatches: [{ start: 0 }, { start: 11 }] });
  });

  it('a pattern that is not a regular expression, or none, is a 400 naming it', async () => {
    const bad = await v1.find.text({ query: { pattern: '(unclosed' } });
    expect(bad.response.status).toBe(400);
    expect(bad.error).toMatchObject({ data: { field: 'pattern', message: expect.stringContaining('query parameter "pattern": "(unclosed" is not a regular expression') } });
    expect((await v1.find.text({ query: { pattern: '' } })).response.status).toBe(400);
  });

  it('symbols: none without a language server, as OpenCode answers; the query is still required', async () => {
    expect((await v1.find.symbols({ query: { query: 'greeting' } })).data).toEqual([]);
    expect((await getJson(`${s.url}/find/symbol`, { headers: AUTH })).status).toBe(400);
  });
});

describe('projects, log, dispose, tools', () => {
  it('GET /project lists the projects open, the request’s first', async () => {
    const projects = (await v1.project.list()).data as { id: string; worktree: string; vcs?: string; time: { created: number } }[];
    expect(projects[0]).toMatchObject({ worktree: sb.project, vcs: 'git', time: { created: expect.any(Number) } });
    expect(projects[0]?.id).toBe(((await v1.project.current()).data as { id: string }).id);
  });

  it('POST /log writes one escaped line to the server’s log and answers true; a bad level is a 400 naming it', async () => {
    const r = await v1.app.log({ body: { service: 'web\u001b[2J', level: 'warn', message: 'line one\nforged: line two \u001b[31mred\u202e', extra: { n: 1 } } });
    expect(r.data).toBe(true);
    const stderr = await s.proc.stderrMatches(/client log: warn/);
    expect(stderr).toContain('client log: warn web\\x1b[2J: line one\\nforged: line two \\x1b[31mred\\u202e {"n":1}');
    expect(stderr).not.toContain('\u001b');
    const bad = await v1.app.log({ body: { service: 'web', level: 'loud' as 'info', message: 'x' } });
    expect(bad.response.status).toBe(400);
    expect(bad.error).toMatchObject({ data: { field: 'level' } });
  });

  it('the tools Pantheon offers: their ids, and with their JSON Schemas (provider and model required)', async () => {
    const ids = (await v1.tool.ids()).data as string[];
    expect(ids).toEqual(expect.arrayContaining(['read', 'list', 'glob', 'grep', 'write', 'edit', 'bash', 'webfetch', 'task', 'todowrite', 'todoread']));
    const tools = (await v2.tool.list({ provider: 'p', model: 'm' })).data as ToolListItem[];
    expect(tools.map((t) => t.id)).toEqual(ids);
    for (const tool of tools) expect(Object.keys(tool).sort()).toEqual(Object.keys(TOOL_KEYS).sort());
    expect(tools.find((t) => t.id === 'grep')?.parameters).toMatchObject({ type: 'object', required: ['pattern'] });
    const missing = await getJson(`${s.url}/experimental/tool?provider=p`, { headers: AUTH });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ data: { field: 'model' } });
  });
});

describe('sessions: /init and sharing', () => {
  it('POST /session/{id}/init runs OpenCode’s /init with the body’s model; after a dispose, the config’s own init command', async () => {
    const id = ((await v1.session.create({ body: {} })).data as { id: string }).id;
    const r = await v1.session.init({ path: { id }, body: { providerID: 'p', modelID: 'm', messageID: 'msg_init0001' } });
    expect(r.response.status).toBe(200);
    expect(r.data).toBe(true);
    const sent = userText(model.log.at(-1));
    expect(sent).toContain('Create or update `AGENTS.md` for this repository.');
    expect(sent).toContain(`If \`AGENTS.md\` already exists at \`${sb.project}\``);
    const messages = (await v1.session.messages({ path: { id } })).data as { info: { id: string; role: string } }[];
    expect(messages.map((m) => m.info.role)).toEqual(['user', 'assistant']);
    expect(messages[0]?.info.id).toBe('msg_init0001');

    sb.write('opencode.json', { ...providerConfig(model, { m: {} }), model: 'p/m', cache: { enabled: false }, command: { init: { template: 'Our own init, arguments: [$ARGUMENTS]' } } });
    expect((await v1.session.init({ path: { id }, body: { providerID: 'p', modelID: 'm', messageID: 'msg_init0002' } })).data).toBe(true);
    // The instance still has the config it read first.
    expect(userText(model.log.at(-1))).toContain('Create or update `AGENTS.md`');
    expect((await v1.instance.dispose()).data).toBe(true);
    expect((await v1.session.init({ path: { id }, body: { providerID: 'p', modelID: 'm', messageID: 'msg_init0003' } })).data).toBe(true);
    expect(userText(model.log.at(-1))).toBe('Our own init, arguments: []');

    const missing = await v1.session.init({ path: { id }, body: { providerID: 'p', messageID: 'msg_x' } as never });
    expect(missing.response.status).toBe(400);
    expect(missing.error).toMatchObject({ data: { field: 'modelID' } });
    expect((await v1.session.init({ path: { id: 'ses_nope' }, body: { providerID: 'p', modelID: 'm', messageID: 'msg_init0004' } })).response.status).toBe(404);
  });

  it('sharing: refused with a sentence saying Pantheon does not share; unsharing answers the session, never shared; /config says share is disabled', async () => {
    const id = ((await v1.session.create({ body: {} })).data as { id: string }).id;
    const shared = await v1.session.share({ path: { id } });
    expect(shared.response.status).toBe(400);
    expect(shared.error).toMatchObject({ name: 'BadRequest', data: { code: 'SHARING_UNSUPPORTED', message: expect.stringContaining('Pantheon does not share sessions') } });
    const unshared = await v2.session.unshare({ sessionID: id });
    expect(unshared.response.status).toBe(200);
    expect(unshared.data).toMatchObject({ id });
    expect((unshared.data as { share?: unknown }).share).toBeUndefined();
    expect((await v1.session.share({ path: { id: 'ses_nope' } })).response.status).toBe(404);
    expect(((await v1.config.get()).data as { share?: string }).share).toBe('disabled');
  });
});

describe('auth and the OpenAPI document', () => {
  it('every new route is refused without the password, and documented at /doc', async () => {
    const routes: [string, string][] = [
      ['GET', '/file?path='],
      ['GET', '/file/content?path=README.md'],
      ['GET', '/file/status'],
      ['GET', '/find?pattern=x'],
      ['GET', '/find/symbol?query=x'],
      ['GET', '/project'],
      ['GET', '/project/x/directories'],
      ['POST', '/log'],
      ['POST', '/instance/dispose'],
      ['GET', '/experimental/tool/ids'],
      ['GET', '/experimental/tool?provider=p&model=m'],
      ['POST', '/session/ses_x/init'],
      ['POST', '/session/ses_x/share'],
      ['DELETE', '/session/ses_x/share'],
    ];
    for (const [method, route] of routes) {
      const r = await fetch(`${s.url}${route}`, { method, headers: { 'content-type': 'application/json' }, ...(method === 'POST' ? { body: '{}' } : {}) });
      expect(r.status, `${method} ${route}`).toBe(401);
      await r.arrayBuffer();
    }
    const doc = (await getJson(`${s.url}/doc`, { headers: AUTH })).body as { paths: Record<string, Record<string, { operationId: string; description?: string }>> };
    const ops = Object.fromEntries(Object.entries(doc.paths).flatMap(([p, methods]) => Object.entries(methods).map(([m, op]) => [`${m} ${p}`, op])));
    for (const [key, operationId] of Object.entries({
      'get /file': 'file.list',
      'get /file/content': 'file.read',
      'get /file/status': 'file.status',
      'get /find': 'find.text',
      'get /find/symbol': 'find.symbols',
      'get /project': 'project.list',
      'get /project/{projectID}/directories': 'project.directories',
      'post /log': 'app.log',
      'post /instance/dispose': 'instance.dispose',
      'get /experimental/tool/ids': 'tool.ids',
      'get /experimental/tool': 'tool.list',
      'post /session/{sessionID}/init': 'session.init',
      'post /session/{sessionID}/share': 'session.share',
      'delete /session/{sessionID}/share': 'session.unshare',
    })) {
      expect(ops[key]?.operationId, key).toBe(operationId);
    }
    expect(ops['get /file']?.description).toContain('5,000 entries');
    expect(ops['get /file/content']?.description).toContain('5,242,880 bytes');
  });
});
