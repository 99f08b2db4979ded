import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type LoadOptions } from '../../src/config/load.ts';
import type { LayerKind } from '../../src/config/layer.ts';
import { tempTree, type TempTree } from './temp-tree.ts';

/** Every layer, lowest precedence first, as the kinds loadConfig gives them. */
const LAYERS: LayerKind[] = [
  'default',
  'preset',
  'global',
  'global-oh-my-opencode',
  'project',
  'project-oh-my-opencode',
  'pantheon',
  'env',
  'flag-config',
  'flags',
];

let tree: TempTree;
beforeEach(async () => {
  tree = await tempTree();
});
afterEach(async () => {
  await tree.remove();
});

/** What one layer sets: the oracle's model and fallbacks (which must win) and an agent of its own (which must survive). */
function own(kind: LayerKind, i: number): Record<string, unknown> {
  return { agent: { oracle: { model: `l/${kind}`, fallbacks: [`f/${kind}`] }, [`a-${kind}`]: { temperature: i / 10 } } };
}

function omo(kind: LayerKind, i: number): Record<string, unknown> {
  return { agents: { oracle: { model: `l/${kind}`, fallback_models: [`f/${kind}`] }, [`a-${kind}`]: { temperature: i / 10 } } };
}

/** Writes layers 0..upTo: the project lives in repo/ (a git root), cwd is repo/sub. */
async function setup(upTo: number): Promise<LoadOptions> {
  await tree.mkdir('repo/.git');
  await tree.mkdir('repo/sub');
  await tree.write('presets/default.json', {
    provider: { l: { name: 'L' }, f: { name: 'F' } },
    retry: { maxRetries: 3, baseDelay: 1000 },
    agent: {
      oracle: { model: 'l/default', fallbacks: ['f/default-1', 'f/default-2', 'f/default-3'], description: 'the oracle' },
      'a-default': { temperature: 0 },
    },
  });
  const opts: LoadOptions = { cwd: tree.path('repo/sub'), env: { ...tree.env }, presetsDir: tree.presets };
  const writers: (() => Promise<unknown>)[] = [
    async () => undefined,
    async () => {
      await tree.write('presets/team.json', { ...own('preset', 1), retry: { baseDelay: 2000 } });
      await tree.write('xdg/opencode/opencode.json', { extends: ['team'] });
    },
    () => tree.write('xdg/opencode/opencode.json', { extends: ['team'], ...own('global', 2) }),
    () => tree.write('xdg/opencode/oh-my-opencode.json', omo('global-oh-my-opencode', 3)),
    () => tree.write('repo/opencode.jsonc', `// project\n${JSON.stringify(own('project', 4), null, 2).replace(/\n}$/, ',\n}')}\n`),
    () => tree.write('repo/oh-my-opencode.json', omo('project-oh-my-opencode', 5)),
    () => tree.write('repo/pantheon.json', own('pantheon', 6)),
    async () => {
      await tree.write('repo/env.json', own('env', 7));
      opts.env = { ...opts.env, OPENCODE_CONFIG: '../env.json' };
    },
    async () => {
      await tree.write('repo/flag.json', own('flag-config', 8));
      opts.configPath = '../flag.json';
    },
    async () => {
      opts.overrides = own('flags', 9);
    },
  ];
  for (let i = 0; i <= upTo; i++) await writers[i]?.();
  return opts;
}

describe('precedence of every layer', () => {
  it.each(LAYERS.map((kind, i) => [kind, i] as const))('%s wins over everything below it', async (kind, i) => {
    const loaded = await loadConfig(await setup(i));
    // The preset needs a file that extends it: the global file, holding nothing else at i = 1.
    const kinds = i === 1 ? ['default', 'preset', 'global'] : LAYERS.slice(0, i + 1);
    expect(loaded.layers.map((l) => l.kind)).toEqual(kinds);
    const agent = loaded.config.agent as Record<string, Record<string, unknown>>;
    // The highest layer's scalar wins; its array replaces the ones below (no concatenation, no index merge).
    expect(agent.oracle).toEqual({
      model: `l/${kind}`,
      fallbacks: i === 0 ? ['f/default-1', 'f/default-2', 'f/default-3'] : [`f/${kind}`],
      description: 'the oracle',
    });
    // Objects merge: every layer's own agent is still there.
    expect(Object.keys(agent).sort()).toEqual(['oracle', ...LAYERS.slice(0, i + 1).map((k) => `a-${k}`)].sort());
    expect(loaded.origins.agent).toBe(loaded.layers.find((l) => l.kind === kind)?.label);
    expect(loaded.config).not.toHaveProperty('extends');
    expect(loaded.projectRoot).toBe(tree.path('repo'));
  });

  it('labels layers with their files, presets and flags', async () => {
    const loaded = await loadConfig(await setup(LAYERS.length - 1));
    expect(loaded.layers.map((l) => l.label)).toEqual([
      'built-in defaults',
      'preset:team',
      tree.path('xdg/opencode/opencode.json'),
      tree.path('xdg/opencode/oh-my-opencode.json'),
      tree.path('repo/opencode.jsonc'),
      tree.path('repo/oh-my-opencode.json'),
      tree.path('repo/pantheon.json'),
      tree.path('repo/env.json'),
      tree.path('repo/flag.json'),
      'command-line flags',
    ]);
    expect(loaded.config.retry).toEqual({ maxRetries: 3, baseDelay: 2000 });
    expect(loaded.origins.retry).toBe('preset:team');
    expect(loaded.origins.provider).toBe('built-in defaults');
  });

  it('returns a deeply frozen config', async () => {
    const loaded = await loadConfig(await setup(LAYERS.length - 1));
    const agent = loaded.config.agent as Record<string, { fallbacks: string[] }>;
    expect(Object.isFrozen(loaded.config)).toBe(true);
    expect(() => agent.oracle?.fallbacks.push('x/y')).toThrow(TypeError);
    expect(() => {
      (loaded.config as Record<string, unknown>).model = 'x/y';
    }).toThrow(TypeError);
  });

  it('with no git root searches only the working directory', async () => {
    await tree.write('presets/default.json', {});
    await tree.write('outer/opencode.json', { model: 'opencode/outer' });
    await tree.mkdir('outer/inner');
    const loaded = await loadConfig({ cwd: tree.path('outer/inner'), env: tree.env, presetsDir: tree.presets });
    expect(loaded.layers.map((l) => l.kind)).toEqual(['default']);
    expect(loaded.projectRoot).toBe(tree.path('outer/inner'));
    expect(path.isAbsolute(loaded.projectRoot)).toBe(true);
  });
});
