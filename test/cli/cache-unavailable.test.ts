/**
 * A response cache that cannot be opened (a file where its folder should be, a corrupt database, a
 * database another process keeps locked, a folder that cannot be made) is not a reason to fail:
 * `run`, `workflow run` and `serve` go on without it, each saying so once on stderr (the store, what
 * went wrong, a hint; no secret), `GET /health` reports the cache degraded, and `doctor` warns.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { getJson, serve } from '../server/serve-helper.ts';
import { SECRET, hasStack, providerConfig, sandbox, type Sandbox } from './cli-helper.ts';

const WARNING = /^warning: could not open the cache store sqlite:(\S+): (.+); going on without the response cache \(set cache\.store to a writable file path, "memory" or a redis:\/\/ URL, or set cache\.enabled to false\)\.$/m;

describe('a cache store that cannot be opened', () => {
  let server: ScriptedServer;
  let sb: Sandbox;
  let cacheFile: string;

  beforeAll(async () => {
    server = await startScriptedServer({ apiKey: SECRET, default: { type: 'text', text: 'the answer' } });
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    server.reset();
    sb = await sandbox();
    sb.write('opencode.json', {
      ...providerConfig(server, { m1: {} }),
      model: 'p/m1',
      workflow: { one: { steps: [{ id: 'a', agent: 'explore', prompt: 'x' }] } },
    });
    cacheFile = path.join(sb.cacheHome, 'pantheon', 'cache.sqlite');
  });
  afterEach(async () => {
    await sb.remove();
  });

  /** The stderr lines that are warnings about the cache: exactly one, naming the file, and nothing secret. */
  function oneWarning(stderr: string): string {
    const lines = stderr.split('\n').filter((l) => l.includes('cache store'));
    expect(lines, stderr).toHaveLength(1);
    const m = WARNING.exec(stderr);
    expect(m, stderr).not.toBeNull();
    expect(m?.[1]).toBe(cacheFile);
    expect(stderr).not.toContain(SECRET);
    expect(hasStack(stderr)).toBe(false);
    return m?.[2] as string;
  }

  it('a file where its folder should be: run answers (exit 0) with one warning naming the path and the cause', async () => {
    writeFileSync(path.join(sb.cacheHome, 'pantheon'), 'not a folder');
    const r = await sb.run(['run', 'hi']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('the answer\n');
    expect(oneWarning(r.stderr)).toBe(`${path.join(sb.cacheHome, 'pantheon')} is a file, not a folder`);
    // The second run is not answered from a cache: there is none.
    const again = await sb.run(['run', 'hi']);
    expect(again.code, again.stderr).toBe(0);
    expect(server.log).toHaveLength(2);
  });

  it('a corrupt database: run and run --format json go on; doctor warns, naming the file', async () => {
    mkdirSync(path.dirname(cacheFile), { recursive: true });
    writeFileSync(cacheFile, Buffer.alloc(8192, 0x5a));
    const r = await sb.run(['run', 'hi']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('the answer\n');
    expect(oneWarning(r.stderr)).toBe('file is not a database');
    const json = await sb.run(['run', '--format', 'json', 'hi']);
    expect(json.code, json.stderr).toBe(0);
    const events = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; code?: string; message?: string });
    expect(events.filter((e) => e.type === 'warning')).toEqual([expect.objectContaining({ code: 'CACHE_UNAVAILABLE', message: expect.stringContaining(cacheFile) })]);
    expect(events.at(-1)).toMatchObject({ type: 'done' });

    const doctor = await sb.run(['doctor', '--check', 'cache']);
    expect(doctor.stdout).toMatch(new RegExp(`warn\\s+cache store\\s+${cacheFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not a SQLite database the cache can use \\(file is not a database\\); runs go on without the cache\\n\\s+hint: Move it aside`));
    expect(doctor.code, doctor.stdout).toBe(0);
  });

  it('a database another process keeps locked: run waits its busy timeout, then goes on with one warning; doctor says who to look for', async () => {
    mkdirSync(path.dirname(cacheFile), { recursive: true });
    const holder = new DatabaseSync(cacheFile);
    try {
      holder.exec('PRAGMA locking_mode = EXCLUSIVE; CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);');
      const r = await sb.run(['run', 'hi']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('the answer\n');
      expect(oneWarning(r.stderr)).toBe('database is locked');
      const doctor = await sb.run(['doctor', '--check', 'cache']);
      expect(doctor.stdout).toContain(`${cacheFile} is locked by another process (database is locked); runs go on without the cache`);
      expect(doctor.stdout).toContain(`hint: Find the process that holds it (fuser ${cacheFile}), or set cache.store to another file.`);
    } finally {
      holder.close();
    }
  });

  it('workflow run goes on without it, with one warning', async () => {
    writeFileSync(path.join(sb.cacheHome, 'pantheon'), 'not a folder');
    const r = await sb.run(['workflow', 'run', 'one']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('the answer\n');
    oneWarning(r.stderr);
  });

  it('serve starts, says so once at start, answers, and GET /health reports the cache degraded', async () => {
    writeFileSync(path.join(sb.cacheHome, 'pantheon'), 'not a folder');
    const served = await serve(sb);
    try {
      const health = await getJson(`${served.url}/health`);
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({ status: 'degraded', checks: { cache: { status: 'degraded', store: 'unavailable', error: expect.stringContaining(`${path.join(sb.cacheHome, 'pantheon')} is a file, not a folder`) } } });
      const answer = await getJson(`${served.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'p/m1', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ choices: [{ message: { content: 'the answer' } }] });
    } finally {
      const end = await served.stop();
      expect(end.code).toBe(0);
      oneWarning(end.stderr);
    }
  });
});
