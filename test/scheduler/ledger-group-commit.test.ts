/**
 * The SQLite ledger's group commit across callbacks: admissions, releases and records asked in the
 * same turn of the event loop — each from its own callback, as requests arriving on their own
 * sockets are — share one write transaction, decided in the order asked. The WAL file says how many
 * pages were written: one commit for ten admissions writes a fraction of what ten commits write.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteLedger } from '../../src/scheduler/ledger-sqlite.ts';
import type { ReserveRequest } from '../../src/scheduler/ledger.ts';

/** Commits in the WAL file so far: frames whose header records the database size (only a commit's last frame does). */
function walCommits(file: string): number {
  const wal = fs.readFileSync(`${file}-wal`);
  const pageSize = wal.readUInt32BE(8);
  let commits = 0;
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) if (wal.readUInt32BE(at + 4) !== 0) commits += 1;
  return commits;
}

const windowOf = (key: string, maxRequests: number): ReserveRequest => ({ windows: [{ key, maxRequests, windowMs: 60_000 }], tokens: [], concurrency: [], leaseMs: 5000 });

describe('SqliteLedger group commit', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-group-'));
    file = path.join(dir, 'ledger.sqlite');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('ten admissions asked from ten timer callbacks of one turn: one commit, decided in order (the first five fit a window of five)', async () => {
    const ledger = new SqliteLedger({ path: file });
    await ledger.tryReserve(windowOf('warm', 100));
    const commits = () => walCommits(file);
    const wal = () => fs.statSync(`${file}-wal`).size;
    const before = wal();
    const commitsBefore = commits();
    // Ten callbacks of the same timers phase, like ten sockets' callbacks of one poll phase.
    const together = await Promise.all(Array.from({ length: 10 }, () => new Promise<Awaited<ReturnType<SqliteLedger['tryReserve']>>>((resolve) => setTimeout(() => resolve(ledger.tryReserve(windowOf('together', 5))), 0))));
    expect(together.map((r) => r.ok)).toEqual([true, true, true, true, true, false, false, false, false, false]);
    const grouped = wal() - before;
    const groupedCommits = commits() - commitsBefore;
    const next = wal();
    const commitsNext = commits();
    for (let i = 0; i < 10; i++) expect((await ledger.tryReserve(windowOf('apart', 5))).ok).toBe(i < 5);
    const apart = wal() - next;
    // Five commits (the five refused admissions write no page), and more pages than the one commit of ten.
    expect(commits() - commitsNext).toBe(5);
    // One commit, or two when a loaded machine fires the ten timers across two turns.
    expect(groupedCommits).toBeLessThanOrEqual(2);
    expect(grouped).toBeLessThan(apart);
    // Releases and records made together commit together too, and what they wrote is there.
    const ids = together.flatMap((r) => (r.ok ? [r.id] : []));
    await Promise.all([...ids.map((id) => ledger.release(id, { refund: true })), ledger.recordUsage({ t: Date.now(), agent: 'a', provider: 'p', model: 'p/m', inputTokens: 3, outputTokens: 4, cached: false, retries: 0, fallbacks: 0, waitedMs: 0 })]);
    expect((await ledger.tryReserve(windowOf('together', 5))).ok).toBe(true);
    expect((await ledger.listUsage(0)).map((u) => u.inputTokens)).toEqual([3]);
    await ledger.close();
  });
});
