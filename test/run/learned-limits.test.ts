/**
 * Limits learned from the provider's answers (rateLimit.learn), against the scripted server sending
 * each header style: the client has no configured limit, the server refuses (429) any start over
 * its window, and announces that window on every answer.
 */
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema-types.ts';
import { EventBus } from '../../src/events.ts';
import type { AnnounceStyle } from '../support/openai-server.ts';
import { configFor, recorder, useHarness } from './harness.ts';

const h = useHarness();

/** The server's window for model `a`, announced in `style`. */
const serverWith = (style: AnnounceStyle, maxRequests: number, windowMs: number) => h.server({ models: { a: { announce: style, rateLimit: { maxRequests, windowMs } } } });

async function concurrentRuns(config: Config, n: number): Promise<{ errors: unknown[]; waits: number }> {
  const runtime = await h.runtime(config);
  // One answer first: nothing is known before the provider has said something.
  expect((await h.run({ config, runtime, message: 'warm-up' })).error).toBeUndefined();
  const bus = new EventBus('ses_learn');
  const rec = recorder();
  bus.subscribe((e) => rec.bus.emit(e));
  const runs = await Promise.all(Array.from({ length: n }, (_, i) => h.run({ config, runtime, message: `task ${i}`, bus })));
  return { errors: runs.map((r) => r.error), waits: rec.of('rate_limited').length };
}

describe('learned limits', () => {
  it('without learning, a burst after the first answer hits 429s', async () => {
    const server = await serverWith('openai', 3, 800);
    const config = configFor(server, { rateLimit: { learn: false }, retry: { maxRetries: 6, baseDelay: 10, maxDelay: 50 } }, { a: {} });
    await concurrentRuns(config, 6);
    expect(server.stats().models.a?.overLimit).toBeGreaterThan(0);
  });

  it.each<AnnounceStyle>(['openai', 'anthropic', 'openrouter', 'nim', 'ietf'])('with learning (%s headers), the same burst makes 0 over-limit requests', async (style) => {
    const server = await serverWith(style, 3, 800);
    const config = configFor(server, { retry: { maxRetries: 6, baseDelay: 10, maxDelay: 50 } }, { a: {} });
    const { errors, waits } = await concurrentRuns(config, 6);
    expect(errors).toEqual(Array(6).fill(undefined));
    expect(server.stats().models.a).toMatchObject({ requests: 7, overLimit: 0 });
    expect(server.stats().maxStartsInWindow('a', 800)).toBeLessThanOrEqual(3);
    expect(waits).toBeGreaterThan(0);
  });

  it('the first request after remaining: 0 waits until the announced reset', async () => {
    const server = await serverWith('openai', 2, 1500);
    const config = configFor(server, {}, { a: {} });
    const runtime = await h.runtime(config);
    await h.run({ config, runtime, message: 'one' });
    await h.run({ config, runtime, message: 'two' });
    const learned = await runtime.ledger.listLearned('learned:local/a');
    expect(learned).toEqual([expect.objectContaining({ name: 'requests', limit: 2, remaining: 0, source: 'x-ratelimit-*' })]);
    const announcedReset = learned[0]?.resetAt ?? 0;
    const third = await h.run({ config, runtime, message: 'three' });
    expect(third.result?.text).toBe('echo: three');
    expect(third.rec.of('rate_limited')).toEqual([expect.objectContaining({ limit: 'learned:local/a requests (learned)' })]);
    const [, second, last] = server.log;
    expect(last?.startedAt).toBeGreaterThanOrEqual(announcedReset);
    // The announced reset is the server's own: 1500 ms after the second start.
    expect(announcedReset).toBeGreaterThanOrEqual((second?.startedAt ?? 0) + 1500);
    expect(server.stats().models.a?.overLimit).toBe(0);
  });

  it('an answer that comes back late does not undo what a request sent after it was told', async () => {
    // The first of two requests to reach the server answers 300 ms late: "1 left" (the second had
    // not arrived yet); the second answers at once: "0 left".
    const server = await h.server({ models: { a: { announce: 'openai', rateLimit: { maxRequests: 3, windowMs: 1500 }, script: [{ type: 'echo' }, { type: 'echo', delayMs: 300 }] } } });
    const config = configFor(server, {}, { a: {} });
    const runtime = await h.runtime(config);
    expect((await h.run({ config, runtime, message: 'warm-up' })).error).toBeUndefined();
    const pair = await Promise.all(['one', 'two'].map((message) => h.run({ config, runtime, message })));
    expect(pair.map((r) => r.error)).toEqual([undefined, undefined]);
    const third = await h.run({ config, runtime, message: 'three' });
    expect(third.result?.text).toBe('echo: three');
    expect(third.rec.of('rate_limited')).toEqual([expect.objectContaining({ limit: 'learned:local/a requests (learned)' })]);
    expect(server.stats().models.a).toMatchObject({ requests: 4, overLimit: 0 });
    const [, firstOfPair, , last] = server.log;
    expect(last?.startedAt).toBeGreaterThanOrEqual((firstOfPair?.startedAt ?? 0) + 1500);
  });

  it('a configured limit still wins where it is tighter, and a remaining that jumps up grants nothing more', async () => {
    // The provider claims plenty (remaining 999 of 1000 learned already, and 99 of 100 in its answers); the config allows 1 per 600 ms.
    const server = await serverWith('openai', 100, 60_000);
    const config = configFor(server, {}, { a: { rateLimit: { maxRequests: 1, windowMs: 600 } } });
    const runtime = await h.runtime(config);
    const now = Date.now();
    await runtime.ledger.recordLearned('learned:local/a', [{ key: 'learned:local/a', name: 'requests', kind: 'requests', limit: 1000, remaining: 999, resetAt: now + 60_000, observedAt: now, source: 'x-ratelimit-*' }], now);
    const runs = await Promise.all([1, 2, 3].map((n) => h.run({ config, runtime, message: `m${n}` })));
    expect(runs.map((r) => r.error)).toEqual([undefined, undefined, undefined]);
    expect(server.stats().maxStartsInWindow('a', 600)).toBe(1);
  });

  it('learned limits are forgotten when the provider stops sending them', async () => {
    const server = await serverWith('openai', 5, 60_000);
    const config = configFor(server, {}, { a: {} });
    const runtime = await h.runtime(config);
    await h.run({ config, runtime, message: 'one' });
    expect((await runtime.ledger.listLearned('learned:local/a')).map((l) => l.remaining)).toEqual([4]);
    const quiet = await h.server();
    const config2 = configFor(quiet, {}, { a: {} });
    await h.run({ config: config2, runtime, message: 'two' });
    expect(await runtime.ledger.listLearned('learned:local/a')).toEqual([]);
  });

  it('a Gemini quota error: the retry waits for its retryDelay, and the quota is shown as learned', async () => {
    const server = await serverWith('gemini', 1, 700);
    const config = configFor(server, {}, { a: {} });
    const runtime = await h.runtime(config);
    await h.run({ config, runtime, message: 'one' });
    const second = await h.run({ config, runtime, message: 'two' });
    expect(second.result?.text).toBe('echo: two');
    const [first, refused, retried] = server.log;
    expect(refused?.status).toBe(429);
    expect(retried?.startedAt).toBeGreaterThanOrEqual((first?.startedAt ?? 0) + 700);
    expect(server.log).toHaveLength(3);
    expect(await runtime.ledger.listLearned('learned:local/a')).toEqual([expect.objectContaining({ name: 'requests-minute', limit: 1, remaining: 0, source: 'gemini quota error' })]);
  });

  it('rateLimit.learn: false on the model turns learning off', async () => {
    const server = await serverWith('openai', 5, 60_000);
    const config = configFor(server, {}, { a: { rateLimit: { learn: false } } });
    const runtime = await h.runtime(config);
    await h.run({ config, runtime, message: 'one' });
    expect(await runtime.ledger.listLearned()).toEqual([]);
  });
});
