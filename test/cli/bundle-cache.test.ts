import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleFor, cacheFileFor } from '../../src/cli/bundle-cache.ts';
import { serve } from '../server/serve-helper.ts';
import { startScriptedServer } from '../support/openai-server.ts';
import { SECRET, providerConfig, sandbox, type CliResult, type Sandbox } from './cli-helper.ts';

const BUNDLE = path.resolve(import.meta.dirname, '..', '..', 'dist', 'bin', 'opencode.cjs');
const RUN_BUNDLE = path.join(path.dirname(BUNDLE), 'run.cjs');

/** Node puts its compile cache in a folder per Node version under NODE_COMPILE_CACHE; ours is beside it. */
function nodeCacheDir(root: string): string | undefined {
  const sub = fs.existsSync(root) ? fs.readdirSync(root).find((name) => name.startsWith(`${process.version}-`)) : undefined;
  return sub === undefined ? undefined : path.join(root, sub);
}

describe('the CLI bundle code cache (bin/opencode.js)', () => {
  let sb: Sandbox;
  let cacheRoot: string;
  let env: Record<string, string>;
  const dir = () => path.join(nodeCacheDir(cacheRoot) ?? cacheRoot, 'pantheon');
  const caches = () => (fs.existsSync(dir()) ? fs.readdirSync(dir()).sort() : []);
  /** The cache file of `command` run from the bundle `bundle` (dist/bin/<bundle>.cjs). */
  const cacheOf = (command: string, bundle = 'opencode') =>
    cacheFileFor(nodeCacheDir(cacheRoot), fs.readFileSync(path.join(path.dirname(BUNDLE), `${bundle}.cjs`), 'utf8'), [command], bundle) as string;
  /** The same argv run by the full CLI's bundle, loaded as bin/opencode.js loads it (no code cache). */
  const fullCli = (argv: string[]) =>
    new Promise<CliResult>((resolve) => {
      const script = `const { loadBundle } = await import(${JSON.stringify(pathToFileURL(path.join(path.dirname(BUNDLE), '..', 'cli', 'bundle-cache.js')).href)});
        const argv = ${JSON.stringify(argv)};
        await loadBundle(${JSON.stringify(BUNDLE)}, argv, undefined).main(argv);`;
      execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: sb.project, env: sb.env }, (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, signal: null, stdout, stderr });
      });
    });

  beforeAll(async () => {
    sb = await sandbox();
    cacheRoot = path.join(sb.root, 'compile-cache');
    env = { NODE_COMPILE_CACHE: cacheRoot };
    sb.write('opencode.json', { model: 'local/m', provider: { local: { options: { baseURL: 'http://127.0.0.1:9/v1' }, models: { m: {} } } } });
  });
  afterAll(async () => {
    await sb.remove();
  });

  it('names one cache per bundle build, Node version and command', () => {
    const source = '// pantheon-bundle 0123456789abcdef\n(function () {})\n';
    expect(cacheFileFor('/c', source, ['--debug', 'run', 'hi'])).toBe(`/c/pantheon/0123456789abcdef-${process.version}-${process.arch}-run.v8cache`);
    expect(cacheFileFor('/c', source, ['run', '--attach', 'http://127.0.0.1:4096', 'hi'])).toMatch(/-run-attach\.v8cache$/);
    expect(cacheFileFor('/c', source, ['run', '--attach=http://127.0.0.1:4096', 'hi'])).toMatch(/-run-attach\.v8cache$/);
    expect(cacheFileFor('/c', source, ['--help'])).toMatch(/-none\.v8cache$/);
    expect(cacheFileFor('/c', source, ['../../etc/passwd'])).toMatch(/-none\.v8cache$/);
    expect(cacheFileFor('/c', source, ['run', '--attach', 'http://127.0.0.1:4096', 'hi'], 'attach')).toMatch(/-attach\.run-attach\.v8cache$/);
    expect(cacheFileFor(undefined, source, ['run'])).toBeUndefined();
    expect(cacheFileFor('/c', '(function () {})\n', ['run'])).toBeUndefined();
  });

  it('`run --attach` goes to the attach bundle unless help, version or completion is asked for', () => {
    expect(bundleFor(['run', '--attach', 'http://127.0.0.1:4096', 'hi'])).toBe('attach');
    expect(bundleFor(['--debug', 'run', '--attach=http://127.0.0.1:4096', '-s', 'ses_1', 'hi'])).toBe('attach');
    expect(bundleFor(['run', 'hi'])).toBe('run');
    expect(bundleFor(['--debug', 'run', '--model', 'p/m', 'hi'])).toBe('run');
    for (const flag of ['--help', '-h', '--version', '-v', '--get-yargs-completions']) expect(bundleFor(['run', 'hi', flag])).toBe('opencode');
    expect(bundleFor(['dashboard', '--attach', 'http://127.0.0.1:4096'])).toBe('opencode');
    for (const flag of ['--help', '-h', '--version', '-v', '--get-yargs-completions']) expect(bundleFor(['run', '--attach', 'u', flag])).toBe('opencode');
  });

  it('`config` goes to the config bundle unless help, version or completion is asked for', () => {
    expect(bundleFor(['config', 'validate'])).toBe('config');
    expect(bundleFor(['--debug', 'config', 'show', '--json'])).toBe('config');
    expect(bundleFor(['--config=extra.json', 'config', 'validate', 'opencode.json'])).toBe('config');
    expect(bundleFor(['config'])).toBe('config');
    for (const flag of ['--help', '-h', '--version', '-v', '--get-yargs-completions']) expect(bundleFor(['config', 'validate', flag])).toBe('opencode');
  });

  it('`doctor --check …` goes to the doctor bundle; a plain `doctor`, `--fix`, help and version to the full CLI', () => {
    expect(bundleFor(['doctor', '--check', 'config'])).toBe('doctor');
    expect(bundleFor(['doctor', '--check=config,auth', '--json'])).toBe('doctor');
    expect(bundleFor(['--debug', 'doctor', '--check', 'models'])).toBe('doctor');
    expect(bundleFor(['doctor'])).toBe('opencode');
    expect(bundleFor(['doctor', '--check', 'config', '--fix'])).toBe('opencode');
    expect(bundleFor(['doctor', '--checks', 'config'])).toBe('opencode');
    for (const flag of ['--help', '-h', '--version', '-v', '--get-yargs-completions']) expect(bundleFor(['doctor', '--check', 'config', flag])).toBe('opencode');
  });

  it('an argv the attach bundle is given that is not an attached run is run by the full CLI', async () => {
    // After `--`, `--attach` is no flag but message text: a local run (here of a model no provider has, so it stops at once).
    const r = await sb.run(['run', '--debug', '--model', 'nowhere/m', '--', '--attach', 'http://127.0.0.1:9', 'hi'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: --model: unknown provider "nowhere"/m);
    expect(r.stderr).toMatch(/at (?:async )?(?:runAction|runWith) \(.*opencode\.cjs/);
  });

  it('is written after a command succeeds and then used as it is; the command prints nothing else', async () => {
    const first = await sb.run(['config', 'validate'], { env });
    expect(first).toMatchObject({ code: 0, stderr: '' });
    // `config` runs from the config bundle (dist/bin/config.cjs), with a cache of its own.
    const file = cacheOf('config', 'config');
    expect(caches()).toEqual([path.basename(file)]);
    const written = fs.statSync(file);
    expect(written.size).toBeGreaterThan(10_000);
    const second = await sb.run(['config', 'validate'], { env });
    expect(second).toEqual(first);
    expect(fs.statSync(file).mtimeMs).toBe(written.mtimeMs);
  });

  it('a `config` action from the config bundle prints and exits as the full CLI does, usage errors included', async () => {
    const bad = path.join(sb.root, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ agent: { oracle: { temperature: 'hot' } } }));
    const answers: Record<string, CliResult> = {};
    for (const argv of [['config', 'validate', bad], ['config', 'validate', '--json', bad], ['config'], ['config', 'valdate'], ['config', 'show', '--nope'], ['config', 'show', '--json']]) {
      const [partial, full] = await Promise.all([sb.run(argv, { env }), fullCli(argv)]);
      answers[argv.join(' ')] = partial;
      expect(partial.code, `${argv.join(' ')}: ${partial.stderr}`).toBe(full.code);
      expect({ stdout: partial.stdout, stderr: partial.stderr }, argv.join(' ')).toEqual({ stdout: full.stdout, stderr: full.stderr });
    }
    expect(answers[`config validate ${bad}`]).toMatchObject({ code: 2, stderr: expect.stringContaining('agent.oracle.temperature: expected a number') });
    expect(answers['config valdate']).toMatchObject({ code: 2, stderr: expect.stringContaining('did you mean "validate"') });
    expect(answers['config show --json']?.code).toBe(0);
    // And it is the config bundle that answered: its own code cache was written.
    expect(fs.existsSync(cacheOf('config', 'config'))).toBe(true);
  });

  it('`doctor --check` of config, auth and runtime from the doctor bundle prints and exits as the full CLI does; other groups are handed to the full CLI', async () => {
    const bad = path.join(sb.root, 'bad-doctor.json');
    fs.writeFileSync(bad, JSON.stringify({ agent: { oracle: { temperature: 'hot' } } }));
    const argvs = [
      ['doctor', '--check', 'config'],
      ['doctor', '--check', 'config,auth,runtime', '--json'],
      ['doctor', '--check=runtime', '--check', 'auth'],
      ['doctor', '--check', 'config', '--config', bad],
      ['doctor', '--check', 'confg'],
      ['doctor', '--check', 'config', '--timeout', 'soon'],
    ];
    const answers: Record<string, CliResult> = {};
    for (const argv of argvs) {
      const [partial, full] = await Promise.all([sb.run(argv, { env }), fullCli(argv)]);
      answers[argv.join(' ')] = partial;
      expect(partial.code, `${argv.join(' ')}: ${partial.stderr}`).toBe(full.code);
      // A check's time (`"ms"` in JSON) is the one thing that differs from run to run.
      const same = (text: string) => text.replace(/"ms":\d+/g, '"ms":0');
      expect({ stdout: same(partial.stdout), stderr: partial.stderr }, argv.join(' ')).toEqual({ stdout: same(full.stdout), stderr: full.stderr });
    }
    expect(answers['doctor --check config']).toMatchObject({ code: 0, stdout: expect.stringMatching(/\n3 ok, 2 warnings, 0 failures\n$/) });
    expect(answers[`doctor --check config --config ${bad}`]).toMatchObject({ code: 1, stdout: expect.stringContaining('agent.oracle.temperature: expected a number') });
    expect(answers['doctor --check confg']).toMatchObject({ code: 2, stderr: expect.stringContaining('did you mean "config"') });
    expect(answers['doctor --check config --timeout soon']?.code).toBe(2);
    // It is the doctor bundle that answered: its own code cache was written, the full CLI's not.
    expect(fs.existsSync(cacheOf('doctor', 'doctor'))).toBe(true);
    expect(fs.existsSync(cacheOf('doctor'))).toBe(false);
    // A group the doctor bundle does not hold: handed back, run by the full CLI (whose cache it writes).
    const mcp = await sb.run(['doctor', '--check', 'config', '--check', 'mcp'], { env });
    expect(mcp, mcp.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(/^mcp\n/m) });
    expect(fs.existsSync(cacheOf('doctor'))).toBe(true);
  });

  it('serve writes its cache once it is ready (before it changes V8 flags, which would make V8 reject it), stopped at once or not; the next start uses it', async () => {
    const file = cacheOf('serve');
    // Stopped as soon as the readiness line is read: the cache is written and the stop is graceful.
    const first = await serve(sb, [], env);
    const stop = await first.stop();
    expect(stop.code).toBe(0);
    expect(stop.stderr).toContain('SIGTERM: finishing turns in flight, then stopping');
    const written = fs.statSync(file);
    expect(written.size).toBeGreaterThan(10_000);
    const second = await serve(sb, [], env);
    expect((await second.stop()).code).toBe(0);
    // Accepted by V8 (a rejected cache is written again).
    expect(fs.statSync(file).mtimeMs).toBe(written.mtimeMs);
  });

  it('a run whose model called tools writes the cache again, once, when a run without tools wrote it', async () => {
    const server = await startScriptedServer({ apiKey: SECRET });
    const at = await sandbox();
    try {
      at.write('opencode.json', { ...providerConfig(server, { m: {} }), model: 'p/m' });
      at.write('a.txt', 'alpha\n');
      const runEnv = { NODE_COMPILE_CACHE: path.join(at.root, 'compile-cache') };
      // A local run runs from the run bundle (dist/bin/run.cjs).
      const file = () => cacheFileFor(nodeCacheDir(runEnv.NODE_COMPILE_CACHE), fs.readFileSync(RUN_BUNDLE, 'utf8'), ['run'], 'run') as string;
      const readsA = { type: 'tool_calls' as const, calls: [{ name: 'read', arguments: { filePath: 'a.txt' } }] };
      const run = async (...steps: Parameters<typeof server.script>[1][]) => {
        server.script('m', ...steps);
        const r = await at.run(['run', '--no-cache', 'hi'], { env: runEnv });
        expect(r.code, r.stderr).toBe(0);
        return fs.readFileSync(file());
      };
      const plain = await run({ type: 'text', text: 'hello' });
      expect(plain.subarray(0, 6).toString()).toBe('#ran \n');
      const withTools = await run(readsA, { type: 'text', text: 'read it' });
      expect(withTools.subarray(0, 11).toString()).toBe('#ran tools\n');
      expect(withTools.length).toBeGreaterThan(plain.length);
      const mtime = fs.statSync(file()).mtimeMs;
      // Neither another tool loop nor a plain answer writes it again.
      await run(readsA, { type: 'text', text: 'read it' });
      await run({ type: 'text', text: 'hello' });
      expect(fs.statSync(file()).mtimeMs).toBe(mtime);
    } finally {
      await at.remove();
      await server.close();
    }
  });

  it("a run that reaches a side file of the run bundle loads it with the run bundle's own modules and caches it once", async () => {
    const server = await startScriptedServer({ apiKey: SECRET });
    const at = await sandbox();
    try {
      at.write('opencode.json', { ...providerConfig(server, { m: {} }), model: 'p/m' });
      const runEnv = { NODE_COMPILE_CACHE: path.join(at.root, 'compile-cache') };
      const sideCache = () => cacheFileFor(nodeCacheDir(runEnv.NODE_COMPILE_CACHE), fs.readFileSync(path.join(path.dirname(BUNDLE), 'run.diff.cjs'), 'utf8'), ['run'], 'run.diff') as string;
      const editRun = async (from: string, to: string) => {
        at.write('a.txt', `${from}\n`);
        // The edit tool's diff (the `diff` package) is in the run bundle's side file run.diff.cjs.
        server.script('m', { type: 'tool_calls', calls: [{ name: 'edit', arguments: { filePath: 'a.txt', oldString: from, newString: to } }] }, { type: 'text', text: 'done' });
        const r = await at.run(['run', '--no-cache', '--format', 'json', 'edit it'], { env: runEnv });
        expect(r.code, r.stderr).toBe(0);
        expect(fs.readFileSync(path.join(at.project, 'a.txt'), 'utf8')).toBe(`${to}\n`);
        const edit = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; tool?: string; diff?: { patch?: string } }).find((e) => e.type === 'tool_use' && e.tool === 'edit');
        expect(edit?.diff?.patch).toContain(`-${from}\n+${to}`);
      };
      await editRun('alpha', 'beta');
      const written = fs.statSync(sideCache());
      expect(written.size).toBeGreaterThan(1000);
      await editRun('beta', 'gamma');
      // Accepted by V8 (a rejected or missing cache is written again).
      expect(fs.statSync(sideCache()).mtimeMs).toBe(written.mtimeMs);
    } finally {
      await at.remove();
      await server.close();
    }
  });

  it("every module a side file of the run bundle takes from it is in the run bundle's registry", () => {
    const sides = fs.readdirSync(path.dirname(BUNDLE)).filter((f) => /^run\.[\w-]+\.cjs$/.test(f));
    expect(sides.sort()).toEqual(expect.arrayContaining(['run.diff.cjs', 'run.lsp.cjs', 'run.mcp.cjs', 'run.openai.cjs', 'run.plugins.cjs', 'run.redis.cjs', 'run.server.cjs']));
    const main = fs.readFileSync(RUN_BUNDLE, 'utf8');
    const sharing = new Set<string>();
    for (const side of sides) {
      const asked = new Set([...fs.readFileSync(path.join(path.dirname(BUNDLE), side), 'utf8').matchAll(/require\("pantheon-shared:([^"]+)"\)/g)].map((m) => m[1] as string));
      for (const key of asked) expect(main, `${side} asks for ${key}`).toContain(`${JSON.stringify(key)}:()=>`);
      if (asked.size > 0) sharing.add(side);
    }
    // Those of Pantheon's own code share the run bundle's copy of its modules (zod, the AI SDK, Pantheon's core); a package's alone (diff) need not.
    expect([...sharing]).toEqual(expect.arrayContaining(['run.lsp.cjs', 'run.mcp.cjs', 'run.openai.cjs', 'run.server.cjs', 'run.redis.cjs', 'run.plugins.cjs']));
  });

  it('a cache folder another user could write (a shared $TMPDIR) is neither read nor written', async () => {
    const root = path.join(sb.root, 'shared-cache');
    const runEnv = { NODE_COMPILE_CACHE: root };
    expect((await sb.run(['config', 'validate'], { env: runEnv })).code).toBe(0);
    const folder = path.join(nodeCacheDir(root) as string, 'pantheon');
    const [file] = fs.readdirSync(folder);
    expect(file).toMatch(/config\.config\.v8cache$/);
    // As if another user had made the folder first and could put anything in it.
    fs.chmodSync(folder, 0o777);
    fs.writeFileSync(path.join(folder, file as string), 'planted');
    const planted = await sb.run(['config', 'validate'], { env: runEnv });
    expect(planted).toMatchObject({ code: 0, stderr: '' });
    // Not read (V8 would have rejected it, and it would have been written again) and not written.
    expect(fs.readFileSync(path.join(folder, file as string), 'utf8')).toBe('planted');
    fs.chmodSync(folder, 0o700);
    expect((await sb.run(['config', 'validate'], { env: runEnv })).code).toBe(0);
    expect(fs.readFileSync(path.join(folder, file as string)).length).toBeGreaterThan(10_000);
  });

  it("Node's shared default folder ($TMPDIR/node-compile-cache) is used when it is this user's alone, else one under $XDG_CACHE_HOME", async () => {
    const tmp = path.join(sb.root, 'tmp-own');
    fs.mkdirSync(tmp);
    // NODE_COMPILE_CACHE unset: Node's default folder in $TMPDIR, made 0700.
    expect((await sb.run(['config', 'validate'], { env: { TMPDIR: tmp } })).code).toBe(0);
    const shared = path.join(tmp, 'node-compile-cache');
    expect(fs.statSync(shared).mode & 0o777).toBe(0o700);
    expect(fs.readdirSync(shared, { recursive: true }).some((f) => String(f).endsWith('config.config.v8cache'))).toBe(true);
    // Made by someone else first (writable by others): left alone; the caches go under $XDG_CACHE_HOME.
    const other = path.join(sb.root, 'tmp-other');
    fs.mkdirSync(path.join(other, 'node-compile-cache'), { recursive: true });
    fs.chmodSync(path.join(other, 'node-compile-cache'), 0o777);
    expect((await sb.run(['config', 'validate'], { env: { TMPDIR: other } })).code).toBe(0);
    expect(fs.readdirSync(path.join(other, 'node-compile-cache'))).toEqual([]);
    const own = path.join(sb.cacheHome, 'pantheon', 'node-compile-cache');
    expect(fs.readdirSync(own, { recursive: true }).some((f) => String(f).endsWith('config.config.v8cache'))).toBe(true);
  });

  it('is not written after a command that failed', async () => {
    const r = await sb.run(['config', 'validate', 'missing.json'], { env: { NODE_COMPILE_CACHE: path.join(sb.root, 'failed-cache') } });
    expect(r.code).toBe(2);
    expect(fs.existsSync(path.join(nodeCacheDir(path.join(sb.root, 'failed-cache')) ?? sb.root, 'pantheon'))).toBe(false);
  });

  it('a cache V8 rejects is written again; caches of other builds are removed after a week unused', async () => {
    const file = cacheOf('stats');
    const other = (hash: string) => path.join(dir(), `${hash}-${process.version}-${process.arch}-stats.v8cache`);
    fs.writeFileSync(other('0000000000000000'), 'an earlier build');
    const eightDaysAgo = new Date(Date.now() - 8 * 24 * 3600 * 1000);
    fs.utimesSync(other('0000000000000000'), eightDaysAgo, eightDaysAgo);
    fs.writeFileSync(other('1111111111111111'), 'another install, in use');
    fs.writeFileSync(file, Buffer.alloc(4096, 7));
    const r = await sb.run(['stats', '--json'], { env });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(fs.readFileSync(file).equals(Buffer.alloc(4096, 7))).toBe(false);
    expect(fs.existsSync(other('0000000000000000'))).toBe(false);
    expect(fs.existsSync(other('1111111111111111'))).toBe(true);
  });

  it('NODE_DISABLE_COMPILE_CACHE=1 turns it off', async () => {
    const off = path.join(sb.root, 'off-cache');
    const r = await sb.run(['config', 'validate'], { env: { NODE_COMPILE_CACHE: off, NODE_DISABLE_COMPILE_CACHE: '1' } });
    expect(r.code).toBe(0);
    expect(fs.existsSync(off)).toBe(false);
  });
});
