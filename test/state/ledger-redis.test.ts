import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SqliteLedger } from '../../src/scheduler/ledger-sqlite.ts';
import { startsAnswer, windowQuery, type Ledger, type ReserveRequest } from '../../src/scheduler/ledger.ts';
import { FallbackLedger, type StateWarning } from '../../src/state/fallback-ledger.ts';
import { RedisLedger } from '../../src/state/ledger-redis.ts';
import type { LearnedLimit } from '../../src/scheduler/learned.ts';
import { StateUnavailableError } from '../../src/state/redis-connection.ts';
import { freePort, startRedis, type TestRedis } from '../support/redis-server.ts';

const PASSWORD = 'state-s3cret-pw';
const oneARun = (key = 'p'): ReserveRequest => ({ windows: [{ key, maxRequests: 1, windowMs: 60_000 }], tokens: [], concurrency: [], leaseMs: 10_000 });
let prefixes = 0;
const prefix = (): string => `rl${process.pid}-${++prefixes}:`;

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof Error)) throw new Error('expected a rejection');
  return error;
}

describe('RedisLedger without a server', () => {
  it('refuses to start with exit 2, naming the URL without its password', async () => {
    const port = await freePort();
    const error = await rejection(RedisLedger.open({ url: `redis://:${PASSWORD}@127.0.0.1:${port}`, timeoutMs: 500 }));
    expect(error).toBeInstanceOf(StateUnavailableError);
    expect(error.message).toBe(`The state store redis://127.0.0.1:${port} cannot be reached: connect ECONNREFUSED 127.0.0.1:${port}.`);
    expect((error as StateUnavailableError).exitCode).toBe(2);
    expect((error as StateUnavailableError).hint).toMatch(/onUnavailable/);
  });
});

describe('RedisLedger with a real redis-server', () => {
  let redis: TestRedis;
  const open: Ledger[] = [];
  const dirs: string[] = [];
  const ledger = async (opts: { keyPrefix?: string; ownerTtlMs?: number } = {}): Promise<RedisLedger> => {
    const l = await RedisLedger.open({ url: redis.url, keyPrefix: opts.keyPrefix ?? prefix(), timeoutMs: 1000, ...(opts.ownerTtlMs ? { ownerTtlMs: opts.ownerTtlMs } : {}) });
    open.push(l);
    return l;
  };
  beforeAll(async () => {
    redis = await startRedis({ password: PASSWORD });
  });
  afterEach(async () => {
    for (const l of open.splice(0)) await l.close().catch(() => undefined);
    for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
  });
  afterAll(async () => {
    await redis.stop();
  });

  it("answers a model's learned limits from memory; an admission made with ones another machine changed since is decided with the new ones", async () => {
    const keyPrefix = prefix();
    const a = await ledger({ keyPrefix });
    const b = await ledger({ keyPrefix });
    const key = 'learned:p/m';
    const withLearned = (limits: LearnedLimit[]): ReserveRequest => ({ windows: [], tokens: [], concurrency: [], leaseMs: 10_000, learned: { key, tokens: 0, limits } });
    const scriptRuns = async (): Promise<number> => Number(/cmdstat_evalsha:calls=(\d+)/.exec(String(await a.connection.command(['INFO', 'commandstats'])))?.[1] ?? 0);
    expect(await a.listLearned(key)).toEqual([]);
    // Read again, then admitted with them: one script run in all (the admission's).
    const before = await scriptRuns();
    const kept = await a.listLearned(key);
    expect(await a.tryReserve(withLearned(kept))).toMatchObject({ ok: true });
    expect((await scriptRuns()) - before).toBe(1);
    // Another machine learns that nothing is left until a minute from now.
    const now = await b.serverTime();
    await b.recordLearned(key, [{ key, name: 'requests', kind: 'requests', remaining: 0, limit: 10, resetAt: now + 60_000, observedAt: now, source: 'x-ratelimit-*' }], now);
    const stale = await a.listLearned(key);
    expect(stale).toEqual([]);
    const request = withLearned(stale);
    expect(await a.tryReserve(request)).toMatchObject({ ok: false, blockedBy: 'learned:p/m requests (learned)' });
    expect(request.learned?.limits.map((l) => l.remaining)).toEqual([0]);
    expect((await a.listLearned(key)).map((l) => l.remaining)).toEqual([0]);
  });

  it('stamps starts with Redis\'s clock, not the machine\'s', async () => {
    const l = await ledger();
    const realNow = Date.now;
    Date.now = () => realNow() + 3_600_000; // this machine's clock is an hour ahead
    try {
      const before = await l.serverTime();
      const result = await l.tryReserve(oneARun());
      const after = await l.serverTime();
      if (!result.ok) throw new Error('expected an admission');
      expect(result.at).toBeGreaterThanOrEqual(before);
      expect(result.at).toBeLessThanOrEqual(after);
      expect(Math.abs(result.at - realNow())).toBeLessThan(60_000);
    } finally {
      Date.now = realNow;
    }
  });

  it('keyPrefix separates teams; the same prefix shares the window (the password is accepted)', async () => {
    const prefixA = prefix();
    const [a1, a2, b] = [await ledger({ keyPrefix: prefixA }), await ledger({ keyPrefix: prefixA }), await ledger()];
    expect((await a1.tryReserve(oneARun())).ok).toBe(true);
    expect(await a2.tryReserve(oneARun())).toMatchObject({ ok: false, kind: 'window', blockedBy: 'p rpm' });
    expect((await b.tryReserve(oneARun())).ok).toBe(true);
  });

  it('frees the slot and settles the pending start of a machine killed with SIGKILL once its owner key expires', async () => {
    const keyPrefix = prefix();
    const child = spawn(process.execPath, [path.join(import.meta.dirname, 'fixtures', 'hold-slot.ts'), redis.url, keyPrefix, '600'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const held = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
    expect(held).toBe('held');
    const l = await ledger({ keyPrefix });
    const slot: ReserveRequest = { windows: [], tokens: [], concurrency: [{ key: 'p', limit: 1 }], leaseMs: 10_000 };
    expect(await l.tryReserve(slot)).toMatchObject({ ok: false, kind: 'concurrency' });
    // While the machine lives, its start is pending: it counts as "now".
    expect(await l.peekWait(oneARun())).toBeGreaterThan(59_000);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    // Readiness: poll the admission itself until the dead owner's key has expired (600 ms).
    let result = await l.tryReserve(slot);
    while (!result.ok) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      result = await l.tryReserve(slot);
    }
    // Its pending start was settled when found: counted from then, a full window on.
    expect(await l.peekWait(oneARun())).toBeGreaterThan(59_000);
  });

  it('a Redis outage fails admission (exit 1, no password); markSent and release wait for its return', async () => {
    const own = await startRedis({ password: PASSWORD });
    try {
      const l = await RedisLedger.open({ url: own.url, keyPrefix: prefix(), timeoutMs: 500 });
      open.push(l);
      const first = await l.tryReserve(oneARun());
      if (!first.ok) throw new Error('expected an admission');
      await own.kill('SIGKILL');
      const error = await rejection(l.tryReserve(oneARun('q')));
      expect(error).toBeInstanceOf(StateUnavailableError);
      expect((error as StateUnavailableError).exitCode).toBe(1);
      expect(error.message).toMatch(new RegExp(`^The state store redis://127\\.0\\.0\\.1:${own.port} cannot be reached: `));
      expect(error.message).not.toContain(PASSWORD);
      await l.markSent(first.id);
      await l.release(first.id);
      await own.start();
      // Back (append-only file): the first start is still counted, and the queued markSent moved it on.
      let wait: number | undefined;
      while (wait === undefined) {
        wait = await l.peekWait(oneARun()).catch(() => undefined);
        if (wait === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(wait).toBeGreaterThan(59_000);
      expect((await l.tryReserve(oneARun('q'))).ok).toBe(true);
    } finally {
      await own.stop();
    }
  });

  it('onUnavailable "local": a Redis admission is admitted by the embedded ledger too, which holds the machine\'s own limit', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-fallback-'));
    dirs.push(dir);
    const file = path.join(dir, 'ledger.sqlite');
    const keyPrefix = prefix();
    const fallback = await new FallbackLedger({
      open: () => RedisLedger.open({ url: redis.url, keyPrefix, timeoutMs: 1000 }),
      local: new SqliteLedger({ path: file }),
      description: 'redis://127.0.0.1',
    }).start();
    open.push(fallback);
    expect(fallback.onLocal).toBe(false);
    // Another process of this machine admitted a start while Redis was away and ended before Redis
    // came back: Redis never heard of it, the embedded ledger holds it.
    const earlier = new SqliteLedger({ path: file });
    open.push(earlier);
    expect((await earlier.tryReserve(oneARun('q'))).ok).toBe(true);
    const refused = await fallback.tryReserve(oneARun('q'));
    expect(refused).toMatchObject({ ok: false, kind: 'window' });
    if (refused.ok) return;
    expect(refused.waitMs).toBeGreaterThan(59_000);
    // The Redis admission was refunded: another machine still finds the shared window free.
    const other = await ledger({ keyPrefix });
    expect((await other.tryReserve(oneARun('q'))).ok).toBe(true);
    // A start Redis admits lands in the embedded ledger as well.
    expect((await fallback.tryReserve(oneARun('p'))).ok).toBe(true);
    const wide = { ...oneARun('p'), windows: [{ key: 'p', maxRequests: 10, windowMs: 60_000 }] };
    const { now, rows } = await earlier.inspect(wide);
    expect(startsAnswer(rows, windowQuery(wide.windows[0]!, now)).count).toBe(1);
  });

  it('onUnavailable "local": the embedded ledger while Redis is away (warned), then Redis again with the local starts counted', async () => {
    const own = await startRedis();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-fallback-'));
    dirs.push(dir);
    const keyPrefix = prefix();
    await own.kill('SIGKILL');
    const warnings: StateWarning[] = [];
    const fallback = await new FallbackLedger({
      open: () => RedisLedger.open({ url: own.url, keyPrefix, timeoutMs: 300 }),
      local: new SqliteLedger({ path: path.join(dir, 'ledger.sqlite') }),
      description: `redis://127.0.0.1:${own.port}`,
    }).start();
    open.push(fallback);
    fallback.watch((w) => warnings.push(w));
    expect(fallback.onLocal).toBe(true);
    expect(warnings[0]).toMatchObject({ code: 'STATE_LOCAL' });
    expect(warnings[0]?.message).toMatch(/using this machine's ledger/);
    const local = await fallback.tryReserve(oneARun());
    expect(local.ok).toBe(true);
    expect(await fallback.tryReserve(oneARun())).toMatchObject({ ok: false, kind: 'window' });
    await own.start();
    try {
      // Readiness: the fallback reconnects in the background; wait for the switch back.
      while (!warnings.some((w) => w.code === 'STATE_SHARED')) {
        await fallback.peekWait(oneARun());
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(fallback.onLocal).toBe(false);
      // Another machine on Redis sees the start admitted locally during the outage.
      const other = await RedisLedger.open({ url: own.url, keyPrefix });
      open.push(other);
      expect(await other.tryReserve(oneARun())).toMatchObject({ ok: false, kind: 'window' });
    } finally {
      await fallback.close();
      await own.stop();
    }
  });
});
