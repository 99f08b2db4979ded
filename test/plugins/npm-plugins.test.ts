/**
 * npm plugins of the config's `plugin` list: installed with the real npm from a registry served
 * here (fixture packages packed with `npm pack`; no network), reused from OpenCode's cache and from
 * Pantheon's without npm, one install for concurrent resolves, failures in one sentence.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePackage, startNpmRegistry, type NpmRegistry } from '../support/npm-registry.ts';
import { findNpm, npmPluginKey, pantheonPluginFolder, parseNpmPluginSpec, resolveNpmPlugin } from '../../src/plugins/npm-plugins.ts';

describe('parseNpmPluginSpec', () => {
  it.each([
    ['opencode-wakatime', { name: 'opencode-wakatime', version: 'latest', install: 'opencode-wakatime@latest' }],
    ['opencode-wakatime@1.2.3', { name: 'opencode-wakatime', version: '1.2.3', install: 'opencode-wakatime@1.2.3' }],
    ['@scope/pkg', { name: '@scope/pkg', version: 'latest', install: '@scope/pkg@latest' }],
    ['@scope/pkg@^1.2', { name: '@scope/pkg', version: '^1.2', install: '@scope/pkg@^1.2' }],
    ['alias@npm:real@1', { name: 'alias', version: 'npm:real@1', install: 'alias@npm:real@1' }],
    ['npm:real@1', { name: 'real', version: '1', install: 'npm:real@1' }],
    ['github:user/repo', { version: '', install: 'github:user/repo' }],
    ['user/repo', { version: '', install: 'user/repo' }],
    ['https://example.com/x.tgz', { version: '', install: 'https://example.com/x.tgz' }],
  ])('%s', (spec, expected) => {
    expect(parseNpmPluginSpec(spec)).toEqual(expected);
  });

  it('keys the config layers\' entries by package name, as OpenCode dedupes them', () => {
    expect(npmPluginKey('@scope/pkg@1.0.0')).toBe(npmPluginKey('@scope/pkg'));
    expect(npmPluginKey('git+https://example.com/x.git')).toBe('git+https://example.com/x.git');
  });

  it('names Pantheon\'s install folder after the spec, as OpenCode does, and a spec that is no plain name by a hash', () => {
    const env = { XDG_CACHE_HOME: '/c' };
    expect(pantheonPluginFolder('@scope/pkg@1.2.3', env)).toBe('/c/pantheon/plugins/@scope/pkg@1.2.3');
    expect(pantheonPluginFolder('pkg@^1.2', env)).toBe('/c/pantheon/plugins/pkg@^1.2');
    const url = pantheonPluginFolder('https://example.com/../x.tgz', env);
    expect(url).toMatch(/^\/c\/pantheon\/plugins\/https___example\.com_\.\._x\.tgz-[0-9a-f]{16}$/);
    expect(pantheonPluginFolder('https://example.com/../y.tgz', env)).not.toBe(url);
    expect(pantheonPluginFolder('pkg@>=1 <2', env)).toMatch(/^\/c\/pantheon\/plugins\/pkg@_=1__2-[0-9a-f]{16}$/);
  });
});

const realNpm = findNpm(process.env) ?? findNpm({ PATH: '/usr/local/bin:/usr/bin:/bin' });

describe.skipIf(!realNpm)('resolveNpmPlugin', () => {
  let root: string;
  let registry: NpmRegistry;
  let wrapperDir: string;
  let runs: string;
  let cases = 0;

  const fxPlugin = {
    'package.json': JSON.stringify({ name: 'fx-plugin', version: '1.2.0', type: 'module', main: 'index.js' }),
    'index.js': 'export const FxPlugin = async () => ({});\n',
  };
  const scoped = {
    'package.json': JSON.stringify({ name: '@fx/scoped', version: '2.0.0', exports: { './server': { import: './esm.mjs', require: './cjs.cjs' } }, main: 'cjs.cjs' }),
    'esm.mjs': 'export default { id: "fx-scoped", server: async () => ({}) };\n',
    'cjs.cjs': 'module.exports = {};\n',
  };

  /** A fresh environment: its own caches, npm (counted) on the PATH, the registry served here. */
  function envFor(options: { npm?: boolean } = {}): NodeJS.ProcessEnv {
    const dir = path.join(root, `case-${++cases}`);
    fs.mkdirSync(dir);
    return {
      HOME: path.join(root, 'home'),
      XDG_CACHE_HOME: path.join(dir, 'cache'),
      PATH: options.npm === false ? '' : [wrapperDir, path.dirname(process.execPath), path.dirname(realNpm!)].join(path.delimiter),
      npm_config_registry: registry.url,
      npm_config_cache: path.join(root, 'npm-cache'),
      npm_config_update_notifier: 'false',
      NPM_RUNS: runs,
    };
  }
  const npmRuns = () => (fs.existsSync(runs) ? fs.readFileSync(runs, 'utf8').split('\n').filter(Boolean).length : 0);
  const pluginsDir = (env: NodeJS.ProcessEnv) => path.join(env.XDG_CACHE_HOME!, 'pantheon', 'plugins');

  beforeAll(async () => {
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-npm-plugins-')));
    fs.mkdirSync(path.join(root, 'home'));
    registry = await startNpmRegistry(realNpm!, root, [fxPlugin, scoped], { hang: ['slow-plugin'] });
    // npm as the code finds it on the PATH, counting its runs.
    wrapperDir = path.join(root, 'bin');
    runs = path.join(root, 'npm-runs');
    fs.mkdirSync(wrapperDir);
    fs.writeFileSync(path.join(wrapperDir, 'npm'), `#!/bin/sh\necho "$*" >> "$NPM_RUNS"\nexec '${realNpm}' "$@"\n`, { mode: 0o755 });
  });

  afterAll(async () => {
    await registry?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('installs a bare name (as name@latest) into its cache once, and loads it from there after without npm', async () => {
    const env = envFor();
    const before = npmRuns();
    const plugin = await resolveNpmPlugin('fx-plugin', { env });
    const folder = path.join(pluginsDir(env), 'fx-plugin@latest');
    expect(plugin).toEqual({ entry: path.join(folder, 'node_modules', 'fx-plugin', 'index.js'), name: 'fx-plugin', version: '1.2.0' });
    expect(npmRuns()).toBe(before + 1);
    const mod = (await import(plugin.entry)) as { FxPlugin: unknown };
    expect(typeof mod.FxPlugin).toBe('function');
    // Nothing but the install itself is left beside it (no temporary folder, no lock).
    expect(fs.readdirSync(pluginsDir(env))).toEqual(['fx-plugin@latest']);

    const again = await resolveNpmPlugin('fx-plugin', { env: { ...env, PATH: '' } });
    expect(again).toEqual(plugin);
    expect(npmRuns()).toBe(before + 1);
  });

  it('installs a scoped package at a version, taking its "exports" entry "./server" (import condition) over "main"', async () => {
    const env = envFor();
    const plugin = await resolveNpmPlugin('@fx/scoped@2.0.0', { env });
    expect(plugin).toEqual({ entry: path.join(pluginsDir(env), '@fx', 'scoped@2.0.0', 'node_modules', '@fx', 'scoped', 'esm.mjs'), name: '@fx/scoped', version: '2.0.0' });
    const mod = (await import(plugin.entry)) as { default: { id: string } };
    expect(mod.default.id).toBe('fx-scoped');
  });

  it('loads what OpenCode installed in its cache (packages/<spec>), scoped or not, without npm', async () => {
    const env = envFor({ npm: false });
    const packages = path.join(env.XDG_CACHE_HOME!, 'opencode', 'packages');
    makePackage(path.join(packages, 'fx-plugin@latest', 'node_modules', 'fx-plugin'), {
      'package.json': JSON.stringify({ name: 'fx-plugin', version: '0.9.0', main: 'lib/main' }),
      'lib/main.js': 'export const Old = async () => ({});\n',
    });
    makePackage(path.join(packages, '@fx', 'scoped@^2', 'node_modules', '@fx', 'scoped'), {
      'package.json': JSON.stringify({ name: '@fx/scoped', version: '2.1.0', exports: { './server': './server.js', '.': './index.js' } }),
      'server.js': 'export default {};\n',
      'index.js': 'export default {};\n',
    });
    const bare = await resolveNpmPlugin('fx-plugin', { env, install: false });
    expect(bare).toEqual({ entry: path.join(packages, 'fx-plugin@latest', 'node_modules', 'fx-plugin', 'lib', 'main.js'), name: 'fx-plugin', version: '0.9.0' });
    const scopedPlugin = await resolveNpmPlugin('@fx/scoped@^2', { env });
    expect(scopedPlugin).toEqual({ entry: path.join(packages, '@fx', 'scoped@^2', 'node_modules', '@fx', 'scoped', 'server.js'), name: '@fx/scoped', version: '2.1.0' });
    // Another spec is another install folder (OpenCode's rule too): not taken from these.
    await expect(resolveNpmPlugin('fx-plugin@1.2.0', { env })).rejects.toThrow(
      'Plugin "fx-plugin@1.2.0" is not installed and there is no npm on the PATH to install it; install Node.js with npm, or start OpenCode once to install it.',
    );
    expect(fs.existsSync(pluginsDir(env))).toBe(false);
  });

  it('takes what OpenCode takes: "main" over exports["."], and refuses a package with exports["."] only', async () => {
    const env = envFor({ npm: false });
    const packages = path.join(env.XDG_CACHE_HOME!, 'opencode', 'packages');
    makePackage(path.join(packages, 'dual@latest', 'node_modules', 'dual'), {
      'package.json': JSON.stringify({ name: 'dual', version: '1.0.0', main: './lib/index', exports: { '.': { import: './esm/index.js' } } }),
      'lib/index.js': 'exports.Dual = async () => ({});\n',
      'esm/index.js': 'export const Dual = async () => ({});\n',
    });
    makePackage(path.join(packages, 'esm-only@latest', 'node_modules', 'esm-only'), {
      'package.json': JSON.stringify({ name: 'esm-only', version: '1.0.0', type: 'module', exports: { '.': './index.js' } }),
      'index.js': 'export const EsmOnly = async () => ({});\n',
    });
    makePackage(path.join(packages, 'bare@latest', 'node_modules', 'bare'), {
      'package.json': JSON.stringify({ name: 'bare', version: '1.0.0' }),
      'index.ts': 'export const Bare = async () => ({});\n',
    });
    expect((await resolveNpmPlugin('dual', { env })).entry).toBe(path.join(packages, 'dual@latest', 'node_modules', 'dual', 'lib', 'index.js'));
    expect((await resolveNpmPlugin('bare', { env })).entry).toBe(path.join(packages, 'bare@latest', 'node_modules', 'bare', 'index.ts'));
    await expect(resolveNpmPlugin('esm-only', { env })).rejects.toThrow(
      'Plugin "esm-only" has no server plugin to load (no "exports" entry "./server", no "main", no index file); OpenCode skips it too, so check that it is an OpenCode plugin.',
    );
  });

  it('refuses an entry outside the package, in one sentence', async () => {
    const env = envFor({ npm: false });
    makePackage(path.join(env.XDG_CACHE_HOME!, 'opencode', 'packages', 'fx-plugin@latest', 'node_modules', 'fx-plugin'), {
      'package.json': JSON.stringify({ name: 'fx-plugin', version: '1.0.0', exports: { './server': '../../../escape.js' } }),
    });
    await expect(resolveNpmPlugin('fx-plugin', { env })).rejects.toThrow('Plugin "fx-plugin" names an entry outside its package (../../../escape.js); it cannot be loaded.');
  });

  it('says in one line why a package could not be installed, and leaves nothing taken for an install', async () => {
    const env = envFor();
    const error = (await resolveNpmPlugin('no-such-plugin', { env }).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(
      /^Plugin "no-such-plugin" could not be installed: npm failed \(exit code 1\): E404: 404 Not Found - GET http:\/\/127\.0\.0\.1:\d+\/no-such-plugin - Not found \| 404 +The requested resource 'no-such-plugin@latest' could not be found or you do not have permission to access it\.; check its name and version, and that npm's registry is reachable \(~\/\.npmrc\)\.$/,
    );
    expect(error.message).not.toContain('\n');
    const missingVersion = (await resolveNpmPlugin('fx-plugin@9.9.9', { env }).catch((e: unknown) => e)) as Error;
    expect(missingVersion.message).toMatch(/^Plugin "fx-plugin@9\.9\.9" could not be installed: npm failed \(exit code 1\): ETARGET: (notarget )?No matching version found for fx-plugin@9\.9\.9\./);
    expect(fs.readdirSync(pluginsDir(env))).toEqual([]);
    await expect(resolveNpmPlugin('no-such-plugin', { env, install: false })).rejects.toThrow(/^Plugin "no-such-plugin" is not installed \(neither in OpenCode's cache .* nor in .*\); the next opencode run or serve installs it with npm\.$/);
  });

  it('kills an install that runs past its time bound, and says so', async () => {
    const env = envFor();
    const error = (await resolveNpmPlugin('slow-plugin', { env, timeoutMs: 2000 }).catch((e: unknown) => e)) as Error;
    expect(error.message).toBe(
      'Plugin "slow-plugin" could not be installed: npm did not finish within 2 s (killed); check its name and version, and that npm\'s registry is reachable (~/.npmrc).',
    );
    expect(fs.readdirSync(pluginsDir(env))).toEqual([]);
  });

  it('stops an install when its signal is aborted, leaving nothing behind', async () => {
    const env = envFor();
    const controller = new AbortController();
    const pending = resolveNpmPlugin('slow-plugin', { env, signal: controller.signal }).catch((e: unknown) => e as Error);
    // Aborted once npm is running (its run is counted as it starts).
    const before = npmRuns();
    while (npmRuns() === before) await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort();
    expect(((await pending) as Error).message).toBe('Plugin "slow-plugin" was not installed: cancelled.');
    expect(fs.readdirSync(pluginsDir(env))).toEqual([]);
  });

  it('installs a tarball URL, naming the package by what npm installed', async () => {
    const env = envFor();
    const url = `${registry.url}-/t/fx-plugin.tgz`;
    const plugin = await resolveNpmPlugin(url, { env });
    expect(plugin.name).toBe('fx-plugin');
    expect(plugin.version).toBe('1.2.0');
    expect(path.relative(pluginsDir(env), plugin.entry)).toMatch(/^http___127\.0\.0\.1_\d+_-_t_fx-plugin\.tgz-[0-9a-f]{16}\/node_modules\/fx-plugin\/index\.js$/);
    expect(await resolveNpmPlugin(url, { env: { ...env, PATH: '' } })).toEqual(plugin);
  });

  it('installs once when two resolves of the same spec run at once (the second waits on the lock)', async () => {
    const env = envFor();
    const before = npmRuns();
    const [a, b] = await Promise.all([resolveNpmPlugin('fx-plugin@1.2.0', { env }), resolveNpmPlugin('fx-plugin@1.2.0', { env })]);
    expect(a).toEqual(b);
    expect(a.version).toBe('1.2.0');
    expect(npmRuns()).toBe(before + 1);
  });

  it('installs once when two processes resolve the same spec at once (the lock is across processes)', async () => {
    const env = envFor();
    const before = npmRuns();
    const child = path.join(root, 'resolve-child.mjs');
    fs.writeFileSync(
      child,
      [
        `const { resolveNpmPlugin } = await import(${JSON.stringify(pathToFileURL(path.resolve('src/plugins/npm-plugins.ts')).href)});`,
        'process.stdout.write(JSON.stringify(await resolveNpmPlugin(process.argv[2], { env: JSON.parse(process.argv[3]) })));',
      ].join('\n'),
    );
    const resolveIn = () =>
      new Promise<string>((resolve, reject) => {
        execFile(process.execPath, ['--experimental-strip-types', '--no-warnings', child, '@fx/scoped', JSON.stringify(env)], (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}: ${stderr}`)) : resolve(stdout),
        );
      });
    const [a, b] = await Promise.all([resolveIn(), resolveIn()]);
    expect(JSON.parse(a)).toEqual({ entry: path.join(pluginsDir(env), '@fx', 'scoped@latest', 'node_modules', '@fx', 'scoped', 'esm.mjs'), name: '@fx/scoped', version: '2.0.0' });
    expect(b).toBe(a);
    expect(npmRuns()).toBe(before + 1);
  });
});
