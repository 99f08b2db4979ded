import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLedger } from '../../src/scheduler/ledger-memory.ts';
import { SqliteLedger } from '../../src/scheduler/ledger-sqlite.ts';
import { PENDING_MAX_MS } from '../../src/scheduler/ledger.ts';
import type { Ledger, ReserveRequest } from '../../src/scheduler/ledger.ts';
import { redisImplementations, type MakeLedger } from '../state/redis-ledgers.ts';

/**
 * An admitted start that is not yet on the wire counts as starting "now" for everyone else, so a
 * process that is starved between admission and sending can never let another one in behind it.
 */
const implementations: [string, MakeLedger][] = [
  ['MemoryLedger', (_dir, clock) => new MemoryLedger(clock)],
  ['SqliteLedger', (dir, clock) => new SqliteLedger({ ...clock, path: path.join(dir, 'ledger.sqlite') })],
  ...redisImplementations(),
];

const T0 = 1_700_000_000_000;
const one: ReserveRequest = {
  windows: [{ key: 'p', maxRequests: 1, windowMs: 1000 }],
  tokens: [{ limit: { key: 'p', maxTokens: 100, windowMs: 1000 }, amount: 10 }],
  concurrency: [],
  leaseMs: 5000,
};
const tokensOnly: ReserveRequest = { windows: [], tokens: [{ limit: { key: 'p', maxTokens: 100, windowMs: 1000 }, amount: 95 }], concurrency: [], leaseMs: 5000 };

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-pending-'));
  dirs.push(dir);
  return dir;
}
function admitted(result: Awaited<ReturnType<Ledger['tryReserve']>>): string {
  if (!result.ok) throw new Error(`expected a reservation, blocked by ${result.blockedBy}`);
  return result.id;
}

describe.each(implementations)('%s: pending starts', (_name, make) => {
  async function setup() {
    const clock = { t: T0 };
    const ledger = await make(await tempDir(), { now: () => clock.t });
    return { ledger, clock };
  }

  it('counts an admitted start that is not yet sent as starting now, however long it waits', async () => {
    const { ledger, clock } = await setup();
    const id = admitted(await ledger.tryReserve(one));
    // 1.5 s later it is still not on the wire: by its admission time it would have left the window.
    clock.t = T0 + 1500;
    expect(await ledger.tryReserve(one)).toEqual({ ok: false, waitMs: 1001, blockedBy: 'p 1/1000ms', kind: 'window' });
    expect(await ledger.peekWait(one)).toBe(1001);
    // its tokens count now too
    expect(await ledger.tryReserve(tokensOnly)).toMatchObject({ ok: false, blockedBy: 'p tokens/1000ms' });
    clock.t = T0 + 1600;
    await ledger.markSent(id);
    clock.t = T0 + 2600;
    expect(await ledger.tryReserve(one)).toMatchObject({ ok: false, waitMs: 1 });
    clock.t = T0 + 2601;
    admitted(await ledger.tryReserve(one));
  });

  it('a start released without being marked sent counts from the release', async () => {
    const { ledger, clock } = await setup();
    const id = admitted(await ledger.tryReserve(one));
    clock.t = T0 + 700;
    await ledger.release(id);
    clock.t = T0 + 1700;
    expect(await ledger.tryReserve(one)).toMatchObject({ ok: false, waitMs: 1 });
    clock.t = T0 + 1701;
    admitted(await ledger.tryReserve(one));
  });

  it('a release after markSent keeps the send time; a refund removes a pending start', async () => {
    const { ledger, clock } = await setup();
    const id = admitted(await ledger.tryReserve(one));
    clock.t = T0 + 10;
    await ledger.markSent(id);
    clock.t = T0 + 900;
    await ledger.release(id, { actualTokens: 5 });
    clock.t = T0 + 1011;
    const second = admitted(await ledger.tryReserve(one));
    clock.t = T0 + 1500;
    await ledger.release(second, { refund: true });
    admitted(await ledger.tryReserve(one));
  });

  it('counts a pending start as now for at most PENDING_MAX_MS after its admission', async () => {
    const { ledger, clock } = await setup();
    admitted(await ledger.tryReserve(one));
    clock.t = T0 + PENDING_MAX_MS;
    expect(await ledger.tryReserve(one)).toMatchObject({ ok: false, waitMs: 1001 });
    clock.t = T0 + PENDING_MAX_MS + 1000;
    expect(await ledger.tryReserve(one)).toMatchObject({ ok: false, waitMs: 1 });
    await ledger.prune();
    clock.t = T0 + PENDING_MAX_MS + 1001;
    admitted(await ledger.tryReserve(one));
  });
});

describe('SqliteLedger: pending starts across processes', () => {
  it('counts another live process’s pending start as now, and settles a dead owner’s at the moment it is found', async () => {
    const file = path.join(await tempDir(), 'ledger.sqlite');
    const clock = { t: T0 };
    const alive = new Set([101, 202]);
    const open = (pid: number) => new SqliteLedger({ path: file, now: () => clock.t, pid, isAlive: (p) => alive.has(p) });
    const a = open(101);
    const b = open(202);
    admitted(await a.tryReserve(one));
    clock.t = T0 + 5000;
    // process 101 is alive but has not sent yet
    expect(await b.tryReserve(one)).toMatchObject({ ok: false, waitMs: 1001 });
    alive.delete(101);
    clock.t = T0 + 6000;
    // 101 died: its request may have gone out at any moment until now, so it counts from now
    expect(await b.tryReserve(one)).toMatchObject({ ok: false, waitMs: 1001 });
    const db = new DatabaseSync(file);
    expect(db.prepare('SELECT t, pending, owner FROM starts').all()).toEqual([{ t: T0 + 6000, pending: 0, owner: null }]);
    db.close();
    clock.t = T0 + 7001;
    admitted(await b.tryReserve(one));
    await a.close();
    await b.close();
  });

  it('settles the pending start of a process killed with SIGKILL (real processes)', async () => {
    const file = path.join(await tempDir(), 'ledger.sqlite');
    const script = path.join(import.meta.dirname, 'fixtures', 'ledger-admit.ts');
    const child = spawn(process.execPath, [script, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const admittedAt = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /admitted (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.on('close', (code) => reject(new Error(`fixture exited early (${code})`)));
    });
    const ledger = new SqliteLedger({ path: file });
    // alive and pending: counts as now
    expect(await ledger.tryReserve(one)).toMatchObject({ ok: false, blockedBy: 'p 1/1000ms' });
    const gone = new Promise((resolve) => child.on('close', resolve));
    child.kill('SIGKILL');
    await gone;
    const before = Date.now();
    expect(await ledger.tryReserve(one)).toMatchObject({ ok: false, blockedBy: 'p 1/1000ms' });
    const db = new DatabaseSync(file);
    const rows = db.prepare('SELECT t, pending FROM starts').all() as { t: number; pending: number }[];
    db.close();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.pending).toBe(0);
    expect(rows[0]?.t).toBeGreaterThanOrEqual(Math.max(before, admittedAt));
    await ledger.close();
  });

  it('migrates a version-1 ledger, keeping its starts counted', async () => {
    const file = path.join(await tempDir(), 'ledger.sqlite');
    const v1 = new DatabaseSync(file);
    v1.exec(`CREATE TABLE starts (key TEXT NOT NULL, t INTEGER NOT NULL, id TEXT NOT NULL, until INTEGER NOT NULL) STRICT;
      CREATE TABLE tokens (key TEXT NOT NULL, t INTEGER NOT NULL, id TEXT NOT NULL, until INTEGER NOT NULL, amount INTEGER NOT NULL) STRICT;
      CREATE TABLE leases (key TEXT NOT NULL, id TEXT NOT NULL, expires INTEGER NOT NULL) STRICT;
      CREATE TABLE cooldowns (key TEXT PRIMARY KEY, failures INTEGER NOT NULL, until INTEGER) STRICT;
      PRAGMA user_version = 1;`);
    v1.prepare('INSERT INTO starts VALUES (?, ?, ?, ?)').run('p', T0, 'old', T0 + 86_400_000);
    v1.close();
    const clock = { t: T0 + 500 };
    const ledger = new SqliteLedger({ path: file, now: () => clock.t });
    expect(await ledger.tryReserve(one)).toMatchObject({ ok: false, waitMs: 501 });
    clock.t = T0 + 1001;
    admitted(await ledger.tryReserve(one));
    await ledger.close();
  });
});

describe('MemoryLedger: a reservation outliving its key’s rows', () => {
  it('counts tokens released after their pending row was pruned, in the key’s rows of now', async () => {
    const clock = { t: T0 };
    const ledger = new MemoryLedger({ now: () => clock.t });
    const id = admitted(await ledger.tryReserve(one));
    // Its token unit stops counting (and its key's rows go) PENDING_MAX_MS after its window; its start is kept a day.
    clock.t = T0 + 1000 + PENDING_MAX_MS + 1;
    await ledger.prune();
    // The key has rows again (another request's, sent, out of the window 2 s later).
    await ledger.release(admitted(await ledger.tryReserve(tokensOnly)));
    clock.t += 2000;
    await ledger.release(id);
    // Counted from the release: 10 + 95 > 100.
    expect(await ledger.tryReserve(tokensOnly)).toMatchObject({ ok: false, blockedBy: 'p tokens/1000ms' });
  });
});
