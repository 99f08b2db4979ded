import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryLedger } from '../../src/scheduler/ledger-memory.ts';
import { SqliteLedger } from '../../src/scheduler/ledger-sqlite.ts';
import type { Ledger } from '../../src/scheduler/ledger.ts';
import { DEFAULT_RETRY } from '../../src/scheduler/retry-policy.ts';
import { Scheduler } from '../../src/scheduler/scheduler.ts';
import type { ScheduledModel } from '../../src/scheduler/scheduler.ts';

/** The ledger's method calls, in order, around a real ledger. */
function recording(ledger: Ledger): { ledger: Ledger; calls: string[] } {
  const calls: string[] = [];
  const proxy = new Proxy(ledger, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(prop));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { ledger: proxy, calls };
}

const unlimited: ScheduledModel = { label: 'p/free', provider: 'p', key: 'model:p/free', windows: [], tokens: [], concurrency: [] };
const limited: ScheduledModel = { ...unlimited, label: 'p/lim', key: 'model:p/lim', windows: [{ key: 'model:p/lim', maxRequests: 100, windowMs: 1000 }] };
const scheduler = (ledger: Ledger) => new Scheduler({ ledger, retry: DEFAULT_RETRY, cooldown: { afterFailures: 3, ms: 60_000 } });

describe('the scheduler writes to the ledger only what a request needs', () => {
  it('a model without limits: no reservation, nothing marked or released in the ledger; a limited one reserves and releases', async () => {
    const { ledger, calls } = recording(new MemoryLedger());
    const s = scheduler(ledger);
    const free = await s.execute([unlimited], async () => 'ok', { emit: () => undefined });
    await free.lease.markSent();
    await free.lease.release();
    expect(free.value).toBe('ok');
    // A chain of one model is tried whatever its cooldown: not even read.
    expect(calls).toEqual(['recordSuccess']);
    calls.length = 0;
    const lim = await s.execute([limited], async () => 'ok', { emit: () => undefined });
    await lim.lease.markSent();
    await lim.lease.release();
    // The memory ledger grants it at once (admitNow): no asynchronous tryReserve.
    expect(calls).toEqual(['admitNow', 'recordSuccess', 'markSent', 'release']);
  });

  it('a model with learning on (the default): its learned limits read and the admission granted at once where the ledger can, else asynchronously', async () => {
    const learning: ScheduledModel = { ...unlimited, label: 'p/learn', key: 'model:p/learn', learnKey: 'learned:p/learn' };
    const { ledger, calls } = recording(new MemoryLedger());
    const s = scheduler(ledger);
    const first = await s.execute([learning], async () => 'ok', { emit: () => undefined, estimatedTokens: 50 });
    await first.lease.markSent();
    await first.lease.release();
    expect(calls).toEqual(['learnedNow', 'admitNow', 'recordSuccess', 'markSent', 'release']);
    // Its start and tokens count under the learned key, as an admission through tryReserve records them.
    const key = 'learned:p/learn';
    const rows = (await ledger.inspect({ windows: [{ key, maxRequests: 100, windowMs: 60_000 }], tokens: [{ limit: { key, maxTokens: 1000, windowMs: 60_000 }, amount: 0 }], concurrency: [], leaseMs: 1000 })).rows;
    expect([...rows.starts.values()][0]?.count).toBe(1);
    expect([...rows.tokens.values()][0]?.sum).toBe(50);
    // A limit learned and exhausted: refused at once, so the request waits through tryReserve.
    const now = Date.now();
    await ledger.recordLearned('learned:p/learn', [{ key: 'learned:p/learn', name: 'requests', kind: 'requests', limit: 10, remaining: 0, resetAt: now + 200, observedAt: now, source: 'x-ratelimit-*' }], now);
    calls.length = 0;
    const events: string[] = [];
    const second = await s.execute([learning], async () => 'ok', { emit: (e) => void events.push(e.type) });
    await second.lease.release();
    expect(calls.slice(0, 3)).toEqual(['learnedNow', 'admitNow', 'listLearned']);
    expect(calls).toContain('tryReserve');
    expect(events).toContain('rate_limited');
  });

  it('a chain of several models reads each one\'s cooldown to order them', async () => {
    const { ledger, calls } = recording(new MemoryLedger());
    const { lease } = await scheduler(ledger).execute([unlimited, limited], async () => 'ok', { emit: () => undefined });
    await lease.release();
    expect(calls).toEqual(['cooldownUntil', 'cooldownUntil', 'recordSuccess']);
  });

  it('a ledger error of its own (not a PantheonError) is tried again at once, up to maxRetries times, then thrown', async () => {
    const base = new MemoryLedger();
    let failing = 2;
    let tries = 0;
    const flaky = new Proxy(base, {
      get(target, prop, receiver) {
        if (prop === 'tryReserve') {
          return async (...args: Parameters<Ledger['tryReserve']>) => {
            tries += 1;
            if (failing-- > 0) throw new Error('connection reset');
            return target.tryReserve(...args);
          };
        }
        // The admission the memory ledger grants at once fails alike (thrown, not rejected).
        if (prop === 'admitNow') {
          return (...args: Parameters<NonNullable<Ledger['admitNow']>>) => {
            tries += 1;
            if (failing-- > 0) throw new Error('connection reset');
            return target.admitNow(...args);
          };
        }
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const s = scheduler(flaky);
    const ok = await s.execute([limited], async () => 'ok', { emit: () => undefined });
    await ok.lease.release();
    expect([ok.value, tries]).toEqual(['ok', 3]);
    failing = 10;
    tries = 0;
    await expect(s.execute([limited], async () => 'ok', { emit: () => undefined })).rejects.toThrow('connection reset');
    expect(tries).toBe(DEFAULT_RETRY.maxRetries + 1);
  });

  it("the lease's signal still aborts on the parent's abort when it is read after admission", async () => {
    const parent = new AbortController();
    const { lease } = await scheduler(new MemoryLedger()).execute([unlimited], async () => 'ok', { emit: () => undefined, signal: parent.signal });
    const signal = lease.signal;
    expect(signal.aborted).toBe(false);
    parent.abort(new Error('stop'));
    expect(signal.aborted).toBe(true);
    await lease.release();
  });
});

describe('SqliteLedger.recordSuccess and cooldownUntil', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-fast-path-'));
    file = path.join(dir, 'ledger.sqlite');
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('takes no write lock when there is no failure to reset, and still resets a failure count', async () => {
    const ledger = new SqliteLedger({ path: file, busyTimeoutMs: 50 });
    await ledger.recordFailure('model:a', 3, 60_000);
    // Another process holds the write lock: a write would wait 50 ms and fail; a read goes on (WAL).
    const other = new DatabaseSync(file);
    other.exec('BEGIN IMMEDIATE');
    try {
      await expect(ledger.recordSuccess('model:b')).resolves.toBeUndefined();
      await expect(ledger.recordSuccess('model:a')).rejects.toThrow(/could not be used/);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    await ledger.recordSuccess('model:a');
    await ledger.recordFailure('model:a', 2, 60_000);
    expect(await ledger.cooldownUntil('model:a')).toBeUndefined(); // one failure since the reset: not cooling yet
    await ledger.close();
  });

  it("reads another process's cooldowns at most every cooldownReadMs; its own failures and successes apply at once", async () => {
    const writer = new SqliteLedger({ path: file });
    const cached = new SqliteLedger({ path: file, cooldownReadMs: 3_600_000 });
    const fresh = new SqliteLedger({ path: file, cooldownReadMs: 0 });
    expect(await cached.cooldownUntil('model:a')).toBeUndefined(); // read now: empty
    const { coolingUntil } = await writer.recordFailure('model:a', 1, 60_000);
    expect(coolingUntil).toBeGreaterThan(Date.now());
    expect(await fresh.cooldownUntil('model:a')).toBe(coolingUntil);
    // Within its read interval the cached ledger has not seen it, and its success leaves it counted.
    expect(await cached.cooldownUntil('model:a')).toBeUndefined();
    await cached.recordSuccess('model:a');
    expect(await fresh.cooldownUntil('model:a')).toBe(coolingUntil);
    // Its own writes: seen at once, and written through (the failure row read under the write lock).
    await cached.recordFailure('model:b', 1, 60_000);
    expect(await cached.cooldownUntil('model:b')).toBeGreaterThan(Date.now());
    await cached.recordFailure('model:a', 5, 60_000);
    expect(await cached.cooldownUntil('model:a')).toBe(coolingUntil); // the cooldown it found running, not extended
    await cached.recordSuccess('model:a');
    expect([await cached.cooldownUntil('model:a'), await fresh.cooldownUntil('model:a')]).toEqual([undefined, undefined]);
    for (const l of [writer, cached, fresh]) await l.close();
  });
});
