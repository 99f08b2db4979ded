/**
 * Budgets through the real CLI: config errors, a run refused over budget (exit 1, which budget,
 * what was spent), spend in the summary and `done`, shared between processes, and a workflow that
 * stops starting tasks when its perRun budget is spent and finishes with `--resume` once raised.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { SECRET, sandbox, type Sandbox } from './cli-helper.ts';

/**
 * Each answer reports 100 + 100 tokens; model m costs $1 per million input and $1999 per million
 * output tokens: $0.20 an answer. The first estimate (the agent's prompt and tools, chars ÷ 4, plus
 * 10 output tokens) is about $0.02; later ones are corrected by the reported usage.
 */
const provider = (server: ScriptedServer) => ({
  local: {
    options: { baseURL: server.url, apiKey: SECRET },
    models: { m: { cost: { input: 1, output: 1999 }, limit: { context: 100_000, output: 10 } }, free: { limit: { context: 100_000, output: 10 } } },
  },
});

describe('budgets (CLI)', () => {
  let sb: Sandbox;
  let server: ScriptedServer;
  beforeEach(async () => {
    sb = await sandbox();
    server = await startScriptedServer({ apiKey: SECRET, default: { type: 'text', text: 'ok', usage: { prompt_tokens: 100, completion_tokens: 100 } } });
  });
  afterEach(async () => {
    await sb.remove();
    await server.close();
  });

  it.each([
    ['a budget of 0', { perRun: { usd: 0 } }, /budget\.perRun\.usd.*expected a number greater than 0/s],
    ['a negative budget', { perDay: { tokens: -5 } }, /budget\.perDay\.tokens/],
    ['an unknown time zone', { perDay: { usd: 1 }, timeZone: 'Mars/Olympus' }, /budget\.timeZone: expected an IANA time zone such as "Europe\/Berlin" or "UTC", found "Mars\/Olympus"/],
    ['downgrade without a chain', { perDay: { usd: 1 }, onExceeded: 'downgrade' }, /budget\.onExceeded: "downgrade" needs a chain to downgrade to/],
  ])('%s is a config error (exit 2)', async (_name, budget, message) => {
    sb.write('opencode.json', { model: 'local/m', provider: provider(server), budget });
    const r = await sb.run(['run', 'hi']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(server.log).toHaveLength(0);
  });

  it('a run over the day\'s budget fails with exit 1 naming the budget and the spend; processes share the spend', async () => {
    sb.write('opencode.json', { model: 'local/m', provider: provider(server), budget: { perDay: { usd: 0.21 }, timeZone: 'UTC' }, cache: { enabled: false } });
    const first = await sb.run(['run', '--format', 'json', 'one']);
    expect(first.code, first.stderr).toBe(0);
    const done = first.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; budgets?: unknown }).find((e) => e.type === 'done');
    const day = new Date().toISOString().slice(0, 10);
    expect(done?.budgets).toEqual([{ budget: `perDay (${day})`, spentUSD: expect.closeTo(0.2, 6), limitUSD: 0.21, spentTokens: 200 }]);

    const second = await sb.run(['run', 'two']);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`error: The perDay (${day}) budget would be exceeded: $0.20 of $0.21 spent.`);
    expect(second.stderr).toMatch(/hint: Raise the budget in the config \(budget\.\*\), or set budget\.onExceeded to "downgrade"/);
    expect(second.stderr).toMatch(/failed in [\d.]+ s · .*budgets: perDay \(\d{4}-\d\d-\d\d\) \$0\.20 of \$0\.21/);
    expect(server.log).toHaveLength(1);
  });

  it('the summary line shows spend against each budget', async () => {
    sb.write('opencode.json', { model: 'local/m', provider: provider(server), budget: { perRun: { usd: 5, tokens: 10_000 } }, cache: { enabled: false } });
    const r = await sb.run(['run', 'hi']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^done in [\d.]+ s · .* · budgets: perRun \$0\.20 of \$5\.00, 200 of 10,000 tokens · session /m);
  });

  it('a workflow stops starting tasks when its perRun budget is spent, and --resume finishes it once raised', async () => {
    const config = (usd: number) => ({
      model: 'local/m',
      provider: provider(server),
      budget: { perRun: { usd } },
      cache: { enabled: false },
      workflow: { fan: { concurrency: 1, steps: [{ id: 'each', agent: 'explore', forEach: '{{input.items}}', prompt: 'item {{item}}' }] } },
    });
    sb.write('opencode.json', config(0.5));
    const stopped = await sb.run(['workflow', 'run', 'fan', '--input', 'items=a,b,c,d,e', '--format', 'json']);
    expect(stopped.code).toBe(1);
    const events = stopped.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; action?: string; status?: string; runId?: string; budgets?: unknown });
    const runId = events.find((e) => e.type === 'workflow_start')?.runId as string;
    // $0.40 spent after two tasks: the third still fits; after it ($0.60) no task starts.
    expect(events.filter((e) => e.type === 'budget_exceeded').map((e) => e.action)).toEqual(['stop']);
    const finish = events.find((e) => e.type === 'workflow_finish');
    expect(finish).toMatchObject({ status: 'failed', tasks: { success: 3, failed: 0, skipped: 2 } });
    expect(finish?.budgets).toEqual([{ budget: 'perRun', spentUSD: expect.closeTo(0.6, 6), limitUSD: 0.5, spentTokens: 600 }]);
    expect(server.log).toHaveLength(3);

    sb.write('opencode.json', config(2));
    const resumed = await sb.run(['workflow', 'run', 'fan', '--resume', runId]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(server.log).toHaveLength(5);
    expect(resumed.stderr).toMatch(/budgets: perRun \$1\.00 of \$2\.00/);
  });
});
