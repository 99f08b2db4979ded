import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkMergedConfig, MAX_CLEAN_CONFIGS, useCleanConfigMemo } from '../../src/config/clean-memo.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { providerConfig, sandbox, SECRET, type Sandbox } from './cli-helper.ts';

/**
 * A config the run bundle found clean is not checked again (src/config/clean-memo.ts): which of the
 * bundle's files a run reads shows whether the schema check (run.validate.cjs) was loaded.
 */
describe('a config the run found clean is not checked again', () => {
  let server: ScriptedServer;
  let sb: Sandbox;
  let spy: string;

  beforeAll(async () => {
    server = await startScriptedServer({ apiKey: SECRET });
    sb = await sandbox();
    // Preloaded into each run: names every bundle file the process reads.
    spy = sb.write('spy.cjs', "const fs = require('node:fs'); const read = fs.readFileSync; fs.readFileSync = function (f, ...rest) { if (typeof f === 'string' && f.endsWith('.cjs')) fs.appendFileSync(process.env.SPY_OUT, `${require('node:path').basename(f)}\\n`); return read.call(this, f, ...rest); };");
  });
  afterAll(async () => {
    await sb.remove();
    await server.close();
  });

  let runs = 0;
  /** `opencode run`, with the code cache (and the memo) in `cache`; the bundle files it read. */
  const run = async (cache: string, env: Record<string, string> = {}) => {
    const out = path.join(sb.root, `read-${++runs}.txt`);
    server.script('m', { type: 'text', text: 'Hello!' });
    const r = await sb.run(['run', '--no-cache', 'hi'], { env: { NODE_COMPILE_CACHE: cache, NODE_OPTIONS: `--require ${spy}`, SPY_OUT: out, ...env } });
    const read = fs.existsSync(out) ? fs.readFileSync(out, 'utf8').split('\n').filter(Boolean) : [];
    return { ...r, read, checked: read.includes('run.validate.cjs') };
  };
  const memoFiles = (cache: string) => {
    const found: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(dir, e.name));
        else if (e.name.endsWith('.clean')) found.push(path.join(dir, e.name));
      }
    };
    if (fs.existsSync(cache)) walk(cache);
    return found;
  };

  it('the same config, env values and flags: checked once; any change is checked, and refused when wrong', async () => {
    const cache = path.join(sb.root, 'cache-a');
    sb.write('opencode.json', { ...providerConfig(server, { m: {} }), model: '{env:TEST_MODEL}' });
    const first = await run(cache, { TEST_MODEL: 'p/m' });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('Hello!');
    expect(first.read).toContain('run.cjs');
    expect(first.checked).toBe(true);
    const memo = memoFiles(cache);
    expect(memo).toHaveLength(1);
    expect(fs.readFileSync(memo[0] as string, 'utf8')).toBe('');
    expect(fs.statSync(memo[0] as string).mode & 0o777).toBe(0o600);

    const second = await run(cache, { TEST_MODEL: 'p/m' });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(second.read).toContain('run.cjs');
    expect(second.checked).toBe(false);

    // The value an env reference gives is part of what was found clean.
    const unknown = await run(cache, { TEST_MODEL: 'p/nope' });
    expect(unknown.code).toBe(2);
    expect(unknown.checked).toBe(true);
    expect(unknown.stderr).toContain('has no model "nope"');

    // A file that changed is checked: a wrong type is refused though the file was clean before.
    const clean = memoFiles(cache);
    sb.write('opencode.json', { ...providerConfig(server, { m: { limit: { context: 'lots' } } }), model: 'p/m' });
    const wrong = await run(cache);
    expect(wrong.code).toBe(2);
    expect(wrong.checked).toBe(true);
    expect(wrong.stderr).toMatch(/opencode\.json:\d+:\d+ .*context/);
    expect(memoFiles(cache)).toEqual(clean);
  });

  it('a config with warnings is checked, and warned about, on every run', async () => {
    const cache = path.join(sb.root, 'cache-b');
    sb.write('opencode.json', { ...providerConfig(server, { m: {} }), model: 'p/m', colour: 'blue' });
    for (let i = 0; i < 2; i++) {
      const r = await run(cache);
      expect(r.code, r.stderr).toBe(0);
      expect(r.checked).toBe(true);
      expect(r.stderr).toMatch(/warning: .*opencode\.json:\d+:\d+ colour: unknown key/);
    }
    expect(memoFiles(cache)).toEqual([]);
  });

  it('NODE_DISABLE_COMPILE_CACHE=1 turns it off with the code cache', async () => {
    const cache = path.join(sb.root, 'cache-c');
    sb.write('opencode.json', { ...providerConfig(server, { m: {} }), model: 'p/m' });
    for (let i = 0; i < 2; i++) {
      const r = await run(cache, { NODE_DISABLE_COMPILE_CACHE: '1' });
      expect(r.code, r.stderr).toBe(0);
      expect(r.checked).toBe(true);
    }
    expect(fs.existsSync(cache)).toBe(false);
  });

  it('a memo folder another user could write is not trusted: the config is checked', async () => {
    const cache = path.join(sb.root, 'cache-d');
    sb.write('opencode.json', { ...providerConfig(server, { m: {} }), model: 'p/m' });
    const first = await run(cache);
    expect(first.code, first.stderr).toBe(0);
    const memo = memoFiles(cache);
    expect(memo).toHaveLength(1);
    expect((await run(cache)).checked).toBe(false);
    // As if another user had made the folder first in a shared $TMPDIR (and planted the file).
    fs.chmodSync(path.dirname(memo[0] as string), 0o777);
    const again = await run(cache);
    expect(again.code, again.stderr).toBe(0);
    expect(again.checked).toBe(true);
  });

  it("the models.dev catalogue is data beside the build: a config found clean is checked again when it changes", async () => {
    // An install of this build whose catalogue (data/) is its own; the rest links to this tree.
    const repo = path.resolve(import.meta.dirname, '..', '..');
    const install = path.join(sb.root, 'install');
    fs.mkdirSync(path.join(install, 'bin'), { recursive: true });
    fs.copyFileSync(path.join(repo, 'bin', 'opencode.js'), path.join(install, 'bin', 'opencode.js'));
    fs.copyFileSync(path.join(repo, 'package.json'), path.join(install, 'package.json'));
    for (const name of ['dist', 'node_modules', 'presets', 'schema']) fs.symlinkSync(path.join(repo, name), path.join(install, name));
    fs.cpSync(path.join(repo, 'data'), path.join(install, 'data'), { recursive: true });
    const cache = path.join(sb.root, 'cache-e');
    const runInstalled = async () => {
      const out = path.join(sb.root, `read-${++runs}.txt`);
      server.script('m', { type: 'text', text: 'Hello!' });
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [path.join(install, 'bin', 'opencode.js'), 'run', '--no-cache', 'hi'], { cwd: sb.project, env: { ...sb.env, NODE_COMPILE_CACHE: cache, NODE_OPTIONS: `--require ${spy}`, SPY_OUT: out }, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stderr }));
      });
      const read = fs.existsSync(out) ? fs.readFileSync(out, 'utf8').split('\n').filter(Boolean) : [];
      return { ...r, checked: read.includes('run.validate.cjs') };
    };
    // An agent no run here uses, on a catalogued provider no config declares.
    sb.write('opencode.json', { ...providerConfig(server, { m: {} }), model: 'p/m', agent: { spare: { model: 'ai21/jamba-large' } } });
    expect((await runInstalled()).checked).toBe(true);
    const second = await runInstalled();
    expect(second.code, second.stderr).toBe(0);
    expect(second.checked).toBe(false);
    // A refreshed catalogue without that provider: the run says what a run of that agent would meet.
    const index = path.join(install, 'data', 'models-dev', 'providers.json');
    const catalogue = JSON.parse(fs.readFileSync(index, 'utf8')) as { providers: Record<string, unknown> };
    delete catalogue.providers.ai21;
    fs.writeFileSync(index, JSON.stringify(catalogue));
    const third = await runInstalled();
    expect(third.code, third.stderr).toBe(0);
    expect(third.checked).toBe(true);
    expect(third.stderr).toMatch(/warning: .*agent\.spare\.model: provider "ai21" is neither declared nor in the models\.dev catalogue/);
  });

  it('a config that is not JSON (a library caller\'s cycle) is checked and refused, not a TypeError', async () => {
    const dir = path.join(sb.root, 'memo-cycle');
    useCleanConfigMemo(dir, '0123456789abcdef');
    try {
      const cyclic: Record<string, unknown> = { agent: {} };
      (cyclic.agent as Record<string, unknown>).self = cyclic;
      await expect(checkMergedConfig(cyclic, [])).rejects.toMatchObject({ code: 'CONFIG_INVALID', details: [expect.stringMatching(/nested more than \d+ levels deep/)] });
      expect(fs.existsSync(dir)).toBe(false);
    } finally {
      useCleanConfigMemo(dir, 'not a build');
    }
  });

  it(`keeps at most ${MAX_CLEAN_CONFIGS} configs per build, the newest`, async () => {
    const dir = path.join(sb.root, 'memo-unit');
    useCleanConfigMemo(dir, '0123456789abcdef');
    try {
      const names: string[] = [];
      for (let i = 0; i < MAX_CLEAN_CONFIGS + 6; i++) {
        expect(await checkMergedConfig({ username: `user${i}` }, [])).toEqual([]);
        const added = fs.readdirSync(dir).filter((name) => !names.includes(name));
        expect(added).toHaveLength(1);
        names.push(added[0] as string);
        // Files written within one clock tick keep their order by mtime.
        fs.utimesSync(path.join(dir, added[0] as string), i, i);
      }
      expect(fs.readdirSync(dir).sort()).toEqual(names.slice(-MAX_CLEAN_CONFIGS).sort());
      expect(names.every((name) => /^0123456789abcdef-config-[0-9a-f]{32}\.clean$/.test(name))).toBe(true);
      // A wrong config throws, and is not remembered.
      await expect(checkMergedConfig({ username: 7 }, [])).rejects.toMatchObject({ code: 'CONFIG_INVALID', details: [expect.stringMatching(/^username: /)] });
      expect(fs.readdirSync(dir)).toHaveLength(MAX_CLEAN_CONFIGS);
    } finally {
      useCleanConfigMemo(dir, 'not a build');
    }
  });
});
