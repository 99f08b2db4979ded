import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { validateConfigObject } from '../../src/config/validate.ts';
import { PantheonError } from '../../src/errors.ts';
import { tempTree, type TempTree } from './temp-tree.ts';

const schema = JSON.parse(await fs.readFile(path.resolve(import.meta.dirname, '../../schema/config.json'), 'utf8')) as Record<string, unknown>;

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumeric = (n: Node): boolean =>
  n.type === 'integer' || n.type === 'number' || (Array.isArray(n.type) && n.type.some((t) => t === 'integer' || t === 'number'));

/** Every schema node that accepts a number, with its JSON pointer (excluding data lists such as forEach items). */
function numericNodes(): { at: string; node: Node }[] {
  const out: { at: string; node: Node }[] = [];
  const stack: { at: string; node: unknown }[] = [{ at: '', node: schema }];
  while (stack.length > 0) {
    const { at, node } = stack.pop()!;
    if (Array.isArray(node)) node.forEach((child, i) => stack.push({ at: `${at}/${i}`, node: child }));
    if (!isNode(node)) continue;
    if (isNumeric(node) && !at.includes('/forEach/')) out.push({ at, node });
    for (const [key, child] of Object.entries(node)) stack.push({ at: `${at}/${key}`, node: child });
  }
  return out;
}

/** Sets `value` at a dotted path in a fresh object. */
function at(pathText: string, value: unknown): Record<string, unknown> {
  const keys = pathText.split('.');
  const root: Record<string, unknown> = {};
  let node = root;
  keys.slice(0, -1).forEach((k) => (node = node[k] = {} as Record<string, unknown>));
  node[keys[keys.length - 1]!] = value;
  return root;
}

/** Where each numeric setting sits in a config (one example path per schema property). */
const SETTINGS = [
  'rateLimit.rpm', 'rateLimit.rpd', 'rateLimit.tpm', 'rateLimit.concurrency',
  'provider.p.options.timeout', 'provider.p.rateLimit.rpd',
  'provider.p.models.m.limit.context', 'provider.p.models.m.limit.output', 'provider.p.models.m.limit.input',
  'provider.p.models.m.cost.input', 'provider.p.models.m.cost.output', 'provider.p.models.m.cost.cache_read', 'provider.p.models.m.cost.cache_write',
  'agent.a.steps', 'agent.a.maxSteps',
  'cache.ttl', 'cache.maxSize', 'retry.baseDelay', 'retry.maxDelay', 'cooldown.afterFailures', 'cooldown.ms',
];

describe('every number in the schema has a maximum', () => {
  it('each numeric schema property sets a finite maximum', () => {
    const nodes = numericNodes();
    expect(nodes.length).toBeGreaterThan(20);
    const unbounded = nodes.filter(({ node }) => typeof node.maximum !== 'number' && typeof node.exclusiveMaximum !== 'number').map((n) => n.at);
    expect(unbounded).toEqual([]);
  });

  it('every maximum is at most 1e9: below what a timer holds (2^31-1 ms) and what SQLite stores as an INTEGER', () => {
    for (const { at: where, node } of numericNodes()) {
      const max = node.maximum as number;
      expect(max, where).toBeLessThanOrEqual(1e9);
      if (node.type === 'integer') expect(Number.isSafeInteger(max), where).toBe(true);
    }
  });

  it.each(SETTINGS)('%s: 1.797e308 is refused with the range expected and the value found', (setting) => {
    const config = at(setting, 1.797e308);
    // OpenCode's schema wants a model's limit and cost whole: give the other required values.
    const model = (config.provider as { p?: { models?: { m?: Record<string, Record<string, number>> } } } | undefined)?.p?.models?.m;
    if (model?.limit) model.limit = { context: 1000, output: 1000, ...model.limit };
    if (model?.cost) model.cost = { input: 1, output: 1, ...model.cost };
    const problems = validateConfigObject(config);
    expect(problems).toHaveLength(1);
    // OpenCode's keys keep OpenCode's minimum (none for a price) under Pantheon's ceiling.
    expect(problems[0]).toMatch(/expected (an integer|a number) (from \d+ to|of at most) [\d,]+( or false)?, found 1\.797e\+308$/);
  });
});

describe('loading a config with a value above its maximum', () => {
  let tree: TempTree;
  beforeEach(async () => {
    tree = await tempTree();
    await tree.write('presets/default.json', {});
    await tree.mkdir('repo/.git');
  });
  afterEach(async () => {
    await tree.remove();
  });

  async function loadError(text: string): Promise<PantheonError> {
    await tree.write('repo/opencode.json', text);
    const error = await loadConfig({ cwd: tree.path('repo'), env: tree.env, presetsDir: tree.presets }).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof PantheonError)) throw new Error(`expected a PantheonError, got ${String(error)}`);
    return error;
  }

  it('rateLimit.rpd: 1.797e308 names the file, line:col, path, range and value, with a hint', async () => {
    const error = await loadError('{\n  "rateLimit": {\n    "rpd": 1.797e308\n  }\n}\n');
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.exitCode).toBe(2);
    expect(error.details).toEqual([`${tree.path('repo/opencode.json')}:3:5 rateLimit.rpd: expected an integer from 1 to 1,000,000,000, found 1.797e+308`]);
    expect(error.hint).toMatch(/^Every number has a ceiling that keeps it usable: durations up to 24 h/);
  });

  it('options.timeout: 1.797e308 is refused at load (not a TimeoutOverflowWarning later)', async () => {
    const error = await loadError('{ "provider": { "p": { "options": { "timeout": 1.797e308 } } } }');
    expect(error.details).toHaveLength(1);
    expect(error.details[0]).toMatch(/:1:37 provider\.p\.options\.timeout: expected an integer from 1 to 86,400,000, found 1\.797e\+308$/);
  });
});
