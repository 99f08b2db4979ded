/**
 * A short lock across processes around one session's read-modify-write (a turn's save reads the
 * file as it is now and adds its turn to it): `.ses_ID.json.lock` beside the file, made with
 * O_EXCL and holding its owner's pid. Held for a read and a write, milliseconds; a lock whose
 * owner has died (a crash mid-save) or that is older than STALE_MS is taken over. Listings and
 * loads ignore it (its name starts with a dot).
 */
import fs from 'node:fs';
import path from 'node:path';

/** A lock older than this is a leftover (a save takes milliseconds), whoever holds it. */
const STALE_MS = 10_000;
/** Between tries while another process holds the lock. */
const RETRY_MS = 15;

/** The lock file of session `file` (`…/ses_x.json` → `…/.ses_x.json.lock`). */
export function lockFileOf(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.lock`);
}

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Whether process `pid` still exists (EPERM: it does, as another user's). */
function alive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === 'EPERM';
  }
}

/** Whether the lock at `lock` is a leftover: its owner gone, or held too long. Gone meanwhile counts as free. */
function leftover(lock: string, now: number): boolean {
  try {
    const owner = Number(fs.readFileSync(lock, 'utf8').trim());
    const { mtimeMs } = fs.statSync(lock);
    // An empty file is a lock being written this instant: its owner is alive.
    return now - mtimeMs > STALE_MS || (owner !== 0 && !alive(owner));
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return true;
    throw error;
  }
}

function tryLock(lock: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(lock, 'wx', 0o600);
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    fs.writeSync(fd, String(process.pid));
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/** Runs `work` holding the lock of session file `file`; the folder must exist. */
export async function withSaveLock<T>(file: string, work: () => Promise<T>, now: () => number = Date.now): Promise<T> {
  const lock = lockFileOf(file);
  while (!tryLock(lock)) {
    if (leftover(lock, now())) fs.rmSync(lock, { force: true });
    else await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
  try {
    return await work();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}
