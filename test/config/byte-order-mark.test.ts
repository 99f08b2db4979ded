import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import { loadConfig, loadConfigFile } from '../../src/config/load.ts';
import { tempTree, type TempTree } from './temp-tree.ts';

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

function utf8WithBom(text: string): Buffer {
  return Buffer.concat([UTF8_BOM, Buffer.from(text, 'utf8')]);
}

function utf16leWithBom(text: string): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
}

function utf16beWithBom(text: string): Buffer {
  const le = Buffer.from(text, 'utf16le');
  for (let i = 0; i < le.length; i += 2) [le[i], le[i + 1]] = [le[i + 1]!, le[i]!];
  return Buffer.concat([Buffer.from([0xfe, 0xff]), le]);
}

let tree: TempTree;
beforeEach(async () => {
  tree = await tempTree();
  await tree.write('presets/default.json', {});
  await tree.mkdir('repo/.git');
});
afterEach(async () => {
  await tree.remove();
});

async function put(rel: string, bytes: Buffer): Promise<string> {
  const file = await tree.write(rel, '');
  await fs.writeFile(file, bytes);
  return file;
}

const base = (env: NodeJS.ProcessEnv = {}) => ({ cwd: tree.path('repo'), env: { ...tree.env, ...env }, presetsDir: tree.presets });

describe('config files that start with a byte-order mark load', () => {
  const encodings = [
    ['UTF-8', utf8WithBom],
    ['UTF-16LE', utf16leWithBom],
    ['UTF-16BE', utf16beWithBom],
  ] as const;

  describe.each(encodings)('%s with a BOM', (_name, encode) => {
    it.each(['opencode.json', 'opencode.jsonc', '.opencoderc', '.opencoderc.json', 'pantheon.json'])('project %s', async (name) => {
      // Plain JSON (the fast path) for .json names, JSONC (comments, trailing commas) for the others.
      const text = name.endsWith('.json') ? '{ "model": "opencode-zen/bom" }\n' : '{ "model": "opencode-zen/bom", // a comment\n}\n';
      await put(`repo/${name}`, encode(text));
      const loaded = await loadConfig(base());
      expect(loaded.config.model).toBe('opencode-zen/bom');
    });

    it('.opencoderc.yaml', async () => {
      await put('repo/.opencoderc.yaml', encode('model: opencode-zen/bom\n'));
      expect((await loadConfig(base())).config.model).toBe('opencode-zen/bom');
    });

    it('package.json#opencode', async () => {
      await put('repo/package.json', encode(JSON.stringify({ name: 'x', opencode: { model: 'opencode-zen/bom' } })));
      expect((await loadConfig(base())).config.model).toBe('opencode-zen/bom');
    });

    it('the global opencode.json and oh-my-opencode.json', async () => {
      await put('xdg/opencode/opencode.json', encode('{ "small_model": "opencode-zen/global" }'));
      await put('xdg/opencode/oh-my-opencode.json', encode('{ "agents": { "oracle": { "model": "opencode-zen/omo" } } }'));
      const loaded = await loadConfig(base());
      expect(loaded.config.small_model).toBe('opencode-zen/global');
      expect(loaded.config.agent?.oracle?.model).toBe('opencode-zen/omo');
    });

    it('OPENCODE_CONFIG, --config and a file named in extends', async () => {
      await put('repo/team.json', encode('{ "default_agent": "x", "agent": { "x": {} } }'));
      await put('repo/env.json', encode('{ "extends": ["./team.json"], "small_model": "opencode-zen/env" }'));
      await put('repo/flag.jsonc', encode('{ "model": "opencode-zen/flag", }'));
      const loaded = await loadConfig({ ...base({ OPENCODE_CONFIG: 'env.json' }), configPath: 'flag.jsonc' });
      expect(loaded.config).toMatchObject({ model: 'opencode-zen/flag', small_model: 'opencode-zen/env', default_agent: 'x' });
    });

    it('config validate FILE, and a {file:} prompt (its BOM is not part of the prompt)', async () => {
      await put('repo/prompt.md', encode('Be brief.\n'));
      const file = await put('repo/one.json', encode('{ "agent": { "x": { "prompt": "{file:./prompt.md}" } } }'));
      const loaded = await loadConfigFile(file, base());
      expect(loaded.config.agent?.x?.prompt).toBe('Be brief.');
    });
  });

  it('line:column in errors count from after the BOM', async () => {
    await put('repo/opencode.json', utf8WithBom('{\n  "model": 42\n}\n'));
    const error = await loadConfig(base()).then(
      () => undefined,
      (e: unknown) => e as { details: string[] },
    );
    expect(error?.details).toEqual([`${tree.path('repo/opencode.json')}:2:3 model: expected a string, found 42`]);
  });
});
