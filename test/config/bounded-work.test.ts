/**
 * Bounded work on any config: nesting of any depth, huge keys and values quoted as short
 * excerpts, the error list capped (with how many more), repeated warnings said once.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { validateConfig } from '../../src/config/generated/config-validator.ts';
import { MAX_PROBLEMS_SHOWN } from '../../src/config/validate.ts';
import { PantheonError } from '../../src/errors.ts';
import { tempTree, type TempTree } from './temp-tree.ts';

let tree: TempTree;
beforeEach(async () => {
  tree = await tempTree();
  await tree.write('presets/default.json', {});
  await tree.mkdir('repo/.git');
});
afterEach(async () => {
  await tree.remove();
});

const base = (env: NodeJS.ProcessEnv = {}) => ({ cwd: tree.path('repo'), env: { ...tree.env, ...env }, presetsDir: tree.presets });

async function loadError(): Promise<PantheonError> {
  const error = await loadConfig(base()).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof PantheonError)) throw new Error(`expected a PantheonError, got ${String(error)}`);
  return error;
}

/** Every line a report would print: the sentence, each detail, the hint. */
function lines(error: PantheonError): string[] {
  return [error.message, ...error.details, error.hint ?? ''];
}

describe('nesting of any depth', () => {
  it.each([
    ['opencode.json', 5_000],
    ['opencode.json', 100_000],
    ['opencode.jsonc', 5_000],
  ])('%s with a value nested %i deep: one clear error (no stack overflow)', async (name, depth) => {
    await tree.write(`repo/${name}`, `{"agent": {"x": {"options": {"deep": ${'['.repeat(depth)}${']'.repeat(depth)}}}}}`);
    const error = await loadError();
    expect(error.code).toBe('CONFIG_PARSE');
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/opencode\.jsonc?:1:\d+: nested more than 64 levels deep\.$/);
    expect(error.message.length).toBeLessThan(400);
  });

  it('.opencoderc.yaml nested 5,000 deep: one clear error', async () => {
    await tree.write('repo/.opencoderc.yaml', `agent:\n  x:\n    options:\n      deep: ${'['.repeat(5_000)}${']'.repeat(5_000)}\n`);
    const error = await loadError();
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/\.opencoderc\.yaml:4:\d+: invalid YAML: nesting exceeded maxDepth/);
  });

  it('YAML aliases of aliases (a "billion laughs"), in a config or an agent’s frontmatter: refused at once; aliases used as meant load', async () => {
    const laughs = (levels: number) => {
      const lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
      for (let i = 1; i <= levels; i++) lines.push(`l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(',')}]`);
      return lines.join('\n');
    };
    await tree.write('repo/.opencode/agent/x.md', `---\n${laughs(8)}\n---\nprompt\n`);
    await tree.write('repo/.opencoderc.yaml', `${laughs(7)}\n`);
    const started = performance.now();
    const error = await loadError();
    expect(performance.now() - started).toBeLessThan(5_000); // a correctness bound: 9^8 values would take minutes
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/\.opencoderc\.yaml: its YAML aliases expand to more than [\d,]+ values\.$/);
    await tree.write('repo/.opencoderc.yaml', 'agent:\n  a: &d {temperature: 0.2, steps: 5}\n  b: *d\n');
    const loaded = await loadConfig(base());
    expect(loaded.config.agent?.b).toMatchObject({ temperature: 0.2, steps: 5 });
    expect(loaded.warnings.find((w) => w.file?.endsWith('x.md'))?.message).toMatch(/^its frontmatter's YAML aliases expand to more than [\d,]+ values; agent skipped$/);
  });

  it('a config nested just under the bound loads', async () => {
    await tree.write('repo/opencode.json', `{"agent": {"x": {"options": {"deep": ${'['.repeat(58)}${']'.repeat(58)}}}}}`);
    await expect(loadConfig(base())).resolves.toBeDefined();
  });
});

describe('keys and values are quoted as short excerpts', () => {
  it('a 100 KB key (unknown at the top, mistyped in an agent) makes short warning lines', async () => {
    const key = 'k'.repeat(100_000);
    await tree.write('repo/opencode.json', { [key]: 1, agent: { [key]: { temprature: 1 } } });
    const loaded = await loadConfig(base());
    expect(loaded.warnings.length).toBe(2);
    for (const w of loaded.warnings) expect(`${w.file ?? ''} ${w.path ?? ''} ${w.message}`.length).toBeLessThan(300);
    expect(loaded.warnings.map((w) => w.path)).toEqual([`["${'k'.repeat(39)}…"]`, `agent["${'k'.repeat(39)}…"].temprature`]);
  });

  it('a 10 MB value in a model ref, an agent name and a workflow step: short lines naming the length', async () => {
    const value = 'z'.repeat(10_000_000);
    await tree.write('repo/opencode.json', { workflow: { w: { steps: [{ id: 'a', agent: value, prompt: 'p' }] } } });
    const error = await loadError();
    for (const line of lines(error)) expect(line.length).toBeLessThan(300);
    expect(error.details[0]).toMatch(/workflow\.w\.steps\[0\]\.agent: agent "z{39}…" \(10,000,000 characters\) is not defined$/);
    await tree.write('repo/opencode.json', { agent: { oracle: { model: value } } });
    const loaded = await loadConfig(base());
    expect(loaded.warnings[0]?.message).toMatch(/^expected a model reference provider\/model\[:variant\], found "z{39}…" \(10,000,000 characters\); a run/);
  });

  it('a long key where a pattern applies and a long step id in a cycle', async () => {
    const id = 's'.repeat(50_000);
    await tree.write('repo/opencode.json', {
      workflow: { w: { steps: [{ id, agent: 'x', prompt: 'p', needs: [id] }] } },
      agent: { x: {} },
    });
    const error = await loadError();
    for (const line of lines(error)) expect(line.length).toBeLessThan(300);
  });
});

describe('the error list is capped, in time linear in its length', () => {
  it('20,000 bad agents: the first problems, then how many more', async () => {
    const agent: Record<string, unknown> = {};
    for (let i = 0; i < 20_000; i++) agent[`a${i}`] = { temperature: 'hot' };
    await tree.write('repo/opencode.json', JSON.stringify({ agent }));
    const error = await loadError();
    expect(error.message).toBe('Invalid config: 20,000 problems in 1 file.');
    expect(error.details).toHaveLength(MAX_PROBLEMS_SHOWN + 1);
    expect(error.details[0]).toMatch(/opencode\.json:1:\d+ agent\.a0\.temperature: expected a number/);
    expect(error.details.at(-1)).toBe(`… and 19,950 more problems (the first ${MAX_PROBLEMS_SHOWN} are listed)`);
    expect(lines(error).join('\n').length).toBeLessThan(10_000);
  });

  it("the validator adds each value's errors in place (ajv's concat copied the whole list per value: quadratic)", async () => {
    const source = await fs.readFile(path.resolve(import.meta.dirname, '../../src/config/generated/config-validator.ts'), 'utf8');
    expect(source).not.toContain('vErrors.concat(');
    const agent: Record<string, unknown> = {};
    for (let i = 0; i < 20_000; i++) agent[`a${i}`] = { temperature: 'hot' };
    expect(validateConfig({ agent })).toBe(false);
    expect(validateConfig.errors?.filter((e) => e.instancePath.endsWith('/temperature')).length).toBeGreaterThanOrEqual(20_000);
  });
});

describe('warnings are said once', () => {
  it('${UNSET} repeated 6,000 times in one value: one warning with its count', async () => {
    await tree.write('repo/opencode.json', { agent: { oracle: { prompt: '${PANTHEON_TEST_UNSET}'.repeat(6_000) } } });
    const loaded = await loadConfig(base());
    const unset = loaded.warnings.filter((w) => w.code === 'ENV_UNSET');
    expect(unset).toEqual([
      {
        code: 'ENV_UNSET',
        message: '${PANTHEON_TEST_UNSET} names an environment variable that is not set; using an empty string.',
        file: tree.path('repo/opencode.json'),
        path: 'agent.oracle.prompt',
        count: 6_000,
      },
    ]);
  });

  it('two different variables, and the same one in two places, stay separate warnings', async () => {
    await tree.write('repo/opencode.json', { agent: { a: { prompt: '${UNSET_A}${UNSET_B}${UNSET_A}' }, b: { prompt: '${UNSET_A}' } } });
    const loaded = await loadConfig(base());
    const unset = loaded.warnings.filter((w) => w.code === 'ENV_UNSET').map((w) => [w.path, w.message.split(' ')[0], w.count]);
    expect(unset).toEqual([
      ['agent.a.prompt', '${UNSET_A}', 2],
      ['agent.a.prompt', '${UNSET_B}', undefined],
      ['agent.b.prompt', '${UNSET_A}', undefined],
    ]);
  });
});
