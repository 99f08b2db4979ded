import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ARRIVAL_MARGIN_MS, Lease, markingSends } from '../../src/scheduler/lease.ts';
import { MemoryLedger } from '../../src/scheduler/ledger-memory.ts';
import { PENDING_MAX_MS, type ReserveRequest } from '../../src/scheduler/ledger.ts';
import { AttemptError } from '../../src/scheduler/retry-policy.ts';

const req: ReserveRequest = {
  windows: [{ key: 'w', maxRequests: 1, windowMs: 1000 }],
  tokens: [],
  concurrency: [{ key: 'c', limit: 1 }],
  leaseMs: 60_000,
};

async function admitted(ledger: MemoryLedger, options: { timeoutMs?: number; parent?: AbortSignal } = {}): Promise<Lease> {
  const reserved = await ledger.tryReserve(req);
  if (!reserved.ok) throw new Error('not admitted');
  return new Lease(ledger, reserved.id, { leaseMs: req.leaseMs, ...options });
}

describe('Lease', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('aborts its signal with a timeout after timeoutMs without progress; touch() postpones it', async () => {
    const lease = await admitted(new MemoryLedger(), { timeoutMs: 100 });
    vi.advanceTimersByTime(80);
    lease.touch();
    vi.advanceTimersByTime(99);
    expect(lease.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(lease.signal.aborted).toBe(true);
    expect(lease.timeoutReason).toBeInstanceOf(AttemptError);
    expect(lease.timeoutReason?.status).toBe('timeout');
    await lease.release();
  });

  it('does not time out while its reader waits on its consumer; counts afresh once it reads again', async () => {
    const lease = await admitted(new MemoryLedger(), { timeoutMs: 100 });
    vi.advanceTimersByTime(80);
    lease.readerWaits(true);
    vi.advanceTimersByTime(1000);
    expect(lease.signal.aborted).toBe(false);
    lease.readerWaits(false);
    vi.advanceTimersByTime(99);
    expect(lease.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(lease.signal.aborted).toBe(true);
    expect(lease.timeoutReason?.status).toBe('timeout');
    await lease.release();
  });

  it('follows the parent signal, and a parent abort is not a timeout', async () => {
    const parent = new AbortController();
    const lease = await admitted(new MemoryLedger(), { parent: parent.signal, timeoutMs: 100 });
    parent.abort(new Error('user'));
    expect(lease.signal.aborted).toBe(true);
    expect(lease.timeoutReason).toBeUndefined();
    await lease.release();
  });

  it('leaves nothing on a long-lived parent signal once released (a server keeps no finished turn alive)', async () => {
    const parent = new AbortController();
    const lease = await admitted(new MemoryLedger(), { timeoutMs: 100, parent: parent.signal });
    const onAbort = () => undefined;
    lease.signal.addEventListener('abort', onAbort); // as fetch does
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(1);
    await lease.release();
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
    parent.abort();
    expect(lease.signal.aborted).toBe(false);
    expect(lease.timeoutReason).toBeUndefined();
  });

  it('is aborted at once when made under an already aborted parent', async () => {
    const parent = new AbortController();
    parent.abort(new Error('stopped'));
    const lease = await admitted(new MemoryLedger(), { parent: parent.signal });
    expect(lease.signal.aborted).toBe(true);
    expect(lease.timeoutReason).toBeUndefined();
    await lease.release();
  });

  it('release frees the concurrency slot once, and stops the idle timer', async () => {
    const ledger = new MemoryLedger();
    const lease = await admitted(ledger, { timeoutMs: 100 });
    await lease.release();
    await lease.release();
    vi.advanceTimersByTime(1000);
    expect(lease.signal.aborted).toBe(false);
    const next = await ledger.tryReserve({ ...req, windows: [] });
    expect(next.ok).toBe(true);
  });
});

describe('markingSends', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const windowOnly: ReserveRequest = { ...req, concurrency: [] };

  it('counts the start from when the response begins', async () => {
    const ledger = new MemoryLedger();
    const lease = await admitted(ledger);
    vi.advanceTimersByTime(300); // slow to hand the request over (a provider package loading)
    const upstream = vi.fn(async () => {
      vi.advanceTimersByTime(40); // the answer starts 40 ms after the hand-over
      return new Response('ok');
    });
    const response = await markingSends(upstream)('http://x', { signal: lease.signal });
    expect(await response.text()).toBe('ok');
    expect(upstream).toHaveBeenCalledOnce();
    expect(await ledger.peekWait(windowOnly)).toBe(1001);
    await lease.release();
  });

  it('moves the start at most ARRIVAL_MARGIN_MS past the hand-over when the response is slow', async () => {
    const ledger = new MemoryLedger();
    const lease = await admitted(ledger);
    let answer: (r: Response) => void = () => undefined;
    const upstream = () => new Promise<Response>((resolve) => (answer = resolve));
    const pending = markingSends(upstream)('http://x', { signal: lease.signal });
    await vi.advanceTimersByTimeAsync(ARRIVAL_MARGIN_MS);
    expect(await ledger.peekWait(windowOnly)).toBe(1001);
    await vi.advanceTimersByTimeAsync(5000);
    answer(new Response('late'));
    expect(await (await pending).text()).toBe('late');
    // Counted from hand-over + margin, not from the late answer: that window is long over.
    expect(await ledger.peekWait(windowOnly)).toBe(0);
    await lease.release();
  });

  it('refuses to send an admission older than half of PENDING_MAX_MS (others stop counting it as now after that)', async () => {
    const ledger = new MemoryLedger();
    const lease = await admitted(ledger);
    vi.advanceTimersByTime(PENDING_MAX_MS / 2 + 1); // a process stalled for minutes between admission and sending
    const upstream = vi.fn(async () => new Response('never'));
    await expect(markingSends(upstream)('http://x', { signal: lease.signal })).rejects.toMatchObject({ name: 'AttemptError', status: 'stale' });
    expect(upstream).not.toHaveBeenCalled();
    await lease.release({ refund: true });
  });

  it('passes requests without a lease straight through', async () => {
    const upstream = vi.fn(async () => new Response('plain'));
    const response = await markingSends(upstream)('http://x', { method: 'POST' });
    expect(await response.text()).toBe('plain');
    expect(upstream).toHaveBeenCalledWith('http://x', { method: 'POST' });
  });
});
