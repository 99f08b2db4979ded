/**
 * OpenCode's /experimental/worktree routes through `@opencode-ai/sdk` v2 against `opencode serve`
 * and a real git repository: a worktree made in OpenCode's folder on an `opencode/<name>` branch
 * (its start command run), listed, reset to the default branch, removed with its branch; the
 * primary checkout and folders that are no worktree refused with nothing removed; outside git.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createOpencodeClient as createV2 } from '@opencode-ai/sdk/v2';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { getJson, serve, type Served } from './serve-helper.ts';

let sb: Sandbox;
let s: Served;
let repo: string;
let plain: string;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', '-c', 'commit.gpgsign=false', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8' });
}

beforeAll(async () => {
  sb = await sandbox({ git: false });
  repo = path.join(sb.root, 'repo');
  plain = path.join(sb.root, 'plain');
  fs.mkdirSync(repo);
  fs.mkdirSync(plain);
  git(repo, 'init', '-q');
  fs.writeFileSync(path.join(repo, 'f.txt'), 'base\n');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'base');
  git(repo, 'checkout', '-qb', 'feat');
  fs.writeFileSync(path.join(repo, 'f.txt'), 'base\nfeat\n');
  git(repo, 'commit', '-qam', 'feat');
  s = await serve(sb);
});

afterAll(async () => {
  await s?.stop();
  await sb?.remove();
});

const client = (directory: string) => createV2({ baseUrl: s.url, directory });

describe('/experimental/worktree', () => {
  it('makes a worktree in OpenCode’s folder on opencode/<name>, lists it, resets it to the default branch, removes it and its branch', async () => {
    const c = client(repo);
    expect((await c.worktree.list()).data).toEqual([]);
    const made = await c.worktree.create({ worktreeCreateInput: { name: 'My Feature!' } });
    expect(made.response.status).toBe(200);
    const folder = path.join(sb.env.XDG_DATA_HOME as string, 'opencode', 'worktree');
    expect(made.data).toEqual({ name: 'my-feature', branch: 'opencode/my-feature', directory: expect.stringMatching(new RegExp(`^${folder}/[0-9a-f]+/my-feature$`)) });
    const dir = made.data?.directory as string;
    expect(fs.readFileSync(path.join(dir, 'f.txt'), 'utf8')).toBe('base\nfeat\n');
    expect(git(repo, 'branch', '--list', 'opencode/*').trim()).toBe('+ opencode/my-feature');
    // The same name again: taken, so a suffix is added.
    const again = await c.worktree.create({ worktreeCreateInput: { name: 'my feature', startCommand: 'echo "ran in $PWD" > started.txt' } });
    expect(again.data?.name).toMatch(/^my-feature-[a-z]+-[a-z]+$/);
    // Its start command runs in it, after the answer.
    await vi.waitFor(() => expect(fs.readFileSync(path.join(again.data?.directory as string, 'started.txt'), 'utf8')).toBe(`ran in ${again.data?.directory}\n`), { timeout: 20_000 });
    expect((await c.worktree.list()).data).toEqual([dir, again.data?.directory].sort());

    fs.writeFileSync(path.join(dir, 'junk.txt'), 'junk');
    expect((await c.worktree.reset({ worktreeResetInput: { directory: dir } })).data).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'f.txt'), 'utf8')).toBe('base\n');
    expect(fs.existsSync(path.join(dir, 'junk.txt'))).toBe(false);

    expect((await c.worktree.remove({ worktreeRemoveInput: { directory: dir } })).data).toBe(true);
    expect(fs.existsSync(dir)).toBe(false);
    expect(git(repo, 'branch', '--list', 'opencode/my-feature').trim()).toBe('');
    expect((await c.worktree.list()).data).toEqual([again.data?.directory]);
    // Gone already: done, as OpenCode answers.
    expect((await c.worktree.remove({ worktreeRemoveInput: { directory: dir } })).data).toBe(true);
  });

  it('refuses the primary checkout and a folder that is no worktree, removing nothing', async () => {
    const c = client(repo);
    const precious = path.join(sb.root, 'precious');
    fs.mkdirSync(precious);
    fs.writeFileSync(path.join(precious, 'keep.txt'), 'keep');
    const removed = await c.worktree.remove({ worktreeRemoveInput: { directory: precious } });
    expect(removed.response.status).toBe(400);
    expect(removed.error).toMatchObject({ name: 'WorktreeRemoveFailedError', data: { message: expect.stringContaining('is not a worktree of this project: nothing was removed') } });
    expect(fs.readFileSync(path.join(precious, 'keep.txt'), 'utf8')).toBe('keep');
    for (const call of [() => c.worktree.remove({ worktreeRemoveInput: { directory: repo } }), () => c.worktree.reset({ worktreeResetInput: { directory: repo } })]) {
      const r = await call();
      expect(r.response.status).toBe(400);
      expect(r.error).toMatchObject({ data: { message: expect.stringMatching(/^Cannot (remove|reset) the primary workspace\.$/) } });
    }
    expect(fs.readFileSync(path.join(repo, 'f.txt'), 'utf8')).toBe('base\nfeat\n');
    const missing = await c.worktree.reset({ worktreeResetInput: { directory: path.join(sb.root, 'nowhere') } });
    expect(missing.error).toMatchObject({ name: 'WorktreeResetFailedError', data: { message: 'Worktree not found.' } });
  });

  it('outside git: [] and WorktreeNotGitError; bad bodies are a 400 naming the field', async () => {
    expect((await client(plain).worktree.list()).data).toEqual([]);
    const r = await client(plain).worktree.create({ worktreeCreateInput: {} });
    expect(r.response.status).toBe(400);
    expect(r.error).toMatchObject({ name: 'WorktreeNotGitError', data: { message: 'Worktrees are only supported for git projects.' } });
    const headers = { 'x-opencode-directory': repo, 'content-type': 'application/json' };
    const noDirectory = await getJson(`${s.url}/experimental/worktree`, { method: 'DELETE', headers, body: '{}' });
    expect(noDirectory.status).toBe(400);
    expect(noDirectory.body).toMatchObject({ name: 'BadRequest', data: { field: 'directory' } });
    const unknown = await getJson(`${s.url}/experimental/worktree`, { method: 'POST', headers, body: '{"branch":"x"}' });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ name: 'BadRequest', data: { field: 'branch' } });
  });
});
