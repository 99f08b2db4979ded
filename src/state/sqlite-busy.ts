/**
 * SQLite answers "database is locked" at once, without waiting on its busy timeout, in a few
 * cases that processes opening one file together meet: switching a new file to WAL while another
 * process does the same, or reading while the last connection checkpoints as it closes (seen about
 * once in 240 when 8 processes open a new file at once). Opening a store retries those for up to
 * its busy timeout; every other error is thrown at once.
 */
import type { DatabaseSync } from 'node:sqlite';

const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;

/** Whether `error` is SQLite's "busy" or "locked" (the lock is another connection's). */
export function isBusy(error: unknown): boolean {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  // Extended codes (BUSY_RECOVERY, BUSY_SNAPSHOT, …) carry the primary code in their low byte.
  return typeof code === 'number' && ((code & 0xff) === SQLITE_BUSY || (code & 0xff) === SQLITE_LOCKED);
}

/** Runs `fn`, again after a short pause (1, 2, 4 … 50 ms) while SQLite says busy, until `timeoutMs` has passed. */
export function retryBusy<T>(fn: () => T, timeoutMs: number): T {
  const deadline = performance.now() + timeoutMs;
  let pauses: Int32Array | undefined;
  for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
    try {
      return fn();
    } catch (error) {
      if (!isBusy(error) || performance.now() >= deadline) throw error;
      // Opening is synchronous (constructors): a blocking pause of a few ms, only on this rare path.
      pauses ??= new Int32Array(new SharedArrayBuffer(4));
      Atomics.wait(pauses, 0, 0, pause);
    }
  }
}

/** Puts `db` in WAL mode (every Pantheon store is in it), retrying while busy. */
export function useWal(db: DatabaseSync, timeoutMs: number): void {
  retryBusy(() => db.exec('PRAGMA journal_mode = WAL'), timeoutMs);
}
