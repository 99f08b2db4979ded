/**
 * The response cache's SQLite file, as a run would open it: missing (the first run makes it), or a
 * database the cache can read and take the write lock of. A corrupt file, one another process keeps
 * locked, or a folder in its place makes runs go on without the cache (src/run/runtime.ts).
 */
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { isBusy } from '../state/sqlite-busy.ts';

export interface CacheFileProblem {
  message: string;
  hint: string;
}

/** How long a write lock held by another process is waited for before it counts as a problem. */
const LOCK_WAIT_MS = 1500;

/** What keeps a run from using `file` as its cache, or undefined when nothing does. */
export async function cacheFileProblem(file: string, lockWaitMs = LOCK_WAIT_MS): Promise<CacheFileProblem | undefined> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const elsewhere = 'or set cache.store to another file';
  if (stat.isDirectory()) return { message: `${file} is a folder, not a file`, hint: `Move the folder away, ${elsewhere}.` };
  if (!stat.isFile()) return { message: `${file} is not a regular file`, hint: `Remove it, ${elsewhere}.` };
  try {
    await fs.access(file, fsConstants.R_OK | fsConstants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    return { message: `${file} is not writable (${code})`, hint: `Check the owner and permissions of ${file}, ${elsewhere}.` };
  }
  const { DatabaseSync } = await import('node:sqlite');
  let db;
  try {
    db = new DatabaseSync(file);
  } catch (error) {
    return notDatabase(file, error);
  }
  try {
    // No busy timeout: SQLite would block this process while the other checks run. Polled instead.
    db.exec('PRAGMA busy_timeout = 0');
    const deadline = performance.now() + lockWaitMs;
    for (;;) {
      try {
        db.prepare('SELECT COUNT(*) AS n FROM sqlite_master').get();
        db.exec('BEGIN IMMEDIATE');
        db.exec('ROLLBACK');
        return undefined;
      } catch (error) {
        if (!isBusy(error)) return notDatabase(file, error);
        if (performance.now() >= deadline) {
          return { message: `${file} is locked by another process (${reasonOf(error)})`, hint: `Find the process that holds it (fuser ${file}), ${elsewhere}.` };
        }
        await sleep(100);
      }
    }
  } finally {
    db.close();
  }
}

function notDatabase(file: string, error: unknown): CacheFileProblem {
  return {
    message: `${file} is not a SQLite database the cache can use (${reasonOf(error)})`,
    hint: 'Move it aside (the next run makes a new one), or set cache.store to another file.',
  };
}

function reasonOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/[.\s]+$/, '');
}
