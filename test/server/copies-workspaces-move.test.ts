/**
 * OpenCode's project copies, workspaces and move-session through `@opencode-ai/sdk` v2 against the
 * real `opencode serve` and a real git repository: a copy made (a detached worktree), listed among
 * the project's folders, refused when it has changes unless forced, removed; the workspace routes
 * of a server with no adapter; a session moved to a copy of its project and listed there, other
 * folders refused; bad input, and the password.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createOpencodeClient } from '@opencode-ai/sdk/v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { collect } from './sdk-helper.ts';
import { serve, type Served } from './serve-helper.ts';

const PASSWORD = 'pw-copies';
const AUTH = { authorization: `Basic ${Buffer.from(`opencode:${PASSWORD}`).toString('base64')}` };

let sb: Sandbox;
let s: Served;
let repo: string;
let other: string;
let projectID: string;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', '-c', 'commit.gpgsign=false', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8' });
}

beforeAll(async () => {
  sb = await sandbox({ git: false });
  repo = path.join(sb.root, 'repo');
  other = path.join(sb.root, 'other');
  for (const dir of [repo, other]) {
    fs.mkdirSync(dir);
    git(dir, 'init', '-q');
    fs.writeFileSync(path.join(dir, 'f.txt'), 'base\n');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'base');
  }
  s = await serve(sb, [], { OPENCODE_SERVER_PASSWORD: PASSWORD });
  projectID = ((await client(repo).project.current()).data as { id: string }).id;
});

afterAll(async () => {
  await s?.stop();
  await sb?.remove();
});

const client = (directory: string) => createOpencodeClient({ baseUrl: s.url, directory, headers: AUTH });

async function call(method: string, route: string, body?: unknown, auth = true): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${s.url}${route}`, { method, headers: { ...(auth ? AUTH : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

const inRepo = () => `location[directory]=${encodeURIComponent(repo)}`;

describe('project copies', () => {
  it('made as a detached worktree in the folder named, listed with the project’s folders, refused with changes unless forced, removed', async () => {
    const c = client(repo);
    const abort = new AbortController();
    const stream = collect((await c.event.subscribe({}, { signal: abort.signal })).stream as AsyncIterable<unknown>);
    await stream.until((e) => e.type === 'server.connected');
    const copies = path.join(sb.root, 'copies');
    const made = await c.v2.projectCopy.create({ projectID, location: { directory: repo }, strategy: 'git_worktree', directory: copies, name: 'Fix Login' });
    expect(made.response.status).toBe(200);
    expect(made.data).toEqual({ directory: path.join(copies, 'Fix Login') });
    expect(fs.readFileSync(path.join(copies, 'Fix Login', 'f.txt'), 'utf8')).toBe('base\n');
    expect(git(path.join(copies, 'Fix Login'), 'rev-parse', '--abbrev-ref', 'HEAD').trim()).toBe('HEAD');
    await stream.until((e) => e.type === 'project.directories.updated' && e.properties.projectID === projectID);
    // Taken: -2; no name: a random one.
    expect((await c.v2.projectCopy.create({ projectID, location: { directory: repo }, strategy: 'git_worktree', directory: copies, name: 'Fix Login' })).data).toEqual({ directory: path.join(copies, 'Fix Login-2') });
    const random = (await c.v2.projectCopy.create({ projectID, location: { directory: repo }, strategy: 'git_worktree', directory: copies })).data as { directory: string };
    expect(path.basename(random.directory)).toMatch(/^[a-z]+-[a-z]+$/);

    // The copies (in git's order), then the root, as OpenCode lists them.
    const listed = (await c.project.directories({ projectID })).data as { directory: string; strategy?: string }[];
    expect(listed.at(-1)).toEqual({ directory: repo });
    expect(listed.slice(0, -1)).toEqual(expect.arrayContaining([path.join(copies, 'Fix Login'), path.join(copies, 'Fix Login-2'), random.directory].map((directory) => ({ directory, strategy: 'git_worktree' }))));
    expect(listed).toHaveLength(4);

    // A copy with changes: forceRequired, nothing removed; forced: removed.
    fs.writeFileSync(path.join(copies, 'Fix Login', 'new.txt'), 'work');
    const refused = await call('DELETE', `/experimental/project/${projectID}/copy?${inRepo()}`, { directory: path.join(copies, 'Fix Login'), force: false });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ name: 'ProjectCopyError', data: { forceRequired: true, message: expect.stringContaining('The project copy could not be removed') } });
    expect(fs.existsSync(path.join(copies, 'Fix Login', 'new.txt'))).toBe(true);
    expect((await c.v2.projectCopy.remove({ projectID, location: { directory: repo }, directory: path.join(copies, 'Fix Login'), force: true })).response.status).toBe(204);
    expect(fs.existsSync(path.join(copies, 'Fix Login'))).toBe(false);
    expect((await c.v2.projectCopy.remove({ projectID, location: { directory: repo }, directory: path.join(copies, 'Fix Login-2'), force: false })).response.status).toBe(204);
    expect((await c.v2.projectCopy.refresh({ projectID, location: { directory: repo } })).response.status).toBe(204);
    expect((await c.project.directories({ projectID })).data).toEqual([{ directory: random.directory, strategy: 'git_worktree' }, { directory: repo }]);
    abort.abort();
  });

  it('bad input: another strategy, another project’s id, the project’s root, a folder that is no copy, a name that is a path, a bad body; each a 400 naming it, nothing made or removed', async () => {
    const root = `/experimental/project/${projectID}/copy?${inRepo()}`;
    const copies = path.join(sb.root, 'copies-bad');
    const cases: [string, string, unknown, string][] = [
      ['POST', root, { strategy: 'worktree', directory: copies }, 'Project copy strategy unavailable: \\"worktree\\"'],
      ['POST', `/experimental/project/someone-else/copy?${inRepo()}`, { strategy: 'git_worktree', directory: copies }, 'Project copy source not found: project \\"someone-else\\" is not the requested folder'],
      ['POST', root, { strategy: 'git_worktree', directory: copies, name: '../escape' }, 'body field \\"name\\": expected a folder name, found \\"../escape\\"'],
      ['POST', root, { directory: copies }, 'strategy'],
      ['DELETE', root, { directory: repo, force: true }, `Invalid project copy directory: ${repo} is not a copy of this project`],
      ['DELETE', root, { directory: other, force: true }, `Invalid project copy directory: ${other} is not a copy of this project`],
      ['DELETE', root, { directory: path.join(sb.root, 'nowhere'), force: true }, 'Project copy directory unavailable'],
      ['DELETE', root, { directory: repo }, 'force'],
    ];
    for (const [method, route, body, message] of cases) {
      const answer = await call(method, route, body);
      expect(answer.status, `${method} ${JSON.stringify(body)}`).toBe(400);
      expect(JSON.stringify(answer.body)).toContain(message);
    }
    expect(fs.existsSync(path.join(sb.root, 'escape'))).toBe(false);
    expect(fs.existsSync(path.join(repo, 'f.txt')) && fs.existsSync(path.join(other, 'f.txt'))).toBe(true);
    expect((await call('POST', root, { strategy: 'git_worktree', directory: copies }, false)).status).toBe(401);
  });

  it('generate-name: a random adjective-noun name, as OpenCode’s without a model; a body is needed', async () => {
    const named = await client(repo).experimental.projectCopy.generateName({ projectID, context: 'fix the login bug' });
    expect(named.data).toEqual({ name: expect.stringMatching(/^[a-z]+-[a-z]+$/) });
    expect((await call('POST', `/experimental/project/${projectID}/copy/generate-name`, { context: 1 })).status).toBe(400);
  });
});

describe('workspaces (no adapter)', () => {
  it('no adapters, nothing to sync, create refused naming the type, remove answers null, warp to a workspace not found, detach a no-op', async () => {
    const c = client(repo);
    expect((await c.experimental.workspace.adapter.list()).data).toEqual([]);
    expect((await c.experimental.workspace.syncList()).response.status).toBe(204);
    const created = await call('POST', '/experimental/workspace', { type: 'worktree' });
    expect(created.status).toBe(400);
    expect(created.body).toMatchObject({ name: 'WorkspaceCreateError', data: { message: 'Unknown workspace adapter: "worktree".' } });
    expect((await call('POST', '/experimental/workspace', {})).status).toBe(400);
    expect(JSON.stringify((await call('POST', '/experimental/workspace', {})).body)).toContain('type');
    expect(await call('DELETE', '/experimental/workspace/wrk_abc')).toEqual({ status: 200, body: null });
    const badId = await call('DELETE', '/experimental/workspace/abc');
    expect(badId.status).toBe(400);
    expect(JSON.stringify(badId.body)).toContain('path parameter \\"id\\": expected an id like wrk…, found \\"abc\\"');
    const session = (await c.session.create({})).data as { id: string };
    const warped = await call('POST', '/experimental/workspace/warp', { id: 'wrk_1', sessionID: session.id });
    expect(warped).toMatchObject({ status: 404, body: { name: 'NotFoundError', data: { message: 'Workspace not found: wrk_1.' } } });
    expect((await call('POST', '/experimental/workspace/warp', { id: null, sessionID: session.id })).status).toBe(204);
    expect((await call('POST', '/experimental/workspace/warp', { id: null, sessionID: 'ses_nosuchsession' })).status).toBe(404);
    expect((await call('POST', '/experimental/workspace/warp', { sessionID: session.id })).status).toBe(400);
    expect((await call('GET', '/experimental/workspace/adapter', undefined, false)).status).toBe(401);
  });
});

describe('move-session', () => {
  it('moves a session to a copy of its project (listed there, gone from the old folder); the same folder is a no-op; other folders refused', async () => {
    const c = client(repo);
    const copy = ((await c.v2.projectCopy.create({ projectID, location: { directory: repo }, strategy: 'git_worktree', directory: path.join(sb.root, 'move'), name: 'dest' })).data as { directory: string }).directory;
    const session = (await c.session.create({ title: 'to move' })).data as { id: string };
    const move = (directory: string, extra: Record<string, unknown> = {}) => call('POST', '/experimental/control-plane/move-session', { sessionID: session.id, destination: { directory }, ...extra });

    // Refused: another project, a folder not there, a relative one, moveChanges, a session not there.
    const cases: [Promise<{ status: number; body: unknown }>, string][] = [
      [move(other), `Destination directory belongs to another project: ${other} is not a checkout`],
      [move(path.join(sb.root, 'nowhere')), 'does not exist'],
      [move('relative/dir'), 'body field \\"destination.directory\\": expected an absolute path'],
      [move(copy, { moveChanges: true }), 'moveChanges is not supported'],
      [call('POST', '/experimental/control-plane/move-session', { sessionID: 'ses_nosuchsession', destination: { directory: copy } }), 'Session not found: ses_nosuchsession'],
      [call('POST', '/experimental/control-plane/move-session', { sessionID: 'bogus', destination: { directory: copy } }), 'body field \\"sessionID\\": expected an id like ses_…'],
      [call('POST', '/experimental/control-plane/move-session', { sessionID: session.id }), 'destination'],
    ];
    for (const [pending, message] of cases) {
      const answer = await pending;
      expect(answer.status, message).toBe(400);
      expect(JSON.stringify(answer.body)).toContain(message);
    }
    expect(((await c.session.list()).data as { id: string }[]).map((x) => x.id)).toContain(session.id);
    expect((await call('POST', '/experimental/control-plane/move-session', { sessionID: session.id, destination: { directory: copy } }, false)).status).toBe(401);

    // Its own folder (a subfolder too): nothing to do.
    fs.mkdirSync(path.join(repo, 'sub'), { recursive: true });
    expect((await move(path.join(repo, 'sub'))).status).toBe(204);

    const abort = new AbortController();
    const stream = collect((await c.event.subscribe({}, { signal: abort.signal })).stream as AsyncIterable<unknown>);
    await stream.until((e) => e.type === 'server.connected');
    expect((await client(repo).experimental.controlPlane.moveSession({ sessionID: session.id, destination: { directory: copy } })).response.status).toBe(204);
    await stream.until((e) => e.type === 'session.deleted' && (e.properties.info as { id: string }).id === session.id);
    abort.abort();
    expect(((await client(repo).session.list()).data as { id: string }[]).map((x) => x.id)).not.toContain(session.id);
    expect(((await client(copy).session.list()).data as { id: string }[]).map((x) => x.id)).toContain(session.id);
    expect((await client(copy).session.get({ sessionID: session.id })).data).toMatchObject({ id: session.id, title: 'to move', directory: copy });
    // And back.
    expect((await client(copy).experimental.controlPlane.moveSession({ sessionID: session.id, destination: { directory: repo } })).response.status).toBe(204);
    expect(((await client(repo).session.list()).data as { id: string }[]).map((x) => x.id)).toContain(session.id);
  });
});
