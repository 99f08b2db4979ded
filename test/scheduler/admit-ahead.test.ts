/**
 * Scheduler.admitAhead: a process's first request admitted before the process loads what it sends
 * with (`opencode run`), or, when the wait is long, a sleep until shortly before it ends. The clock
 * and the sleeps are the test's: a sleep moves the clock.
 */
import { describe, expect, it } from 'vitest';
import type { EventInput } from '../../src/events.ts';
import { MemoryLedger } from '../../src/scheduler/ledger-memory.ts';
import type { ReserveRequest } from '../../src/scheduler/ledger.ts';
import { Scheduler, type ScheduledModel } from '../../src/scheduler/scheduler.ts';
import { reserveSent } from './ledger-support.ts';

const WINDOW = { key: 'model:a', maxRequests: 1, windowMs: 3000 };
const LEAD = 500;

function setup() {
  let clock = 1_000_000;
  const sleeps: number[] = [];
  const events: EventInput[] = [];
  const ledger = new MemoryLedger({ now: () => clock });
  const scheduler = new Scheduler({
    ledger,
    retry: { maxRetries: 0, baseDelay: 100, maxDelay: 1000, backoffMultiplier: 2, retryOn: [429] },
    cooldown: { afterFailures: 3, ms: 60_000 },
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
  });
  const ctx = { emit: (e: EventInput) => events.push(e), tags: { agent: 'build', taskID: 't1' } };
  const a: ScheduledModel = { label: 'a', provider: 'p', key: 'model:a', windows: [WINDOW], tokens: [], concurrency: [] };
  const request: ReserveRequest = { windows: [WINDOW], tokens: [], concurrency: [], leaseMs: 30_000 };
  return { scheduler, ledger, ctx, a, request, sleeps, events, advance: (ms: number) => (clock += ms) };
}

describe('Scheduler.admitAhead', () => {
  it('admits at once when there is room; every other admission counts it, and the first execute on the model takes it', async () => {
    const s = setup();
    const ahead = await s.scheduler.admitAhead(s.a, s.ctx, LEAD);
    expect(ahead?.id).toBeDefined();
    // Another process asking now is blocked by it, as by any admission.
    expect(await s.ledger.tryReserve(s.request)).toMatchObject({ ok: false });
    let attempts = 0;
    const { lease } = await s.scheduler.execute([s.a], async () => void (attempts += 1), { ...s.ctx, ...(ahead ? { ahead } : {}) });
    await lease.release();
    expect(attempts).toBe(1);
    expect(s.sleeps).toEqual([]);
    expect(s.events).toEqual([]);
    // One start in the window: the one admitted ahead (the window stays full until it leaves).
    expect(await s.ledger.tryReserve(s.request)).toMatchObject({ ok: false });
    await s.scheduler.dropAhead(ahead!);
    expect(await s.ledger.tryReserve(s.request)).toMatchObject({ ok: false });
  });

  it('refunds an admission that no request took', async () => {
    const s = setup();
    const ahead = await s.scheduler.admitAhead(s.a, s.ctx, LEAD);
    await s.scheduler.dropAhead(ahead!);
    expect(await s.ledger.tryReserve(s.request)).toMatchObject({ ok: true });
  });

  it('sleeps through a long wait until the lead before it ends, announcing the whole wait once', async () => {
    const s = setup();
    await reserveSent(s.ledger, s.request);
    const ahead = await s.scheduler.admitAhead(s.a, s.ctx, LEAD);
    expect(ahead?.id).toBeUndefined();
    expect(s.sleeps).toEqual([3001 - LEAD]);
    expect(s.events).toEqual([{ type: 'rate_limited', agent: 'build', taskID: 't1', provider: 'p', model: 'a', waitMs: 3001, limit: 'model:a 1/3000ms' }]);
    // Loading what the request needs took the lead: the admission goes at once (no second announcement).
    s.advance(LEAD);
    const { lease } = await s.scheduler.execute([s.a], async () => undefined, { ...s.ctx, ...(ahead ? { ahead } : {}) });
    await lease.release();
    expect(s.sleeps).toEqual([3001 - LEAD]);
    expect(s.events.filter((e) => e.type === 'rate_limited')).toHaveLength(1);
  });

  it('neither admits nor sleeps for a short wait, a model without limits or one with token limits', async () => {
    const s = setup();
    await reserveSent(s.ledger, s.request);
    s.advance(3001 - LEAD);
    expect(await s.scheduler.admitAhead(s.a, s.ctx, LEAD)).toBeUndefined();
    expect(await s.scheduler.admitAhead({ ...s.a, windows: [] }, s.ctx, LEAD)).toBeUndefined();
    const tokens = { key: 'model:a', maxTokens: 1000, windowMs: 60_000 };
    s.advance(LEAD);
    expect(await s.scheduler.admitAhead({ ...s.a, tokens: [tokens] }, s.ctx, LEAD)).toBeUndefined();
    expect(s.sleeps).toEqual([]);
    expect(s.events).toEqual([]);
    // Nothing was reserved by any of them.
    expect(await s.ledger.tryReserve(s.request)).toMatchObject({ ok: true });
  });
});
