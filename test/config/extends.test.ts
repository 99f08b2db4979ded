import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type LoadedConfig } from '../../src/config/load.ts';
import { PantheonError } from '../../src/errors.ts';
import { tempTree, type TempTree } from './temp-tree.ts';

let tree: TempTree;
beforeEach(async () => {
  tree = await tempTree();
  await tree.write('presets/default.json', { provider: { l: { name: 'L' } }, model: 'l/default', retry: { maxRetries: 3 } });
  await tree.write('presets/oh-my-opencode.json', { model: 'l/omo', small_model: 'l/omo-small' });
  await tree.write('presets/free-tier.json', { model: 'l/free', fallbacks: ['l/free-1', 'l/free-2'] });
  await tree.write('presets/local.json', { model: 'l/local' });
  await tree.mkdir('repo/.git');
});
afterEach(async () => {
  await tree.remove();
});

function load(cwd = 'repo'): Promise<LoadedConfig> {
  return loadConfig({ cwd: tree.path(cwd), env: tree.env, presetsDir: tree.presets });
}

async function failure(p: Promise<unknown>): Promise<PantheonError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof PantheonError)) throw new Error(`expected a PantheonError, got ${String(e)}`);
  return e;
}

describe('extends', () => {
  it('puts presets (by name) and files (relative to the declaring file) below it, in order', async () => {
    await tree.write('repo/config/team.json', { fallbacks: ['l/team'], small_model: 'l/team-small' });
    await tree.write('repo/opencode.json', { extends: ['free-tier', './config/team.json'], model: 'l/project' });
    const loaded = await load();
    expect(loaded.layers.map((l) => l.label)).toEqual([
      'built-in defaults',
      'preset:free-tier',
      tree.path('repo/config/team.json'),
      tree.path('repo/opencode.json'),
    ]);
    expect(loaded.layers.map((l) => l.kind)).toEqual(['default', 'preset', 'extends', 'project']);
    expect(loaded.config).toMatchObject({ model: 'l/project', fallbacks: ['l/team'], small_model: 'l/team-small', retry: { maxRetries: 3 } });
    expect(loaded.config).not.toHaveProperty('extends');
    expect(loaded.origins).toMatchObject({ model: tree.path('repo/opencode.json'), fallbacks: tree.path('repo/config/team.json') });
  });

  it('accepts a single string, JSONC files, and ~ in paths', async () => {
    await tree.write('home/team.jsonc', '// mine\n{ "small_model": "l/home", }');
    await tree.write('repo/opencode.json', { extends: '~/team.jsonc' });
    const loaded = await load();
    expect(loaded.config.small_model).toBe('l/home');
    expect(loaded.layers[1]?.file).toBe(tree.path('home/team.jsonc'));
  });

  it('expands nested extends depth-first, each file relative to the file naming it', async () => {
    await tree.write('shared/base.json', { extends: ['local', '../shared/more/deep.json'], model: 'l/base' });
    await tree.write('shared/more/deep.json', { extends: ['oh-my-opencode'], small_model: 'l/deep' });
    await tree.write('repo/opencode.json', { extends: ['../shared/base.json'] });
    const loaded = await load();
    expect(loaded.layers.map((l) => l.label)).toEqual([
      'built-in defaults',
      'preset:local',
      'preset:oh-my-opencode',
      tree.path('shared/more/deep.json'),
      tree.path('shared/base.json'),
      tree.path('repo/opencode.json'),
    ]);
    expect(loaded.config).toMatchObject({ model: 'l/base', small_model: 'l/deep' });
  });

  it('applies each distinct file or preset once, at its first (lowest) place', async () => {
    await tree.write('repo/a.json', { extends: ['oh-my-opencode', './c.json'] });
    await tree.write('repo/b.json', { extends: ['./c.json', 'oh-my-opencode', 'default'] });
    await tree.write('repo/c.json', { fallbacks: ['l/c'] });
    await tree.write('repo/opencode.json', { extends: ['./a.json', './b.json'] });
    await tree.write('xdg/opencode/opencode.json', { extends: ['oh-my-opencode'], model: 'l/global' });
    const loaded = await load();
    expect(loaded.layers.map((l) => l.label)).toEqual([
      'built-in defaults',
      'preset:oh-my-opencode',
      tree.path('xdg/opencode/opencode.json'),
      tree.path('repo/c.json'),
      tree.path('repo/a.json'),
      tree.path('repo/b.json'),
      tree.path('repo/opencode.json'),
    ]);
    // The preset was applied under the global file only, so the global file's model stands.
    expect(loaded.config.model).toBe('l/global');
  });

  it('applies the oh-my-opencode preset as Pantheon config, not as an oh-my-opencode file', async () => {
    await tree.write('repo/opencode.json', { extends: ['oh-my-opencode'] });
    const loaded = await load();
    expect(loaded.layers[1]).toMatchObject({ kind: 'preset', label: 'preset:oh-my-opencode', data: { model: 'l/omo', small_model: 'l/omo-small' } });
    expect(loaded.config).toMatchObject({ model: 'l/omo', small_model: 'l/omo-small' });
  });

  it('lets a preset extend another preset', async () => {
    await tree.write('presets/team.json', { extends: ['free-tier'], small_model: 'l/team' });
    await tree.write('repo/opencode.json', { extends: ['team'] });
    const loaded = await load();
    expect(loaded.layers.map((l) => l.label)).toEqual(['built-in defaults', 'preset:free-tier', 'preset:team', tree.path('repo/opencode.json')]);
    expect(loaded.config).toMatchObject({ model: 'l/free', small_model: 'l/team' });
  });

  it('names the chain of a cycle', async () => {
    await tree.write('repo/a.json', { extends: ['./b.json'] });
    await tree.write('repo/b.json', { extends: ['./a.json'] });
    await tree.write('repo/opencode.json', { extends: ['./a.json'] });
    const err = await failure(load());
    expect(err.code).toBe('CONFIG_EXTENDS');
    expect(err.message).toBe('extends cycle: a.json → b.json → a.json.');
    expect(err.hint).toContain('b.json');
  });

  it('names a file that extends itself', async () => {
    await tree.write('repo/opencode.json', { extends: ['./opencode.json'] });
    expect((await failure(load())).message).toBe('extends cycle: opencode.json → opencode.json.');
  });

  it('rejects an unknown preset, listing the available ones with "did you mean"', async () => {
    const file = await tree.write('repo/opencode.json', '{\n  "extends": ["free-tier", "oh-my-opencod"]\n}\n');
    const err = await failure(load());
    expect(err.code).toBe('CONFIG_EXTENDS');
    expect(err.message).toBe(`${file}:2:28: unknown preset "oh-my-opencod" in extends; did you mean "oh-my-opencode"?`);
    expect(err.hint).toContain('Available presets: default, free-tier, local, oh-my-opencode.');
  });

  it('rejects a missing extends file, naming both files', async () => {
    const file = await tree.write('repo/opencode.json', { extends: ['./nope.json'] });
    const err = await failure(load());
    expect(err.code).toBe('CONFIG_EXTENDS');
    expect(err.message).toBe(`${file}:3:5: extends "./nope.json", but ${tree.path('repo/nope.json')} does not exist.`);
  });

  it('rejects an extends that is neither a name nor a list of names', async () => {
    await tree.write('repo/opencode.json', { extends: [1] });
    expect((await failure(load())).message).toMatch(/"extends" must be a preset name or file path, or a list of them; found a list\./);
  });

  it('expands extends of OPENCODE_CONFIG, --config and flags right below them', async () => {
    await tree.write('repo/env-base.json', { small_model: 'l/env-base' });
    await tree.write('repo/env.json', { extends: ['./env-base.json'], model: 'l/env' });
    await tree.write('repo/flag.json', { extends: ['local'] });
    const loaded = await loadConfig({
      cwd: tree.path('repo'),
      env: { ...tree.env, OPENCODE_CONFIG: 'env.json' },
      configPath: 'flag.json',
      overrides: { extends: ['free-tier'], small_model: 'l/flag' },
      presetsDir: tree.presets,
    });
    expect(loaded.layers.map((l) => l.kind)).toEqual(['default', 'extends', 'env', 'preset', 'flag-config', 'preset', 'flags']);
    // local (below --config) beats OPENCODE_CONFIG's model; flags beat everything.
    expect(loaded.config).toMatchObject({ model: 'l/free', small_model: 'l/flag' });
  });
});
