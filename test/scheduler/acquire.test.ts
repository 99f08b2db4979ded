import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { acquireSent } from './ledger-support.ts';
import { CONCURRENCY_POLL_MAX_MS, RateLimitWaitError, abortableSleep, acquire } from '../../src/scheduler/acquire.ts';
import { MemoryLedger } from '../../src/scheduler/ledger-memory.ts';
import type { ReserveRequest } from '../../src/scheduler/ledger.ts';

const windowReq = (maxRequests: number, windowMs: number): ReserveRequest => ({
  windows: [{ key: 'p', maxRequests, windowMs }],
  tokens: [],
  concurrency: [],
  leaseMs: 60_000,
});

describe('acquire with fake timers', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('returns at once when nothing blocks', async () => {
    const ledger = new MemoryLedger({ newId: () => 'only' });
    const onWait = vi.fn();
    await expect(acquire(ledger, windowReq(1, 1000), { onWait })).resolves.toBe('only');
    expect(onWait).not.toHaveBeenCalled();
  });

  it('sleeps exactly the window wait, then reserves', async () => {
    const ledger = new MemoryLedger();
    const req = windowReq(2, 1000);
    await acquireSent(ledger, req);
    vi.advanceTimersByTime(300);
    await acquireSent(ledger, req);
    vi.advanceTimersByTime(100);
    const onWait = vi.fn();
    let done = false;
    const pending = acquireSent(ledger, req, { onWait }).then((id) => {
      done = true;
      return id;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(onWait).toHaveBeenCalledExactlyOnceWith(601, 'p 2/1000ms');
    await vi.advanceTimersByTimeAsync(600);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toBe(true);
    await pending;
    expect(onWait).toHaveBeenCalledTimes(1);
    // the new start was counted at the moment the window freed
    expect(await ledger.peekWait(req)).toBe(300);
  });

  it('rejects with the signal reason when aborted while waiting, and reserves nothing', async () => {
    const ledger = new MemoryLedger();
    const req = windowReq(1, 1000);
    await acquireSent(ledger, req);
    const controller = new AbortController();
    const pending = acquireSent(ledger, req, { signal: controller.signal });
    await vi.advanceTimersByTimeAsync(500);
    const reason = new Error('user pressed ctrl-c');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(501);
    expect(await ledger.peekWait(req)).toBe(0);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const ledger = new MemoryLedger();
    const reason = new Error('gone');
    await expect(acquire(ledger, windowReq(1, 1000), { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(await ledger.peekWait(windowReq(1, 1000))).toBe(0);
  });

  it('starts 60 concurrent requests at 10 per 2000 ms in the ideal time, never exceeding the window', async () => {
    const starts: number[] = [];
    const ledger = new MemoryLedger();
    const req = windowReq(10, 2000);
    const all = Promise.all(
      Array.from({ length: 60 }, () => acquireSent(ledger, req).then(() => starts.push(Date.now()))),
    );
    // the ideal is 5 more windows after the first batch; allow 5 % on top, then everything must have started
    await vi.advanceTimersByTimeAsync(10_000 * 1.05);
    expect(starts).toHaveLength(60);
    await all;
    starts.sort((a, b) => a - b);
    const makespan = (starts.at(-1) as number) - (starts[0] as number);
    expect(makespan).toBeLessThanOrEqual(10_000 * 1.05);
    for (let i = 0; i + 10 < starts.length; i++) {
      expect((starts[i + 10] as number) - (starts[i] as number)).toBeGreaterThanOrEqual(2000);
    }
  });
});

describe('acquire with an injected sleep', () => {
  it('polls a concurrency block with a growing backoff and reports it once', async () => {
    const ledger = new MemoryLedger();
    const req: ReserveRequest = { windows: [], tokens: [], concurrency: [{ key: 'c', limit: 1 }], leaseMs: 60_000 };
    const holder = await acquireSent(ledger, req);
    const delays: number[] = [];
    const onWait = vi.fn();
    const sleep = async (ms: number): Promise<void> => {
      delays.push(ms);
      if (delays.length === 7) await ledger.release(holder);
    };
    await acquireSent(ledger, req, { sleep, onWait });
    expect(delays).toEqual([5, 10, 20, 40, CONCURRENCY_POLL_MAX_MS, CONCURRENCY_POLL_MAX_MS, CONCURRENCY_POLL_MAX_MS]);
    expect(onWait).toHaveBeenCalledExactlyOnceWith(5, 'c concurrency');
  });

  it('gives up with RateLimitWaitError when the wait is longer than maxWaitMs, without sleeping', async () => {
    let t = 0;
    const ledger = new MemoryLedger({ now: () => t });
    const req = windowReq(1, 1000);
    await acquireSent(ledger, req, { now: () => t });
    t = 100;
    const sleep = vi.fn(async () => undefined);
    const error = await acquireSent(ledger, req, { now: () => t, sleep, maxWaitMs: 900 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitWaitError);
    expect(error).toMatchObject({ code: 'RATE_LIMITED', waitMs: 901, blockedBy: 'p 1/1000ms' });
    expect(sleep).not.toHaveBeenCalled();
    await expect(acquire(ledger, req, { now: () => t, sleep: async (ms) => void (t += ms), maxWaitMs: 901 })).resolves.toBeTypeOf('string');
  });

  it('refuses a request that can never fit its token limit', async () => {
    const ledger = new MemoryLedger();
    const req: ReserveRequest = {
      windows: [],
      tokens: [{ limit: { key: 'p', maxTokens: 100, windowMs: 60_000 }, amount: 500 }],
      concurrency: [],
      leaseMs: 1000,
    };
    await expect(acquire(ledger, req)).rejects.toMatchObject({ code: 'RATE_LIMITED', waitMs: Infinity, blockedBy: 'p tpm' });
  });

  it('refunds a reservation won after the signal fired', async () => {
    const controller = new AbortController();
    const reason = new Error('late abort');
    class AbortingLedger extends MemoryLedger {
      override async tryReserve(r: ReserveRequest) {
        const result = await super.tryReserve(r);
        controller.abort(reason);
        return result;
      }
    }
    const ledger = new AbortingLedger();
    const req = windowReq(1, 1000);
    await expect(acquire(ledger, req, { signal: controller.signal })).rejects.toBe(reason);
    expect(await ledger.peekWait(req)).toBe(0);
  });
});

describe('abortableSleep', () => {
  it('resolves after the delay and rejects with the reason on abort', async () => {
    vi.useFakeTimers();
    try {
      const controller = new AbortController();
      const slept = abortableSleep(50, controller.signal);
      await vi.advanceTimersByTimeAsync(50);
      await expect(slept).resolves.toBeUndefined();
      const aborted = abortableSleep(50, controller.signal);
      controller.abort('stop');
      await expect(aborted).rejects.toBe('stop');
    } finally {
      vi.useRealTimers();
    }
  });
});
