/**
 * `opencode attach URL`: OpenCode's own command, run by OpenCode's binary (here a stand-in that
 * records how it was started and calls the server it was given) attached to a running `opencode
 * serve`; the credentials reach it in its environment, never on its command line or the terminal.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hasStack, sandbox, type CliProcess, type Sandbox } from './cli-helper.ts';
import { fakeOpenCode, readRecord } from './tui-helper.ts';

const boxes: Sandbox[] = [];
const servers: CliProcess[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) s.child.kill('SIGTERM');
  await Promise.all(boxes.splice(0).map((sb) => sb.remove()));
});

const PASSWORD = 'pw-Zq81-never-shown';

async function project(): Promise<Sandbox> {
  const sb = await sandbox();
  boxes.push(sb);
  sb.write('opencode.json', { model: 'p/m', provider: { p: { npm: '@ai-sdk/openai-compatible', options: { baseURL: 'http://127.0.0.1:9/v1' }, models: { m: {} } } } });
  return sb;
}

/** A running `opencode serve` behind PASSWORD; resolves with its URL. */
async function serve(sb: Sandbox): Promise<string> {
  const p = sb.start(['serve'], { env: { OPENCODE_SERVER_PASSWORD: PASSWORD } });
  servers.push(p);
  const out = await p.stdoutMatches(/listening on (http:\S+)\n/);
  return /listening on (http:\S+)\n/.exec(out)?.[1] as string;
}

describe("opencode attach URL: OpenCode's TUI on a running server", () => {
  it('runs OpenCode\'s attach with the flags it knows, the password from -p in its environment (never on its command line or the terminal), and exits with its code', async () => {
    const sb = await project();
    const url = await serve(sb);
    const record = path.join(sb.root, 'record.json');
    const bin = fakeOpenCode(path.join(sb.root, 'oc'), record);
    const r = await sb.run(['attach', `${url}/`, '--dir', sb.project, '-c', '-s', 'ses_abc', '--fork', '--mini', '--no-replay', '--replay-limit', '20', '-p', PASSWORD, '--log-level', 'warn', '--print-logs'], { env: { PANTHEON_OPENCODE_BIN: bin } });
    expect(r.code, r.stderr).toBe(3);
    const seen = readRecord(record);
    expect(seen.argv).toEqual(['attach', url, '--dir', sb.project, '--continue', '--session', 'ses_abc', '--fork', '--mini', '--no-replay', '--replay-limit', '20', '--print-logs', '--log-level', 'WARN']);
    expect(seen.hasPassword).toBe(true);
    expect(seen.withPassword).toBe(200);
    expect(seen.withoutPassword).toBe(401);
    expect(seen.argv.join(' ')).not.toContain(PASSWORD);
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
    expect(hasStack(r.stderr)).toBe(false);
  });

  it('takes the password from OPENCODE_SERVER_PASSWORD or the URL (taken out of it), and passes no --dir unless given (the server\'s folder, which may be on another machine)', async () => {
    const sb = await project();
    const url = await serve(sb);
    const record = path.join(sb.root, 'record.json');
    const bin = fakeOpenCode(path.join(sb.root, 'oc'), record);
    const fromEnv = await sb.run(['attach', url], { env: { PANTHEON_OPENCODE_BIN: bin, OPENCODE_SERVER_PASSWORD: PASSWORD } });
    expect(fromEnv.code, fromEnv.stderr).toBe(3);
    expect(readRecord(record)).toMatchObject({ argv: ['attach', url], withPassword: 200, cwd: sb.project });
    fs.rmSync(record);
    const withCreds = url.replace('http://', `http://opencode:${PASSWORD}@`);
    const fromUrl = await sb.run(['attach', withCreds], { env: { PANTHEON_OPENCODE_BIN: bin } });
    expect(fromUrl.code, fromUrl.stderr).toBe(3);
    const seen = readRecord(record);
    expect(seen.argv).toEqual(['attach', url]);
    expect(seen.withPassword).toBe(200);
    expect(seen.user).toBe('opencode');
  });

  it('a URL that is none, --config, or no OpenCode installed: one sentence each, exit 2, before anything runs (the password never shown)', async () => {
    const sb = await project();
    const record = path.join(sb.root, 'record.json');
    const bin = fakeOpenCode(path.join(sb.root, 'oc'), record);
    const env = { PANTHEON_OPENCODE_BIN: bin };
    const scheme = await sb.run(['attach', 'ftp://127.0.0.1:4096'], { env });
    expect(scheme.code).toBe(2);
    expect(scheme.stderr).toContain('error: url: expected a server URL such as http://127.0.0.1:4096, found "ftp://127.0.0.1:4096".');
    const secret = await sb.run(['attach', `http://u:${PASSWORD}@:4096`], { env });
    expect(secret.code).toBe(2);
    expect(secret.stderr).toContain('error: url: expected a server URL');
    expect(secret.stderr).not.toContain(PASSWORD);
    const badEscape = await sb.run(['attach', 'http://u:%E0%zz@127.0.0.1:4096'], { env });
    expect(badEscape.code, badEscape.stderr).toBe(2);
    expect(badEscape.stderr).toContain('error: url: the user name or password in the URL is not valid percent-encoding');
    expect(badEscape.stderr).not.toContain('%E0%zz');
    expect(badEscape.stderr).not.toContain('internal error');
    const none = await sb.run(['attach'], { env });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('error: attach: expected 1 argument, found none.');
    const limit = await sb.run(['attach', 'http://127.0.0.1:4096', '--replay-limit', 'many'], { env });
    expect(limit.code).toBe(2);
    expect(limit.stderr).toContain('error: --replay-limit: expected a number of messages, found "many".');
    const config = await sb.run(['attach', 'http://127.0.0.1:4096', '--config', 'x.json'], { env });
    expect(config.code).toBe(2);
    expect(config.stderr).toContain('error: --config cannot be used with attach: the server runs with its own config.');
    expect(fs.existsSync(record)).toBe(false);
    const missing = await sb.run(['attach', 'http://127.0.0.1:4096'], { env: { PATH: path.dirname(process.execPath) } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: `opencode attach` runs OpenCode's terminal UI, and OpenCode is not installed here/);
    expect(missing.stderr).toContain('PANTHEON_OPENCODE_BIN');
    for (const r of [scheme, secret, badEscape, none, limit, config, missing]) expect(hasStack(r.stderr)).toBe(false);
  });
});
