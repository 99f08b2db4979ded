/**
 * Budgets (`budget` in the config) through runTask against the scripted server: the expected cost
 * is checked before each request, corrected with the reported usage, and shared through the ledger.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema-types.ts';
import { SqliteLedger } from '../../src/scheduler/ledger-sqlite.ts';
import type { ScriptedServer } from '../support/openai-server.ts';
import { configFor, useHarness } from './harness.ts';

const h = useHarness();

/** Every answer reports 100 + 100 tokens; model a costs $1000 per million (so $0.20 an answer), b is free. */
async function pricedServer(): Promise<ScriptedServer> {
  return h.server({ default: { type: 'text', text: 'ok', usage: { prompt_tokens: 100, completion_tokens: 100 } } });
}
const models = { a: { cost: { input: 1000, output: 1000 }, limit: { context: 100_000, output: 10 } }, b: { limit: { context: 100_000, output: 10 } } };

describe('budgets', () => {
  it('fails the task once the next request would cross the budget, naming it and what was spent; warns at 80 %', async () => {
    const server = await pricedServer();
    // The first request's estimate is small (a short prompt); later ones are corrected by the
    // reported usage (100 input tokens): about $0.11 each.
    const config = configFor(server, { budget: { perRun: { usd: 0.62 } } } as Partial<Config>, models);
    const runtime = await h.runtime(config);
    const runs = [];
    for (let i = 0; i < 4; i++) runs.push(await h.run({ config, runtime, message: `m${i}` }));
    expect(runs.slice(0, 3).map((r) => r.error)).toEqual([undefined, undefined, undefined]);
    // Spent: 3 × $0.20 (the reported usage, not the smaller estimate); the 4th is refused before it is sent.
    expect(server.log).toHaveLength(3);
    const error = runs[3]?.error as { code?: string; message?: string; exitCode?: number };
    expect(error).toMatchObject({ code: 'BUDGET_EXCEEDED', exitCode: 1 });
    expect(error.message).toBe('The perRun budget would be exceeded: $0.60 of $0.62 spent.');
    expect(runs[3]?.rec.of('budget_exceeded')).toEqual([expect.objectContaining({ action: 'fail', budget: 'perRun', limitUSD: 0.62 })]);
    const warnings = runs.flatMap((r) => r.rec.of('budget_warning'));
    expect(warnings).toEqual([expect.objectContaining({ budget: 'perRun', limitUSD: 0.62, percent: expect.any(Number) })]);
    expect(warnings[0]?.percent).toBeGreaterThanOrEqual(80);
  });

  it('downgrade: moves to the downgrade chain with an event, and the answer comes from it', async () => {
    const server = await pricedServer();
    const config = configFor(server, { budget: { perDay: { usd: 0.21 }, onExceeded: 'downgrade', downgrade: ['local/b'] } } as Partial<Config>, models);
    const runtime = await h.runtime(config);
    const first = await h.run({ config, runtime, message: 'one' });
    const second = await h.run({ config, runtime, message: 'two' });
    expect(first.result?.servedBy).toEqual(['local/a']);
    expect(second.error).toBeUndefined();
    expect(second.result?.servedBy).toEqual(['local/b']);
    expect(second.rec.of('budget_exceeded')).toEqual([expect.objectContaining({ action: 'downgrade', to: 'local/b', budget: expect.stringMatching(/^perDay \(\d{4}-\d\d-\d\d\)$/) })]);
    expect(second.rec.of('fallback')).toEqual([expect.objectContaining({ from: 'local/a', to: 'local/b', reason: 'budget' })]);
    expect(server.log.map((e) => e.model)).toEqual(['a', 'b']);
  });

  it('a downgrade chain that is itself over budget ends the task', async () => {
    const server = await pricedServer();
    const config = configFor(server, { budget: { perRun: { tokens: 410 }, onExceeded: 'downgrade', downgrade: ['local/b'] } } as Partial<Config>, models);
    const runtime = await h.runtime(config);
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await h.run({ config, runtime, message: `m${i}` }));
    expect(runs.map((r) => r.result?.servedBy)).toEqual([['local/a'], ['local/a'], undefined]);
    expect((runs[2]?.error as Error).message).toMatch(/^The perRun budget would be exceeded, also on the downgrade chain: 400 of 410 tokens spent\.$/);
    expect(runs[2]?.rec.of('budget_exceeded').map((e) => e.action)).toEqual(['downgrade', 'fail']);
  });

  it('perAgent budgets apply to that agent only', async () => {
    const server = await pricedServer();
    const config = configFor(server, { budget: { perAgent: { oracle: { usd: 0.1 } } } } as Partial<Config>, models);
    (config as { agent?: object }).agent = { oracle: { model: 'local/a' }, other: { model: 'local/a' } };
    const runtime = await h.runtime(config);
    expect((await h.run({ config, runtime, agent: 'oracle', message: 'x' })).error).toBeUndefined();
    expect((await h.run({ config, runtime, agent: 'oracle', message: 'y' })).error).toMatchObject({ code: 'BUDGET_EXCEEDED', message: expect.stringMatching(/^The perAgent\.oracle \(\d{4}-\d\d-\d\d\) budget would be exceeded: \$0\.20 of \$0\.10 spent\.$/) });
    expect((await h.run({ config, runtime, agent: 'other', message: 'z' })).error).toBeUndefined();
  });

  it('is shared through the ledger: a second runtime on the same ledger file sees what the first spent', async () => {
    const server = await pricedServer();
    const dir = await h.tempDir();
    const file = path.join(dir, 'ledger.sqlite');
    const config = configFor(server, { budget: { perDay: { usd: 0.3 } } } as Partial<Config>, models);
    const one = await h.runtime(config, { ledger: new SqliteLedger({ path: file }) });
    const two = await h.runtime(config, { ledger: new SqliteLedger({ path: file }) });
    expect((await h.run({ config, runtime: one, message: 'a' })).error).toBeUndefined();
    expect((await h.run({ config, runtime: two, message: 'b' })).error).toBeUndefined();
    expect((await h.run({ config, runtime: one, message: 'c' })).error).toMatchObject({ code: 'BUDGET_EXCEEDED' });
    await one.ledger.close();
    await two.ledger.close();
  });
});
