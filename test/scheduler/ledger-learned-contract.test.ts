import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reserveSent } from './ledger-support.ts';
import { MemoryLedger } from '../../src/scheduler/ledger-memory.ts';
import { SqliteLedger } from '../../src/scheduler/ledger-sqlite.ts';
import { LEARNED_TTL_MS, type LearnedLimit } from '../../src/scheduler/learned.ts';
import type { Ledger, ReserveRequest } from '../../src/scheduler/ledger.ts';
import type { BudgetLimit, UsageRecord } from '../../src/scheduler/spend.ts';
import { redisImplementations, type MakeLedger } from '../state/redis-ledgers.ts';

/** Learned limits, budget spend and the usage log: the same behaviour from every ledger implementation. */
const implementations: [string, MakeLedger][] = [
  ['MemoryLedger', (_dir, clock) => new MemoryLedger(clock)],
  ['SqliteLedger', (dir, clock) => new SqliteLedger({ ...clock, path: path.join(dir, 'ledger.sqlite') })],
  ...redisImplementations(),
];

const T0 = 1_700_000_000_000;
const KEY = 'learned:p/m';
const learned = (l: Partial<LearnedLimit>): LearnedLimit => ({
  key: KEY,
  name: 'requests',
  kind: 'requests',
  remaining: 0,
  resetAt: T0 + 1000,
  observedAt: T0,
  source: 'x-ratelimit-*',
  ...l,
});
const withLearned = (limits: LearnedLimit[], tokens = 10): ReserveRequest => ({
  windows: [],
  tokens: [],
  concurrency: [],
  leaseMs: 10_000,
  learned: { key: KEY, tokens, limits },
});
const budget = (b: Partial<BudgetLimit>): BudgetLimit => ({ key: 'budget:run:r1', label: 'perRun', retainUntil: T0 + 86_400_000, ...b });

describe.each(implementations)('%s', (_name, make) => {
  let dir: string;
  let t: number;
  let ledger: Ledger;
  let ids: number;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-ledger-learned-'));
    t = T0;
    ids = 0;
    ledger = await make(dir, { now: () => t, newId: () => `r${++ids}` });
  });
  afterEach(async () => {
    await ledger.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('stores learned limits per key and name; a newer observation replaces an older one, never the reverse', async () => {
    await ledger.recordLearned(KEY, [learned({ remaining: 5, limit: 10 }), learned({ name: 'tokens', kind: 'tokens', remaining: 900, limit: 1000 })], T0);
    await ledger.recordLearned(KEY, [learned({ remaining: 3, limit: 10, observedAt: T0 + 10 })], T0 + 10);
    await ledger.recordLearned(KEY, [learned({ remaining: 7, limit: 10, observedAt: T0 + 5 })], T0 + 5);
    const list = await ledger.listLearned(KEY);
    expect(list.map((l) => [l.name, l.remaining, l.observedAt])).toEqual([
      ['requests', 3, T0 + 10],
      ['tokens', 900, T0],
    ]);
    expect(list[0]).toEqual(learned({ remaining: 3, limit: 10, observedAt: T0 + 10 }));
    expect(await ledger.listLearned('learned:other/x')).toEqual([]);
    expect((await ledger.listLearned()).length).toBe(2);
  });

  it("answers a key's own limits only, also beside a key that begins with its name", async () => {
    await ledger.recordLearned(KEY, [learned({ remaining: 5 })], T0);
    await ledger.recordLearned(`${KEY}2`, [learned({ key: `${KEY}2`, remaining: 6 })], T0);
    expect((await ledger.listLearned(KEY)).map((l) => [l.key, l.remaining])).toEqual([[KEY, 5]]);
    expect((await ledger.listLearned(`${KEY}2`)).map((l) => [l.key, l.remaining])).toEqual([[`${KEY}2`, 6]]);
    expect((await ledger.listLearned()).map((l) => l.key)).toEqual([KEY, `${KEY}2`]);
  });

  it('forgets what the provider stopped sending, and expires learned limits after their reset', async () => {
    await ledger.recordLearned(KEY, [learned({ remaining: 5 })], T0);
    await ledger.recordLearned(KEY, [], T0 + 1);
    expect(await ledger.listLearned(KEY)).toEqual([]);
    await ledger.recordLearned(KEY, [learned({ remaining: 5, observedAt: T0 + 2 })], T0 + 2);
    // An answer without headers received before the newer observation does not erase it.
    await ledger.recordLearned(KEY, [], T0 + 1);
    expect((await ledger.listLearned(KEY)).length).toBe(1);
    // What a refusal taught (Retry-After, a quota error) lasts until it expires.
    await ledger.recordLearned(KEY, [learned({ name: 'retry-after', source: 'retry-after', observedAt: T0 + 3 })], T0 + 3);
    await ledger.recordLearned(KEY, [], T0 + 4);
    expect((await ledger.listLearned(KEY)).map((l) => l.name)).toEqual(['retry-after']);
    t = T0 + 1000 + LEARNED_TTL_MS;
    expect(await ledger.listLearned(KEY)).toEqual([]);
    await ledger.prune();
    t = T0;
    expect(await ledger.listLearned(KEY)).toEqual([]);
  });

  it('a learned remaining: 0 blocks until the announced reset; starts from the hand-over of its request count against what was left', async () => {
    // The request that carried the answer went out at T0; another went out at T0 + 5, before the answer came back.
    expect((await reserveSent(ledger, withLearned([]))).ok).toBe(true);
    t = T0 + 5;
    expect((await reserveSent(ledger, withLearned([]))).ok).toBe(true);
    const left2 = [learned({ remaining: 2, resetAt: T0 + 1000 })];
    t = T0 + 10;
    expect((await reserveSent(ledger, withLearned(left2))).ok).toBe(true);
    expect(await reserveSent(ledger, withLearned(left2))).toEqual({ ok: false, waitMs: 991, blockedBy: `${KEY} requests (learned)`, kind: 'window' });
    t = T0 + 1000;
    expect((await reserveSent(ledger, withLearned(left2))).ok).toBe(true);
    expect(await ledger.peekWait(withLearned([learned({ remaining: 0, resetAt: T0 + 1500, observedAt: T0 + 1000 })]))).toBe(501);
  });

  it('after the reset a learned limit allows its full limit per period; the first period still counts what went out since the hand-over', async () => {
    // 1 of 3 left after the request handed over at T0; one more goes at T0 + 500, which a sliding window still counts at the reset.
    const limits = [learned({ remaining: 1, limit: 3, resetAt: T0 + 1000, observedAt: T0 })];
    expect((await reserveSent(ledger, withLearned([]))).ok).toBe(true);
    t = T0 + 500;
    expect((await reserveSent(ledger, withLearned(limits))).ok).toBe(true);
    expect(await reserveSent(ledger, withLearned(limits))).toMatchObject({ ok: false, waitMs: 501 });
    // The period: 2 used in 1000 ms of a limit of 3 → 1500 ms.
    t = T0 + 1000;
    for (let i = 0; i < 2; i++) expect((await reserveSent(ledger, withLearned(limits))).ok).toBe(true);
    expect(await reserveSent(ledger, withLearned(limits))).toMatchObject({ ok: false, waitMs: 1501, kind: 'window' });
    t = T0 + 2500;
    for (let i = 0; i < 3; i++) expect((await reserveSent(ledger, withLearned(limits))).ok).toBe(true);
    expect(await reserveSent(ledger, withLearned(limits))).toMatchObject({ ok: false, waitMs: 1501, kind: 'window' });
  });

  it('learned tokens: reserved tokens after the answer count against the tokens left', async () => {
    const limits = [learned({ name: 'tokens', kind: 'tokens', remaining: 100, limit: 1000, resetAt: T0 + 2000 })];
    t = T0 + 1;
    expect((await reserveSent(ledger, withLearned(limits, 60))).ok).toBe(true);
    expect(await reserveSent(ledger, withLearned(limits, 60))).toEqual({ ok: false, waitMs: 2000, blockedBy: `${KEY} tokens (learned)`, kind: 'window' });
  });

  it('reserves spend against every budget atomically and reports the one crossed', async () => {
    const budgets = [budget({ usd: 1 }), budget({ key: 'budget:day:d', label: 'perDay', tokens: 1000 })];
    const first = await ledger.reserveSpend({ budgets, expected: { usd: 0.6, tokens: 400 } });
    expect(first).toEqual({ ok: true, id: 'r1', totals: { 'budget:run:r1': { usd: 0, tokens: 0 }, 'budget:day:d': { usd: 0, tokens: 0 } } });
    const second = await ledger.reserveSpend({ budgets, expected: { usd: 0.6, tokens: 100 } });
    expect(second).toMatchObject({ ok: false, exceeded: { key: 'budget:run:r1', label: 'perRun' } });
    await ledger.settleSpend('r1', { usd: 0.2, tokens: 700 });
    expect(await ledger.spendTotals(['budget:run:r1', 'budget:day:d', 'budget:none'])).toEqual({
      'budget:run:r1': { usd: 0.2, tokens: 700 },
      'budget:day:d': { usd: 0.2, tokens: 700 },
      'budget:none': { usd: 0, tokens: 0 },
    });
    const third = await ledger.reserveSpend({ budgets, expected: { usd: 0.1, tokens: 400 } });
    expect(third).toMatchObject({ ok: false, exceeded: { key: 'budget:day:d' }, totals: { 'budget:day:d': { usd: 0.2, tokens: 700 } } });
    // Malformed amounts count as nothing.
    expect((await ledger.reserveSpend({ budgets, expected: { usd: Number.NaN, tokens: -5 } })).ok).toBe(true);
    expect((await ledger.spendTotals(['budget:day:d']))['budget:day:d']).toEqual({ usd: 0.2, tokens: 700 });
  });

  it('drops spend rows after their retention', async () => {
    await ledger.reserveSpend({ budgets: [budget({ usd: 5, retainUntil: T0 + 100 })], expected: { usd: 1, tokens: 1 } });
    t = T0 + 101;
    await ledger.prune();
    expect(await ledger.spendTotals(['budget:run:r1'])).toEqual({ 'budget:run:r1': { usd: 0, tokens: 0 } });
  });

  it('keeps the usage log in time order from a given time', async () => {
    const rec = (r: Partial<UsageRecord>): UsageRecord => ({
      t: T0,
      agent: 'oracle',
      provider: 'p',
      model: 'p/m',
      inputTokens: 10,
      outputTokens: 5,
      cached: false,
      retries: 0,
      fallbacks: 0,
      waitedMs: 0,
      ...r,
    });
    await ledger.recordUsage(rec({ t: T0 + 20, runId: 'run1', costUSD: 0.5, retries: 2, fallbacks: 1, waitedMs: 300 }));
    await ledger.recordUsage(rec({ t: T0 + 10, cached: true, savedUSD: 0.25 }));
    await ledger.recordUsage(rec({ t: T0 - 10 }));
    expect(await ledger.listUsage(T0)).toEqual([
      rec({ t: T0 + 10, cached: true, savedUSD: 0.25 }),
      rec({ t: T0 + 20, runId: 'run1', costUSD: 0.5, retries: 2, fallbacks: 1, waitedMs: 300 }),
    ]);
  });
});
