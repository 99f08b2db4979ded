import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reserveSent } from './ledger-support.ts';
import { MemoryLedger } from '../../src/scheduler/ledger-memory.ts';
import { SqliteLedger } from '../../src/scheduler/ledger-sqlite.ts';
import { CONCURRENCY_POLL_MS } from '../../src/scheduler/ledger.ts';
import type { Ledger, ReserveRequest, ReserveResult } from '../../src/scheduler/ledger.ts';
import { redisImplementations, type MakeLedger } from '../state/redis-ledgers.ts';

/** The same behaviour, checked against every implementation with a fake clock. */
const implementations: [string, MakeLedger][] = [
  ['MemoryLedger', (_dir, clock) => new MemoryLedger(clock)],
  ['SqliteLedger', (dir, clock) => new SqliteLedger({ ...clock, path: path.join(dir, 'ledger.sqlite') })],
  ...redisImplementations(),
];

const T0 = 1_700_000_000_000;
const req = (r: Partial<ReserveRequest>): ReserveRequest => ({
  windows: r.windows ?? [],
  tokens: r.tokens ?? [],
  concurrency: r.concurrency ?? [],
  leaseMs: r.leaseMs ?? 10_000,
});
function ok(result: ReserveResult): string {
  if (!result.ok) throw new Error(`expected a reservation, blocked by ${result.blockedBy} for ${result.waitMs} ms`);
  return result.id;
}

describe.each(implementations)('%s', (_name, make) => {
  let dir: string;
  let t: number;
  let ledger: Ledger;
  let ids: number;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-ledger-'));
    t = T0;
    ids = 0;
    ledger = await make(dir, { now: () => t, newId: () => `r${++ids}` });
  });
  afterEach(async () => {
    await ledger.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('slides the window: waits exactly until the oldest counted start leaves', async () => {
    const w = req({ windows: [{ key: 'p', maxRequests: 3, windowMs: 1000 }] });
    for (const dt of [0, 100, 200]) {
      t = T0 + dt;
      expect(await reserveSent(ledger, w)).toEqual({ ok: true, id: `r${ids}`, at: t });
    }
    t = T0 + 300;
    expect(await reserveSent(ledger, w)).toEqual({ ok: false, waitMs: 701, blockedBy: 'p 3/1000ms', kind: 'window' });
    t = T0 + 999;
    expect(await reserveSent(ledger, w)).toMatchObject({ ok: false, waitMs: 2 });
    t = T0 + 1001;
    ok(await reserveSent(ledger, w));
    // counted now: 100, 200, 1001
    expect(await reserveSent(ledger, w)).toMatchObject({ ok: false, waitMs: 100 });
  });

  it('keeps a start stamped t inside its window while now - t <= windowMs (whole-ms stamps)', async () => {
    const w = req({ windows: [{ key: 'p', maxRequests: 1, windowMs: 1000 }] });
    ok(await reserveSent(ledger, w));
    // the start happened somewhere in [T0, T0 + 1): at T0 + 1000 less than a full window may have passed
    t = T0 + 1000;
    expect(await reserveSent(ledger, w)).toEqual({ ok: false, waitMs: 1, blockedBy: 'p 1/1000ms', kind: 'window' });
    expect(await ledger.peekWait(w)).toBe(1);
    t = T0 + 1001;
    expect(await reserveSent(ledger, w)).toEqual({ ok: true, id: 'r2', at: T0 + 1001 });
  });

  it('does not record anything for a request that is refused (all limits reserve atomically)', async () => {
    const both = req({
      windows: [
        { key: 'wide', maxRequests: 10, windowMs: 1000 },
        { key: 'narrow', maxRequests: 2, windowMs: 1000 },
      ],
      concurrency: [{ key: 'wide', limit: 10 }],
    });
    ok(await reserveSent(ledger, both));
    ok(await reserveSent(ledger, both));
    for (let i = 0; i < 5; i++) expect(await reserveSent(ledger, both)).toMatchObject({ blockedBy: 'narrow 2/1000ms' });
    const wideOnly = req({ windows: [{ key: 'wide', maxRequests: 10, windowMs: 1000 }], concurrency: [{ key: 'wide', limit: 10 }] });
    for (let i = 0; i < 8; i++) ok(await reserveSent(ledger, wideOnly));
    expect(await reserveSent(ledger, wideOnly)).toMatchObject({ ok: false, blockedBy: 'wide 10/1000ms' });
  });

  it('shares one start between limits on the same key, and the tightest wins', async () => {
    const r = req({
      windows: [
        { key: 'p', maxRequests: 5, windowMs: 60_000 },
        { key: 'p', maxRequests: 2, windowMs: 1000 },
      ],
    });
    ok(await reserveSent(ledger, r));
    t += 10;
    ok(await reserveSent(ledger, r));
    t += 10;
    expect(await reserveSent(ledger, r)).toEqual({ ok: false, waitMs: 981, blockedBy: 'p 2/1000ms', kind: 'window' });
    t = T0 + 1001;
    ok(await reserveSent(ledger, r));
    t = T0 + 2010;
    ok(await reserveSent(ledger, r));
    ok(await reserveSent(ledger, r));
    // five starts in the last minute: the rpm limit now decides
    expect(await reserveSent(ledger, r)).toEqual({ ok: false, waitMs: 60_000 + 1 - 2010, blockedBy: 'p rpm', kind: 'window' });
  });

  it('reserves token estimates and corrects them with reported usage', async () => {
    const limit = { key: 'p', maxTokens: 1000, windowMs: 60_000 };
    const first = ok(await reserveSent(ledger, req({ tokens: [{ limit, amount: 600 }] })));
    t += 10;
    expect(await reserveSent(ledger, req({ tokens: [{ limit, amount: 600 }] }))).toEqual({
      ok: false,
      waitMs: 59_991,
      blockedBy: 'p tpm',
      kind: 'tokens',
    });
    await ledger.release(first, { actualTokens: 100 });
    const second = ok(await reserveSent(ledger, req({ tokens: [{ limit, amount: 600 }] })));
    // usage above the estimate counts in full
    await ledger.release(second, { actualTokens: 850 });
    expect(await reserveSent(ledger, req({ tokens: [{ limit, amount: 60 }] }))).toMatchObject({ ok: false, blockedBy: 'p tpm' });
    expect(await reserveSent(ledger, req({ tokens: [{ limit, amount: 50 }] }))).toMatchObject({ ok: true });
    t = T0 + 60_001;
    // the first reservation (100) left the window; 850 + 50 remain
    expect(await reserveSent(ledger, req({ tokens: [{ limit, amount: 100 }] }))).toMatchObject({ ok: true });
  });

  it('limits requests in flight; release frees the slot but keeps the start counted', async () => {
    const r = req({ windows: [{ key: 'p', maxRequests: 3, windowMs: 1000 }], concurrency: [{ key: 'p', limit: 1 }] });
    const a = ok(await reserveSent(ledger, r));
    expect(await reserveSent(ledger, r)).toEqual({
      ok: false,
      waitMs: CONCURRENCY_POLL_MS,
      blockedBy: 'p concurrency',
      kind: 'concurrency',
    });
    await ledger.release(a);
    await ledger.release(a);
    const b = ok(await reserveSent(ledger, r));
    await ledger.release(b);
    ok(await reserveSent(ledger, r));
    await ledger.release(`r${ids}`);
    expect(await reserveSent(ledger, r)).toMatchObject({ ok: false, blockedBy: 'p 3/1000ms', waitMs: 1001 });
  });

  it('frees a slot whose lease expired, and renew keeps a live slot', async () => {
    const r = req({ concurrency: [{ key: 'p', limit: 1 }], leaseMs: 500 });
    const held = ok(await reserveSent(ledger, r));
    t = T0 + 400;
    await ledger.renew(held, 500);
    t = T0 + 899;
    expect(await reserveSent(ledger, r)).toMatchObject({ ok: false, kind: 'concurrency' });
    t = T0 + 900;
    const next = ok(await reserveSent(ledger, r));
    // renewing an expired lease does not take the slot back
    await ledger.renew(held, 500);
    expect(await reserveSent(ledger, r)).toMatchObject({ ok: false, kind: 'concurrency' });
    await ledger.release(next);
    ok(await reserveSent(ledger, r));
  });

  it('refund removes the start and the tokens of a request that was never sent', async () => {
    const limit = { key: 'p', maxTokens: 100, windowMs: 60_000 };
    const r = req({ windows: [{ key: 'p', maxRequests: 1, windowMs: 1000 }], tokens: [{ limit, amount: 100 }] });
    const a = ok(await reserveSent(ledger, r));
    expect(await reserveSent(ledger, r)).toMatchObject({ ok: false });
    await ledger.release(a, { refund: true });
    ok(await reserveSent(ledger, r));
  });

  it('starts of the same ms, a markSent after the release, a refund after the send, a clock set back: each window counts every start once', async () => {
    const win = (maxRequests: number) => req({ windows: [{ key: 'p', maxRequests, windowMs: 60_000 }] });
    const wait = (maxRequests: number): Promise<number> => ledger.peekWait(win(maxRequests));
    const first = [ok(await reserveSent(ledger, win(20))), ok(await reserveSent(ledger, win(20))), ok(await reserveSent(ledger, win(20)))];
    t = T0 + 10;
    ok(await reserveSent(ledger, win(20)));
    const refunded = ok(await reserveSent(ledger, win(20)));
    for (const id of first) await ledger.release(id);
    t = T0 + 20;
    await ledger.markSent(first[0] as string); // released already: its start moves later, never earlier
    // Counted: one at +20, two at +10, two at 0.
    expect([await wait(1), await wait(2), await wait(3), await wait(4), await wait(5), await wait(6)]).toEqual([60_001, 59_991, 59_991, 59_981, 59_981, 0]);
    await ledger.release(refunded, { refund: true });
    expect([await wait(2), await wait(3), await wait(4), await wait(5)]).toEqual([59_991, 59_981, 59_981, 0]);
    t = T0 + 5; // the clock set back: a start at +5 counts between the others
    ok(await reserveSent(ledger, win(20)));
    expect([await wait(1), await wait(2), await wait(3), await wait(4), await wait(5), await wait(6)]).toEqual([60_016, 60_006, 60_001, 59_996, 59_996, 0]);
  });

  it('peekWait answers like tryReserve without reserving', async () => {
    const r = req({ windows: [{ key: 'p', maxRequests: 1, windowMs: 1000 }] });
    expect(await ledger.peekWait(r)).toBe(0);
    expect(await ledger.peekWait(r)).toBe(0);
    ok(await reserveSent(ledger, r));
    t += 250;
    expect(await ledger.peekWait(r)).toBe(751);
  });

  it('cools a key down after N failures in a row, until the cooldown ends', async () => {
    expect(await ledger.recordFailure('m', 3, 1000)).toEqual({});
    expect(await ledger.recordFailure('m', 3, 1000)).toEqual({});
    t += 5;
    expect(await ledger.recordFailure('m', 3, 1000)).toEqual({ coolingUntil: T0 + 1005 });
    expect(await ledger.cooldownUntil('m')).toBe(T0 + 1005);
    expect(await ledger.cooldownUntil('other')).toBeUndefined();
    t += 100;
    expect(await ledger.recordFailure('m', 3, 1000)).toEqual({ coolingUntil: T0 + 1005 });
    expect(await ledger.listCooldowns()).toEqual([{ key: 'm', until: T0 + 1005, failures: 4 }]);
    t = T0 + 1005;
    expect(await ledger.cooldownUntil('m')).toBeUndefined();
    expect(await ledger.listCooldowns()).toEqual([]);
    // counting starts over
    expect(await ledger.recordFailure('m', 3, 1000)).toEqual({});
  });

  it('a success resets the failure count and lifts a cooldown', async () => {
    await ledger.recordFailure('m', 3, 1000);
    await ledger.recordFailure('m', 3, 1000);
    await ledger.recordSuccess('m');
    expect(await ledger.recordFailure('m', 3, 1000)).toEqual({});
    expect(await ledger.recordFailure('m', 3, 1000)).toEqual({});
    expect(await ledger.recordFailure('m', 3, 1000)).toEqual({ coolingUntil: T0 + 1000 });
    await ledger.recordSuccess('m');
    expect(await ledger.cooldownUntil('m')).toBeUndefined();
  });

  it('prune keeps what still counts', async () => {
    const r = req({ windows: [{ key: 'p', maxRequests: 1, windowMs: 1000 }], concurrency: [{ key: 'p', limit: 1 }] });
    ok(await reserveSent(ledger, r));
    await ledger.recordFailure('m', 1, 60_000);
    await ledger.prune();
    expect(await reserveSent(ledger, r)).toMatchObject({ ok: false, blockedBy: 'p 1/1000ms' });
    expect(await ledger.cooldownUntil('m')).toBe(T0 + 60_000);
  });

  it('refuses to work once closed', async () => {
    await ledger.close();
    await expect(reserveSent(ledger, req({}))).rejects.toMatchObject({ code: 'STORE_ERROR' });
    await expect(ledger.recordSuccess('m')).rejects.toMatchObject({ code: 'STORE_ERROR' });
  });

  it('rejects malformed requests', async () => {
    await expect(reserveSent(ledger, req({ concurrency: [{ key: 'p', limit: 0 }] }))).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});
