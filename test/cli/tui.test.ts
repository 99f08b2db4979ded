/**
 * `opencode [project]`: OpenCode's TUI (here a stand-in executable that records how it was started
 * and calls the server it was given) attached to a Pantheon server started for it, behind a password
 * made for the session; the server stopped when the TUI exits, whose exit code is the command's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hasStack, sandbox, type Sandbox } from './cli-helper.ts';
import { alive, fakeOpenCode, readRecord, refused, until } from './tui-helper.ts';

const boxes: Sandbox[] = [];
afterEach(async () => Promise.all(boxes.splice(0).map((sb) => sb.remove())));

async function project(): Promise<Sandbox> {
  const sb = await sandbox();
  boxes.push(sb);
  sb.write('opencode.json', { model: 'p/m', provider: { p: { npm: '@ai-sdk/openai-compatible', options: { baseURL: 'http://127.0.0.1:9/v1' }, models: { m: {}, n: {} } } } });
  return sb;
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
    const r = await sb.run([], { env: { PANTHEON_OPENCODE_BIN: bin } });
    expect(r.code, r.stderr).toBe(3);
    // The server's messages: a log of its own, this user's alone.
    const logs = fs.readdirSync(path.join(sb.dataHome, 'pantheon', 'tui-server'));
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/^\d{8}T\d{6}Z-\d+\.log$/);
    expect(fs.statSync(path.join(sb.dataHome, 'pantheon', 'tui-server', logs[0] as string)).mode & 0o777).toBe(0o600);
    const seen = readRecord(record);
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

  it('finds OpenCode on the PATH past Pantheon\'s own `opencode`, starts in the folder named, and passes the flags attach takes (model and agent through the server\'s config, OpenCode\'s global flags as given)', async () => {
    const sb = await project();
    const record = path.join(sb.root, 'record.json');
    fakeOpenCode(path.join(sb.root, 'oc'), record);
    // Pantheon's own CLI, first on the PATH under the same name: skipped.
    const own = path.join(sb.root, 'own');
    fs.mkdirSync(own);
    fs.symlinkSync(path.resolve('bin/opencode.js'), path.join(own, 'opencode'));
    fs.mkdirSync(path.join(sb.project, 'pkg'));
    const env = { PATH: [own, path.join(sb.root, 'oc'), process.env.PATH ?? ''].join(path.delimiter) };
    const r = await sb.run(['pkg', '-c', '-s', 'ses_abc', '--mini', '--agent', 'plan', '-m', 'p/n', '--prompt', 'hello', '--print-logs', '--log-level', 'info'], { env });
    expect(r.code, r.stderr).toBe(3);
    const seen = readRecord(record);
    expect(seen.argv.slice(2)).toEqual(['--dir', path.join(sb.project, 'pkg'), '--continue', '--session', 'ses_abc', '--mini', '--print-logs', '--log-level', 'INFO']);
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

  it.skipIf(process.platform === 'win32')('the server never outlives the command: a SIGKILLed `opencode` (started or starting) takes its server with it, which hangs up the TUI', async () => {
    for (const phase of ['running', 'starting'] as const) {
      const sb = await project();
      // A plugin that says the server's pid and whether the tie's variable reached it (it must not: the server's children are not tied); while starting it holds the start.
      const marker = path.join(sb.root, 'server.json');
      const hold = phase === 'starting' ? 'setInterval(() => {}, 1000); await new Promise(() => {});' : '';
      sb.write('.opencode/plugin/mark.js', `import fs from 'node:fs';\nexport const Mark = async () => { fs.writeFileSync(${JSON.stringify(marker + '.tmp')}, JSON.stringify({ pid: process.pid, tied: process.env.PANTHEON_PARENT_PIPE ?? null })); fs.renameSync(${JSON.stringify(marker + '.tmp')}, ${JSON.stringify(marker)}); ${hold} return {}; };\n`);
      const record = path.join(sb.root, 'record.json');
      const bin = fakeOpenCode(path.join(sb.root, 'oc'), record, { hold: true });
      const p = sb.start([], { env: { PANTHEON_OPENCODE_BIN: bin } });
      let server = 0;
      let tui = 0;
      try {
        await until(() => fs.existsSync(phase === 'running' ? record : marker), `the ${phase === 'running' ? 'TUI' : 'server'} to start`);
        const mark = JSON.parse(fs.readFileSync(marker, 'utf8')) as { pid: number; tied: string | null };
        server = mark.pid;
        expect(mark.tied).toBe(null);
        const url = phase === 'running' ? readRecord(record).argv[1] : undefined;
        if (phase === 'running') tui = readRecord(record).pid;
        // Its exit, not its pipes' closing: the TUI it started has them too, until the server hangs it up.
        const gone = new Promise((resolve) => p.child.once('exit', resolve));
        p.child.kill('SIGKILL');
        await gone;
        await until(() => !alive(server), 'the server to exit after its parent was killed');
        if (tui) await until(() => !alive(tui), 'the TUI to be hung up');
        if (url) expect(await refused(url)).toBe(true);
        const dir = path.join(sb.dataHome, 'pantheon', 'tui-server');
        const log = fs.readFileSync(path.join(dir, fs.readdirSync(dir)[0] as string), 'utf8');
        expect(log).toContain(phase === 'running' ? 'The process that started this server exited: finishing turns in flight, then stopping' : 'The process that started this server exited while the server was starting.');
      } finally {
        for (const pid of [server, tui]) if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
      }
    }
  });

  it('keeps the newest server logs and those of sessions still running; a server that fails to start is reported with its own log', async () => {
    const sb = await project();
    const dir = path.join(sb.dataHome, 'pantheon', 'tui-server');
    fs.mkdirSync(dir, { recursive: true });
    // A pid no process has now: one that has exited.
    const { spawnSync } = await import('node:child_process');
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim();
    const old = Array.from({ length: 12 }, (_, i) => `2020010${1 + (i % 9)}T0000${String(10 + i)}Z-${dead}.log`);
    for (const name of old) fs.writeFileSync(path.join(dir, name), 'old\n');
    // The oldest of all, of a launcher still running (this test's process): kept.
    const live = `20190101T000000Z-${process.pid}.log`;
    fs.writeFileSync(path.join(dir, live), 'running\n');
    const other = path.join(dir, 'notes.txt');
    fs.writeFileSync(other, 'mine\n');
    // A config the server refuses: it exits before listening.
    sb.write('opencode.json', '{ "model": 5 }');
    const bin = fakeOpenCode(path.join(sb.root, 'oc'), path.join(sb.root, 'record.json'));
    const r = await sb.run([], { env: { PANTHEON_OPENCODE_BIN: bin } });
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBe(3);
    const names = fs.readdirSync(dir).sort();
    const mine = names.filter((n) => !old.includes(n) && n !== live && n !== 'notes.txt');
    expect(mine).toHaveLength(1);
    // The newest ten (this session's and nine of the old), the live one, and a file that is no log.
    expect(names).toEqual([live, ...old.sort().slice(-9), ...mine, 'notes.txt'].sort());
    expect(r.stderr).toContain("error: The Pantheon server for OpenCode's TUI did not start: it exited (");
    expect(r.stderr).toContain(`Its messages are in ${path.join(dir, mine[0] as string)};`);
    expect(fs.readFileSync(path.join(dir, mine[0] as string), 'utf8')).toContain('model');
    expect(hasStack(r.stderr)).toBe(false);
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
