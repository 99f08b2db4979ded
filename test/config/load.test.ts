import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, loadConfigFile } from '../../src/config/load.ts';
import { PantheonError } from '../../src/errors.ts';
import { snapshot, tempTree, type TempTree } from './temp-tree.ts';

let tree: TempTree;
beforeEach(async () => {
  tree = await tempTree();
  await tree.write('presets/agents/oracle.md', 'You are the oracle.\n');
  await tree.write('presets/default.json', {
    provider: { l: { name: 'L' } },
    agent: { oracle: { prompt: '{file:./agents/oracle.md}', description: 'oracle' } },
  });
  await tree.write('presets/local.json', { small_model: 'l/local' });
  await tree.mkdir('repo/.git');
  await tree.mkdir('repo/sub');
});
afterEach(async () => {
  await tree.remove();
});

async function failure(p: Promise<unknown>): Promise<PantheonError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof PantheonError)) throw new Error(`expected a PantheonError, got ${String(e)}`);
  return e;
}

const base = () => ({ cwd: tree.path('repo/sub'), env: { ...tree.env }, presetsDir: tree.presets });

describe('OPENCODE_CONFIG and --config', () => {
  it('applies OPENCODE_CONFIG (relative to cwd, ~ expanded) then --config above the project files', async () => {
    await tree.write('repo/opencode.json', { model: 'l/project', small_model: 'l/project' });
    await tree.write('repo/sub/env.json', { model: 'l/env', default_agent: 'oracle' });
    await tree.write('home/flag.jsonc', '{ "model": "l/flag", }');
    const loaded = await loadConfig({ ...base(), env: { ...tree.env, OPENCODE_CONFIG: 'env.json' }, configPath: '~/flag.jsonc' });
    expect(loaded.layers.map((l) => [l.kind, l.file])).toEqual([
      ['default', tree.path('presets/default.json')],
      ['project', tree.path('repo/opencode.json')],
      ['env', tree.path('repo/sub/env.json')],
      ['flag-config', tree.path('home/flag.jsonc')],
    ]);
    expect(loaded.config).toMatchObject({ model: 'l/flag', small_model: 'l/project', default_agent: 'oracle' });
  });

  it('fails when --config names a missing file, naming the flag and the path', async () => {
    const err = await failure(loadConfig({ ...base(), configPath: 'missing.json' }));
    expect(err.code).toBe('CONFIG_NOT_FOUND');
    expect(err.message).toBe(`--config names ${tree.path('repo/sub/missing.json')}, which does not exist.`);
    expect(err.hint).toMatch(/relative to the working directory/);
  });

  it('fails when OPENCODE_CONFIG names a missing file, naming the variable', async () => {
    const err = await failure(loadConfig({ ...base(), env: { ...tree.env, OPENCODE_CONFIG: '/nowhere/x.json' } }));
    expect(err.code).toBe('CONFIG_NOT_FOUND');
    expect(err.message).toBe('OPENCODE_CONFIG names /nowhere/x.json, which does not exist.');
    expect(err.hint).toMatch(/OPENCODE_CONFIG/);
  });

  it('a folder where a config file is named: said as such, not "does not exist"', async () => {
    const flag = await failure(loadConfig({ ...base(), configPath: '..' }));
    expect(flag.message).toBe(`--config names ${tree.path('repo')}, which is a folder, not a file.`);
    const env = await failure(loadConfig({ ...base(), env: { ...tree.env, OPENCODE_CONFIG: tree.path('repo') } }));
    expect(env.message).toBe(`OPENCODE_CONFIG names ${tree.path('repo')}, which is a folder, not a file.`);
    expect((await failure(loadConfigFile(tree.path('repo'), base()))).message).toBe(`${tree.path('repo')} is a folder, not a file.`);
    expect((await failure(loadConfigFile('/nowhere/gone.json', base()))).message).toBe('/nowhere/gone.json does not exist.');
  });

  it('reads a YAML file given with --config', async () => {
    await tree.write('repo/sub/c.yaml', 'model: l/yaml\n');
    expect((await loadConfig({ ...base(), configPath: 'c.yaml' })).config.model).toBe('l/yaml');
  });
});

describe('command-line flags', () => {
  it('win over every file and resolve {file:} against cwd', async () => {
    await tree.write('repo/opencode.json', { agent: { oracle: { temperature: 0.5, prompt: 'project prompt' } } });
    await tree.write('repo/sub/p.md', 'flag prompt\n');
    const loaded = await loadConfig({ ...base(), overrides: { agent: { oracle: { prompt: '{file:p.md}' } } } });
    expect(loaded.config.agent).toEqual({ oracle: { prompt: 'flag prompt', temperature: 0.5, description: 'oracle' } });
    expect(loaded.layers.at(-1)).toMatchObject({ kind: 'flags', label: 'command-line flags' });
    expect(loaded.origins.agent).toBe('command-line flags');
  });
});

describe('substitution while loading', () => {
  it('resolves {file:} in presets relative to the preset file', async () => {
    const loaded = await loadConfig(base());
    expect((loaded.config.agent as Record<string, { prompt: string }>).oracle?.prompt).toBe('You are the oracle.');
  });

  it('substitutes env per layer and collects ENV_UNSET warnings with file and path', async () => {
    const file = await tree.write('repo/opencode.json', {
      provider: { l: { options: { apiKey: '{env:L_KEY}', headers: { 'X-Team': '${TEAM}' } } } },
    });
    const loaded = await loadConfig({ ...base(), env: { ...tree.env, TEAM: 'blue' } });
    expect(loaded.config.provider).toEqual({ l: { name: 'L', options: { apiKey: '', headers: { 'X-Team': 'blue' } } } });
    expect(loaded.warnings).toEqual([
      { code: 'ENV_UNSET', message: expect.stringContaining('{env:L_KEY}'), file, path: 'provider.l.options.apiKey' },
    ]);
  });

  it('fails on a missing {file:} with the config file, line:col, JSON path and missing path', async () => {
    const file = await tree.write('repo/opencode.jsonc', '{\n  // prompt\n  "agent": { "oracle": { "prompt": "{file:~/prompts/oracle.md}" } }\n}\n');
    const err = await failure(loadConfig(base()));
    expect(err.code).toBe('CONFIG_FILE_REF');
    expect(err.message).toBe(
      `${file}:3:36: agent.oracle.prompt refers to {file:~/prompts/oracle.md}, but ${tree.path('home/prompts/oracle.md')} does not exist.`,
    );
  });
});

describe('loadConfigFile (config validate FILE)', () => {
  it('loads the defaults and that file with its extends, nothing else', async () => {
    await tree.write('xdg/opencode/opencode.json', { model: 'l/global' });
    await tree.write('repo/opencode.json', { model: 'l/project' });
    await tree.write('repo/sub/check.json', { extends: ['local'], model: 'l/checked' });
    const loaded = await loadConfigFile('check.json', { ...base(), env: { ...tree.env, OPENCODE_CONFIG: 'nope.json' }, configPath: 'nope.json' });
    expect(loaded.layers.map((l) => l.label)).toEqual(['built-in defaults', 'preset:local', tree.path('repo/sub/check.json')]);
    expect(loaded.config).toMatchObject({ model: 'l/checked', small_model: 'l/local' });
    expect(loaded.projectRoot).toBe(tree.path('repo'));
  });

  it('maps an oh-my-opencode file given to it', async () => {
    await tree.write('repo/sub/oh-my-opencode.json', { agents: { oracle: { model: 'l/omo' } } });
    const loaded = await loadConfigFile('oh-my-opencode.json', base());
    expect((loaded.config.agent as Record<string, { model: string }>).oracle?.model).toBe('l/omo');
  });

  it('fails with CONFIG_NOT_FOUND for a missing file', async () => {
    const err = await failure(loadConfigFile('gone.json', base()));
    expect(err.code).toBe('CONFIG_NOT_FOUND');
    expect(err.message).toBe('gone.json does not exist.');
  });

  it('fails with CONFIG_INVALID when the file breaks the schema', async () => {
    await tree.write('repo/sub/bad.json', { retry: { maxRetries: 'many' } });
    expect((await failure(loadConfigFile('bad.json', base()))).code).toBe('CONFIG_INVALID');
  });
});

describe('no side effects', () => {
  it('never writes, creates or touches a file in any folder it reads', async () => {
    await tree.write('xdg/opencode/opencode.json', { extends: ['local'] });
    await tree.write('xdg/opencode/oh-my-opencode.json', { agents: { oracle: { temperature: 0.1 } } });
    await tree.write('repo/opencode.jsonc', '{ "model": "l/p", }');
    await tree.write('repo/pantheon.json', { small_model: 'l/s' });
    await tree.write('repo/sub/env.json', { default_agent: 'oracle' });
    const before = await snapshot(tree.root);
    await loadConfig({ ...base(), env: { ...tree.env, OPENCODE_CONFIG: 'env.json', UNUSED: '{env:X}' } });
    await loadConfigFile('env.json', base());
    await failure(loadConfig({ ...base(), configPath: 'missing.json' }));
    expect(await snapshot(tree.root)).toEqual(before);
  });
});
