/**
 * The usage log (`opencode stats`, the dashboard) gets one record per model call with what the
 * call went through: retries before an answer was cut off and asked again count with the retry
 * itself, and a budget downgrade counts as the fallback it is announced as.
 */
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema-types.ts';
import { configFor, useHarness } from './harness.ts';

const h = useHarness();

describe('usage log records', () => {
  it('a 429 retry and a restart after a cut-off answer both count on the call that was answered', async () => {
    const server = await h.server({});
    server.script('a', { type: 'status', status: 429, retryAfterMs: 5 }, { type: 'truncated', text: 'The answer' }, { type: 'text', text: 'The answer is 42.', usage: { prompt_tokens: 10, completion_tokens: 5 } });
    const config = configFor(server, {}, { a: { cost: { input: 1, output: 2 } } });
    const runtime = await h.runtime(config);
    const { result, rec } = await h.run({ config, runtime, message: 'hi' });
    expect(result?.text).toBe('The answer is 42.');
    expect(rec.of('retry')).toHaveLength(2);
    const records = await runtime.ledger.listUsage(0);
    expect(records).toEqual([
      expect.objectContaining({ runId: 'ses_test', provider: 'local', model: 'local/a', inputTokens: 10, outputTokens: 5, costUSD: (10 * 1 + 5 * 2) / 1e6, cached: false, retries: 2, fallbacks: 0, waitedMs: 0 }),
    ]);
    expect(records[0]?.costUSD).toBeCloseTo(result?.costUSD ?? NaN, 15);
  });

  it('a budget downgrade is counted as a fallback', async () => {
    const server = await h.server({ default: { type: 'text', text: 'ok', usage: { prompt_tokens: 100, completion_tokens: 100 } } });
    const models = { a: { cost: { input: 1000, output: 1000 }, limit: { context: 100_000, output: 10 } }, b: { limit: { context: 100_000, output: 10 } } };
    const config = configFor(server, { budget: { perDay: { usd: 0.21 }, onExceeded: 'downgrade', downgrade: ['local/b'] } } as Partial<Config>, models);
    const runtime = await h.runtime(config);
    await h.run({ config, runtime, message: 'one' });
    const second = await h.run({ config, runtime, message: 'two' });
    expect(second.rec.of('fallback')).toHaveLength(1);
    const records = await runtime.ledger.listUsage(0);
    expect(records.map((r) => [r.model, r.fallbacks])).toEqual([
      ['local/a', 0],
      ['local/b', 1],
    ]);
  });
});
