/**
 * Opening a store while another process holds the write lock of a file not yet in WAL mode:
 * SQLite answers the switch to WAL "database is locked" at once, without its busy timeout (seen
 * as a rare failure when several `run`s open a new ledger together). Every store waits instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/cache/sqlite-store.ts';
import { SqliteLedger } from '../../src/scheduler/ledger-sqlite.ts';
import { retryBusy } from '../../src/state/sqlite-busy.ts';
import { Journal } from '../../src/workflow/journal.ts';

/** A child process that takes the write lock of `file` (rollback journal), says "held", and lets go after `ms`. */
const HOLDER = `
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(process.argv[1]);
db.exec('CREATE TABLE IF NOT EXISTS other(x)');
db.exec('BEGIN IMMEDIATE');
db.exec('INSERT INTO other VALUES (1)');
process.stdout.write('held\\n');
setTimeout(() => { db.exec('COMMIT'); db.close(); }, Number(process.argv[2]));
`;

let dir: string;
let holder: ChildProcess | undefined;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-busy-'));
});

afterEach(async () => {
  if (holder && holder.exitCode === null) {
    const gone = new Promise((resolve) => holder?.once('exit', resolve));
    holder.kill();
    await gone;
  }
  holder = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Starts the holder on `file` and resolves once it holds the lock. */
async function holdLock(file: string, ms: number): Promise<void> {
  holder = spawn(process.execPath, ['-e', HOLDER, file, String(ms)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    holder?.stdout?.once('data', () => resolve());
    holder?.once('exit', (code) => reject(new Error(`the lock holder exited with ${String(code)} before holding the lock`)));
  });
}

function journalMode(file: string): string {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return (db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode;
  } finally {
    db.close();
  }
}

describe('opening a store while another process holds the write lock', () => {
  it('SQLite itself refuses the switch to WAL at once (what the stores guard against)', async () => {
    const file = path.join(dir, 'plain.sqlite');
    await holdLock(file, 300);
    const db = new DatabaseSync(file, { timeout: 5000 });
    try {
      expect(() => db.exec('PRAGMA journal_mode = WAL')).toThrow(/locked/);
    } finally {
      db.close();
    }
  });

  it('the rate-limit ledger waits for the lock and opens in WAL mode', async () => {
    const file = path.join(dir, 'ledger.sqlite');
    await holdLock(file, 300);
    const ledger = await SqliteLedger.open(file);
    await ledger.close();
    expect(journalMode(file)).toBe('wal');
  });

  it('the workflow journal and the cache file do too', async () => {
    const journalFile = path.join(dir, 'journal.sqlite');
    await holdLock(journalFile, 300);
    new Journal({ path: journalFile }).close();
    expect(journalMode(journalFile)).toBe('wal');

    const cacheFile = path.join(dir, 'cache.sqlite');
    await holdLock(cacheFile, 300);
    const store = await SqliteStore.open({ file: cacheFile, maxSize: 10 });
    await store.disconnect();
    expect(journalMode(cacheFile)).toBe('wal');
  });

  it('gives up with SQLite’s error once the busy timeout has passed, and throws other errors at once', async () => {
    const file = path.join(dir, 'held.sqlite');
    await holdLock(file, 60_000);
    const db = new DatabaseSync(file, { timeout: 50 });
    try {
      expect(() => retryBusy(() => db.exec('PRAGMA journal_mode = WAL'), 50)).toThrow(/locked/);
    } finally {
      db.close();
    }
    let calls = 0;
    expect(() =>
      retryBusy(() => {
        calls++;
        throw new Error('not a lock');
      }, 5000),
    ).toThrow('not a lock');
    expect(calls).toBe(1);
  });
});
