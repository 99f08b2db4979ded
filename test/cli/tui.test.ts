/**
 * `opencode [project]`: OpenCode's TUI (here a stand-in executable that records how it was started
 * and calls the server it was given) attached to a Pantheon server started for it, behind a password
 * made for the session; the server stopped when the TUI exits, whose exit code is the command's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hasStack, sandbox, type Sandbox } from './cli-helper.ts';

const boxes: Sandbox[] = [];
afterEach(async () => Promise.all(boxes.splice(0).map((sb) => sb.remove())));

interface Record_ {
  argv: string[];
  cwd: string;
  user: string | undefined;
  withPassword: number;
  withoutPassword: number;
  config: { model?: string; default_agent?: string };
}

/** A stand-in for OpenCode's binary: records its arguments, calls the server with and without the password, exits with 3. */
function fakeOpenCode(dir: string, record: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const script = path.join(dir, 'fake-tui.mjs');
  fs.writeFileSync(
    script,
    `import fs from 'node:fs';
const [, url] = process.argv.slice(2);
const dir = process.argv[process.argv.indexOf('--dir') + 1];
const auth = 'Basic ' + Buffer.from((process.env.OPENCODE_SERVER_USERNAME || 'opencode') + ':' + (process.env.OPENCODE_SERVER_PASSWORD || '')).toString('base64');
const q = '?directory=' + encodeURIComponent(dir);
const withPassword = (await fetch(url + '/session' + q, { headers: { authorization: auth } })).status;
const withoutPassword = (await fetch(url + '/session' + q)).status;
const config = await (await fetch(url + '/config' + q, { headers: { authorization: auth } })).json();
fs.writeFileSync(${JSON.stringify(record)}, JSON.stringify({ argv: process.argv.slice(2), cwd: process.cwd(), user: process.env.OPENCODE_SERVER_USERNAME, withPassword, withoutPassword, config: { model: config.model, default_agent: config.default_agent } }));
process.exit(3);
`,
  );
  const bin = path.join(dir, 'opencode');
  fs.writeFileSync(bin, `#!/bin/sh\nexec '${process.execPath}' '${script}' "$@"\n`, { mode: 0o755 });
  return bin;
}

async function project(): Promise<Sandbox> {
  const sb = await sandbox();
  boxes.push(sb);
  sb.write('opencode.json', { model: 'p/m', provider: { p: { npm: '@ai-sdk/openai-compatible', options: { baseURL: 'http://127.0.0.1:9/v1' }, models: { m: {}, n: {} } } } });
  return sb;
}

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(5000) });
    return false;
  } catch {
    return true;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid the server's plugin wrote once it is loading (the readiness of a server still starting). */
async function serverPid(marker: string, exited: Promise<unknown>): Promise<number> {
  let gone = false;
  void exited.then(() => (gone = true));
  for (;;) {
    const text = fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8') : '';
    if (text) return Number(text);
    if (gone) throw new Error('opencode exited before its server started');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('opencode [project]: OpenCode\'s TUI on a Pantheon server', () => {
  it('starts the server behind a password made for it, runs the TUI attached to it, stops it when the TUI exits, and exits with its code', async () => {
    const sb = await project();
    const record = path.join(sb.root, 'record.json');
    const bin = fakeOpenCode(path.join(sb.root, 'oc'), record);
    // A log file an earlier session left readable by others is this user's alone afterwards.
    const log = path.join(sb.dataHome, 'pantheon', 'tui-server.log');
    fs.mkdirSync(path.dirname(log), { recursive: true });
    fs.writeFileSync(log, 'old\n', { mode: 0o644 });
    const r = await sb.run([], { env: { PANTHEON_OPENCODE_BIN: bin } });
    expect(r.code, r.stderr).toBe(3);
    expect(fs.statSync(log).mode & 0o777).toBe(0o600);
    const seen = JSON.parse(fs.readFileSync(record, 'utf8')) as Record_;
    const [verb, url, ...rest] = seen.argv;
    expect(verb).toBe('attach');
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(rest).toEqual(['--dir', sb.project]);
    expect(seen.cwd).toBe(sb.project);
    expect(seen.user).toBe('opencode');
    expect(seen.withPassword).toBe(200);
    expect(seen.withoutPassword).toBe(401);
    // Nothing of the server on the terminal (its messages go to a log file), and the server is gone.
    expect(r.stdout).toBe('');
    expect(hasStack(r.stderr)).toBe(false);
    expect(await refused(url as string)).toBe(true);
  });

  it('finds OpenCode on the PATH past Pantheon\'s own `opencode`, starts in the folder named, and passes the flags attach takes (model and agent through the server\'s config)', async () => {
    const sb = await project();
    const record = path.join(sb.root, 'record.json');
    fakeOpenCode(path.join(sb.root, 'oc'), record);
    // Pantheon's own CLI, first on the PATH under the same name: skipped.
    const own = path.join(sb.root, 'own');
    fs.mkdirSync(own);
    fs.symlinkSync(path.resolve('bin/opencode.js'), path.join(own, 'opencode'));
    fs.mkdirSync(path.join(sb.project, 'pkg'));
    const env = { PATH: [own, path.join(sb.root, 'oc'), process.env.PATH ?? ''].join(path.delimiter) };
    const r = await sb.run(['pkg', '-c', '-s', 'ses_abc', '--mini', '--agent', 'plan', '-m', 'p/n', '--prompt', 'hello'], { env });
    expect(r.code, r.stderr).toBe(3);
    const seen = JSON.parse(fs.readFileSync(record, 'utf8')) as Record_;
    expect(seen.argv.slice(2)).toEqual(['--dir', path.join(sb.project, 'pkg'), '--continue', '--session', 'ses_abc', '--mini']);
    expect(seen.config).toEqual({ model: 'p/n', default_agent: 'plan' });
    expect(r.stderr).toContain('note: --prompt is not passed on: OpenCode\'s TUI attached to a server has no such flag.');
  });

  it.skipIf(process.platform === 'win32')('a SIGTERM or SIGHUP while the server starts stops the server too, and nothing is left running', async () => {
    for (const [signal, code] of [['SIGTERM', 143], ['SIGHUP', 129]] as const) {
      const sb = await project();
      // A plugin that holds the server's start: it says the server's pid, then never finishes.
      const marker = path.join(sb.root, 'server.pid');
      sb.write('.opencode/plugin/hold.js', `import fs from 'node:fs';\nexport const Hold = async () => { fs.writeFileSync(${JSON.stringify(marker)}, String(process.pid)); setInterval(() => {}, 1000); await new Promise(() => {}); };\n`);
      const bin = fakeOpenCode(path.join(sb.root, 'oc'), path.join(sb.root, 'record.json'));
      const p = sb.start([], { env: { PANTHEON_OPENCODE_BIN: bin } });
      const pid = await serverPid(marker, p.exited);
      try {
        p.child.kill(signal);
        const r = await p.exited;
        expect(r.code, r.stderr).toBe(code);
        expect(alive(pid)).toBe(false);
        expect(fs.existsSync(path.join(sb.root, 'record.json'))).toBe(false);
        expect(hasStack(r.stderr)).toBe(false);
      } finally {
        if (alive(pid)) process.kill(pid, 'SIGKILL');
      }
    }
  });

  it('without OpenCode installed, says so in one sentence; a word that is no folder is still an unknown command', async () => {
    const sb = await project();
    const env = { PATH: path.dirname(process.execPath) };
    const alone = await sb.run([], { env });
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/^error: `opencode` alone starts OpenCode's terminal UI, and OpenCode is not installed here/);
    expect(alone.stderr).toContain('PANTHEON_OPENCODE_BIN');
    const typo = await sb.run(['rnu'], { env });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('error: Unknown command "rnu"; did you mean "run"?');
    const badPort = await sb.run(['--port', 'abc'], { env: { ...env, PANTHEON_OPENCODE_BIN: process.execPath } });
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('error: --port: expected a port number from 0 to 65535, found "abc".');
    const named = await sb.run([], { env: { ...env, PANTHEON_OPENCODE_BIN: path.join(sb.root, 'missing') } });
    expect(named.code).toBe(2);
    expect(named.stderr).toContain('PANTHEON_OPENCODE_BIN: expected OpenCode\'s executable');
    for (const r of [alone, typo, badPort, named]) expect(hasStack(r.stderr)).toBe(false);
  });
});
