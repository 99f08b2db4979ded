import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reserveSent } from './ledger-support.ts';
import { SQL, SqliteLedger, defaultLedgerPath } from '../../src/scheduler/ledger-sqlite.ts';
import { PRUNE_EVERY_MS, START_RETAIN_MS } from '../../src/scheduler/ledger.ts';
import type { ReserveRequest } from '../../src/scheduler/ledger.ts';

const T0 = 1_700_000_000_000;
const windowReq: ReserveRequest = {
  windows: [{ key: 'provider:p', maxRequests: 2, windowMs: 1000 }],
  tokens: [{ limit: { key: 'provider:p', maxTokens: 1000, windowMs: 60_000 }, amount: 10 }],
  concurrency: [{ key: 'provider:p', limit: 5 }],
  leaseMs: 5000,
};

function countRows(file: string, table: string): number {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('SqliteLedger on disk', () => {
  let dir: string;
  let file: string;
  let t: number;
  const open = () => new SqliteLedger({ path: file, now: () => t });

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-ledger-'));
    file = path.join(dir, 'nested', 'ledger.sqlite');
    t = T0;
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('defaults to ledger.sqlite under the state folder, created 0700, in WAL mode', async () => {
    const env = { XDG_DATA_HOME: path.join(dir, 'data') };
    expect(defaultLedgerPath(env)).toBe(path.join(dir, 'data', 'pantheon', 'ledger.sqlite'));
    const ledger = await SqliteLedger.open({ env });
    expect(ledger.path).toBe(defaultLedgerPath(env));
    await ledger.close();
    const stat = await fs.stat(path.join(dir, 'data', 'pantheon'));
    expect(stat.mode & 0o777).toBe(0o700);
    const db = new DatabaseSync(ledger.path);
    expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    db.close();
  });

  it('keeps starts, slots and cooldowns across instances on the same file', async () => {
    const a = open();
    expect(await reserveSent(a, windowReq)).toMatchObject({ ok: true });
    t += 100;
    expect(await reserveSent(a, windowReq)).toMatchObject({ ok: true });
    await a.recordFailure('model:p/m', 1, 30_000);
    const b = await SqliteLedger.open({ path: file, now: () => t });
    // a live second instance sees the first one's rows at once
    expect(await reserveSent(b, windowReq)).toEqual({ ok: false, waitMs: 901, blockedBy: 'provider:p 2/1000ms', kind: 'window' });
    await a.close();
    await b.close();
    const c = open();
    expect(await reserveSent(c, windowReq)).toMatchObject({ ok: false, waitMs: 901 });
    expect(await c.cooldownUntil('model:p/m')).toBe(T0 + 100 + 30_000);
    expect(await c.listCooldowns()).toEqual([{ key: 'model:p/m', until: T0 + 100 + 30_000, failures: 1 }]);
    await c.close();
  });

  it('prunes expired rows on request, and lazily while reserving', async () => {
    const ledger = open();
    await reserveSent(ledger, { ...windowReq, leaseMs: 1000 });
    await ledger.recordFailure('model:p/m', 1, 1000);
    t += 60_001; // token rows count until now - t > windowMs
    await ledger.prune();
    expect([countRows(file, 'starts'), countRows(file, 'tokens'), countRows(file, 'leases'), countRows(file, 'cooldowns')]).toEqual([
      1, 0, 0, 0,
    ]);
    t = T0 + START_RETAIN_MS;
    await ledger.prune();
    // a start still counts at exactly its expiry (now - t <= windowMs): kept until 1 ms later
    expect(countRows(file, 'starts')).toBe(1);
    t += 1;
    await ledger.prune();
    expect(countRows(file, 'starts')).toBe(0);

    const short = { ...windowReq, leaseMs: 10 };
    await reserveSent(ledger, short);
    t += START_RETAIN_MS + 1;
    // more than PRUNE_EVERY_MS since the last prune: this reservation prunes first
    await reserveSent(ledger, short);
    expect([countRows(file, 'starts'), countRows(file, 'leases')]).toEqual([1, 1]);
    t += PRUNE_EVERY_MS - 1;
    await reserveSent(ledger, short);
    // the expired slot is still there: no prune yet
    expect(countRows(file, 'leases')).toBe(2);
    t += 20;
    await reserveSent(ledger, short);
    expect(countRows(file, 'leases')).toBe(1);
    await ledger.close();
  });

  it('refuses a ledger written by a newer version', async () => {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const db = new DatabaseSync(file);
    db.exec('PRAGMA user_version = 99');
    db.close();
    expect(() => open()).toThrow(expect.objectContaining({ code: 'STORE_ERROR', message: expect.stringMatching(/newer Pantheon/) }));
  });

  it('reports a path it cannot open as STORE_ERROR', async () => {
    await fs.writeFile(path.join(dir, 'a-file'), '');
    expect(() => new SqliteLedger({ path: path.join(dir, 'a-file', 'ledger.sqlite') })).toThrow(
      expect.objectContaining({ code: 'STORE_ERROR' }),
    );
  });

  it('answers every admission question from an index range, never a table scan or a sort', async () => {
    await open().close();
    const db = new DatabaseSync(file, { readOnly: true });
    const decision = ['sentNth', 'sentCount', 'sentOldest', 'keyRows', 'pendingStarts', 'tokenSum', 'tokensNewest', 'pendingTokens', 'inFlight', 'settleStarts', 'settlePendingStarts', 'settleTokens', 'dropLeases'] as const;
    for (const name of decision) {
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${SQL[name]}`).all() as { detail: string }[]).map((r) => r.detail);
      expect(plan.some((d) => /^SEARCH \w+ USING (COVERING )?INDEX/.test(d)), `${name}: ${plan.join(' | ')}`).toBe(true);
      expect(plan.filter((d) => /^SCAN (starts|tokens|leases)|TEMP B-TREE/.test(d)), name).toEqual([]);
    }
    db.close();
  });
});
