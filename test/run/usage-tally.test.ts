import { describe, expect, it } from 'vitest';
import { costOf, UsageTally } from '../../src/run/usage-tally.ts';
import { configFor, useHarness } from './harness.ts';

const h = useHarness();

describe('costOf', () => {
  it('prices input and output per million tokens', () => {
    expect(costOf({ input: 3, output: 15 }, { inputTokens: 1_000, outputTokens: 2_000 })).toBeCloseTo(0.003 + 0.03, 12);
  });

  it('cached input tokens are priced at cache_read, cache writes at cache_write, the rest at input', () => {
    const cost = { input: 2, output: 10, cache_read: 0.5, cache_write: 2.5 };
    const usage = { inputTokens: 10_000, outputTokens: 1_000, cacheReadTokens: 6_000, cacheWriteTokens: 1_000 };
    expect(costOf(cost, usage)).toBeCloseTo((3_000 * 2 + 6_000 * 0.5 + 1_000 * 2.5 + 1_000 * 10) / 1e6, 12);
  });

  it('without a cache_read price, cached tokens cost the input price', () => {
    expect(costOf({ input: 4, output: 0 }, { inputTokens: 1_000, outputTokens: 0, cacheReadTokens: 800 })).toBeCloseTo(0.004, 12);
  });

  it('no prices → undefined; a price of 0 is free, not unknown', () => {
    expect(costOf(undefined, { inputTokens: 5, outputTokens: 5 })).toBeUndefined();
    expect(costOf({ cache_read: 1 }, { inputTokens: 5, outputTokens: 5 })).toBeUndefined();
    expect(costOf({ input: 0, output: 0 }, { inputTokens: 5, outputTokens: 5 })).toBe(0);
  });
});

describe('UsageTally', () => {
  it('counts a step in its own tally and every tally above, per agent and per provider', () => {
    const run = new UsageTally();
    const parent = new UsageTally(run);
    const child = new UsageTally(parent);
    parent.record({ agent: 'lead', provider: 'p', model: 'p/a', usage: { inputTokens: 10, outputTokens: 1 }, costUSD: 0.5 });
    child.record({ agent: 'helper', provider: 'q', model: 'q/b', usage: { inputTokens: 20, outputTokens: 2 } });
    expect(child.usage).toEqual({ inputTokens: 20, outputTokens: 2 });
    expect(child.costUSD).toBeUndefined();
    expect(run.usage).toEqual({ inputTokens: 30, outputTokens: 3 });
    expect(run.costUSD).toBe(0.5);
    expect(run.byAgent()).toEqual({ lead: { usage: { inputTokens: 10, outputTokens: 1 }, costUSD: 0.5 }, helper: { usage: { inputTokens: 20, outputTokens: 2 } } });
    expect(Object.keys(run.byProvider())).toEqual(['p', 'q']);
    expect(run.servedBy).toEqual(['p/a', 'q/b']);
  });
});

describe('cost of a run', () => {
  it('sums cost × usage over every step of the tool loop and the sub-task, on their own models', async () => {
    const server = await h.server();
    const config = configFor(
      server,
      { agent: { lead: { model: 'local/a', mode: 'primary' }, helper: { model: 'local/b', mode: 'subagent' } } },
      { a: { cost: { input: 3, output: 15 } }, b: { cost: { input: 1, output: 2 } } },
    );
    server.script(
      'a',
      { type: 'tool_calls', calls: [{ name: 'task', arguments: { agent: 'helper', prompt: 'p' } }], usage: { prompt_tokens: 1000, completion_tokens: 100 } },
      { type: 'text', text: 'ok', usage: { prompt_tokens: 2000, completion_tokens: 200 } },
    );
    server.script('b', { type: 'text', text: 'h', usage: { prompt_tokens: 500, completion_tokens: 50 } });
    const runtime = await h.runtime(config);
    const { result } = await h.run({ config, runtime, agent: 'lead', message: 'go', workspace: { projectRoot: await h.tempDir() } });
    const lead = (3000 * 3 + 300 * 15) / 1e6;
    const helper = (500 * 1 + 50 * 2) / 1e6;
    expect(result?.costUSD).toBeCloseTo(lead + helper, 12);
    expect(result?.usage).toEqual({ inputTokens: 3500, outputTokens: 350 });
    expect(result?.byAgent.lead?.costUSD).toBeCloseTo(lead, 12);
    expect(result?.byProvider.local?.costUSD).toBeCloseTo(lead + helper, 12);
  });
});
