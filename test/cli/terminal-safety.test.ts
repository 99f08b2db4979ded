/**
 * What Pantheon prints that came from a file, a provider or a tool reaches the terminal with its
 * control characters escaped (ESC sequences, C0/C1, bidi overrides) and very long lines cut;
 * `--format json` stays exact JSON. The real CLI, against the scripted provider.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { hasStack, providerConfig, SECRET, sandbox, type CliResult, type Sandbox } from './cli-helper.ts';

/** ESC, the C1 CSI, a bidi override, BEL: none may reach the terminal raw. */
// eslint-disable-next-line no-control-regex -- the characters under test
const RAW = /[\u001b\u009b\u202e\u0007\u0000]/;
const HOSTILE = '\u001b]0;pwned\u0007\u001b[2J\u009b31m\u202eevil';

function expectSafe(r: CliResult): void {
  expect(RAW.test(r.stdout), JSON.stringify(r.stdout.slice(0, 300))).toBe(false);
  expect(RAW.test(r.stderr), JSON.stringify(r.stderr.slice(0, 300))).toBe(false);
  expect(hasStack(r.stderr)).toBe(false);
}

describe('terminal safety of printed text', () => {
  let server: ScriptedServer;
  let sb: Sandbox;

  beforeAll(async () => {
    server = await startScriptedServer({ apiKey: SECRET });
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    server.reset();
    sb = await sandbox();
    sb.write('opencode.json', { ...providerConfig(server, { m1: {} }), model: 'p/m1', retry: { maxRetries: 0, baseDelay: 10, maxDelay: 10 } });
  });
  afterEach(async () => {
    await sb.remove();
  });

  it('garbage bytes in a config file are shown escaped in the parse error', async () => {
    sb.write('bad.json', Buffer.concat([Buffer.from('\u0000\u001b[31mgarbage'), Buffer.from([0x9b, 0xff, 0xfe]), Buffer.from('\u202e')]).toString('latin1'));
    const r = await sb.run(['config', 'validate', 'bad.json']);
    expect(r.code).toBe(2);
    expectSafe(r);
    expect(r.stderr).toContain('\\x1b[31m');
  });

  it('control characters and bidi overrides in config keys and values are escaped in warnings and errors', async () => {
    sb.write('opencode.json', {
      model: `p/m${HOSTILE}`,
      agent: { oracle: { [`descr\u202eiption`]: 'x', [`temprature${HOSTILE}`]: 1 } },
    });
    const warned = await sb.run(['config', 'validate']);
    expect(warned.code, warned.stderr).toBe(0);
    expectSafe(warned);
    expect(warned.stderr).toContain('\\u202e');
    sb.write('opencode.json', { model: 'p/m1', retry: { maxRetries: HOSTILE }, agent: { [HOSTILE]: { temperature: HOSTILE } } });
    const failed = await sb.run(['config', 'validate']);
    expect(failed.code).toBe(2);
    expectSafe(failed);
    expect(failed.stderr).toMatch(/maxRetries: expected/);
  });

  it('--json output stays exact JSON: it parses back to the same strings', async () => {
    const key = `descr\u202eiption\u009b`;
    sb.write('opencode.json', { model: 'p/m1', agent: { oracle: { [key]: 'x' } } });
    const r = await sb.run(['config', 'validate', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expectSafe(r);
    const body = JSON.parse(r.stdout) as { warnings: { path: string }[] };
    expect(body.warnings.map((w) => w.path)).toContain(`agent.oracle[${JSON.stringify(key)}]`);
  });

  it('an emoji or a control character in a header value: exit 2 naming the header, never quoting the value', async () => {
    for (const value of ['Bearer \u{1F600}', `x${HOSTILE}`]) {
      sb.write('opencode.json', { ...providerConfig(server, { m1: {} }, { options: { baseURL: server.url, apiKey: SECRET, headers: { 'X-Trace': value } } }), model: 'p/m1' });
      const r = await sb.run(['run', 'hi']);
      expect(r.code, r.stderr).toBe(2);
      expectSafe(r);
      expect(r.stderr).toMatch(/^error: provider\.p\.options\.headers\["X-Trace"\]: the value has a character HTTP does not allow \(U\+[0-9A-F]{4,5} at character \d+\)\./);
      expect(r.stderr).not.toContain('Bearer');
      expect(r.stderr).not.toContain('pwned');
    }
    expect(server.log).toHaveLength(0);
  });

  it("ESC bytes in a provider's error body are escaped in the error", async () => {
    server.script('m1', { type: 'status', status: 400, message: `upstream says ${HOSTILE}` });
    const r = await sb.run(['run', 'hi']);
    expect(r.code).toBe(1);
    expectSafe(r);
    expect(r.stderr).toContain('\\x1b]0;pwned\\x07');
  });

  it("control characters in the model's answer are escaped on stdout; --format json carries them exactly", async () => {
    const answer = `before ${HOSTILE} after\r\nnext line`;
    server.script('m1', { type: 'text', text: answer });
    const r = await sb.run(['run', 'hi']);
    expect(r.code, r.stderr).toBe(0);
    expectSafe(r);
    expect(r.stdout).toBe('before \\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202eevil after\nnext line\n');
    server.script('m1', { type: 'text', text: answer });
    const json = await sb.run(['run', '--format', 'json', 'hi']);
    expect(json.code, json.stderr).toBe(0);
    expectSafe(json);
    const texts = json.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; text?: string })
      .filter((e) => e.type === 'text');
    expect(texts.map((e) => e.text).join('')).toBe(answer);
  });

  it('a tool error quoting hostile text is escaped in the progress line', async () => {
    server.script(
      'm1',
      { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: `missing${HOSTILE}.txt` } }] },
      { type: 'text', text: 'done' },
    );
    const r = await sb.run(['run', 'read it']);
    expect(r.code, r.stderr).toBe(0);
    expectSafe(r);
    expect(r.stderr).toContain('read missing\\x1b]0;pwned');
  });
});
