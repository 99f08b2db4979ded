import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLedger } from '../../src/scheduler/ledger-memory.ts';
import { SqliteLedger } from '../../src/scheduler/ledger-sqlite.ts';
import type { ReserveRequest } from '../../src/scheduler/ledger.ts';
import { RELEASED_KEPT } from '../../src/scheduler/released-ring.ts';
import { redisImplementations, type MakeLedger } from '../state/redis-ledgers.ts';

const implementations: [string, MakeLedger][] = [
  ['MemoryLedger', (_dir, clock) => new MemoryLedger(clock)],
  ['SqliteLedger', (dir, clock) => new SqliteLedger({ ...clock, path: path.join(dir, 'ledger.sqlite') })],
  ...redisImplementations(),
];

const window: ReserveRequest = { windows: [{ key: 'p', maxRequests: 1, windowMs: 1000 }], tokens: [{ limit: { key: 'p', maxTokens: 100, windowMs: 1000 }, amount: 60 }], concurrency: [], leaseMs: 5000 };

describe.each(implementations)('%s markSent', (_name, make) => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0)) await c();
  });

  async function setup() {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-sent-'));
    const clock = { t: 1_000_000 };
    const ledger = await make(dir, { now: () => clock.t });
    cleanup.push(async () => {
      await ledger.close();
      await fs.rm(dir, { recursive: true, force: true });
    });
    return { ledger, clock };
  }

  it('counts the window from the send time, not the admission time', async () => {
    const { ledger, clock } = await setup();
    const first = await ledger.tryReserve(window);
    expect(first.ok).toBe(true);
    clock.t += 300; // the process was slow to send
    await ledger.markSent((first as { id: string }).id);
    clock.t += 750; // 1050 ms after admission, 750 ms after sending
    const blocked = await ledger.tryReserve(window);
    expect(blocked.ok).toBe(false);
    expect(blocked.ok === false && blocked.waitMs).toBe(251);
    clock.t += 251;
    expect((await ledger.tryReserve(window)).ok).toBe(true);
  });

  it('never moves a start backwards and is harmless for an unknown id', async () => {
    const { ledger, clock } = await setup();
    const first = await ledger.tryReserve(window);
    const id = (first as { id: string }).id;
    clock.t += 100;
    await ledger.markSent(id);
    clock.t -= 50; // a clock that steps back does not pull the start earlier
    await ledger.markSent(id);
    await ledger.markSent('no-such-id');
    clock.t += 1051; // 1001 ms after the send
    expect((await ledger.tryReserve(window)).ok).toBe(true);
  });
});

describe.each(implementations.slice(0, 2))('%s: a markSent after the release', (_name, make) => {
  const one: ReserveRequest = { windows: [{ key: 'p', maxRequests: 1, windowMs: 1000 }], tokens: [], concurrency: [], leaseMs: 5000 };
  const other: ReserveRequest = { windows: [{ key: 'other', maxRequests: 1_000_000, windowMs: 1000 }], tokens: [], concurrency: [], leaseMs: 5000 };

  /** The wait on `p` after its one start was released, `between` other releases came, then a markSent 500 ms late. */
  async function waitAfter(between: number): Promise<number> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-ring-'));
    const clock = { t: 1_000_000 };
    const ledger = await make(dir, { now: () => clock.t });
    try {
      const first = await ledger.tryReserve(one);
      if (!first.ok) throw new Error('refused');
      await ledger.release(first.id);
      for (let i = 0; i < between; i++) {
        const r = await ledger.tryReserve(other);
        if (r.ok) await ledger.release(r.id);
      }
      clock.t += 500;
      await ledger.markSent(first.id);
      return await ledger.peekWait(one);
    } finally {
      await ledger.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  it(`moves the start later for the last ${RELEASED_KEPT} releases, and finds an older one no more`, async () => {
    expect(await waitAfter(RELEASED_KEPT - 1)).toBe(1001); // counted from the markSent
    expect(await waitAfter(RELEASED_KEPT)).toBe(501); // forgotten: counted from its release
  });
});
