/**
 * Cancellation through the AbortSignal: the task ends CANCELLED, the request in flight is aborted
 * (the server sees the connection close) and the ledger slot is given back.
 */
import { describe, expect, it } from 'vitest';
import type { ReserveRequest } from '../../src/scheduler/ledger.ts';
import { configFor, recorder, useHarness } from './harness.ts';

const h = useHarness();

const slotOfA: ReserveRequest = { windows: [], tokens: [], concurrency: [{ key: 'model:local/a', limit: 1 }], leaseMs: 10_000 };

describe('cancellation', () => {
  it('mid-stream: CANCELLED, the request aborted, the concurrency slot released', async () => {
    const server = await h.server();
    const config = configFor(server, {}, { a: { rateLimit: { concurrency: 1 } } });
    const runtime = await h.runtime(config);
    server.script('a', { type: 'slow', text: 'one two three four five six seven eight', chunkDelayMs: 100 });
    const controller = new AbortController();
    const rec = recorder();
    rec.bus.subscribe((e) => {
      if (e.type === 'text') controller.abort();
    });
    const { result, error } = await h.run({ config, runtime, message: 'x', signal: controller.signal, bus: rec.bus });
    expect(result).toBeUndefined();
    expect(error).toMatchObject({ code: 'CANCELLED', exitCode: 130 });
    expect(rec.of('text').length).toBeGreaterThanOrEqual(1);
    expect(rec.types()).not.toContain('step_finish');
    expect(rec.types()).not.toContain('retry');
    await server.waitFor((log) => log[0]?.endedAt != null);
    expect(server.log[0]).toMatchObject({ outcome: 'ok', clientAborted: true });
    expect(server.stats().inFlight).toBe(0);
    const again = await runtime.ledger.tryReserve(slotOfA);
    expect(again.ok).toBe(true);
  });

  it('before the answer starts (request hanging): CANCELLED and the request aborted', async () => {
    const server = await h.server();
    const config = configFor(server, { fallbacks: ['local/b'] }, { a: { rateLimit: { concurrency: 1 } }, b: {} });
    const runtime = await h.runtime(config);
    server.script('a', { type: 'hang' });
    const controller = new AbortController();
    const pending = h.run({ config, runtime, message: 'x', signal: controller.signal });
    await server.waitForRequests(1);
    controller.abort();
    const { error, rec } = await pending;
    expect(error).toMatchObject({ code: 'CANCELLED' });
    await server.waitFor((log) => log[0]?.endedAt != null);
    expect(server.log.map((e) => [e.model, e.clientAborted])).toEqual([['a', true]]);
    expect(rec.of('retry')).toEqual([]);
    expect(rec.of('fallback')).toEqual([]);
    expect((await runtime.ledger.tryReserve(slotOfA)).ok).toBe(true);
  });

  it('while waiting for a rate limit: CANCELLED without any request', async () => {
    const server = await h.server();
    const config = configFor(server, {}, { a: { rateLimit: { maxRequests: 1, windowMs: 60_000 } } });
    const runtime = await h.runtime(config);
    await h.run({ config, runtime, message: 'first' });
    const controller = new AbortController();
    const rec = recorder();
    rec.bus.subscribe((e) => {
      if (e.type === 'rate_limited') controller.abort();
    });
    const started = Date.now();
    const { error } = await h.run({ config, runtime, message: 'second', signal: controller.signal, bus: rec.bus });
    expect(error).toMatchObject({ code: 'CANCELLED' });
    expect(Date.now() - started).toBeLessThan(10_000); // not the 30-60 s wait (a loaded machine is slow, never that slow)
    expect(server.log).toHaveLength(1);
  });

  it('while waiting to retry: CANCELLED at once', async () => {
    const server = await h.server();
    const config = configFor(server);
    const runtime = await h.runtime(config);
    server.script('a', { type: 'status', status: 429, retryAfter: 30 });
    const controller = new AbortController();
    const rec = recorder();
    rec.bus.subscribe((e) => {
      if (e.type === 'retry') controller.abort();
    });
    const started = Date.now();
    const { error } = await h.run({ config, runtime, message: 'x', signal: controller.signal, bus: rec.bus });
    expect(error).toMatchObject({ code: 'CANCELLED' });
    expect(Date.now() - started).toBeLessThan(10_000); // not the 30-60 s wait (a loaded machine is slow, never that slow)
    expect(server.log).toHaveLength(1);
  });
});
