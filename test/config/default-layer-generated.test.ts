import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_LAYER_FILE, generateDefaultLayer } from '../../scripts/gen-default-layer.ts';
import { loadConfig, loadConfigFile } from '../../src/config/load.ts';
import { defaultPresetsDir } from '../../src/config/presets.ts';
import { tempTree, type TempTree } from './temp-tree.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');

describe('the built-in defaults made at build time (scripts/gen-default-layer.ts)', () => {
  let tree: TempTree;
  beforeAll(async () => {
    tree = await tempTree();
    // The same presets, in a folder of their own: loading from there reads the files.
    await fs.cp(defaultPresetsDir, tree.presets, { recursive: true });
    await tree.mkdir('repo/.git');
    await tree.write('repo/opencode.json', { model: 'p/m', agent: { oracle: { temperature: 0.5 } } });
  });
  afterAll(async () => {
    await tree.remove();
  });

  it(`${DEFAULT_LAYER_FILE} is up to date with presets/default.json and its prompts`, async () => {
    const committed = await fs.readFile(path.join(repoRoot, DEFAULT_LAYER_FILE), 'utf8');
    expect(committed === (await generateDefaultLayer()), `${DEFAULT_LAYER_FILE} is stale: run \`npm run gen\``).toBe(true);
  });

  it('gives the config that reading the preset files gives, layer by layer', async () => {
    const opts = { cwd: tree.path('repo'), env: tree.env };
    const built = await loadConfig(opts);
    const read = await loadConfig({ ...opts, presetsDir: tree.presets });
    expect(built.config).toEqual(read.config);
    expect(built.warnings).toEqual(read.warnings);
    expect(built.layers.map((l) => l.data)).toEqual(read.layers.map((l) => l.data));
    expect(built.layers[0]).toMatchObject({ kind: 'default', label: 'built-in defaults', file: path.join(defaultPresetsDir, 'default.json') });
    expect(built.layers[0]?.text).toBe(read.layers[0]?.text);
    // Every agent's prompt is the text of its file, not a `{file:}` reference.
    const agents = Object.entries(built.config.agent as Record<string, { prompt?: string }>);
    expect(agents.length).toBeGreaterThanOrEqual(12);
    for (const [name, agent] of agents) {
      expect(agent.prompt, name).not.toContain('{file:');
      expect(agent.prompt?.length ?? 0, name).toBeGreaterThan(100);
    }
  });

  it('hands each load a copy of its own: changing one config changes no other', async () => {
    const opts = { cwd: tree.path('repo'), env: tree.env };
    const first = await loadConfigFile(tree.path('repo/opencode.json'), opts);
    const data = first.layers[0]?.data as { agent: Record<string, unknown> };
    data.agent.oracle = 'changed';
    const second = await loadConfigFile(tree.path('repo/opencode.json'), opts);
    expect((second.layers[0]?.data as { agent: Record<string, unknown> }).agent.oracle).not.toBe('changed');
  });
});
