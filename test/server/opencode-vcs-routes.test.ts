/**
 * OpenCode's /vcs routes over real HTTP through `@opencode-ai/sdk` v2, against a password-protected
 * `opencode serve` and real git checkouts: staged, unstaged, untracked, renamed, deleted and binary
 * files; the diff's modes and context; the raw patch; a patch applied (or refused, changing
 * nothing); a folder that is not a checkout; the caps on files and patch bytes; bad parameters.
 * Shapes as OpenCode 1.18.33's own server answers them (compared offline on the same repositories).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createOpencodeClient as createV2, type VcsFileDiff, type VcsFileStatus } from '@opencode-ai/sdk/v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { basic, getJson, serve, type Served } from './serve-helper.ts';

const PASSWORD = 'vcs routes under a password';
const AUTH = { authorization: basic('opencode', PASSWORD) };
const STATUS_KEYS = { file: true, additions: true, deletions: true, status: true } satisfies Record<keyof VcsFileStatus, true>;
const DIFF_KEYS = { file: true, patch: true, additions: true, deletions: true, status: true } satisfies Record<keyof VcsFileDiff, true>;

let sb: Sandbox;
let model: ScriptedServer;
let s: Served;
let v2: ReturnType<typeof createV2>;
let repo: string;
let plain: string;
let fresh: string;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', '-c', 'commit.gpgsign=false', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8' });
}

function write(root: string, rel: string, content: string | Buffer): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), content);
}

function client(directory: string) {
  return createV2({ baseUrl: s.url, directory, headers: AUTH });
}

beforeAll(async () => {
  model = await startScriptedServer({ apiKey: SECRET, models: { m: {} } });
  sb = await sandbox({ git: false });
  sb.write('opencode.json', { ...providerConfig(model, { m: {} }), model: 'p/m', cache: { enabled: false } });
  repo = path.join(sb.root, 'repo');
  plain = path.join(sb.root, 'plain');
  fresh = path.join(sb.root, 'fresh');
  for (const dir of [repo, plain, fresh]) fs.mkdirSync(dir);
  git(repo, 'init', '-q');
  write(repo, 'mod.txt', 'a\nb\nc\n');
  write(repo, 'del.txt', 'x\ny\n');
  write(repo, 'ren.txt', 'r1\nr2\nr3\n');
  write(repo, 'staged.txt', 'keep\n');
  write(repo, 'bin.dat', Buffer.from([1, 0, 2, 0, 3]));
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'start');
  write(repo, 'mod.txt', 'a\nB\nc\nd\n');
  fs.rmSync(path.join(repo, 'del.txt'));
  git(repo, 'mv', 'ren.txt', 'renamed.txt');
  write(repo, 'staged.txt', 'keep\nmore\n');
  git(repo, 'add', 'staged.txt');
  write(repo, 'bin.dat', Buffer.from([9, 0, 9, 0, 9]));
  write(repo, 'untracked.txt', 'u1\nu2\n');
  write(repo, 'sp ace.txt', 't\n');
  write(repo, 'sub/new.txt', 'sub2\n');
  write(repo, '.gitignore', 'ignored.log\n');
  write(repo, 'ignored.log', 'not listed\n');
  git(fresh, 'init', '-q');
  write(fresh, 'a.txt', 'a\n');
  git(fresh, 'add', 'a.txt');
  write(fresh, 'b.txt', 'b\n');
  write(plain, 'file.txt', 'not in git\n');
  s = await serve(sb, [], { OPENCODE_SERVER_PASSWORD: PASSWORD });
  v2 = client(repo);
});

afterAll(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
});

const EXPECTED_STATUS = [
  { file: '.gitignore', additions: 1, deletions: 0, status: 'added' },
  { file: 'bin.dat', additions: 0, deletions: 0, status: 'modified' },
  { file: 'del.txt', additions: 0, deletions: 2, status: 'deleted' },
  { file: 'mod.txt', additions: 2, deletions: 1, status: 'modified' },
  { file: 'ren.txt', additions: 0, deletions: 3, status: 'deleted' },
  { file: 'renamed.txt', additions: 3, deletions: 0, status: 'added' },
  { file: 'sp ace.txt', additions: 1, deletions: 0, status: 'added' },
  { file: 'staged.txt', additions: 1, deletions: 0, status: 'modified' },
  { file: 'sub/new.txt', additions: 1, deletions: 0, status: 'added' },
  { file: 'untracked.txt', additions: 2, deletions: 0, status: 'added' },
];

describe('GET /vcs/status', () => {
  it('lists staged, unstaged, untracked, renamed (as deleted + added), deleted and binary files by path, with their lines', async () => {
    const r = await v2.vcs.status();
    expect(r.response.status).toBe(200);
    expect(r.data).toEqual(EXPECTED_STATUS);
    for (const item of r.data ?? []) expect(Object.keys(item).sort()).toEqual(Object.keys(STATUS_KEYS).sort());
    expect(r.response.headers.get('x-pantheon-truncated')).toBeNull();
  });

  it('paths stay relative to the repository from a folder inside it, which lists only its own files', async () => {
    expect((await client(path.join(repo, 'sub')).vcs.status()).data).toEqual([{ file: 'sub/new.txt', additions: 1, deletions: 0, status: 'added' }]);
  });

  it('a repository without a commit lists its files as added; a folder outside git answers []', async () => {
    expect((await client(fresh).vcs.status()).data).toEqual([
      { file: 'a.txt', additions: 1, deletions: 0, status: 'added' },
      { file: 'b.txt', additions: 1, deletions: 0, status: 'added' },
    ]);
    expect((await client(plain).vcs.status()).data).toEqual([]);
  });

  it('a page of another site is refused: git is not run for it (the other git reads too)', async () => {
    for (const route of ['/vcs/status', '/vcs/diff', '/vcs/diff/raw', '/experimental/worktree']) {
      const r = await getJson(`${s.url}${route}?mode=git`, { headers: { ...AUTH, 'x-opencode-directory': repo, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' } });
      expect(r.status, route).toBe(403);
      expect(JSON.stringify(r.body), route).toContain(`GET ${route}`);
    }
  });
});

describe('GET /vcs/diff', () => {
  it('mode=git: every changed file with git’s patch, the whole file as context by default', async () => {
    const r = await v2.vcs.diff({ mode: 'git' });
    expect(r.response.status).toBe(200);
    const files = r.data ?? [];
    expect(files.map(({ patch: _patch, ...rest }) => rest)).toEqual(EXPECTED_STATUS);
    for (const item of files) expect(Object.keys(item).sort()).toEqual(Object.keys(DIFF_KEYS).sort());
    const of = (file: string) => files.find((f) => f.file === file)?.patch ?? '';
    expect(of('mod.txt')).toMatch(/^diff --git a\/mod.txt b\/mod.txt\nindex [0-9a-f]+\.\.[0-9a-f]+ 100644\n--- a\/mod.txt\n\+\+\+ b\/mod.txt\n@@ -1,3 \+1,4 @@\n a\n-b\n\+B\n c\n\+d\n$/);
    expect(of('bin.dat')).toContain('Binary files a/bin.dat and b/bin.dat differ');
    expect(of('del.txt')).toContain('deleted file mode 100644');
    expect(of('untracked.txt')).toMatch(/new file mode 100644\n.*\n--- \/dev\/null\n\+\+\+ b\/untracked.txt\n@@ -0,0 \+1,2 @@\n\+u1\n\+u2\n$/);
    expect(of('sp ace.txt')).toContain('+++ b/sp ace.txt');
  });

  it('context=0 gives git’s hunks without context; mode=branch on the default branch is []', async () => {
    const r = await v2.vcs.diff({ mode: 'git', context: 0 });
    expect(r.data?.find((f) => f.file === 'mod.txt')?.patch).toContain('@@ -2 +2 @@ a\n-b\n+B\n@@ -3,0 +4 @@ c\n+d\n');
    expect((await v2.vcs.diff({ mode: 'branch' })).data).toEqual([]);
  });

  it('mode=branch on a feature branch: the changes since it left the default branch, committed or not', async () => {
    const feature = path.join(sb.root, 'feature');
    fs.mkdirSync(feature);
    git(feature, 'init', '-q');
    write(feature, 'f.txt', 'base\n');
    git(feature, 'add', '-A');
    git(feature, 'commit', '-qm', 'base');
    git(feature, 'checkout', '-qb', 'feat');
    write(feature, 'f.txt', 'base\nfeat\n');
    git(feature, 'commit', '-qam', 'feat');
    write(feature, 'w.txt', 'wt\n');
    const r = await client(feature).vcs.diff({ mode: 'branch' });
    expect(r.data?.map((f) => [f.file, f.status, f.additions])).toEqual([
      ['f.txt', 'modified', 1],
      ['w.txt', 'added', 1],
    ]);
    expect(r.data?.[0]?.patch).toContain(' base\n+feat\n');
    // The uncommitted changes only: the commit on the branch is not one.
    expect((await client(feature).vcs.diff({ mode: 'git' })).data?.map((f) => f.file)).toEqual(['w.txt']);
  });

  it('without mode, or with a bad mode or context, is a 400 naming the parameter', async () => {
    const missing = await getJson(`${s.url}/vcs/diff`, { headers: { ...AUTH, 'x-opencode-directory': repo } });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ name: 'BadRequest', data: { field: 'mode', message: 'query parameter "mode": is required.' } });
    for (const [query, field] of [['mode=svn', 'mode'], ['mode=git&context=-1', 'context'], ['mode=git&context=1.5', 'context'], ['mode=git&context=lots', 'context']] as const) {
      const r = await getJson(`${s.url}/vcs/diff?${query}`, { headers: { ...AUTH, 'x-opencode-directory': repo } });
      expect(r.status, query).toBe(400);
      expect(r.body, query).toMatchObject({ name: 'BadRequest', data: { field, message: expect.stringContaining(`query parameter "${field}"`) } });
    }
  });

  it('a folder outside git answers []; a repository without a commit diffs every file against nothing', async () => {
    expect((await client(plain).vcs.diff({ mode: 'git' })).data).toEqual([]);
    const r = await client(fresh).vcs.diff({ mode: 'git' });
    expect(r.data?.map((f) => f.file)).toEqual(['a.txt', 'b.txt']);
    expect(r.data?.[0]?.patch).toContain('+++ b/a.txt\n@@ -0,0 +1 @@\n+a\n');
  });
});

describe('GET /vcs/diff/raw', () => {
  it('one patch of the changes, then the untracked files’, that git apply takes', async () => {
    const r = await fetch(`${s.url}/vcs/diff/raw`, { headers: { ...AUTH, 'x-opencode-directory': repo } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/x-diff; charset=utf-8');
    const text = await r.text();
    const headers = [...text.matchAll(/^diff --git a\/(.+?) b\//gm)].map((m) => m[1]);
    expect(headers).toEqual(['bin.dat', 'del.txt', 'mod.txt', 'ren.txt', 'renamed.txt', 'staged.txt', '.gitignore', 'sp ace.txt', 'sub/new.txt', 'untracked.txt']);
    expect(text).toContain('@@ -1,3 +1,4 @@\n a\n-b\n+B\n c\n+d\n');
    // Applied in reverse to the tree it came from, it checks out (the patch is git's own).
    expect(() => execFileSync('git', ['apply', '--check', '--reverse', '--exclude=bin.dat', '-'], { cwd: repo, input: text })).not.toThrow();
    const outside = await fetch(`${s.url}/vcs/diff/raw`, { headers: { ...AUTH, 'x-opencode-directory': plain } });
    expect([outside.status, await outside.text()]).toEqual([200, '']);
  });
});

describe('POST /vcs/apply', () => {
  let target: string;
  beforeAll(() => {
    target = path.join(sb.root, 'target');
    fs.mkdirSync(target);
    git(target, 'init', '-q');
    write(target, 'one.txt', 'one\n');
    write(target, 'two.txt', 'two\n');
    git(target, 'add', '-A');
    git(target, 'commit', '-qm', 'start');
  });
  const patchOf = (file: string, before: string, after: string) => `diff --git a/${file} b/${file}\n--- a/${file}\n+++ b/${file}\n@@ -1 +1 @@\n-${before}\n+${after}\n`;

  it('applies a patch to the working tree, and the same patch again is refused (not-clean) with nothing changed', async () => {
    const c = client(target);
    const r = await c.vcs.apply({ patch: patchOf('one.txt', 'one', 'ONE') });
    expect([r.response.status, r.data]).toEqual([200, { applied: true }]);
    expect(fs.readFileSync(path.join(target, 'one.txt'), 'utf8')).toBe('ONE\n');
    const again = await c.vcs.apply({ patch: patchOf('one.txt', 'one', 'ONE') });
    expect(again.response.status).toBe(400);
    expect(again.error).toMatchObject({ name: 'VcsApplyError', data: { reason: 'not-clean', message: expect.stringContaining("Patch can't be applied: error: patch failed: one.txt:1") } });
    expect(fs.readFileSync(path.join(target, 'one.txt'), 'utf8')).toBe('ONE\n');
  });

  it('a patch of which one file does not apply changes no file', async () => {
    const r = await client(target).vcs.apply({ patch: patchOf('two.txt', 'two', 'TWO') + patchOf('one.txt', 'nope', 'x') });
    expect(r.response.status).toBe(400);
    expect(r.error).toMatchObject({ name: 'VcsApplyError', data: { reason: 'not-clean' } });
    expect(fs.readFileSync(path.join(target, 'two.txt'), 'utf8')).toBe('two\n');
  });

  it('refuses a patch naming a path outside the folder, and writes nothing there', async () => {
    const evil = 'diff --git a/../evil.txt b/../evil.txt\nnew file mode 100644\n--- /dev/null\n+++ b/../evil.txt\n@@ -0,0 +1 @@\n+evil\n';
    const r = await client(target).vcs.apply({ patch: evil });
    expect(r.response.status).toBe(400);
    expect(r.error).toMatchObject({ name: 'VcsApplyError', data: { reason: 'not-clean', message: expect.stringContaining('"../evil.txt", outside the project folder') } });
    expect(fs.existsSync(path.join(sb.root, 'evil.txt'))).toBe(false);
  });

  it('outside git: VcsApplyError non-git; a body without patch, or not JSON, is a 400 naming it', async () => {
    const r = await client(plain).vcs.apply({ patch: patchOf('file.txt', 'not in git', 'x') });
    expect(r.response.status).toBe(400);
    expect(r.error).toMatchObject({ name: 'VcsApplyError', data: { reason: 'non-git', message: "Patch can't be applied because the project is not git-based." } });
    expect(fs.readFileSync(path.join(plain, 'file.txt'), 'utf8')).toBe('not in git\n');
    const missing = await getJson(`${s.url}/vcs/apply`, { method: 'POST', headers: { ...AUTH, 'x-opencode-directory': target, 'content-type': 'application/json' }, body: '{}' });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ name: 'BadRequest', data: { field: 'patch' } });
    const garbled = await getJson(`${s.url}/vcs/apply`, { method: 'POST', headers: { ...AUTH, 'x-opencode-directory': target, 'content-type': 'application/json' }, body: '{"patch":' });
    expect(garbled.status).toBe(400);
    const junk = await client(target).vcs.apply({ patch: 'not a patch' });
    expect(junk.error).toMatchObject({ name: 'VcsApplyError', data: { reason: 'not-clean' } });
  });
});

describe('bounds', () => {
  it('lists at most 2,000 files and says so; a patch past 10 MB is OpenCode’s empty one, and said so', async () => {
    const many = path.join(sb.root, 'many');
    fs.mkdirSync(many);
    git(many, 'init', '-q');
    write(many, 'big.txt', 'small\n');
    git(many, 'add', '-A');
    git(many, 'commit', '-qm', 'start');
    write(many, 'big.txt', `${'x'.repeat(99)}\n`.repeat(110_000));
    for (let i = 0; i < 2_050; i++) write(many, `new/f${String(i).padStart(4, '0')}.txt`, `${i}\n`);
    const status = await client(many).vcs.status();
    expect(status.data?.length).toBe(2_000);
    expect(status.data?.[0]).toEqual({ file: 'big.txt', additions: 110_000, deletions: 1, status: 'modified' });
    expect(status.response.headers.get('x-pantheon-truncated')).toBe('true');
    fs.rmSync(path.join(many, 'new'), { recursive: true });
    const diff = await client(many).vcs.diff({ mode: 'git' });
    expect(diff.data).toEqual([{ file: 'big.txt', patch: `Index: big.txt\n${'='.repeat(67)}\n--- big.txt\n+++ big.txt\n`, additions: 110_000, deletions: 1, status: 'modified' }]);
    expect(diff.response.headers.get('x-pantheon-truncated')).toBe('true');
  });
});
