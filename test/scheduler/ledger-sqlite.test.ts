import { readFileSync } from 'node:fs';
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

  it('frees the concurrency slots of reservations not released when it closes (a start still counts)', async () => {
    const one: ReserveRequest = { windows: [{ key: 'provider:p', maxRequests: 2, windowMs: 60_000 }], tokens: [], concurrency: [{ key: 'provider:p', limit: 1 }], leaseMs: 30_000 };
    const a = open();
    expect(await a.tryReserve(one)).toMatchObject({ ok: true });
    const b = open();
    expect(await b.tryReserve(one)).toMatchObject({ ok: false, kind: 'concurrency' });
    await a.close();
    expect(countRows(file, 'leases')).toBe(0);
    const granted = await b.tryReserve(one);
    expect(granted).toMatchObject({ ok: true });
    await b.release((granted as { id: string }).id);
    // The closed one's start still counts in the window: a third is over it.
    expect(await b.tryReserve(one)).toMatchObject({ ok: false, kind: 'window' });
    await b.close();
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

  it('decides admissions made together in turn, in one commit, each seeing the starts before it', async () => {
    const ledger = open();
    await ledger.prune();
    // Commits in the WAL: frames whose header records the database size (a commit's last frame).
    const commits = (): number => {
      const wal = readFileSync(`${file}-wal`);
      const pageSize = wal.readUInt32BE(8);
      let n = 0;
      for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) if (wal.readUInt32BE(at + 4) !== 0) n += 1;
      return n;
    };
    const before = commits();
    const results = await Promise.all([1, 2, 3].map(() => ledger.tryReserve(windowReq)));
    expect(results.map((r) => r.ok)).toEqual([true, true, false]);
    expect(results[2]).toMatchObject({ ok: false, blockedBy: 'provider:p 2/1000ms', waitMs: 1001 });
    // Committed (another connection sees both starts) by one transaction.
    expect(commits() - before).toBe(1);
    expect(countRows(file, 'starts')).toBe(2);
    await ledger.close();
  });

  it('a batched write waits for another connection\'s write lock with the event loop running, and commits once it is free', async () => {
    const ledger = open();
    await ledger.prune();
    const holder = new DatabaseSync(file);
    holder.exec('BEGIN IMMEDIATE');
    let settled = false;
    const admitted = ledger.tryReserve(windowReq).finally(() => (settled = true));
    // Timers fire while the admission waits for the lock: it is not waiting inside SQLite.
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(settled).toBe(false);
    holder.exec('COMMIT');
    expect(await admitted).toMatchObject({ ok: true, at: T0 });
    expect(countRows(file, 'starts')).toBe(1);
    holder.close();
    await ledger.close();
  });

  it('a batched write still locked out after busyTimeoutMs fails as STORE_ERROR "database is locked"', async () => {
    const ledger = new SqliteLedger({ path: file, now: () => t, busyTimeoutMs: 30 });
    await ledger.prune();
    const holder = new DatabaseSync(file);
    holder.exec('BEGIN IMMEDIATE');
    await expect(ledger.renew('some-id', 1000)).rejects.toMatchObject({
      code: 'STORE_ERROR',
      message: expect.stringMatching(/could not be used: database is locked$/),
    });
    holder.exec('COMMIT');
    holder.close();
    // The next write goes through.
    expect(await ledger.tryReserve(windowReq)).toMatchObject({ ok: true });
    await ledger.close();
  });

  it('settles, corrects and refunds its own reservations by rowid; the id has no index (schema 7)', async () => {
    const ledger = open();
    const first = await ledger.tryReserve(windowReq);
    const second = await ledger.tryReserve(windowReq);
    if (!first.ok || !second.ok) throw new Error('not admitted');
    t += 100;
    await ledger.markSent(first.id);
    await ledger.release(first.id, { actualTokens: 7 });
    await ledger.release(second.id, { refund: true });
    await ledger.release(second.id); // released already: nothing happens
    await ledger.markSent('no-such-id');
    const db = new DatabaseSync(file, { readOnly: true });
    expect(db.prepare('SELECT id, t, pending, n FROM starts').all()).toEqual([{ id: first.id, t: T0 + 100, pending: 0, n: 1 }]);
    expect(db.prepare('SELECT id, t, amount, pending, n FROM tokens').all()).toEqual([{ id: first.id, t: T0 + 100, amount: 7, pending: 0, n: 1 }]);
    expect(countRows(file, 'leases')).toBe(0);
    const indexes = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('starts', 'tokens') ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    expect(indexes).toEqual(['starts_key_pending_t', 'tokens_key_pending_t']);
    expect(db.prepare('PRAGMA user_version').get()).toEqual({ user_version: 7 });
    db.close();
    await ledger.close();
  });

  it('a markSent that comes after the release still moves the start later (the response began after the attempt ended)', async () => {
    const ledger = open();
    const r = await ledger.tryReserve({ ...windowReq, windows: [{ key: 'provider:p', maxRequests: 1, windowMs: 1000 }] });
    if (!r.ok) throw new Error('not admitted');
    t += 10;
    await ledger.release(r.id);
    t += 90;
    await ledger.markSent(r.id);
    const db = new DatabaseSync(file, { readOnly: true });
    expect(db.prepare('SELECT t FROM starts').all()).toEqual([{ t: T0 + 100 }]);
    db.close();
    await ledger.close();
  });

  it('migrates a version-5 ledger: drops the id indexes, keeps the rows counted', async () => {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const ledger = open();
    const r = await reserveSent(ledger, windowReq);
    await ledger.close();
    const db = new DatabaseSync(file);
    db.exec('CREATE INDEX starts_id ON starts (id); CREATE INDEX tokens_id ON tokens (id); PRAGMA user_version = 5;');
    db.close();
    const again = open();
    expect(r).toMatchObject({ ok: true });
    expect(await again.peekWait({ ...windowReq, windows: [{ key: 'provider:p', maxRequests: 1, windowMs: 1000 }] })).toBe(1001);
    await again.close();
    const check = new DatabaseSync(file, { readOnly: true });
    expect(check.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name IN ('starts_id', 'tokens_id')").get()).toEqual({ n: 0 });
    expect(check.prepare('PRAGMA user_version').get()).toEqual({ user_version: 7 });
    check.close();
  });

  it('migrates a version-6 ledger (a row per start): every row counts one, a full window stays full, a pending start still counts as now', async () => {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const v6 = new DatabaseSync(file);
    v6.exec(await fs.readFile(path.join(import.meta.dirname, 'fixtures', 'ledger-v6.sql'), 'utf8'));
    v6.close();
    const V6_T0 = 1_800_000_000_000;
    t = V6_T0 + 1000;
    const ledger = new SqliteLedger({ path: file, now: () => t, pid: 5151, isAlive: (pid) => pid === 4242 });
    const three: ReserveRequest = { windows: [{ key: 'provider:p', maxRequests: 3, windowMs: 60_000 }], tokens: [], concurrency: [], leaseMs: 30_000 };
    // Starts at +10 and +30 (sent) and +40 (pending, its owner alive: counted as now): the window
    // frees when the oldest of the three newest, +10, leaves it.
    expect(await ledger.peekWait(three)).toBe(10 + 60_000 + 1 - 1000);
    expect(await ledger.peekWait({ ...three, windows: [{ key: 'provider:p', maxRequests: 2, windowMs: 60_000 }] })).toBe(30 + 60_000 + 1 - 1000);
    const tokens: ReserveRequest = { ...three, windows: [], tokens: [{ limit: { key: 'provider:p', maxTokens: 400, windowMs: 60_000 }, amount: 81 }] };
    expect(await ledger.peekWait(tokens)).toBe(10 + 60_000 + 1 - 1000); // 120 + 100 + 100 + 81 > 400
    await ledger.close();
    const check = new DatabaseSync(file, { readOnly: true });
    expect(check.prepare('SELECT key, n, rows FROM start_keys').all()).toEqual([{ key: 'provider:p', n: 3, rows: 3 }]);
    expect(check.prepare('SELECT SUM(n) AS n FROM tokens').get()).toEqual({ n: 3 });
    expect(check.prepare('PRAGMA user_version').get()).toEqual({ user_version: 7 });
    check.close();
    // A schema-6 ledger still running in another process would count every row as one start: its
    // admissions (the insert it makes, word for word) are refused, telling it to restart; what it
    // settles or refunds by rowid still goes through.
    const old = new DatabaseSync(file);
    expect(() => old.prepare('INSERT INTO starts (key, t, id, until, pending, owner) VALUES (?, ?, ?, ?, 1, ?)').run('provider:p', t, 'old.1', t + 86_400_000, 4242)).toThrow(
      /upgraded by a newer Pantheon .*restart this process/,
    );
    expect(old.prepare('UPDATE starts SET t = MAX(t, ?1), pending = 0, owner = NULL WHERE rowid = ?2 AND pending = 1').run(t, 3)).toMatchObject({ changes: 1 });
    expect(old.prepare("INSERT INTO tokens (key, t, id, until, amount, pending, owner) VALUES ('provider:p', ?, 'old.1', ?, 5, 1, 4242)").run(t, t + 60_000)).toMatchObject({ changes: 1 });
    old.close();
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

  it('answers every admission question from an index range or a rowid, never a table scan or a sort', async () => {
    await open().close();
    const db = new DatabaseSync(file, { readOnly: true });
    const decision = ['sentNth', 'sentNthCounted', 'sentCount', 'sentOldest', 'keyRows', 'pendingStarts', 'tokenSum', 'tokensNewest', 'pendingTokens', 'inFlight', 'settleStart', 'settlePendingStart', 'settleTokensTo', 'settlePendingTokens', 'takeStarts', 'takeTokens', 'addToTokens', 'dropStart', 'dropTokens', 'dropLeases'] as const;
    for (const name of decision) {
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${SQL[name]}`).all() as { detail: string }[]).map((r) => r.detail);
      expect(plan.some((d) => /^SEARCH \w+ USING ((COVERING )?INDEX|INTEGER PRIMARY KEY)/.test(d)), `${name}: ${plan.join(' | ')}`).toBe(true);
      expect(plan.filter((d) => /^SCAN (starts|tokens|leases)|TEMP B-TREE/.test(d)), name).toEqual([]);
    }
    db.close();
  });
});
