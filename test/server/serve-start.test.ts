import { readdirSync, readFileSync } from 'node:fs';
import { getPriority as osPriority } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hasStack, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { basic, getJson, READY, serve } from './serve-helper.ts';

let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.remove();
  sb = undefined;
});

const config = { model: 'p/m', provider: { p: { options: { baseURL: 'http://127.0.0.1:9/v1', apiKey: SECRET }, models: { m: {} } } } };

describe('opencode serve: start, routes, errors, stop', () => {
  it('listens on 127.0.0.1 and a free port, says so once on stdout, answers JSON everywhere and stops on SIGTERM with exit 0', async () => {
    sb = await sandbox();
    sb.write('opencode.json', config);
    const s = await serve(sb);
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await getJson(`${s.url}/global/health`)).toMatchObject({ status: 200, body: { healthy: true, version: expect.any(String) } });
    const missing = await getJson(`${s.url}/no/such/route`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/application\/json/);
    expect(missing.body).toMatchObject({ name: 'NotFoundError', data: { code: 'ROUTE_NOT_FOUND', message: 'No route GET /no/such/route.' } });
    expect(await getJson(`${s.url}/path`, { method: 'DELETE' })).toMatchObject({ status: 405, body: { data: { code: 'METHOD_NOT_ALLOWED' } } });
    const health = await getJson(`${s.url}/health`);
    // Idle connections are kept for a minute, so a client late by seconds (a loaded machine) never
    // reuses one the server has just closed ("other side closed"; Node's default is 5 s).
    expect(health.headers.get('keep-alive')).toBe('timeout=65');
    expect(health).toMatchObject({ status: 200, body: { status: 'healthy', checks: { database: { status: 'ok' }, providers: [{ id: 'p', status: 'ok', credential: 'config' }] } } });
    // The server restarted itself in place with the Node flags a server needs (src/cli/server-node-flags.ts): the
    // process spawned is the one serving, and its Node has them.
    if (process.platform === 'linux') {
      const pid = String(s.proc.child.pid);
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).toEqual(expect.arrayContaining(['--no-memory-reducer', '--min-semi-space-size=4']));
      // Its V8 helper threads (compilers, GC helpers) run 10 below the thread that answers (src/cli/server-threads.ts).
      const threads = readdirSync(`/proc/${pid}/task`).map((tid) => {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        return { name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) };
      });
      const main = threads.find((t) => t.name === 'MainThread' || t.name === 'node');
      const helpers = threads.filter((t) => /^V8(Worker| DefaultWorke)/.test(t.name));
      expect(helpers.length).toBeGreaterThan(0);
      expect(helpers.map((t) => t.nice)).toEqual(helpers.map(() => Math.min(19, (main?.nice ?? 0) + 10)));
      expect(main?.nice).toBe(osPriority());
    }
    const result = await s.stop();
    expect(result.code).toBe(0);
    expect(result.stdout.match(new RegExp(READY.source, 'gm'))).toHaveLength(1);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('says the config’s warnings on stderr when it starts, as run does: an unset {env:} in server.keys is not left silent', async () => {
    sb = await sandbox();
    sb.write('opencode.json', { ...config, server: { keys: ['{env:PANTHEON_TEST_UNSET_KEY}'] } });
    const s = await serve(sb);
    const result = await s.stop();
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^warning: \S+opencode\.json server\.keys\[0\]: \{env:PANTHEON_TEST_UNSET_KEY\} names an environment variable that is not set; using an empty string\.$/m);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('the OpenCode routes answer for the server’s project and for another one named by header or query; /config and /config/providers show no key or password', async () => {
    sb = await sandbox();
    sb.write('opencode.json', config);
    const other = path.join(sb.root, 'other');
    sb.write('../other/.git/HEAD', 'ref: refs/heads/main\n');
    // The other project's provider sits behind HTTP Basic, its password in the base URL.
    sb.write('../other/opencode.json', { ...config, model: 'p/n', provider: { p: { options: { baseURL: `http://me:${SECRET}@127.0.0.1:9/v1` }, models: { n: {} } } } });
    const s = await serve(sb);
    const here = await getJson(`${s.url}/path`);
    expect(here.body).toMatchObject({ worktree: sb.project, directory: sb.project });
    const byHeader = await getJson(`${s.url}/path`, { headers: { 'x-opencode-directory': encodeURIComponent(other) } });
    expect(byHeader.body).toMatchObject({ worktree: other, directory: other });
    const byQuery = await getJson(`${s.url}/config?directory=${encodeURIComponent(other)}`);
    expect(byQuery.body).toMatchObject({ model: 'p/n' });
    expect(JSON.stringify(byQuery.body)).not.toContain(SECRET);
    const theirs = await getJson(`${s.url}/config/providers?directory=${encodeURIComponent(other)}`);
    expect(theirs.body).toMatchObject({ providers: [{ id: 'p', models: { n: { api: { url: 'http://127.0.0.1:9/v1' } } } }] });
    expect(JSON.stringify(theirs.body)).not.toContain(SECRET);
    const providers = await getJson(`${s.url}/config/providers`);
    expect(providers.body).toMatchObject({ providers: [{ id: 'p', models: { m: { id: 'm', providerID: 'p' } } }], default: { p: 'm' } });
    expect(JSON.stringify(providers.body)).not.toContain(SECRET);
    const agents = (await getJson(`${s.url}/agent`)).body as { name: string }[];
    expect(agents.map((a) => a.name)).toContain('sisyphus');
    expect(await getJson(`${s.url}/project/current`)).toMatchObject({ status: 200, body: { worktree: sb.project } });
    const gone = await getJson(`${s.url}/path?directory=${encodeURIComponent(path.join(sb.root, 'nowhere'))}`);
    expect(gone).toMatchObject({ status: 400, body: { name: 'BadRequest', data: { code: 'DIRECTORY_NOT_FOUND' } } });
    expect((await getJson(`${s.url}/global/health`)).status).toBe(200);
    await s.stop();
  });

  it('/doc is an OpenAPI 3.1 document of every route', async () => {
    sb = await sandbox();
    sb.write('opencode.json', config);
    const s = await serve(sb);
    const doc = (await getJson(`${s.url}/doc`)).body as { openapi: string; paths: Record<string, Record<string, { operationId: string }>> };
    expect(doc.openapi).toBe('3.1.0');
    for (const p of ['/global/health', '/health', '/path', '/project/current', '/config', '/config/providers', '/provider', '/agent', '/doc']) {
      expect(doc.paths[p]?.get?.operationId, p).toEqual(expect.any(String));
    }
    await s.stop();
  });

  it('OPENCODE_CONFIG_CONTENT is a config layer, as createOpencodeServer() passes it; a bad one exits 2 with one sentence', async () => {
    sb = await sandbox();
    sb.write('opencode.json', config);
    const s = await serve(sb, [], { OPENCODE_CONFIG_CONTENT: JSON.stringify({ small_model: 'p/m' }) });
    expect((await getJson(`${s.url}/config`)).body).toMatchObject({ model: 'p/m', small_model: 'p/m' });
    await s.stop();
    const bad = await sb.run(['serve', '--port=0'], { env: { OPENCODE_CONFIG_CONTENT: '{"model": 5}' } });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain('OPENCODE_CONFIG_CONTENT model');
    expect(hasStack(bad.stderr)).toBe(false);
  });

  it('refuses a bad --port, a --cors that is no origin and a non-loopback address without a password (exit 2, nothing listening)', async () => {
    sb = await sandbox();
    sb.write('opencode.json', config);
    const port = await sb.run(['serve', '--port', '70000']);
    expect(port).toMatchObject({ code: 2, stdout: '' });
    expect(port.stderr).toMatch(/--port: expected a port number from 0 to 65535, found "70000"/);
    const empty = await sb.run(['serve', '--hostname', ' ', '--port', '0']);
    expect(empty).toMatchObject({ code: 2, stdout: '' });
    expect(empty.stderr).toBe(
      'error: --hostname: expected an address such as 127.0.0.1, found nothing.\nhint: Leave it out to listen on 127.0.0.1 (this machine only); 0.0.0.0 listens on every interface (with OPENCODE_SERVER_PASSWORD set).\n',
    );
    const fromConfig = await sb.run(['serve', '--port', '0'], { env: { OPENCODE_CONFIG_CONTENT: '{"server":{"hostname":""}}' } });
    expect(fromConfig).toMatchObject({ code: 2, stdout: '' });
    expect(fromConfig.stderr).toMatch(/^error: server\.hostname: expected an address such as 127\.0\.0\.1, found nothing\.$/m);
    const open = await sb.run(['serve', '--hostname', '0.0.0.0', '--port', '0']);
    expect(open.code).toBe(2);
    expect(open.stdout).toBe('');
    expect(open.stderr).toMatch(/^error: Refusing to listen on 0\.0\.0\.0 without a password/);
    expect(hasStack(open.stderr)).toBe(false);
    // An origin no browser sends (a path, not a URL) would never match: said, not taken.
    for (const cors of ['https://app.example.com/app', 'not an origin']) {
      const r = await sb.run(['serve', '--port', '0', '--cors', cors]);
      expect(r).toMatchObject({ code: 2, stdout: '' });
      expect(r.stderr).toContain(`error: --cors: expected an origin like https://app.example.com (scheme, host and port; no path), or *, found "${cors}".`);
    }
  });

  it('with OPENCODE_SERVER_PASSWORD every route needs Basic auth (or ?auth_token=); a wrong one is a JSON 401', async () => {
    sb = await sandbox();
    sb.write('opencode.json', config);
    const s = await serve(sb, ['--hostname=0.0.0.0'], { OPENCODE_SERVER_PASSWORD: 'hunter2-long-password' });
    const url = s.url.replace('0.0.0.0', '127.0.0.1');
    const none = await getJson(`${url}/global/health`);
    expect(none).toMatchObject({ status: 401, body: { name: 'UnauthorizedError', data: { code: 'UNAUTHORIZED' } } });
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect((await getJson(`${url}/global/health`, { headers: { authorization: basic('opencode', 'wrong') } })).status).toBe(401);
    expect((await getJson(`${url}/global/health`, { headers: { authorization: basic('someone', 'hunter2-long-password') } })).status).toBe(401);
    expect((await getJson(`${url}/global/health`, { headers: { authorization: basic('opencode', 'hunter2-long-password') } })).status).toBe(200);
    const token = Buffer.from('opencode:hunter2-long-password').toString('base64');
    expect((await getJson(`${url}/path?auth_token=${encodeURIComponent(token)}`)).status).toBe(200);
    const preflight = await fetch(`${url}/session`, { method: 'OPTIONS', headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    const result = await s.stop();
    expect(result.stdout + result.stderr).not.toContain('hunter2');
  });

  it('--cors admits the origins given; other sites get no CORS headers', async () => {
    sb = await sandbox();
    sb.write('opencode.json', config);
    const s = await serve(sb, ['--cors', 'https://app.example.com']);
    const allowed = await fetch(`${s.url}/global/health`, { headers: { origin: 'https://app.example.com' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const other = await fetch(`${s.url}/global/health`, { headers: { origin: 'https://evil.example.com' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    await s.stop();
  });
});
