import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { tempTree, type TempTree } from './temp-tree.ts';

let tree: TempTree;
beforeEach(async () => {
  tree = await tempTree();
});
afterEach(async () => {
  await tree.remove();
});

describe('OPENCODE_CONFIG_CONTENT', () => {
  it('is a layer above OPENCODE_CONFIG and below --config, labelled by its name', async () => {
    await tree.mkdir('repo/.git');
    await tree.write('repo/opencode.json', JSON.stringify({ model: 'openai/a', small_model: 'openai/a', default_agent: 'oracle' }));
    await tree.write('env.json', JSON.stringify({ model: 'openai/b', small_model: 'openai/b' }));
    await tree.write('flag.json', JSON.stringify({ small_model: 'openai/d' }));
    const env = { ...tree.env, OPENCODE_CONFIG: tree.path('env.json'), OPENCODE_CONFIG_CONTENT: '{"model": "openai/c", /* JSONC */ }' };
    const loaded = await loadConfig({ cwd: tree.path('repo'), env, configPath: tree.path('flag.json') });
    expect(loaded.config).toMatchObject({ model: 'openai/c', small_model: 'openai/d', default_agent: 'oracle' });
    expect(loaded.origins.model).toBe('OPENCODE_CONFIG_CONTENT');
  });

  it('bad content is a config error naming OPENCODE_CONFIG_CONTENT with line:column', async () => {
    await tree.mkdir('repo/.git');
    await expect(loadConfig({ cwd: tree.path('repo'), env: { ...tree.env, OPENCODE_CONFIG_CONTENT: '{"model": ' } })).rejects.toMatchObject({
      code: 'CONFIG_PARSE',
      message: expect.stringMatching(/^OPENCODE_CONFIG_CONTENT:1:\d+: /),
    });
    await expect(loadConfig({ cwd: tree.path('repo'), env: { ...tree.env, OPENCODE_CONFIG_CONTENT: '{"retyr": {}}' } })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      details: [expect.stringContaining('OPENCODE_CONFIG_CONTENT retyr: unknown key; did you mean "retry"?')],
    });
  });
});
