/**
 * Rate limits, concurrency, tpm and cooldown through runTask against the scripted server; the
 * server's log and stats prove the limits held.
 */
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema-types.ts';
import { EventBus } from '../../src/events.ts';
import { runTask } from '../../src/run/run-task.ts';
import type { Runtime } from '../../src/run/runtime.ts';
import { MemoryLedger } from '../../src/scheduler/ledger-memory.ts';
import { Scheduler } from '../../src/scheduler/scheduler.ts';
import { FAST_RETRY, configFor, recorder, useHarness } from './harness.ts';

const h = useHarness();

describe('rate limits', () => {
  it('a rate-limited head with a free fallback: the fallback answers at once', async () => {
    const server = await h.server();
    const config = configFor(server, { fallbacks: ['local/b'] }, { a: { rateLimit: { maxRequests: 1, windowMs: 60_000 } }, b: {} });
    const runtime = await h.runtime(config);
    const first = await h.run({ config, runtime, message: 'one' });
    const started = Date.now();
    const second = await h.run({ config, runtime, message: 'two' });
    expect(Date.now() - started).toBeLessThan(10_000); // not the 60 s window (a loaded machine is slow, never that slow)
    expect(first.result?.servedBy).toEqual(['local/a']);
    expect(second.result).toMatchObject({ text: 'echo: two', servedBy: ['local/b'] });
    expect(server.log.map((e) => e.model)).toEqual(['a', 'b']);
    expect(second.rec.of('fallback')).toEqual([expect.objectContaining({ from: 'local/a', to: 'local/b', reason: 'rate_limited', agent: 'default' })]);
    expect(second.rec.of('rate_limited')).toEqual([]);
  });

  it('without a fallback it waits (rate_limited events) and no window is ever exceeded', async () => {
    const windowMs = 500;
    // The server enforces the same window with no tolerance: any start the client counted too early is a 429.
    const server = await h.server({ models: { a: { rateLimit: { maxRequests: 2, windowMs } } } });
    const config = configFor(server, {}, { a: { rateLimit: { maxRequests: 2, windowMs } } });
    const runtime = await h.runtime(config);
    const bus = new EventBus('ses_limits');
    const rec = recorder();
    bus.subscribe((e) => rec.bus.emit(e));
    const started = Date.now();
    const runs = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => h.run({ config, runtime, message: `task ${n}`, bus })));
    const makespan = Date.now() - started;
    expect(runs.map((r) => r.error)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
    expect(runs.map((r) => r.result?.text).sort()).toEqual([1, 2, 3, 4, 5, 6].map((n) => `echo: task ${n}`));
    const stats = server.stats();
    expect(stats.models.a).toMatchObject({ requests: 6, overLimit: 0 });
    expect(stats.maxStartsInWindow('a', windowMs)).toBeLessThanOrEqual(2);
    // Starts at 0, 0, 500, 500, 1000, 1000: three windows' worth. The upper bound tells "waited
    // for the window" from "waited far longer" (a second for a ms, a backoff of its own); how close
    // the schedule comes to ideal is bench/rate-fidelity.ts's job (timers on a loaded 2-core machine
    // fire up to seconds late: 1,810 ms here once, under CPU hogs).
    expect(makespan).toBeGreaterThanOrEqual(2 * windowMs);
    expect(makespan).toBeLessThan(2 * windowMs + 3000);
    const waits = rec.of('rate_limited');
    expect(waits.length).toBeGreaterThanOrEqual(2);
    expect(waits[0]).toMatchObject({ provider: 'local', model: 'local/a', limit: 'model:local/a 2/500ms' });
    // A start counted at "now" (still pending, or just sent) keeps a whole-ms window closed for windowMs + 1 ms.
    expect(waits.every((e) => e.waitMs > 0 && e.waitMs <= windowMs + 1)).toBe(true);
  });

  it('counts a start from when the provider answers, not from admission', async () => {
    const server = await h.server();
    const config = configFor(server, {}, { a: { rateLimit: { maxRequests: 1, windowMs: 5000 } }, b: {} });
    const runtime = await h.runtime(config);
    // A transport that takes 150 ms to deliver the request (the provider sees it that much later).
    const slowFetch: typeof fetch = (input, init) => new Promise((resolve, reject) => setTimeout(() => fetch(input, init).then(resolve, reject), 150));
    await h.run({ config, runtime, model: 'local/b', message: 'warm-up' }); // modules loaded: admission is quick
    const before = Date.now();
    expect((await h.run({ config, runtime, message: 'x', fetch: slowFetch })).result?.text).toBe('echo: x');
    const window = [{ key: 'model:local/a', maxRequests: 1, windowMs: 5000 }];
    const wait = await runtime.ledger.peekWait({ windows: window, tokens: [], concurrency: [], leaseMs: 1000 });
    expect(wait).toBeGreaterThanOrEqual(before + 150 + 5000 - Date.now());
  });

  it('a provider-level concurrency limit holds (server peak concurrency)', async () => {
    const server = await h.server({ concurrencyLimit: 2, default: { type: 'slow', text: 'one two three', chunkDelayMs: 30 } });
    const config = configFor(server, {}, { a: {} });
    (config.provider as Record<string, { rateLimit?: object }>).local!.rateLimit = { concurrency: 2 };
    const runtime = await h.runtime(config);
    const runs = await Promise.all([1, 2, 3, 4, 5].map((n) => h.run({ config, runtime, message: `m${n}` })));
    expect(runs.map((r) => r.result?.text)).toEqual(Array(5).fill('one two three'));
    const stats = server.stats();
    expect(stats.peakConcurrency).toBe(2);
    expect(stats.overLimit).toBe(0);
    expect(stats.requests).toBe(5);
  });

  it('a tpm limit: the estimate is reserved while a request runs, then corrected with the reported usage', async () => {
    const server = await h.server();
    // Each request is estimated at its prompt plus the 200-token output budget; two do not fit in 300.
    const config = configFor(server, { fallbacks: ['local/b'] }, { a: { limit: { output: 200 }, rateLimit: { tpm: 300 } }, b: {} });
    const runtime = await h.runtime(config);
    server.script('a', { type: 'slow', text: 'slow first answer', chunkDelayMs: 60, usage: { prompt_tokens: 10, completion_tokens: 5 } });
    const first = h.run({ config, runtime, message: 'first' });
    await server.waitForRequests(1, 'a');
    const second = await h.run({ config, runtime, message: 'second' });
    expect(second.result?.servedBy).toEqual(['local/b']);
    expect(second.rec.of('fallback')[0]).toMatchObject({ reason: 'rate_limited' });
    expect((await first).result?.text).toBe('slow first answer');
    // 15 tokens used, not 200+: a third request fits on `a` again.
    const third = await h.run({ config, runtime, message: 'third' });
    expect(third.result?.servedBy).toEqual(['local/a']);
    expect(server.log.map((e) => e.model)).toEqual(['a', 'b', 'a']);
  });
});

describe('cooldown', () => {
  it('skips a model after afterFailures failed tasks (no request to it), and tries it again after ms', async () => {
    const server = await h.server();
    let clock = 5_000_000;
    const now = () => clock;
    const config: Config = configFor(server, { fallbacks: ['local/b'], cooldown: { afterFailures: 2, ms: 10_000 } }, { a: {}, b: {} });
    const ledger = new MemoryLedger({ now });
    const runtime: Runtime = {
      ledger,
      cache: undefined,
      scheduler: new Scheduler({ ledger, now, retry: { ...FAST_RETRY, backoffMultiplier: 2, retryOn: [429, 500, 502, 503, 504] }, cooldown: { afterFailures: 2, ms: 10_000 } }),
      close: () => ledger.close(),
    };
    server.script('a', { type: 'status', status: 401, repeat: 2 });
    const env = await h.env();
    const run = async (message: string) => {
      const rec = recorder();
      const result = await runTask({ config, runtime, bus: rec.bus, message, env });
      return { result, rec };
    };
    await run('1');
    await run('2');
    expect(server.log.map((e) => e.model)).toEqual(['a', 'b', 'a', 'b']);
    const cooling = await run('3');
    expect(cooling.result.servedBy).toEqual(['local/b']);
    expect(server.log.map((e) => e.model).slice(4)).toEqual(['b']);
    expect(cooling.rec.of('fallback')).toEqual([expect.objectContaining({ from: 'local/a', to: 'local/b', reason: 'cooldown', model: 'local/a' })]);
    clock += 10_000;
    const again = await run('4');
    expect(again.result.servedBy).toEqual(['local/a']);
    expect(again.rec.of('fallback')).toEqual([]);
    expect(server.log.map((e) => e.model).slice(5)).toEqual(['a']);
    await runtime.close();
  });
});
