/**
 * `skills.urls` (OpenCode's skill registries) against a registry served on 127.0.0.1 by the test:
 * the skills downloaded into the cache and found like any others, the index read again only after
 * its time, new versions taking the old one's place, skills the index dropped removed, the copy
 * used offline, and hostile indexes kept inside the cache. Then `opencode run` offering a registry's
 * skill to the model.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readIndex, registryFolder, registryFolders, INDEX_TTL_MS } from '../../src/agents/skill-urls.ts';
import { discoverSkills } from '../../src/agents/skills.ts';
import { providerConfig, sandbox, SECRET } from '../cli/cli-helper.ts';
import { startScriptedServer } from '../support/openai-server.ts';

interface Registry {
  url: string;
  files: Map<string, string | Buffer>;
  requests: string[];
  /** Each request's `Authorization`, in order. */
  auths: (string | undefined)[];
  server: Server;
}

async function registry(files: Record<string, string | Buffer>): Promise<Registry> {
  const served = new Map(Object.entries(files));
  const requests: string[] = [];
  const auths: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    auths.push(req.headers.authorization);
    const at = new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/reg\//, '');
    requests.push(at);
    const body = served.get(at);
    if (body === undefined) return void res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-type': at.endsWith('.json') ? 'application/json' : 'text/plain' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/reg`, files: served, requests, auths, server };
}

const skillMd = (name: string, description: string, body = 'Steps.') => `---\nname: ${name}\ndescription: ${description}\n---\n${body}\n`;
const index = (skills: unknown[]) => JSON.stringify({ skills });

/** Resolves once `test` holds, checking as the event loop turns (a readiness signal: no timing is asserted). */
async function until(test: () => boolean): Promise<void> {
  while (!test()) await new Promise((resolve) => setTimeout(resolve, 5));
}

let cache: string;
let env: NodeJS.ProcessEnv;
let project: string;
let reg: Registry | undefined;

beforeEach(() => {
  cache = mkdtempSync(path.join(os.tmpdir(), 'pantheon-skillurls-'));
  project = path.join(cache, 'project');
  env = { HOME: path.join(cache, 'home'), XDG_CACHE_HOME: path.join(cache, 'cache'), XDG_CONFIG_HOME: path.join(cache, 'config') };
});

afterEach(async () => {
  if (reg) await new Promise((resolve) => reg?.server.close(resolve));
  reg = undefined;
  rmSync(cache, { recursive: true, force: true });
});

describe('skills.urls', () => {
  it('a registry behind HTTP Basic (`http://user:token@host/…`): the credentials go in the header, percent-decoded, not in the URL', async () => {
    reg = await registry({ 'index.json': index([]) });
    const url = reg.url.replace('http://', 'http://me:p%40ss@');
    await readIndex(url);
    await readIndex(reg.url);
    expect(reg.auths).toEqual([`Basic ${Buffer.from('me:p@ss').toString('base64')}`, undefined]);
    expect(reg.requests).toEqual(['index.json', 'index.json']);
  });

  it('downloads the index’s skills with their files; they are found like any skills; the index is read again only after its time', async () => {
    reg = await registry({
      'index.json': index([{ name: 'deploy', files: ['SKILL.md', 'scripts/run.sh'] }, { name: 'review', files: ['SKILL.md'], version: '1' }]),
      'deploy/SKILL.md': skillMd('deploy', 'How to deploy'),
      'deploy/scripts/run.sh': 'echo deploy\n',
      'review/SKILL.md': skillMd('review', 'How to review'),
    });
    let now = Date.now();
    const skills = await discoverSkills(project, env, [], [reg.url]);
    expect(skills.map((s) => [s.name, s.description])).toEqual([['deploy', 'How to deploy'], ['review', 'How to review']]);
    const root = registryFolder(reg.url, env);
    expect(readFileSync(path.join(root, 'deploy', 'scripts', 'run.sh'), 'utf8')).toBe('echo deploy\n');
    expect(skills[0]?.file).toBe(path.join(root, 'deploy', 'SKILL.md'));
    const asked = reg.requests.length;
    await registryFolders([reg.url], { env, now: () => now });
    expect(reg.requests.length).toBe(asked);
    // After its time: the index again, and only what is missing or of a new version.
    now += 2 * INDEX_TTL_MS;
    reg.files.set('deploy/SKILL.md', skillMd('deploy', 'Changed, but the same version'));
    reg.files.set('review/SKILL.md', skillMd('review', 'Version two'));
    reg.files.set('index.json', index([{ name: 'deploy', files: ['SKILL.md', 'scripts/run.sh'] }, { name: 'review', files: ['SKILL.md'], version: '2' }]));
    await registryFolders([reg.url], { env, now: () => now });
    expect(reg.requests.slice(asked).sort()).toEqual(['index.json', 'review/SKILL.md']);
    expect(readFileSync(path.join(root, 'deploy', 'SKILL.md'), 'utf8')).toContain('How to deploy');
    expect(readFileSync(path.join(root, 'review', 'SKILL.md'), 'utf8')).toContain('Version two');
    // Dropped from the index: removed. No staging folder is left behind.
    now += 2 * INDEX_TTL_MS;
    reg.files.set('index.json', index([{ name: 'review', files: ['SKILL.md'], version: '2' }]));
    await registryFolders([reg.url], { env, now: () => now });
    expect(readdirSync(root).sort()).toEqual(['.index.json', 'review']);
  });

  it('one download for askers meanwhile: one cancelling leaves it to the other; when every asker has cancelled it stops (its request closed), and the next ask starts anew', async () => {
    reg = await registry({ 'index.json': index([{ name: 'deploy', files: ['SKILL.md'] }]), 'deploy/SKILL.md': skillMd('deploy', 'How to deploy') });
    // The index is held until the test lets it go; each held request notes when the client closed it.
    const held: { release: () => void; closed: boolean }[] = [];
    const serve = reg.server.listeners('request')[0] as (req: IncomingMessage, res: ServerResponse) => void;
    reg.server.removeAllListeners('request');
    reg.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (!req.url?.endsWith('/index.json')) return serve(req, res);
      const entry = { release: () => serve(req, res), closed: false };
      res.on('close', () => (entry.closed = true));
      held.push(entry);
    });
    const first = new AbortController();
    const second = new AbortController();
    const one = discoverSkills(project, env, [], [reg.url], first.signal);
    const two = discoverSkills(project, env, [], [reg.url], second.signal);
    await until(() => held.length === 1);
    first.abort(new Error('first cancelled'));
    await expect(one).rejects.toThrow('first cancelled');
    // Still wanted by the second: the request stays open, and its answer is used.
    expect(held[0]?.closed).toBe(false);
    held[0]?.release();
    expect((await two).map((s) => s.name)).toEqual(['deploy']);

    // Both cancelled: the download stops, the registry's request closed by the client; nothing marked read.
    rmSync(registryFolder(reg.url, env), { recursive: true, force: true });
    const third = new AbortController();
    const fourth = new AbortController();
    const three = discoverSkills(project, env, [], [reg.url], third.signal);
    const four = discoverSkills(project, env, [], [reg.url], fourth.signal);
    await until(() => held.length === 2);
    third.abort(new Error('third cancelled'));
    fourth.abort(new Error('fourth cancelled'));
    await expect(three).rejects.toThrow('third cancelled');
    await expect(four).rejects.toThrow('fourth cancelled');
    await until(() => held[1]?.closed === true);
    expect(existsSync(path.join(registryFolder(reg.url, env), '.index.json'))).toBe(false);
    // Asked again: a new download, not the stopped one.
    const five = discoverSkills(project, env, [], [reg.url]);
    await until(() => held.length === 3);
    held[2]?.release();
    expect((await five).map((s) => s.name)).toEqual(['deploy']);
  });

  it('offline, the skills kept from before are used; a project skill of the same name wins', async () => {
    reg = await registry({ 'index.json': index([{ name: 'deploy', files: ['SKILL.md'] }]), 'deploy/SKILL.md': skillMd('deploy', 'From the registry') });
    const url = reg.url;
    await discoverSkills(project, env, [], [url]);
    await new Promise((resolve) => reg?.server.close(resolve));
    reg = undefined;
    // The copy is past its time, and the registry is gone.
    const stamp = path.join(registryFolder(url, env), '.index.json');
    const past = new Date(Date.now() - INDEX_TTL_MS - 1000);
    utimesSync(stamp, past, past);
    expect((await discoverSkills(project, env, [], [url])).map((s) => s.description)).toEqual(['From the registry']);
    mkdirSync(path.join(project, 'local', 'deploy'), { recursive: true });
    writeFileSync(path.join(project, 'local', 'deploy', 'SKILL.md'), skillMd('deploy', 'The project’s own'));
    expect((await discoverSkills(project, env, ['local'], [url])).map((s) => s.description)).toEqual(['The project’s own']);
  });

  it('a hostile index: names and files that are not plain relative paths, other origins, oversized files and missing SKILL.md skip the skill; nothing is written outside the registry’s folder', async () => {
    reg = await registry({
      'index.json': index([
        { name: '../evil', files: ['SKILL.md'] },
        { name: '.hidden', files: ['SKILL.md'] },
        { name: 'esc\u001b[2J', files: ['SKILL.md'] },
        { name: 'climb', files: ['SKILL.md', '../../outside.txt'] },
        { name: 'encoded', files: ['SKILL.md', '%2e%2e/outside.txt'] },
        { name: 'absolute', files: ['SKILL.md', '/etc/passwd'] },
        { name: 'other-origin', files: ['SKILL.md', 'http://127.0.0.1:9/x'] },
        { name: 'no-skill-md', files: ['README.md'] },
        { name: 'huge', files: ['SKILL.md', 'big.bin'] },
        { name: 'fine', files: ['SKILL.md'] },
        'not an object',
      ]),
      'huge/SKILL.md': skillMd('huge', 'Too big'),
      'huge/big.bin': Buffer.alloc(4 * 1024 * 1024 + 1),
      'fine/SKILL.md': skillMd('fine', 'The one that keeps the rules'),
      'climb/SKILL.md': skillMd('climb', 'Climbs'),
    });
    const skills = await discoverSkills(project, env, [], [reg.url]);
    expect(skills.map((s) => s.name)).toEqual(['fine']);
    const root = registryFolder(reg.url, env);
    expect(readdirSync(root).sort()).toEqual(['.index.json', 'fine']);
    expect(existsSync(path.join(cache, 'cache', 'pantheon', 'outside.txt'))).toBe(false);
    expect(existsSync(path.join(cache, 'outside.txt'))).toBe(false);
    expect(reg.requests).not.toContain('climb/SKILL.md');
  });

  it('an index that is not JSON, a registry that answers 404, a URL that is not http(s): no skills, no error', async () => {
    reg = await registry({ 'index.json': '<html>not json</html>' });
    expect(await discoverSkills(project, env, [], [reg.url, `${reg.url}/missing`, 'file:///etc', 'ftp://x/y', 42])).toEqual([]);
  });
});

describe('opencode run with skills.urls', () => {
  it('the model is offered the registry’s skill and loads it; the files sit in the cache', async () => {
    reg = await registry({ 'index.json': index([{ name: 'release', files: ['SKILL.md'] }]), 'release/SKILL.md': skillMd('release', 'How a release is cut', 'Tag, then publish.') });
    const server = await startScriptedServer({ apiKey: SECRET });
    const sb = await sandbox();
    try {
      sb.write('opencode.json', { ...providerConfig(server, { m1: {} }), model: 'p/m1', skills: { urls: [reg.url] } });
      server.script('m1', { type: 'tool_calls', calls: [{ name: 'skill', arguments: { name: 'release' } }] }, { type: 'text', text: 'Done.' });
      const r = await sb.run(['run', 'cut a release']);
      expect(r.code, r.stderr).toBe(0);
      const offered = (server.log[0]?.tools ?? []) as { function: { name: string; description: string } }[];
      expect(offered.map((t) => t.function.name)).toContain('skill');
      // Listed in the system prompt, as OpenCode lists skills (the tool's description points there).
      const system = (server.log[0]?.messages ?? []).find((m) => (m as { role: string }).role === 'system') as { content: string } | undefined;
      expect(system?.content).toContain('<name>release</name>\n    <description>How a release is cut</description>');
      const tool = (server.log[1]?.messages ?? []).find((m) => (m as { role: string }).role === 'tool') as { content: string } | undefined;
      expect(tool?.content).toContain('Tag, then publish.');
    } finally {
      await server.close();
      await sb.remove();
    }
  });
});
