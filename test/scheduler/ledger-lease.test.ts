/**
 * Slots leased ahead (slot-lease.ts): k admissions written in one commit and handed out without a
 * transaction, each an ordinary pending start that every other process counts; unused ones
 * refunded; their settles and the usage log written with the next write or soon after, never lost.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteLedger } from '../../src/scheduler/ledger-sqlite.ts';
import type { ReserveRequest } from '../../src/scheduler/ledger.ts';
import { DEFER_MS, LEASE_MS, deferWithin } from '../../src/scheduler/slot-lease.ts';
import { startScriptedServer } from '../support/openai-server.ts';

const fixtures = path.join(import.meta.dirname, 'fixtures');
const T0 = 1_800_000_000_000;
// 160 a minute: leases of up to 10 slots (a sixteenth).
const req: ReserveRequest = { windows: [{ key: 'model:p/m', maxRequests: 160, windowMs: 60_000 }], tokens: [], concurrency: [], leaseMs: 30_000 };

/** Starts recorded (a row counts n: a lease's slots are one row), or with `what`, e.g. COUNT(*), rows. */
function rows(file: string, where = '1', what = 'COALESCE(SUM(n), 0)'): number {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return (db.prepare(`SELECT ${what} AS n FROM starts WHERE ${where}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('SqliteLedger: slots leased ahead', () => {
  let dir: string;
  let file: string;
  let t: number;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-lease-'));
    file = path.join(dir, 'ledger.sqlite');
    t = T0;
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });
  const open = (pid: number): SqliteLedger => new SqliteLedger({ path: file, now: () => t, pid, isAlive: () => true });

  it('grows with demand, counts every leased slot for another process, refunds unused slots when the lease ends', async () => {
    const a = open(101);
    const ids: string[] = [];
    const take = async (): Promise<void> => {
      const r = await a.tryReserve(req);
      if (!r.ok) throw new Error('refused');
      ids.push(r.id);
    };
    expect(a.admitNow(req)).toBeUndefined(); // nothing leased: only tryReserve can admit
    await take(); // the first request of a while: one plain admission
    expect(rows(file)).toBe(1);
    await take(); // soon after: a lease of 2
    expect(a.admitNow({ ...req, windows: [{ ...req.windows[0]!, maxRequests: 161 }] })).toBeUndefined(); // another request kind's lease
    const slot = a.admitNow(req); // its second slot, at once: no write, no promise
    expect(slot).toMatchObject({ ok: true, at: t });
    ids.push(slot!.id);
    expect(rows(file)).toBe(3);
    expect(a.admitNow(req)).toBeUndefined(); // none left
    await take(); // a lease of 4
    await take();
    expect(rows(file)).toBe(7);
    expect(rows(file, '1', 'COUNT(*)')).toBe(3); // one row per admission or lease
    expect(a.leases).toMatchObject({ taken: 2, slots: 6, handedOut: 2 });
    // Another process counts every slot, handed out or not, as a pending start.
    const b = open(202);
    const seen = await b.inspect(req);
    expect([...seen.rows.starts.values()][0]?.count).toBe(7);
    t += LEASE_MS;
    await take(); // the lease ended: its 2 unused slots are refunded, 2 are leased (as many as were used)
    expect(a.leases.refunded).toBe(2);
    expect(rows(file)).toBe(7);
    for (const id of ids) await a.markSent(id);
    await a.close(); // the last unused slot goes; the settles are written
    expect(rows(file)).toBe(6);
    expect(rows(file, 'pending = 1')).toBe(0);
    await b.close();
  });

  it('two processes taking leases never admit more than the window together', async () => {
    const a = open(101);
    const b = open(202);
    // 163: leases of 2, 4, 8, 10 do not divide it; the last ones must fall back to fewer.
    const odd: ReserveRequest = { ...req, windows: [{ key: 'model:p/m', maxRequests: 163, windowMs: 60_000 }] };
    let admitted = 0;
    for (let open = 2; open > 0; ) {
      open = 0;
      for (const l of [a, b]) {
        const r = await l.tryReserve(odd);
        if (r.ok) {
          admitted += 1;
          open += 1;
          await l.markSent(r.id);
        }
      }
    }
    expect(admitted).toBe(163);
    expect(a.leases.taken + b.leases.taken).toBeGreaterThan(2);
    // The sends are written (and so counted from) the next write: before the clock moves on.
    await a.prune();
    await b.prune();
    t += 60_001;
    expect(await a.tryReserve(odd)).toMatchObject({ ok: true });
    await a.close();
    await b.close();
  });

  it('a request with learned limits on a large window: a token correction upward is written before release resolves', async () => {
    const a = open(101);
    const learned: ReserveRequest = { ...req, learned: { key: 'learned:p/m', tokens: 100, limits: [] } };
    // Each row's amount and how many reservations it sums.
    const tokens = (): string[] => {
      const db = new DatabaseSync(file, { readOnly: true });
      try {
        return (db.prepare('SELECT amount, n FROM tokens ORDER BY rowid').all() as { amount: number; n: number }[]).map((r) => `${r.amount}/${r.n}`);
      } finally {
        db.close();
      }
    };
    const up = await a.tryReserve(learned);
    const down = await a.tryReserve(learned); // a lease of 2: each slot carries the estimate
    if (!up.ok || !down.ok) throw new Error('refused');
    expect(tokens()).toEqual(['100/1', '200/2']);
    await a.release(up.id, { actualTokens: 250 });
    expect(tokens()).toEqual(['250/1', '200/2']); // more than reserved: never left for later
    await a.release(down.id, { actualTokens: 40 });
    await a.close(); // less than reserved may wait for the next write; the unused slot goes
    expect(tokens()).toEqual(['250/1', '40/1']);
  });

  it('a deferred markSent is written by its timer when no other write comes (whichever wait was armed first)', async () => {
    // Deferred up to 100 ms (a large window) and up to 20 ms (a 1 s window: a fiftieth of it).
    const slow: ReserveRequest = { ...req, windows: [{ key: 'slow', maxRequests: 1_000_000, windowMs: 60_000 }] };
    const fast: ReserveRequest = { ...req, windows: [{ key: 'fast', maxRequests: 80, windowMs: 1000 }] };
    expect([deferWithin(slow), deferWithin(fast)]).toEqual([DEFER_MS, 20]);
    const a = open(101);
    try {
      const admit = async (r: ReserveRequest): Promise<string> => {
        const got = await a.tryReserve(r);
        if (!got.ok) throw new Error('refused');
        return got.id;
      };
      const pending = (): number => rows(file, 'pending = 1');
      // Each the first of its kind: a plain admission, one pending row each (no lease).
      const ids = [await admit(slow), await admit(fast), await admit({ ...slow, windows: [{ ...slow.windows[0]!, key: 'slow-2' }] })];
      expect(pending()).toBe(3);
      // The ledger's timers are Node's own (fake timers do not reach them): waited for, not assumed.
      await a.markSent(ids[0] as string);
      await expect.poll(pending, { timeout: 10_000, interval: 5 }).toBe(2);
      // A 100 ms wait armed, then a 20 ms one asked for: one timer, and both are written.
      await a.markSent(ids[2] as string);
      await a.markSent(ids[1] as string);
      expect(pending()).toBe(2); // not at once: deferred
      await expect.poll(pending, { timeout: 10_000, interval: 5 }).toBe(0);
    } finally {
      await a.close();
    }
  });

  it('a lease is one row and the settles of a commit move together, yet every window counts as with a row per start', async () => {
    const a = open(101);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await a.tryReserve(req); // a plain admission, a lease of 2, a lease of 4 (2 unused)
      if (!r.ok) throw new Error('refused');
      ids.push(r.id);
    }
    const [x1, x2, x3, x4, x5] = ids as [string, string, string, string, string];
    t = T0 + 100;
    for (const id of [x2, x3, x4, x5]) await a.markSent(id); // deferred: written by the next write
    await a.prune(); // that write: the lease of 2 moves whole, 2 of the lease of 4 split off
    t = T0 + 200;
    await a.markSent(x1);
    await a.prune();
    const table = (): string[] => {
      const db = new DatabaseSync(file, { readOnly: true });
      try {
        return (db.prepare('SELECT t, pending, n FROM starts ORDER BY rowid').all() as { t: number; pending: number; n: number }[]).map((r) => `${r.t - T0}${r.pending ? ' pending' : ''} ×${r.n}`);
      } finally {
        db.close();
      }
    };
    expect(table()).toEqual(['200 ×1', '100 ×2', '0 pending ×2', '100 ×2']);
    // Another process: two pending starts (counted as now), one at +200, four at +100.
    const b = open(202);
    t = T0 + 300;
    const wait = (maxRequests: number): Promise<number> => b.peekWait({ ...req, windows: [{ key: 'model:p/m', maxRequests, windowMs: 60_000 }] });
    expect(await wait(2)).toBe(60_000 + 1);
    expect(await wait(3)).toBe(200 + 60_001 - 300);
    expect(await wait(4)).toBe(100 + 60_001 - 300);
    expect(await wait(7)).toBe(100 + 60_001 - 300);
    expect(await wait(8)).toBe(0);
    expect([...(await b.inspect(req)).rows.starts.values()][0]).toMatchObject({ count: 7, oldest: T0 + 100 });
    await a.close(); // the 2 unused slots go
    expect(table()).toEqual(['200 ×1', '100 ×2', '100 ×2']);
    expect(await wait(5)).toBe(100 + 60_001 - 300);
    expect(await wait(6)).toBe(0);
    await b.close();
  });

  it('a leased slot marked sent, then corrected downward or refunded in the same commit, leaves the right counts', async () => {
    const a = open(101);
    const learned: ReserveRequest = { ...req, learned: { key: 'learned:p/m', tokens: 100, limits: [] } };
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await a.tryReserve(learned); // a plain admission, then a lease of 2
      if (!r.ok) throw new Error('refused');
      ids.push(r.id);
    }
    const [, y, z] = ids as [string, string, string];
    t = T0 + 50;
    await a.markSent(y);
    await a.release(y, { actualTokens: 30 }); // less than reserved: waits with the settle
    await a.markSent(z);
    await a.release(z, { refund: true }); // never sent after all: a write of its own, with the deferred ones
    const db = new DatabaseSync(file, { readOnly: true });
    const tokens = db.prepare("SELECT t, pending, n, amount FROM tokens WHERE key = 'learned:p/m' ORDER BY rowid").all();
    const starts = db.prepare("SELECT t, pending, n FROM starts WHERE key = 'learned:p/m' ORDER BY rowid").all();
    db.close();
    // The lease's row: y moved to +50 with its corrected amount; z is gone from it.
    expect(tokens.map((r) => ({ ...r }))).toEqual([
      { t: T0, pending: 1, n: 1, amount: 100 },
      { t: T0 + 50, pending: 0, n: 1, amount: 30 },
    ]);
    expect(starts.map((r) => ({ ...r }))).toEqual([
      { t: T0, pending: 1, n: 1 },
      { t: T0 + 50, pending: 0, n: 1 },
    ]);
    await a.close();
  });

  it('settles wait for the next write at most a fiftieth of the smallest window, at most DEFER_MS; never with a slot, a token limit or a small window', () => {
    const w = (maxRequests: number, windowMs: number): ReserveRequest['windows'][number] => ({ key: 'model:p/m', maxRequests, windowMs });
    expect(deferWithin({ ...req, windows: [] })).toBe(DEFER_MS);
    expect(deferWithin({ ...req, windows: [w(1_000_000, 60_000)] })).toBe(DEFER_MS);
    expect(deferWithin({ ...req, windows: [w(1_000_000, 60_000), w(80, 1000)] })).toBe(20);
    expect(deferWithin({ ...req, windows: [w(40, 20)] })).toBe(1);
    expect(deferWithin({ ...req, windows: [w(31, 60_000)] })).toBe(0);
    expect(deferWithin({ ...req, concurrency: [{ key: 'c', limit: 4 }] })).toBe(0);
    expect(deferWithin({ ...req, tokens: [{ limit: { key: 't', maxTokens: 1000, windowMs: 60_000 }, amount: 10 }] })).toBe(0);
  });

  it('a usage row is seen at once by its own process, and by others after close', async () => {
    const a = open(101);
    await a.recordUsage({ t: T0, agent: 'a', provider: 'p', model: 'p/m', inputTokens: 7, outputTokens: 3, cached: false, retries: 0, fallbacks: 0, waitedMs: 0 });
    expect(await a.listUsage(0)).toHaveLength(1);
    await a.close();
    const b = open(202);
    expect(await b.listUsage(0)).toMatchObject([{ inputTokens: 7, outputTokens: 3 }]);
    await b.close();
  });

  it('a usage row recorded just before the process exits without closing the ledger is written', async () => {
    const child = spawn(process.execPath, [path.join(fixtures, 'usage-exit.ts'), file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(0);
    const b = open(202);
    expect(await b.listUsage(0)).toMatchObject([{ inputTokens: 7, outputTokens: 3 }]);
    await b.close();
  });

  it('a learned token quota recorded by another process is respected while slots are leased', async () => {
    const a = open(101);
    const b = open(202);
    const KEY = 'learned:p/m';
    const learned = async (l: SqliteLedger, tokens: number): Promise<ReserveRequest> => ({ ...req, learned: { key: KEY, tokens, limits: await l.listLearned(KEY) } });
    // Each row's amount and how many reservations it sums.
    const tokenRows = (): string[] => {
      const db = new DatabaseSync(file, { readOnly: true });
      try {
        return (db.prepare('SELECT amount, n FROM tokens WHERE key = ? ORDER BY rowid').all(KEY) as { amount: number; n: number }[]).map((r) => `${r.amount}/${r.n}`);
      } finally {
        db.close();
      }
    };
    // Nothing learned yet: a plain admission, a lease of 2, a lease of 4; 5 handed out, 2 unused.
    for (let i = 0; i < 5; i++) expect(await a.tryReserve(await learned(a, 100))).toMatchObject({ ok: true });
    expect(a.leases).toMatchObject({ taken: 2, handedOut: 2 });
    // Every slot carries the estimate under the learned key, handed out or not.
    expect(tokenRows()).toEqual(['100/1', '200/2', '400/4']);
    // Another process learns that 750 tokens are left (it may count every start from t on).
    await b.recordLearned(KEY, [{ key: KEY, name: 'tokens', kind: 'tokens', limit: 10_000, remaining: 750, resetAt: t + 60_000, observedAt: t - 1, source: 'x-ratelimit-*' }], t - 1);
    // It counts the lease's 700 tokens: 100 more do not fit.
    expect(await b.tryReserve(await learned(b, 100))).toMatchObject({ ok: false, blockedBy: `${KEY} tokens (learned)` });
    // The leasing process reads the quota with its next request: no slot is handed out; it is
    // decided on its own, in the commit that refunds the 2 unused slots (500 + 100 fit).
    expect(await a.tryReserve(await learned(a, 100))).toMatchObject({ ok: true });
    expect(a.leases).toMatchObject({ handedOut: 2, refunded: 2 });
    expect(tokenRows()).toEqual(['100/1', '200/2', '200/2', '100/1']);
    // 600 counted: 200 more do not fit, 100 do, then nothing more, in either process.
    expect(await b.tryReserve(await learned(b, 200))).toMatchObject({ ok: false });
    expect(await b.tryReserve(await learned(b, 100))).toMatchObject({ ok: true });
    expect(await a.tryReserve(await learned(a, 100))).toMatchObject({ ok: false, blockedBy: `${KEY} tokens (learned)` });
    expect(a.leases).toMatchObject({ taken: 2, handedOut: 2 });
    await a.close();
    await b.close();
  });

  it('a busy process takes its next lease ahead: no admission waits for a commit, and every slot counts for others', async () => {
    // 1,024 a minute: leases of up to 64 slots.
    const big: ReserveRequest = { ...req, windows: [{ key: 'model:p/big', maxRequests: 1024, windowMs: 60_000 }] };
    const a = open(101);
    let commitsWaited = 0;
    const admit = async (): Promise<string> => {
      const now = a.admitNow(big);
      if (now?.ok) return now.id;
      commitsWaited += 1;
      const r = await a.tryReserve(big);
      if (!r.ok) throw new Error('refused');
      return r.id;
    };
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) ids.push(await admit());
    // 1, 2, 4, 8, 16 waited for their commits; from the lease of 16 on, each next one (32, 64, 64, …) was taken ahead.
    expect(commitsWaited).toBe(5);
    expect(a.leases.taken).toBeGreaterThanOrEqual(7);
    // Another process counts every slot written, handed out or not (the current lease's and the one taken ahead).
    const b = open(202);
    const counted = [...(await b.inspect(big)).rows.starts.values()][0]?.count;
    expect(counted).toBe(a.leases.slots + 1);
    expect(counted).toBeGreaterThan(200);
    for (const id of ids) await a.markSent(id);
    // The leases end: their unused slots are refunded, the one taken ahead too.
    t += 2 * LEASE_MS;
    await a.close();
    expect(rows(file, "key = 'model:p/big'")).toBe(200);
    expect(rows(file, 'pending = 1')).toBe(0);
    await b.close();
  });

  it('a lease that ends with slots left gives way to the one taken ahead, which ends in its own time', async () => {
    const big: ReserveRequest = { ...req, windows: [{ key: 'model:p/big', maxRequests: 1024, windowMs: 60_000 }] };
    const a = open(101);
    const admit = async (): Promise<void> => {
      const r = a.admitNow(big) ?? (await a.tryReserve(big));
      if (!r.ok) throw new Error('refused');
    };
    for (let i = 0; i < 15; i++) await admit(); // 1, 2, 4, 8: a lease of 16 next
    await admit(); // the lease of 16, taken at T0 + 0
    expect(a.leases).toMatchObject({ taken: 4, slots: 30 });
    t += 400;
    for (let i = 0; i < 11; i++) await admit(); // 12 of 16 used within half its time: 32 taken ahead, at T0 + 400
    expect(a.leases).toMatchObject({ taken: 5, slots: 62 });
    t = T0 + LEASE_MS; // the lease of 16 ends with 4 slots left; the one taken ahead runs until T0 + 1400
    await admit();
    expect(a.leases).toMatchObject({ taken: 5, refunded: 4 });
    for (let i = 0; i < 31; i++) expect(a.admitNow(big)).toMatchObject({ ok: true });
    expect(a.admitNow(big)).toBeUndefined(); // all 32 used; the next is not taken ahead (it was not used within half its time)
    expect(a.leases.taken).toBe(5);
    t = T0 + 400 + LEASE_MS;
    await a.close();
    expect(rows(file, "key = 'model:p/big'")).toBe(15 + 1 + 11 + 32);
  });

  it('two busy processes taking leases ahead never admit more than the window together; a limit learned ends both leases', async () => {
    const big: ReserveRequest = { ...req, windows: [{ key: 'model:p/big', maxRequests: 1000, windowMs: 60_000 }] };
    const a = open(101);
    const b = open(202);
    const admit = async (l: SqliteLedger): Promise<boolean> => {
      const r = l.admitNow(big) ?? (await l.tryReserve(big));
      if (r.ok) await l.markSent(r.id);
      return r.ok;
    };
    let admitted = 0;
    for (let open = 2; open > 0; ) {
      open = 0;
      for (const l of [a, b]) {
        let burst = 0;
        while (burst < 37 && (await admit(l))) burst += 1;
        admitted += burst;
        if (burst > 0) open += 1;
      }
    }
    expect(admitted).toBe(1000);
    expect(a.leases.taken + b.leases.taken).toBeGreaterThan(10);
    await a.close();
    await b.close();

    // With learning on and nothing learned, a lease and the one taken ahead of it; a limit learned
    // meanwhile: the next admission is decided on its own, and both leases' unused slots go.
    t += 120_000;
    const c = open(303);
    const learning = (limits: NonNullable<ReserveRequest['learned']>['limits']): ReserveRequest => ({ ...big, learned: { key: 'learned:p/big', tokens: 10, limits } });
    for (let i = 0; i < 60; i++) expect(await c.tryReserve(learning([]))).toMatchObject({ ok: true });
    const held = c.leases.slots + 1;
    expect(held).toBeGreaterThan(60);
    const limit = { key: 'learned:p/big', name: 'requests', kind: 'requests' as const, limit: 5000, remaining: 4000, resetAt: t + 60_000, observedAt: t, source: 'headers' as const };
    expect(await c.tryReserve(learning([limit]))).toMatchObject({ ok: true });
    expect(c.leases.refunded).toBe(held - 60);
    expect(rows(file, "key = 'model:p/big' AND pending = 1")).toBe(61);
    await c.close();
  });

  it('a request larger than its lease\'s slots is not given one', async () => {
    const a = open(101);
    const learned = (tokens: number): ReserveRequest => ({ ...req, learned: { key: 'learned:p/m', tokens, limits: [] } });
    await a.tryReserve(learned(100));
    await a.tryReserve(learned(100)); // a lease of 2, one slot left of 100 tokens
    expect(a.leases).toMatchObject({ taken: 1, handedOut: 0 });
    await a.tryReserve(learned(150)); // does not fit the slot: admitted on its own (1 used), the slot refunded
    expect(a.leases).toMatchObject({ taken: 1, handedOut: 0, refunded: 1 });
    await a.tryReserve(learned(150)); // a lease of 2 slots of 150
    await a.tryReserve(learned(100)); // fits one
    expect(a.leases).toMatchObject({ taken: 2, handedOut: 1 });
    await a.close();
  });

  it.each([
    ['window limits alone', false, 80, 120, 12],
    ['window limits and learning on (the gateway\'s default)', true, 80, 120, 12],
    // Leases of up to 32: each process takes its next one ahead.
    ['a large window, learning on, leases taken ahead', true, 512, 640, 32],
  ])('two long-lived processes leasing slots against a server that enforces the window: none refused (%s)', async (_what, learn, maxRequests, EACH, AT_ONCE) => {
    const LIMIT = { maxRequests, windowMs: 1000 };
    const server = await startScriptedServer({ apiKey: 'sk-test', models: { lim: { rateLimit: LIMIT } } });
    try {
      const children = [0, 1].map(() => {
        const proc = spawn(process.execPath, [path.join(fixtures, 'lease-sender.ts'), file, server.url, String(EACH), String(AT_ONCE), String(LIMIT.maxRequests), String(LIMIT.windowMs), learn ? 'learn' : ''], {
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let stderr = '';
        proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        const out: string[] = [];
        const ready = new Promise<void>((resolve, reject) => {
          readline.createInterface({ input: proc.stdout }).on('line', (l) => {
            out.push(l);
            if (l === 'ready') resolve();
          });
          proc.on('close', (code) => reject(new Error(`exited ${code} before ready: ${stderr}`)));
        });
        const done = new Promise<{ ok: number; refused: number; leases: { taken: number; handedOut: number; ahead: number } }>((resolve, reject) =>
          proc.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.at(-1) ?? '{}')) : reject(new Error(`exited ${code}: ${stderr}`)))),
        );
        done.catch(() => undefined);
        return { proc, ready, done };
      });
      await Promise.all(children.map((c) => c.ready));
      for (const c of children) c.proc.stdin.end('go\n');
      const results = await Promise.all(children.map((c) => c.done));
      for (const r of results) expect(r).toMatchObject({ ok: EACH, refused: 0 });
      // Leases were taken and handed out (not every admission was a commit of its own).
      expect(results.reduce((n, r) => n + r.leases.handedOut, 0)).toBeGreaterThan(0);
      if (maxRequests >= 512) expect(results.every((r) => r.leases.ahead > 0)).toBe(true);
      const stats = server.stats();
      expect(stats.overLimit).toBe(0);
      expect(stats.maxStartsInWindow('lim', LIMIT.windowMs)).toBeLessThanOrEqual(LIMIT.maxRequests);
      // The limit bound: twice EACH starts (240 at 80 a second, 1,280 at 512) span at least two windows.
      const starts = server.log.map((e) => e.startedAt).sort((x, y) => x - y);
      expect((starts.at(-1) ?? 0) - (starts[0] ?? 0)).toBeGreaterThanOrEqual(2 * LIMIT.windowMs - 50);
    } finally {
      await server.close();
    }
  }, 60_000);
});
