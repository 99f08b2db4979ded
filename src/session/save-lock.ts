/**
 * A short lock across processes around one session's read-modify-write (a turn's save reads the
 * file as it is now and adds its turn to it): `.ses_ID.json.lock` beside the file, holding its
 * owner's pid (src/pid-lock.ts). Held for a read and a write, milliseconds; a lock whose owner has
 * died (a crash mid-save) or that is older than STALE_MS is taken over. Listings and loads ignore
 * it (its name starts with a dot).
 */
import path from 'node:path';
import { withPidLock } from '../pid-lock.ts';

/** A lock older than this is a leftover (a save takes milliseconds), whoever holds it. */
const STALE_MS = 10_000;

/** The lock file of session `file` (`…/ses_x.json` → `…/.ses_x.json.lock`). */
export function lockFileOf(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.lock`);
}

/** Runs `work` holding the lock of session file `file`; the folder must exist. */
export function withSaveLock<T>(file: string, work: () => Promise<T>, now: () => number = Date.now): Promise<T> {
  return withPidLock(lockFileOf(file), work, { staleMs: STALE_MS, now });
}
