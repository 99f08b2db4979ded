import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type LoadedConfig } from '../../src/config/load.ts';
import { PantheonError } from '../../src/errors.ts';
import { tempTree, type TempTree } from './temp-tree.ts';

let tree: TempTree;
beforeEach(async () => {
  tree = await tempTree();
  await tree.write('presets/default.json', { provider: { l: { name: 'L' } }, model: 'l/default' });
});
afterEach(async () => {
  await tree.remove();
});

function load(cwd: string, env: NodeJS.ProcessEnv = {}): Promise<LoadedConfig> {
  return loadConfig({ cwd: tree.path(cwd), env: { ...tree.env, ...env }, presetsDir: tree.presets });
}

function files(loaded: LoadedConfig): (string | undefined)[] {
  return loaded.layers.slice(1).map((l) => l.file);
}

async function failure(p: Promise<unknown>): Promise<PantheonError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof PantheonError)) throw new Error(`expected a PantheonError, got ${String(e)}`);
  return e;
}

describe('project discovery (cosmiconfig, module "opencode")', () => {
  const places: [string, string, string][] = [
    ['opencode.json', '{ "model": "l/opencode-json" }', 'l/opencode-json'],
    ['opencode.jsonc', '// c\n{ "model": "l/opencode-jsonc", }', 'l/opencode-jsonc'],
    ['.opencoderc', '{ /* no extension, JSONC */ "model": "l/rc", }', 'l/rc'],
    ['.opencoderc.json', '{ "model": "l/rc-json" }', 'l/rc-json'],
    ['.opencoderc.yaml', '# yaml\nmodel: l/rc-yaml\nagent:\n  oracle:\n    temperature: 0.5\n', 'l/rc-yaml'],
    ['.opencoderc.yml', 'model: l/rc-yml\n', 'l/rc-yml'],
    ['package.json', '{ "name": "app", "version": "1.0.0", "opencode": { "model": "l/package" } }', 'l/package'],
  ];

  it.each(places)('finds %s walking up from a subfolder to the git root', async (name, text, model) => {
    await tree.mkdir('repo/.git');
    await tree.mkdir('repo/a/b');
    const file = await tree.write(`repo/${name}`, text);
    const loaded = await load('repo/a/b');
    expect(loaded.config.model).toBe(model);
    expect(loaded.layers[1]).toMatchObject({ kind: 'project', file });
    expect(loaded.projectRoot).toBe(tree.path('repo'));
  });

  it('keeps the text of JSON files for positions, and not of YAML files', async () => {
    await tree.mkdir('r1/.git');
    await tree.write('r1/opencode.json', '{ "model": "l/x" }');
    await tree.mkdir('r2/.git');
    await tree.write('r2/.opencoderc.yaml', 'model: l/y\n');
    expect((await load('r1')).layers[1]?.text).toBe('{ "model": "l/x" }');
    expect((await load('r2')).layers[1]?.text).toBeUndefined();
  });

  it('labels package.json#opencode and maps its positions under "opencode"', async () => {
    await tree.mkdir('repo/.git');
    await tree.write('repo/package.json', { name: 'app', opencode: { model: 'l/pkg' } });
    const layer = (await load('repo')).layers[1];
    expect(layer?.label).toBe(`${tree.path('repo/package.json')}#opencode`);
    expect(layer?.data).toEqual({ model: 'l/pkg' });
    expect(layer?.sourcePaths?.get('')).toEqual(['opencode']);
  });

  it('tries the places of one folder in order: opencode.json before .opencoderc before package.json', async () => {
    await tree.mkdir('repo/.git');
    await tree.write('repo/package.json', { name: 'x', opencode: { model: 'l/pkg' } });
    await tree.write('repo/.opencoderc', '{ "model": "l/rc" }');
    expect((await load('repo')).config.model).toBe('l/rc');
    await tree.write('repo/opencode.json', '{ "model": "l/json" }');
    expect((await load('repo')).config.model).toBe('l/json');
  });

  it('takes the nearest folder, and skips a package.json without "opencode"', async () => {
    await tree.mkdir('repo/.git');
    await tree.write('repo/opencode.json', '{ "model": "l/root" }');
    await tree.write('repo/a/package.json', '{ "name": "a" }');
    await tree.mkdir('repo/a/b');
    expect(files(await load('repo/a/b'))).toEqual([tree.path('repo/opencode.json')]);
    await tree.write('repo/a/.opencoderc.json', '{ "model": "l/near" }');
    expect((await load('repo/a/b')).config.model).toBe('l/near');
  });

  it('merges every opencode.json[c] from the git root down, as OpenCode does (the nearer wins)', async () => {
    await tree.mkdir('mono/.git');
    await tree.write('mono/opencode.json', '{ "model": "l/root", "small_model": "l/root-small", "agent": { "oracle": { "temperature": 0.1 } } }');
    await tree.write('mono/packages/api/opencode.json', '{ "model": "l/api", "agent": { "oracle": { "top_p": 0.5 } } }');
    await tree.mkdir('mono/packages/api/src');
    const loaded = await load('mono/packages/api/src');
    expect(files(loaded)).toEqual([tree.path('mono/opencode.json'), tree.path('mono/packages/api/opencode.json')]);
    expect(loaded.config).toMatchObject({ model: 'l/api', small_model: 'l/root-small' });
    expect(loaded.config.agent?.oracle).toMatchObject({ temperature: 0.1, top_p: 0.5 });
    expect(loaded.origins).toMatchObject({ model: tree.path('mono/packages/api/opencode.json'), small_model: tree.path('mono/opencode.json') });
  });

  it('merges .jsonc files before .json files, each outermost first (OpenCode 1.18 order)', async () => {
    await tree.mkdir('mono/.git');
    await tree.write('mono/opencode.json', '{ "model": "l/root-json" }');
    await tree.write('mono/pkg/opencode.jsonc', '{ "model": "l/pkg-jsonc", "small_model": "l/pkg-jsonc" }');
    await tree.write('mono/pkg/opencode.json', '{ "small_model": "l/pkg-json" }');
    const loaded = await load('mono/pkg');
    expect(files(loaded)).toEqual([tree.path('mono/pkg/opencode.jsonc'), tree.path('mono/opencode.json'), tree.path('mono/pkg/opencode.json')]);
    expect(loaded.config).toMatchObject({ model: 'l/root-json', small_model: 'l/pkg-json' });
  });

  it('an error in an outer file names that file', async () => {
    await tree.mkdir('mono/.git');
    const outer = await tree.write('mono/opencode.json', '{ "model": 5 }');
    await tree.write('mono/pkg/opencode.json', '{ "small_model": "l/x" }');
    const err = await failure(load('mono/pkg'));
    expect(err.details.join('\n')).toContain(`${outer}:1:3 model: expected a string, found 5`);
  });

  it('stops at the git root (a .git folder or a .git file)', async () => {
    await tree.write('outer/opencode.json', '{ "model": "l/outside" }');
    await tree.mkdir('outer/repo/.git');
    await tree.mkdir('outer/repo/src');
    const loaded = await load('outer/repo/src');
    expect(loaded.layers.map((l) => l.kind)).toEqual(['default']);
    expect(loaded.config.model).toBe('l/default');
    await tree.write('outer/wt/.git', 'gitdir: /elsewhere\n');
    await tree.mkdir('outer/wt/src');
    expect((await load('outer/wt/src')).projectRoot).toBe(tree.path('outer/wt'));
    expect((await load('outer/wt/src')).config.model).toBe('l/default');
  });

  it('without a git root only searches the working directory', async () => {
    await tree.write('plain/opencode.json', '{ "model": "l/parent" }');
    await tree.mkdir('plain/child');
    expect((await load('plain/child')).config.model).toBe('l/default');
    expect((await load('plain')).config.model).toBe('l/parent');
  });

  it('reports a syntax error in a project file with file:line:col', async () => {
    await tree.mkdir('repo/.git');
    const file = await tree.write('repo/opencode.jsonc', '{\n  "model": "l/x",\n  "small_model" "l/y"\n}\n');
    const err = await failure(load('repo'));
    expect(err.code).toBe('CONFIG_PARSE');
    expect(err.message).toBe(`${file}:3:17: expected a ":" after the property name (ColonExpected), found \`"l/y"\`.`);
  });

  it('reports a YAML syntax error with file:line:col', async () => {
    await tree.mkdir('repo/.git');
    const file = await tree.write('repo/.opencoderc.yaml', 'model: l/x\nagent:\n  oracle: [unclosed\n');
    const err = await failure(load('repo'));
    expect(err.code).toBe('CONFIG_PARSE');
    expect(err.message).toMatch(new RegExp(`^${file.replace(/[.]/g, '\\.')}:\\d+:\\d+: invalid YAML: `));
  });

  it('rejects a package.json "opencode" value that is not an object', async () => {
    await tree.mkdir('repo/.git');
    await tree.write('repo/package.json', '{ "name": "a", "opencode": "yes" }');
    const err = await failure(load('repo'));
    expect(err.message).toContain('package.json#opencode: expected a JSON object at the top level, found a string.');
  });
});

describe('project discovery started in the project (cosmiconfig left unloaded when it would only confirm an opencode.json)', () => {
  // cosmiconfig reads its own settings from the process's working directory: these tests run there.
  let before: string;
  beforeEach(() => {
    before = process.cwd();
  });
  afterEach(() => {
    process.chdir(before);
  });
  const from = (dir: string) => {
    process.chdir(tree.path(dir));
    return load(dir);
  };

  it('the nearest opencode.json, and pantheon.json beside it', async () => {
    await tree.mkdir('repo/.git');
    await tree.mkdir('repo/a');
    await tree.write('repo/opencode.json', { model: 'l/outer' });
    const file = await tree.write('repo/a/opencode.json', { model: 'l/inner' });
    await tree.write('repo/a/pantheon.json', { agent: { oracle: { temperature: 0.1 } } });
    const loaded = await from('repo/a');
    expect(loaded.config.model).toBe('l/inner');
    expect(files(loaded)).toEqual([tree.path('repo/opencode.json'), file, tree.path('repo/a/pantheon.json')]);
  });

  it('an empty opencode.json is passed over for a .opencoderc above it, as cosmiconfig does', async () => {
    for (const [i, empty] of ['', '  \n'].entries()) {
      await tree.mkdir(`r${i}/.git`);
      await tree.mkdir(`r${i}/a`);
      await tree.write(`r${i}/a/opencode.json`, empty);
      await tree.write(`r${i}/.opencoderc`, '{ "model": "l/rc" }');
      const loaded = await from(`r${i}/a`);
      expect(loaded.config.model).toBe('l/rc');
      expect(loaded.layers.at(-1)).toMatchObject({ kind: 'project', file: tree.path(`r${i}/.opencoderc`) });
    }
  });

  it('a .opencoderc before an opencode.json of an outer folder is still found', async () => {
    await tree.mkdir('p/.git');
    await tree.mkdir('p/a');
    await tree.write('p/opencode.json', { model: 'l/outer' });
    await tree.write('p/a/.opencoderc.yml', 'model: l/yml\n');
    expect((await from('p/a')).config.model).toBe('l/yml');
  });
});

describe('global folder', () => {
  it('reads $XDG_CONFIG_HOME/opencode/opencode.jsonc, else ~/.config/opencode', async () => {
    await tree.write('xdg/opencode/opencode.jsonc', '{ "model": "l/xdg", }');
    await tree.write('home/.config/opencode/opencode.json', '{ "model": "l/home" }');
    await tree.mkdir('work');
    expect((await load('work')).config.model).toBe('l/xdg');
    const noXdg = await loadConfig({ cwd: tree.path('work'), env: { HOME: tree.home }, presetsDir: tree.presets });
    expect(noXdg.config.model).toBe('l/home');
    expect(noXdg.layers[1]).toMatchObject({ kind: 'global', file: tree.path('home/.config/opencode/opencode.json') });
  });
});

describe('pantheon.json', () => {
  it('is read beside the project file, not in the working directory below it', async () => {
    await tree.mkdir('repo/.git');
    await tree.write('repo/opencode.json', '{ "model": "l/project", "small_model": "l/project" }');
    await tree.write('repo/pantheon.jsonc', '// ours\n{ "model": "l/pantheon" }');
    await tree.write('repo/sub/pantheon.json', '{ "model": "l/ignored" }');
    const loaded = await load('repo/sub');
    expect(loaded.config).toMatchObject({ model: 'l/pantheon', small_model: 'l/project' });
    expect(loaded.layers.map((l) => l.kind)).toEqual(['default', 'project', 'pantheon']);
    expect(loaded.origins).toMatchObject({ model: tree.path('repo/pantheon.jsonc'), small_model: tree.path('repo/opencode.json') });
  });

  it('without a project file is the nearest one walking up to the git root', async () => {
    await tree.mkdir('repo/.git');
    await tree.write('repo/pantheon.json', '{ "model": "l/root" }');
    await tree.write('repo/a/pantheon.json', '{ "model": "l/a" }');
    await tree.mkdir('repo/a/b');
    const loaded = await load('repo/a/b');
    expect(loaded.config.model).toBe('l/a');
    expect(files(loaded)).toEqual([tree.path('repo/a/pantheon.json')]);
  });
});

describe('oh-my-opencode.json', () => {
  const omoText = `{
  // oh-my-opencode's own settings are ignored
  "google_auth": false,
  "agents": { "oracle": { "model": "l/omo", "fallback_models": ["l/omo-2"], "temperature": 0.2, "prompt_append": "Short." } },
  "background_task": { "defaultConcurrency": 4, "providerConcurrency": { "l": 2 }, "modelConcurrency": { "l/big": 1 } },
}`;

  it('is mapped from the global folder', async () => {
    const file = await tree.write('xdg/opencode/oh-my-opencode.jsonc', omoText);
    await tree.mkdir('work');
    const loaded = await load('work');
    expect(loaded.layers[1]).toMatchObject({ kind: 'global-oh-my-opencode', file, text: omoText });
    expect(loaded.config).toMatchObject({
      agent: { oracle: { model: 'l/omo', fallbacks: ['l/omo-2'], temperature: 0.2, prompt_append: 'Short.' } },
      rateLimit: { concurrency: 4 },
      provider: { l: { name: 'L', rateLimit: { concurrency: 2 }, models: { big: { rateLimit: { concurrency: 1 } } } } },
    });
    expect(loaded.config).not.toHaveProperty('google_auth');
  });

  it('is mapped from the project folder, or from its .opencode folder, or from cwd without a project file', async () => {
    await tree.mkdir('repo/.git');
    await tree.write('repo/opencode.json', '{ "model": "l/project" }');
    await tree.write('repo/.opencode/oh-my-opencode.json', '{ "agents": { "oracle": { "model": "l/dot-opencode" } } }');
    await tree.mkdir('repo/sub');
    let loaded = await load('repo/sub');
    expect(loaded.layers.map((l) => l.kind)).toEqual(['default', 'project', 'project-oh-my-opencode']);
    expect((loaded.config.agent as Record<string, { model: string }>).oracle?.model).toBe('l/dot-opencode');
    await tree.write('repo/oh-my-opencode.json', '{ "agents": { "oracle": { "model": "l/beside" } } }');
    loaded = await load('repo/sub');
    expect((loaded.config.agent as Record<string, { model: string }>).oracle?.model).toBe('l/beside');

    await tree.write('solo/oh-my-opencode.json', '{ "agents": { "explore": { "temperature": 0.7 } } }');
    loaded = await load('solo');
    expect(loaded.config.agent).toEqual({ explore: { temperature: 0.7 } });
  });

  it('points validation errors at the oh-my-opencode file and its own key', async () => {
    const file = await tree.write('xdg/opencode/oh-my-opencode.json', '{\n  "agents": {\n    "oracle": { "temperature": "9" }\n  }\n}\n');
    await tree.mkdir('work');
    const err = await failure(load('work'));
    expect(err.code).toBe('CONFIG_INVALID');
    expect([err.message, ...err.details].join('\n')).toContain(`${file}:3:17`);
  });
});
