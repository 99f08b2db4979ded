import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, loadConfigFile } from '../../src/config/load.ts';
import { validateConfigObject } from '../../src/config/validate.ts';
import { PantheonError } from '../../src/errors.ts';
import { tempTree, type TempTree } from './temp-tree.ts';

const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();

/** Object.prototype exactly as it was: no added, no changed property. */
function expectPrototypeUntouched(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTOTYPE_NAMES);
  const probe: Record<string, unknown> = {};
  for (const key of ['temperature', 'polluted', 'concurrency', 'model', 'x']) expect(probe[key], key).toBeUndefined();
}

let tree: TempTree;
beforeEach(async () => {
  tree = await tempTree();
  await tree.write('presets/default.json', { agent: { oracle: { description: 'oracle' } } });
  await tree.mkdir('repo/.git');
});
afterEach(async () => {
  await tree.remove();
  expectPrototypeUntouched();
});

const base = (env: NodeJS.ProcessEnv = {}) => ({ cwd: tree.path('repo'), env: { ...tree.env, ...env }, presetsDir: tree.presets });

async function loadError(p: Promise<unknown>): Promise<PantheonError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof PantheonError)) throw new Error(`expected a PantheonError, got ${String(error)}`);
  expectPrototypeUntouched();
  return error;
}

const HINT = 'Rename or remove that key: "__proto__", "constructor" and "prototype" are not accepted as keys anywhere in a config.';

/** One sentence naming where, which path and which key. */
function expectRefused(error: PantheonError, where: string, path: string, key = '__proto__'): void {
  expect(error.code).toBe('CONFIG_INVALID');
  expect(error.exitCode).toBe(2);
  expect(error.message).toBe(`${where}: ${path}: the key "${key}" is not allowed (it would reach JavaScript's object prototype).`);
  expect(error.details).toEqual([]);
  expect(error.hint).toBe(HINT);
}

describe('"__proto__" (and "constructor", "prototype") as keys: refused in every format and layer', () => {
  it('oh-my-opencode.json agents.__proto__ (the mapper used to walk into Object.prototype)', async () => {
    await tree.write('repo/oh-my-opencode.json', '{\n  "agents": {\n    "__proto__": { "temperature": 0.5 }\n  }\n}\n');
    const error = await loadError(loadConfig(base()));
    expectRefused(error, `${tree.path('repo/oh-my-opencode.json')}:3:5`, 'agents.__proto__');
  });

  it('oh-my-opencode.json background_task.providerConcurrency.__proto__', async () => {
    await tree.write('repo/oh-my-opencode.json', '{ "background_task": { "providerConcurrency": { "__proto__": 3 } } }');
    const error = await loadError(loadConfig(base()));
    expectRefused(error, `${tree.path('repo/oh-my-opencode.json')}:1:49`, 'background_task.providerConcurrency.__proto__');
  });

  it('opencode.json (plain JSON), nested deep in provider options', async () => {
    await tree.write('repo/opencode.json', '{"provider":{"p":{"options":{"headers":{"__proto__":{"polluted":"yes"}}}}}}');
    const error = await loadError(loadConfig(base()));
    expectRefused(error, `${tree.path('repo/opencode.json')}:1:41`, 'provider.p.options.headers.__proto__');
  });

  it('opencode.jsonc (comments: the JSONC parser), where the key would have set the object\'s prototype', async () => {
    await tree.write('repo/opencode.jsonc', '// team config\n{ "agent": { "x": { "options": { "__proto__": { "polluted": 1 } } } }, }\n');
    const error = await loadError(loadConfig(base()));
    expectRefused(error, `${tree.path('repo/opencode.jsonc')}:2:34`, 'agent.x.options.__proto__');
  });

  it('.opencoderc.yaml', async () => {
    await tree.write('repo/.opencoderc.yaml', 'agent:\n  __proto__:\n    temperature: 0.5\n');
    const error = await loadError(loadConfig(base()));
    expectRefused(error, tree.path('repo/.opencoderc.yaml'), 'agent.__proto__');
  });

  it('package.json#opencode', async () => {
    await tree.write('repo/package.json', '{ "name": "x", "opencode": { "agent": { "__proto__": {} } } }');
    const error = await loadError(loadConfig(base()));
    expectRefused(error, `${tree.path('repo/package.json')}:1:41`, 'agent.__proto__');
  });

  it('the global config, pantheon.json, OPENCODE_CONFIG, --config and a file in extends', async () => {
    const cases: [string, () => Promise<unknown>][] = [
      ['xdg/opencode/opencode.json', () => loadConfig(base())],
      ['xdg/opencode/oh-my-opencode.json', () => loadConfig(base())],
      ['repo/pantheon.json', () => loadConfig(base())],
      ['repo/env.json', () => loadConfig(base({ OPENCODE_CONFIG: 'env.json' }))],
      ['repo/flag.json', () => loadConfig({ ...base(), configPath: 'flag.json' })],
      ['repo/one.json', () => loadConfigFile(tree.path('repo/one.json'), base())],
    ];
    for (const [rel, load] of cases) {
      const key = rel.includes('oh-my') ? 'agents' : 'agent';
      await tree.write(rel, `{ "${key}": { "__proto__": { "temperature": 0.5 } } }`);
      expectRefused(await loadError(load()), `${tree.path(rel)}:1:${key.length + 9}`, `${key}.__proto__`);
      await tree.write(rel, '{}');
    }
    await tree.write('repo/team.json', '{ "agent": { "prototype": {} } }');
    await tree.write('repo/opencode.json', { extends: ['./team.json'] });
    expectRefused(await loadError(loadConfig(base())), `${tree.path('repo/team.json')}:1:14`, 'agent.prototype', 'prototype');
  });

  it('a preset named in extends', async () => {
    await tree.write('presets/evil.json', '{ "provider": { "constructor": {} } }');
    await tree.write('repo/opencode.json', { extends: 'evil' });
    expectRefused(await loadError(loadConfig(base())), `${tree.path('presets/evil.json')}:1:17`, 'provider.constructor', 'constructor');
  });

  it('the key inside a list, and "constructor" as an agent name', async () => {
    await tree.write('repo/opencode.json', '{ "workflow": { "w": { "steps": [ { "id": "a", "agent": "oracle", "prompt": "p", "forEach": [ { "__proto__": 1 } ] } ] } } }');
    expectRefused(await loadError(loadConfig(base())), `${tree.path('repo/opencode.json')}:1:97`, 'workflow.w.steps[0].forEach[0].__proto__');
    await tree.write('repo/opencode.json', '{ "agent": { "constructor": { "model": "opencode-zen/x" } } }');
    expectRefused(await loadError(loadConfig(base())), `${tree.path('repo/opencode.json')}:1:14`, 'agent.constructor', 'constructor');
  });

  it('values that merely mention the names are fine', async () => {
    await tree.write('repo/opencode.json', { agent: { oracle: { prompt: '__proto__ constructor prototype', description: '{"__proto__": 1}' } } });
    const loaded = await loadConfig(base());
    expect(loaded.config.agent?.oracle?.prompt).toBe('__proto__ constructor prototype');
  });

  it('validateConfigObject (the library entry) reports the key instead of walking it', () => {
    const config = JSON.parse('{ "agent": { "__proto__": { "temperature": 0.5 } } }') as Record<string, unknown>;
    expect(validateConfigObject(config)).toEqual(['agent.__proto__: the key "__proto__" is not allowed (it would reach JavaScript\'s object prototype)']);
  });
});

describe('the merged config has no prototype to look names up in', () => {
  it.each(['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf'])('config.agent[%j] is undefined', async (name) => {
    const loaded = await loadConfig(base());
    expect(loaded.config.agent?.oracle).toBeDefined();
    expect((loaded.config.agent as Record<string, unknown>)[name]).toBeUndefined();
    expect((loaded.config.provider as Record<string, unknown> | undefined)?.[name]).toBeUndefined();
    expect((loaded.config as Record<string, unknown>)[name]).toBeUndefined();
  });
});
