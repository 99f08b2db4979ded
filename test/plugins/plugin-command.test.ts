/**
 * `opencode plugin <module>` (OpenCode's command): the package installed with the real npm from a
 * registry served here, then added to the project's `.opencode/opencode.json[c]` (or with -g the
 * global config), comments kept; the same package again left as it is, or with --force replaced;
 * a package that cannot be installed or loaded writes nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findNpm } from '../../src/plugins/npm-plugins.ts';
import { hasStack, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { startNpmRegistry, type NpmRegistry } from '../support/npm-registry.ts';

const realNpm = findNpm(process.env) ?? findNpm({ PATH: '/usr/local/bin:/usr/bin:/bin' });

describe.skipIf(!realNpm)('opencode plugin', () => {
  let registry: NpmRegistry;
  let root: string;
  const sandboxes: Sandbox[] = [];

  beforeAll(async () => {
    root = fs.realpathSync(fs.mkdtempSync(path.join(fs.realpathSync(process.env.TMPDIR ?? '/tmp'), 'pantheon-plugin-cmd-')));
    registry = await startNpmRegistry(realNpm!, root, [
      { 'package.json': JSON.stringify({ name: 'fx-notify', version: '1.4.0', type: 'module', main: 'index.js' }), 'index.js': 'export const Notify = async () => ({});\n' },
      { 'package.json': JSON.stringify({ name: 'fx-dot-only', version: '1.0.0', exports: { '.': './index.js' } }), 'index.js': 'export default {};\n' },
    ]);
  });

  afterAll(async () => {
    await Promise.all(sandboxes.map((sb) => sb.remove()));
    await registry?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  async function project(): Promise<{ sb: Sandbox; env: Record<string, string> }> {
    const sb = await sandbox();
    sandboxes.push(sb);
    sb.write('opencode.json', '{\n  // the team\'s\n  "model": "p/m"\n}\n');
    fs.mkdirSync(path.join(sb.project, 'src'));
    const env = { PATH: [path.dirname(process.execPath), path.dirname(realNpm!), process.env.PATH ?? ''].join(path.delimiter), npm_config_registry: registry.url, npm_config_cache: path.join(root, 'npm-cache'), npm_config_update_notifier: 'false' };
    return { sb, env };
  }

  it('installs the package and adds it to the project\'s .opencode/opencode.json; again it is left as it is; --force replaces it', async () => {
    const { sb, env } = await project();
    const file = path.join(sb.project, '.opencode', 'opencode.json');
    // From a subfolder: the project's root is where the entry goes, as OpenCode does.
    const first = await sb.run(['plugin', 'fx-notify'], { env, cwd: path.join(sb.project, 'src') });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe(`Added to ${file}\nInstalled fx-notify 1.4.0\nScope: local (${path.join(sb.project, '.opencode')})\n`);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ $schema: 'https://opencode.ai/config.json', plugin: ['fx-notify'] });
    // Where `run` and `serve` load it from: Pantheon's plugin cache.
    expect(fs.existsSync(path.join(sb.cacheHome, 'pantheon', 'plugins', 'fx-notify@latest', 'node_modules', 'fx-notify', 'index.js'))).toBe(true);
    // The project's root opencode.json is not touched.
    expect(fs.readFileSync(path.join(sb.project, 'opencode.json'), 'utf8')).toBe('{\n  // the team\'s\n  "model": "p/m"\n}\n');

    const again = await sb.run(['plugin', 'fx-notify@1.4.0'], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^Already configured in /);
    expect(again.stderr).toContain('--force replaces the entry');
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).plugin).toEqual(['fx-notify']);

    const forced = await sb.run(['plug', '-f', 'fx-notify@1.4.0'], { env });
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/^Replaced in /);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).plugin).toEqual(['fx-notify@1.4.0']);

    // The merged config names it once.
    const shown = await sb.run(['debug', 'config'], { env });
    expect(shown.code, shown.stderr).toBe(0);
    expect((JSON.parse(shown.stdout) as { plugin?: unknown[] }).plugin).toEqual(['fx-notify@1.4.0']);
  });

  it('prefers an existing .opencode/opencode.jsonc and keeps its comments and other entries (options too)', async () => {
    const { sb, env } = await project();
    const file = sb.write('.opencode/opencode.jsonc', '{\n  // plugins we trust\n  "plugin": [["fx-notify@1.0.0", { "level": 2 }], "other-plugin"]\n}\n');
    const r = await sb.run(['plugin', '--force', 'fx-notify'], { env });
    expect(r.code, r.stderr).toBe(0);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toContain('// plugins we trust');
    expect(text).not.toContain('$schema');
    expect(fs.existsSync(path.join(sb.project, '.opencode', 'opencode.json'))).toBe(false);
    const { parse } = await import('jsonc-parser');
    expect((parse(text) as { plugin: unknown[] }).plugin).toEqual([['fx-notify', { level: 2 }], 'other-plugin']);
  });

  it('-g adds it to the global config\'s opencode.json, comments kept, the project untouched', async () => {
    const { sb, env } = await project();
    const global = sb.writeGlobal('opencode.json', '{\n  // mine\n  "model": "p/m"\n}\n');
    const r = await sb.run(['plugin', '-g', 'fx-notify'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Added to ${global}\n`);
    expect(r.stdout).toContain('Scope: global (');
    const text = fs.readFileSync(global, 'utf8');
    expect(text).toContain('// mine');
    expect(text).toMatch(/"plugin": \[\s*"fx-notify"\s*\]/);
    expect(fs.existsSync(path.join(sb.project, '.opencode'))).toBe(false);
  });

  it('a package that cannot be installed, or has no entry Pantheon can load, or a path: one sentence, nothing written', async () => {
    const { sb, env } = await project();
    const before = await sb.snapshot();
    const missing = await sb.run(['plugin', 'fx-missing'], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: Plugin "fx-missing" could not be installed: npm failed .*E404.*\nhint: Nothing was added to the config\.\n$/);

    const dotOnly = await sb.run(['plugin', 'fx-dot-only'], { env });
    expect(dotOnly.code).toBe(1);
    expect(dotOnly.stderr).toMatch(/^error: Plugin "fx-dot-only" /);

    const file = await sb.run(['plugin', './plugins/mine.ts'], { env });
    expect(file.code).toBe(2);
    expect(file.stderr).toContain('error: plugin: expected an npm module name, found the path "./plugins/mine.ts".');
    for (const r of [missing, dotOnly, file]) expect(hasStack(r.stderr)).toBe(false);
    // No config written (the package fx-dot-only itself stays installed in the cache, as a run's install would).
    const after = await sb.snapshot();
    const changed = Object.keys(after).filter((k) => after[k] !== before[k] && !k.includes(`${path.sep}pantheon${path.sep}plugins`) && !k.includes('xdg-cache'));
    expect(changed).toEqual([]);
  });
});
