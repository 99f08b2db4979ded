import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { SECRET, barrierServers, basicAuthServer, check, closedPort, doctorTree, hangingServer, type DoctorTree } from './helper.ts';

describe('doctor models: providers probed with GET /models', () => {
  let server: ScriptedServer;
  let tree: DoctorTree;

  beforeAll(async () => {
    server = await startScriptedServer({ apiKey: SECRET, models: { 'up-m1': {}, 'up-m2': {} } });
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    tree = await doctorTree();
  });
  afterEach(async () => {
    await tree.remove();
  });

  const provider = (baseURL: string, apiKey: string, models: object = { m1: { id: 'up-m1' } }) => ({ options: { baseURL, apiKey }, models });

  it('reports a reachable provider with its latency and the configured ids it lists', async () => {
    tree.write('opencode.json', { provider: { p: provider(server.url, SECRET, { m1: { id: 'up-m1' }, m2: { id: 'up-m2' } }) }, model: 'p/m1' });
    const report = await tree.doctor({ groups: ['models'] });
    const probe = check(report, 'models', 'p');
    expect(probe.status).toBe('ok');
    expect(probe.message).toMatch(/^answered in \d+ ms, 2 models listed$/);
    expect(probe.ms).toBeGreaterThanOrEqual(0);
    expect(check(report, 'models', 'p ids')).toMatchObject({ status: 'ok', message: '2 configured models listed' });
    expect(report.ok).toBe(true);
  });

  it('warns about configured model ids the provider does not list', async () => {
    tree.write('opencode.json', { provider: { p: provider(server.url, SECRET, { m1: { id: 'up-m1' }, gone: { id: 'no-such-model' } }) }, model: 'p/m1' });
    const report = await tree.doctor({ groups: ['models'] });
    const ids = check(report, 'models', 'p ids');
    expect(ids.status).toBe('warn');
    expect(ids.message).toBe('1 configured model is not in its list: no-such-model');
    expect(ids.hint).toContain('provider.p.models');
    expect(report.ok).toBe(true);
  });

  it('fails with "the key was refused" on a 401', async () => {
    tree.write('opencode.json', { provider: { p: provider(server.url, 'sk-wrong-key-000000000') }, model: 'p/m1' });
    const report = await tree.doctor({ groups: ['models'] });
    const probe = check(report, 'models', 'p');
    expect(probe).toMatchObject({ status: 'fail', message: 'the key was refused (401)' });
    expect(probe.hint).toContain('opencode auth login p');
    expect(report.ok).toBe(false);
  });

  it('fails with "unreachable" when the connection is refused', async () => {
    const port = await closedPort();
    tree.write('opencode.json', { provider: { p: provider(`http://127.0.0.1:${port}/v1`, SECRET) }, model: 'p/m1' });
    const report = await tree.doctor({ groups: ['models'] });
    expect(check(report, 'models', 'p')).toMatchObject({ status: 'fail', message: `unreachable: connection refused (http://127.0.0.1:${port}/v1)` });
  });

  it('gives up on a provider that never answers after the probe timeout', async () => {
    const hang = await hangingServer();
    try {
      tree.write('opencode.json', { provider: { p: provider(hang.url, SECRET) }, model: 'p/m1' });
      const started = performance.now();
      const report = await tree.doctor({ groups: ['models'], probeTimeoutMs: 300 });
      const elapsed = performance.now() - started;
      expect(check(report, 'models', 'p')).toMatchObject({ status: 'fail', message: `no answer in 300 ms (${hang.url})` });
      expect(hang.requests()).toBe(1);
      // A correctness bound: the probe stops at its timeout rather than waiting for the server.
      expect(elapsed).toBeLessThan(300 + 2500); // stopped at its timeout, not the default 3 s
    } finally {
      await hang.close();
    }
  });

  it('probes providers in parallel: two providers that answer only together both answer', async () => {
    const pair = await barrierServers(2, ['up-m1']);
    try {
      const [a, b] = pair.urls as [string, string];
      tree.write('opencode.json', { provider: { a: provider(a, SECRET), b: provider(b, SECRET) }, model: 'a/m1', fallbacks: ['b/m1'] });
      // One after the other, the first probe would wait out its whole timeout and fail.
      const report = await tree.doctor({ groups: ['models'], probeTimeoutMs: 10_000 });
      expect(check(report, 'models', 'a').status).toBe('ok');
      expect(check(report, 'models', 'b').status).toBe('ok');
    } finally {
      await pair.close();
    }
  });

  it('skips providers whose package is not OpenAI-compatible, and those without a key', async () => {
    tree.write('opencode.json', { model: 'anthropic/claude', fallbacks: ['nvidia-nim/qwen'] });
    const report = await tree.doctor({ groups: ['models'] });
    expect(check(report, 'models', 'anthropic')).toMatchObject({ status: 'skip', message: 'not probed: @ai-sdk/anthropic is not OpenAI-compatible' });
    expect(check(report, 'models', 'nvidia-nim')).toMatchObject({ status: 'skip', message: 'not probed: no key (see auth)' });
    expect(report.ok).toBe(true);
  });

  it('probes a base URL that carries a user and password with Basic authorization, and never shows the password', async () => {
    const basic = await basicAuthServer('me', 'p@ss w0rd');
    try {
      const url = basic.url.replace('http://', 'http://me:p%40ss%20w0rd@');
      tree.write('opencode.json', { provider: { p: { options: { baseURL: url }, models: { m1: { id: 'up-m1' } } } }, model: 'p/m1' });
      const report = await tree.doctor({ groups: ['models', 'config'] });
      expect(check(report, 'models', 'p')).toMatchObject({ status: 'ok', message: expect.stringMatching(/^answered in \d+ ms, 1 model listed$/) });
      expect(basic.authorizations()).toEqual([`Basic ${Buffer.from('me:p@ss w0rd').toString('base64')}`]);
      // Unreachable now: the message names the URL, without its credentials.
      await basic.close();
      const down = await tree.doctor({ groups: ['models'] });
      expect(check(down, 'models', 'p')).toMatchObject({ status: 'fail', message: `unreachable: connection refused (${basic.url.replace('http://', 'http://***@')})` });
      expect(JSON.stringify([report, down])).not.toMatch(/p%40ss|w0rd/);
    } finally {
      await basic.close().catch(() => undefined);
    }
  });

  it('fails a base URL a request cannot be sent to with the field and what was expected, without probing it', async () => {
    tree.write('opencode.json', {
      provider: { p: { options: { baseURL: 'http://me:50%off@127.0.0.1:9/v1' }, models: { m1: {} } }, q: { api: 'localhost:8080/v1', models: { m1: {} } } },
      model: 'p/m1',
      fallbacks: ['q/m1'],
    });
    const report = await tree.doctor({ groups: ['models'] });
    expect(check(report, 'models', 'p')).toMatchObject({
      status: 'fail',
      message: 'provider.p.options.baseURL: expected a user name and password whose "%" each start an escape such as "%25", found "http://***@127.0.0.1:9/v1"',
      hint: expect.stringContaining('"%25"'),
    });
    expect(check(report, 'models', 'q')).toMatchObject({ status: 'fail', message: 'provider.q.api: expected an http(s) URL, found "localhost:8080/v1"' });
    expect(JSON.stringify(report)).not.toContain('50%off');
  });

  it('sends the key as a bearer token and never shows it', async () => {
    tree.write('opencode.json', { provider: { p: provider(server.url, SECRET) }, model: 'p/m1' });
    const report = await tree.doctor({ groups: ['models', 'auth', 'config'] });
    expect(check(report, 'models', 'p').status).toBe('ok');
    expect(JSON.stringify(report)).not.toContain(SECRET);
  });
});
