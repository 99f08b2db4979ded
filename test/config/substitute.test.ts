import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PantheonError } from '../../src/errors.ts';
import type { ConfigWarning } from '../../src/config/layer.ts';
import { substituteValues, type SubstituteContext } from '../../src/config/substitute.ts';
import { tempTree, type TempTree } from './temp-tree.ts';

let tree: TempTree;
beforeEach(async () => {
  tree = await tempTree();
});
afterEach(async () => {
  await tree.remove();
});

function ctx(over: Partial<SubstituteContext> = {}): SubstituteContext & { warnings: ConfigWarning[] } {
  return { label: 'test', baseDir: tree.root, env: { HOME: tree.home, KEY: 'sk-123', EMPTY: '' }, warnings: [], ...over };
}

describe('substitution', () => {
  it('replaces {env:VAR} and ${VAR} in string values anywhere, never in keys', async () => {
    const c = ctx();
    const out = await substituteValues(
      { a: '{env:KEY}', b: 'Bearer ${KEY}!', '{env:KEY}': 'key stays', list: ['x{env:KEY}y', 3, true, null], empty: '[${EMPTY}]' },
      c,
    );
    expect(out).toEqual({ a: 'sk-123', b: 'Bearer sk-123!', '{env:KEY}': 'key stays', list: ['xsk-123y', 3, true, null], empty: '[]' });
    expect(c.warnings).toEqual([]);
  });

  it('turns an unset variable into an empty string with an ENV_UNSET warning naming file and path', async () => {
    const c = ctx({ file: '/p/opencode.json' });
    const out = await substituteValues({ provider: { nim: { options: { apiKey: '{env:NIM_KEY}', headers: { x: 'a${NOPE}b' } } } } }, c);
    expect(out).toEqual({ provider: { nim: { options: { apiKey: '', headers: { x: 'ab' } } } } });
    expect(c.warnings).toEqual([
      { code: 'ENV_UNSET', message: expect.stringContaining('{env:NIM_KEY}'), file: '/p/opencode.json', path: 'provider.nim.options.apiKey' },
      { code: 'ENV_UNSET', message: expect.stringContaining('${NOPE}'), file: '/p/opencode.json', path: 'provider.nim.options.headers.x' },
    ]);
  });

  it('inserts {file:} content relative to the config file, trailing newline trimmed, ~ expanded', async () => {
    await tree.write('cfg/prompts/oracle.md', 'You are the oracle.\n\n');
    await tree.write('home/notes.txt', 'from home\n');
    const file = await tree.write('cfg/opencode.json', '{}');
    const out = await substituteValues(
      { agent: { oracle: { prompt: '{file:./prompts/oracle.md}', description: 'Note: {file:~/notes.txt}.' } } },
      ctx({ file, baseDir: tree.path('cfg') }),
    );
    expect(out).toEqual({ agent: { oracle: { prompt: 'You are the oracle.', description: 'Note: from home.' } } });
  });

  it('resolves env first, so {file:} may use a variable; the file content is not substituted again', async () => {
    await tree.write('d/p.md', 'literal {env:KEY}');
    const out = await substituteValues({ p: '{file:{env:DIR}/p.md}' }, ctx({ env: { DIR: tree.path('d'), KEY: 'k' } }));
    expect(out.p).toBe('literal {env:KEY}');
  });

  it('fails on a missing {file:} target naming the config file, line:col, JSON path and missing path', async () => {
    const text = '{\n  "agent": {\n    "oracle": { "prompt": "{file:./missing.md}" }\n  }\n}\n';
    const file = await tree.write('opencode.json', text);
    const err = await substituteValues(JSON.parse(text), ctx({ file, text })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PantheonError);
    expect((err as PantheonError).code).toBe('CONFIG_FILE_REF');
    expect((err as PantheonError).message).toBe(
      `${file}:3:27: agent.oracle.prompt refers to {file:./missing.md}, but ${tree.path('missing.md')} does not exist.`,
    );
  });

  it('resolves a layer without a file against the base folder (cwd) and says so', async () => {
    await tree.write('work/p.md', 'flag prompt\n');
    const out = await substituteValues({ x: '{file:p.md}' }, ctx({ label: 'command-line flags', baseDir: tree.path('work') }));
    expect(out.x).toBe('flag prompt');
    const err = (await substituteValues({ x: '{file:nope.md}' }, ctx({ label: 'command-line flags' })).catch((e: unknown) => e)) as PantheonError;
    expect(err.message).toMatch(/^command-line flags: x refers to \{file:nope\.md\}/);
    expect(err.hint).toMatch(/working directory/);
  });

  it('reports paths inside package.json under the opencode key', async () => {
    const c = ctx({ file: '/p/package.json', pathPrefix: ['opencode'] });
    await substituteValues({ model: '{env:UNSET_MODEL}' }, c);
    expect(c.warnings[0]?.path).toBe('opencode.model');
  });
});
