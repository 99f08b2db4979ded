/**
 * The counting behind every admission, against every ledger: a decision reads one answer per limit
 * (is the window full, which start decides the wait), with pending starts merged in at their
 * effective time — "now" while fresh, admission + PENDING_MAX_MS once stale, which may be older
 * than starts sent since.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reserveSent } from './ledger-support.ts';
import { MemoryLedger } from '../../src/scheduler/ledger-memory.ts';
import { SqliteLedger } from '../../src/scheduler/ledger-sqlite.ts';
import { PENDING_MAX_MS, startsAnswer, tokensAnswer, tokensQuery, windowQuery } from '../../src/scheduler/ledger.ts';
import type { Ledger, ReserveRequest, ReserveResult, WindowLimit } from '../../src/scheduler/ledger.ts';
import type { LearnedLimit } from '../../src/scheduler/learned.ts';
import { redisImplementations, type MakeLedger } from '../state/redis-ledgers.ts';

const implementations: [string, MakeLedger][] = [
  ['MemoryLedger', (_dir, clock) => new MemoryLedger(clock)],
  ['SqliteLedger', (dir, clock) => new SqliteLedger({ ...clock, path: path.join(dir, 'ledger.sqlite') })],
  ...redisImplementations(),
];

const T0 = 1_700_000_000_000;
const MIN = 60_000;
const window = (maxRequests: number, windowMs: number, key = 'p'): WindowLimit => ({ key, maxRequests, windowMs });
const only = (...windows: WindowLimit[]): ReserveRequest => ({ windows, tokens: [], concurrency: [], leaseMs: 10_000 });
function ok(result: ReserveResult): string {
  if (!result.ok) throw new Error(`expected a reservation, blocked by ${result.blockedBy} for ${result.waitMs} ms`);
  return result.id;
}

describe.each(implementations)('%s counting', (_name, make) => {
  let dir: string;
  let t: number;
  let ledger: Ledger;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-ledger-count-'));
    t = T0;
    let ids = 0;
    ledger = await make(dir, { now: () => t, newId: () => `r${++ids}` });
  });
  afterEach(async () => {
    await ledger.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('a window exactly full waits for its limit-th newest start; one start fewer admits', async () => {
    const five = only(window(5, 1000));
    for (const dt of [0, 10, 20]) {
      t = T0 + dt;
      ok(await reserveSent(ledger, five));
    }
    // two more admitted and not yet sent: they count as now
    t = T0 + 30;
    ok(await ledger.tryReserve(five));
    t = T0 + 40;
    const last = ok(await ledger.tryReserve(five));
    t = T0 + 50;
    // newest five: 50, 50 (pending), 20, 10, 0 → the fifth (T0) must leave
    expect(await ledger.tryReserve(five)).toEqual({ ok: false, waitMs: 951, blockedBy: 'p 5/1000ms', kind: 'window' });
    // a sixth slot, or one start fewer, and it fits
    expect(await ledger.peekWait(only(window(6, 1000)))).toBe(0);
    await ledger.release(last, { refund: true });
    expect(await ledger.peekWait(five)).toBe(0);
  });

  it('merges a start pending longer than PENDING_MAX_MS at admission + PENDING_MAX_MS, older than starts sent since', async () => {
    const W = 30 * MIN;
    ok(await ledger.tryReserve(only(window(3, W)))); // A: admitted at T0, never sent
    t = T0 + 5 * MIN;
    ok(await reserveSent(ledger, only(window(3, W)))); // C
    t = T0 + 11 * MIN;
    ok(await reserveSent(ledger, only(window(3, W)))); // B
    t = T0 + 12 * MIN;
    // counted now: B at 11 min, A at 10 min (stale), C at 5 min
    expect(await ledger.peekWait(only(window(1, W)))).toBe(11 * MIN + W + 1 - 12 * MIN);
    expect(await ledger.peekWait(only(window(2, W)))).toBe(10 * MIN + W + 1 - 12 * MIN);
    expect(await ledger.peekWait(only(window(3, W)))).toBe(5 * MIN + W + 1 - 12 * MIN);
    expect(await ledger.peekWait(only(window(4, W)))).toBe(0);
    // the lane snapshot reads the same: three used, the 2nd newest is A's bounded time
    const { now, rows } = await ledger.inspect(only(window(2, W), window(10, W)));
    expect(startsAnswer(rows, windowQuery(window(2, W), now))).toEqual({ count: 2, nth: T0 + 10 * MIN, oldest: T0 + 5 * MIN });
    expect(startsAnswer(rows, windowQuery(window(10, W), now))).toEqual({ count: 3, oldest: T0 + 5 * MIN });
  });

  it('a stale pending start still counts once the sent starts around it have left a short window', async () => {
    ok(await ledger.tryReserve(only(window(1, 1000))));
    t = T0 + PENDING_MAX_MS + 500;
    // counted at T0 + PENDING_MAX_MS: inside a 1 s window for 500 ms more
    expect(await ledger.tryReserve(only(window(1, 1000)))).toMatchObject({ ok: false, waitMs: 501 });
    t = T0 + PENDING_MAX_MS + 1001;
    ok(await ledger.tryReserve(only(window(1, 1000))));
  });

  it('mixed learned and configured limits: the longest wait of both decides, each counted on its own key', async () => {
    const learned: LearnedLimit = { key: 'learned:p/m', name: 'requests', kind: 'requests', limit: 10, remaining: 2, resetAt: T0 + 5000, observedAt: T0, source: 'x-ratelimit-*' };
    const req = (maxRequests: number): ReserveRequest => ({ ...only(window(maxRequests, 1000, 'model:p/m')), learned: { key: 'learned:p/m', tokens: 0, limits: [learned] } });
    // the request whose answer said "2 left" went out at T0
    ok(await reserveSent(ledger, req(5)));
    t = T0 + 1;
    ok(await reserveSent(ledger, req(5)));
    t = T0 + 2;
    ok(await reserveSent(ledger, req(5)));
    // the configured window has room, the learned quota (2 left after the request of T0) is used up until its reset
    t = T0 + 3;
    expect(await ledger.tryReserve(req(5))).toEqual({ ok: false, waitMs: 4998, blockedBy: 'learned:p/m requests (learned)', kind: 'window' });
    // a configured window that is full for longer decides instead
    expect(await ledger.peekWait({ ...req(2), windows: [window(2, 10_000, 'model:p/m')] })).toBe(T0 + 1 + 10_000 + 1 - t);
    // after the reset the full limit (10 per period, counted from T0 in the first) applies: three used
    t = T0 + 5000;
    ok(await reserveSent(ledger, req(5)));
  });

  it('tokens: pending reservations merge with sent ones, the row whose leaving makes room decides', async () => {
    const tpm = (amount: number): ReserveRequest => ({ windows: [], tokens: [{ limit: { key: 'p', maxTokens: 100, windowMs: 1000 }, amount }], concurrency: [], leaseMs: 10_000 });
    ok(await reserveSent(ledger, tpm(30))); // T0: 30 sent
    t = T0 + 100;
    ok(await reserveSent(ledger, tpm(40))); // T0+100: 40 sent
    t = T0 + 200;
    ok(await ledger.tryReserve(tpm(20))); // pending 20, counted now
    t = T0 + 300;
    // 90 used: 10 fit; 40 fit once the row at T0 (30) is gone, 80 once T0+100 (40) is gone too
    expect(await ledger.peekWait(tpm(10))).toBe(0);
    expect(await ledger.peekWait(tpm(40))).toBe(1000 + 1 - 300);
    expect(await ledger.peekWait(tpm(80))).toBe(100 + 1000 + 1 - 300);
    const { now, rows } = await ledger.inspect(tpm(0));
    expect(tokensAnswer(rows, tokensQuery({ key: 'p', maxTokens: 100, windowMs: 1000 }, 0, now)!).sum).toBe(90);
  });
});

describe('SqliteLedger row counts', () => {
  it('a ledger file from before the row counts is counted when opened: a full window stays full', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-ledger-count-'));
    const file = path.join(dir, 'ledger.sqlite');
    let t = T0;
    const first = new SqliteLedger({ path: file, now: () => t });
    const two = only(window(2, MIN));
    ok(await reserveSent(first, two));
    ok(await reserveSent(first, two));
    await first.close();
    // as version 4 left it: rows, and no counts
    const { DatabaseSync } = await import('node:sqlite');
    const db = new DatabaseSync(file);
    db.exec('DROP TRIGGER starts_counted; DROP TRIGGER starts_uncounted; DROP TABLE start_keys; PRAGMA user_version = 4;');
    db.close();
    const again = new SqliteLedger({ path: file, now: () => t });
    t = T0 + 10;
    expect(await again.tryReserve(two)).toMatchObject({ ok: false, waitMs: MIN + 1 - 10 });
    // the counts follow refunds and pruning
    t = T0 + MIN + 1;
    const third = ok(await again.tryReserve(two));
    ok(await again.tryReserve(only(window(2, MIN, 'q'))));
    await again.release(third, { refund: true });
    const counts = (): unknown => {
      const check = new DatabaseSync(file);
      const rows = check.prepare('SELECT key, n, (SELECT COUNT(*) FROM starts WHERE starts.key = start_keys.key) AS rows FROM start_keys ORDER BY key').all();
      check.close();
      return rows.map((r) => ({ ...r }));
    };
    expect(counts()).toEqual([
      { key: 'p', n: 2, rows: 2 },
      { key: 'q', n: 1, rows: 1 },
    ]);
    t = T0 + 86_400_000 + MIN;
    await again.prune();
    expect(counts()).toEqual([{ key: 'q', n: 1, rows: 1 }]);
    await again.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('markSent and release calls made together share one commit, each resolved once it is committed', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-ledger-count-'));
    const file = path.join(dir, 'ledger.sqlite');
    let t = T0;
    const a = new SqliteLedger({ path: file, now: () => t });
    const other = new SqliteLedger({ path: file, now: () => t });
    const three = only(window(3, 1000));
    const ids = [ok(await a.tryReserve(three)), ok(await a.tryReserve(three)), ok(await a.tryReserve(three))];
    t = T0 + 400;
    // all three sent at once (as concurrent requests whose responses begin together), one released
    await Promise.all([...ids.map((id) => a.markSent(id)), a.release(ids[0]!, { actualTokens: 5 })]);
    // another process sees them sent at T0 + 400, not pending (which would count as now)
    t = T0 + 900;
    expect(await other.tryReserve(three)).toEqual({ ok: false, waitMs: 501, blockedBy: 'p 3/1000ms', kind: 'window' });
    await a.close();
    await other.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
});
