/**
 * OpenCode's routes that change the config and the project, through `@opencode-ai/sdk`'s v2 client
 * against the real `opencode serve`: `PATCH /config` merges the change into the project's
 * opencode.jsonc in place (its comments stay), validated first (a bad change is a 400 naming the
 * field and the file is left byte for byte), and `GET /config` shows it at once; `GET`/`PATCH
 * /global/config` the same for the global file; secrets masked in every answer and a masked secret
 * sent back left as it was; `server.instance.disposed`, `global.disposed` and `project.updated`
 * published as OpenCode publishes them; `PATCH /project/{projectID}` and `POST /project/git/init`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createOpencodeClient as createV2 } from '@opencode-ai/sdk/v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { collect } from './sdk-helper.ts';
import { serve, type Served } from './serve-helper.ts';

const SECRET = 'sk-project-secret-0123456789';
const GLOBAL_SECRET = 'sk-global-secret-9876543210';

const PROJECT_FILE = `{
  // the team's settings: keep this comment
  "model": "p/m",
  "provider": {
    "p": {
      "options": { "baseURL": "http://127.0.0.1:9/v1", "apiKey": "${SECRET}" },
      "models": { "m": {}, "m2": {} }, // two models
    },
  },
}
`;

let sb: Sandbox;
let s: Served;
let v2: ReturnType<typeof createV2>;
let events: ReturnType<typeof collect>;
let global: ReturnType<typeof collect>;
const stop = new AbortController();
let projectFile: string;

beforeAll(async () => {
  sb = await sandbox();
  projectFile = sb.write('opencode.jsonc', PROJECT_FILE);
  sb.writeGlobal('opencode.json', { $schema: 'https://opencode.ai/config.json', provider: { g: { options: { apiKey: GLOBAL_SECRET } } } });
  s = await serve(sb);
  v2 = createV2({ baseUrl: s.url, directory: sb.project });
  events = collect((await v2.event.subscribe({}, { signal: stop.signal, sseMaxRetryAttempts: 0 })).stream);
  global = collect((await v2.global.event({ signal: stop.signal, sseMaxRetryAttempts: 0 })).stream, (e) => (e as { payload: { type: string; properties: Record<string, unknown> } }).payload);
  await Promise.all([events.until((e) => e.type === 'server.connected'), global.until((e) => e.type === 'server.connected')]);
});

afterAll(async () => {
  stop.abort();
  await s?.stop();
  await sb?.remove();
});

function noSecrets(body: unknown): void {
  const text = JSON.stringify(body);
  expect(text).not.toContain(SECRET);
  expect(text).not.toContain(GLOBAL_SECRET);
}

async function patchRaw(url: string, body: unknown): Promise<{ status: number; body: { name: string; data: { message: string; code: string; field?: string } } }> {
  const res = await fetch(url, { method: 'PATCH', headers: { 'content-type': 'application/json', 'x-opencode-directory': sb.project }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as never };
}

describe('PATCH /config', () => {
  it('merges the change into the project’s file in place, and GET /config shows it; the TUI is told', async () => {
    const disposed = events.of('server.instance.disposed').length;
    const updated = await v2.config.update({ config: { username: 'bob', agent: { build: { temperature: 0.5 } }, provider: { p: { models: { m2: { name: 'Second' } } } } } });
    expect(updated.response.status).toBe(200);
    const answer = updated.data as { username: string; provider: { p: { models: Record<string, { name?: string }> } } };
    expect(answer.username).toBe('bob');
    expect(answer.provider.p.models.m2?.name).toBe('Second');
    noSecrets(answer);

    const text = fs.readFileSync(projectFile, 'utf8');
    expect(text).toContain("// the team's settings: keep this comment");
    expect(text).toContain('// two models');
    expect(text).toContain(SECRET);
    expect(fs.readdirSync(sb.project).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const config = (await v2.config.get()).data as { username: string; agent: { build: { temperature: number } } };
    expect(config.username).toBe('bob');
    expect(config.agent.build.temperature).toBe(0.5);
    await events.until((e) => e.type === 'server.instance.disposed' && events.of('server.instance.disposed').length > disposed);
    expect(events.of('server.instance.disposed').at(-1)?.properties).toEqual({ directory: sb.project });
  });

  it('null removes a key; a masked secret sent back (as GET /config shows it) leaves the secret', async () => {
    const shown = (await v2.config.get()).data as { provider: { p: { options: { apiKey: string } } } };
    expect(shown.provider.p.options.apiKey).not.toBe(SECRET);
    const res = await patchRaw(`${s.url}/config`, { username: null, provider: { p: { options: { apiKey: shown.provider.p.options.apiKey } } } });
    expect(res.status).toBe(200);
    const text = fs.readFileSync(projectFile, 'utf8');
    expect(text).not.toContain('"username"');
    expect(text).toContain(SECRET);
  });

  it('a change that would make the config invalid is a 400 naming the field, and the file is left byte for byte', async () => {
    const before = fs.readFileSync(projectFile, 'utf8');
    const cases: [unknown, string][] = [
      [{ agent: { build: { temperature: 'hot' } } }, 'agent.build.temperature'],
      [{ agent: { build: { steps: -1 } } }, 'agent.build.steps'],
      [{ bogusKey: 1 }, 'bogusKey'],
      [{ rateLimit: { rpm: 'lots' } }, 'rateLimit.rpm'],
    ];
    for (const [body, field] of cases) {
      const res = await patchRaw(`${s.url}/config`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.name).toBe('BadRequest');
      expect(res.body.data.code).toBe('CONFIG_INVALID');
      expect(res.body.data.field).toBe(field);
      expect(res.body.data.message).toContain(projectFile);
      noSecrets(res.body);
    }
    const notObject = await patchRaw(`${s.url}/config`, [1]);
    expect(notObject.status).toBe(400);
    expect(fs.readFileSync(projectFile, 'utf8')).toBe(before);
    expect(fs.readdirSync(sb.project).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a folder with no config file gets a new opencode.json', async () => {
    const other = path.join(sb.root, 'other');
    fs.mkdirSync(path.join(other, '.git'), { recursive: true });
    const res = await v2.config.update({ directory: other, config: { username: 'carol' } });
    expect(res.response.status).toBe(200);
    expect(JSON.parse(fs.readFileSync(path.join(other, 'opencode.json'), 'utf8'))).toMatchObject({ username: 'carol' });
    expect(((await v2.config.get({ directory: other })).data as { username: string }).username).toBe('carol');
  });
  it('a config file that is a link (dotfiles) stays one: its target is written', async () => {
    const linked = path.join(sb.root, 'linked');
    fs.mkdirSync(path.join(linked, '.git'), { recursive: true });
    const target = path.join(sb.root, 'dotfiles', 'opencode.json');
    fs.mkdirSync(path.dirname(target));
    fs.writeFileSync(target, '{ "username": "dan" }\n');
    fs.symlinkSync(target, path.join(linked, 'opencode.json'));
    const res = await v2.config.update({ directory: linked, config: { username: 'erin' } });
    expect(res.response.status).toBe(200);
    expect(fs.lstatSync(path.join(linked, 'opencode.json')).isSymbolicLink()).toBe(true);
    expect(JSON.parse(fs.readFileSync(target, 'utf8'))).toEqual({ username: 'erin' });
  });
});

describe('the global config', () => {
  it('GET /global/config is the global file, secrets masked', async () => {
    const res = await v2.global.config.get();
    expect(res.response.status).toBe(200);
    expect(res.data).toMatchObject({ provider: { g: { options: {} } } });
    noSecrets(res.data);
  });

  it('PATCH /global/config writes the global file, every project is let go, and a bad change is refused', async () => {
    const file = path.join(sb.configHome, 'opencode', 'opencode.json');
    const res = await v2.global.config.update({ config: { username: 'alice' } });
    expect(res.response.status).toBe(200);
    expect(res.data).toMatchObject({ username: 'alice' });
    noSecrets(res.data);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toMatchObject({ username: 'alice', provider: { g: { options: { apiKey: GLOBAL_SECRET } } } });
    await global.until((e) => e.type === 'global.disposed');
    // The project's own file still wins where it sets a key; the global one shows where it does not.
    expect(((await v2.config.get()).data as { username?: string }).username).toBe('alice');

    const before = fs.readFileSync(file, 'utf8');
    const bad = await patchRaw(`${s.url}/global/config`, { agent: { plan: { temperature: 'cold' } } });
    expect(bad.status).toBe(400);
    expect(bad.body.data.field).toBe('agent.plan.temperature');
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });

  it('POST /global/dispose lets every project go', async () => {
    const seen = global.of('global.disposed').length;
    const res = await v2.global.dispose();
    expect(res.data).toBe(true);
    await global.until((e) => e.type === 'global.disposed' && global.of('global.disposed').length > seen);
  });
});

describe('the project', () => {
  it('PATCH /project/{projectID} sets its name, icon and start command; GET /project/current shows them', async () => {
    const current = (await v2.project.current()).data as { id: string };
    const res = await v2.project.update({ projectID: current.id, name: 'My Project', icon: { color: 'blue' }, commands: { start: 'npm ci' } });
    expect(res.response.status).toBe(200);
    expect(res.data).toMatchObject({ id: current.id, worktree: sb.project, name: 'My Project', icon: { color: 'blue' }, commands: { start: 'npm ci' } });
    expect((await v2.project.current()).data).toMatchObject({ name: 'My Project', icon: { color: 'blue' } });
    const announced = await global.until((e) => e.type === 'project.updated' && (e.properties as { name?: string }).name === 'My Project');
    expect(announced.properties).toMatchObject({ id: current.id, commands: { start: 'npm ci' } });

    // An icon's fields merge; null clears.
    await v2.project.update({ projectID: current.id, icon: { url: 'data:image/png;base64,AAAA' } });
    const cleared = await fetch(`${s.url}/project/${current.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: null }) });
    expect(await cleared.json()).toMatchObject({ icon: { color: 'blue', url: 'data:image/png;base64,AAAA' } });
    expect((await v2.project.current()).data).not.toHaveProperty('name');

    const unknown = await v2.project.update({ projectID: 'nope', name: 'x' });
    expect(unknown.response.status).toBe(404);
    const bad = await fetch(`${s.url}/project/${current.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 5 }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { data: { field: string } }).data.field).toBe('name');
  });

  it('POST /project/git/init makes a folder a git repository, once', async () => {
    const plain = path.join(sb.root, 'plain');
    fs.mkdirSync(plain);
    const res = await v2.project.initGit({ directory: plain });
    expect(res.response.status).toBe(200);
    expect(res.data).toMatchObject({ worktree: plain, vcs: 'git' });
    expect(fs.statSync(path.join(plain, '.git')).isDirectory()).toBe(true);
    const head = fs.readFileSync(path.join(plain, '.git', 'HEAD'), 'utf8');
    const again = await v2.project.initGit({ directory: plain });
    expect(again.data).toMatchObject({ worktree: plain, vcs: 'git' });
    expect(fs.readFileSync(path.join(plain, '.git', 'HEAD'), 'utf8')).toBe(head);
  });
});
