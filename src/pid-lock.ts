/**
 * A lock across the processes of one machine: a file made with O_EXCL holding its owner's pid. A
 * lock whose owner has died (a crash, `kill -9`) is a leftover and taken over; so is one older
 * than `staleMs` when given (for locks held only for moments). Used for a session's
 * read-modify-write (session/save-lock.ts) and for a workflow run being run (workflow/run-lock.ts).
 *
 * A leftover is removed by one process at a time, under a second lock beside it (`<lock>.takeover`,
 * held for the few system calls of the removal): two processes judging the same leftover at once
 * could otherwise interleave as "A reads the leftover, B removes it and makes its own lock, A
 * removes B's", and both would hold the lock.
 */
import fs from 'node:fs';
import { randomBytes } from './random-bytes.ts';

export interface PidLockOptions {
  /** A lock older than this is a leftover whoever holds it (default: never, while its owner lives). */
  staleMs?: number;
  now?: () => number;
}

/** A lock taken: `release` removes it (once; later calls do nothing). */
export interface HeldLock {
  release(): void;
}

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Whether process `pid` still exists (EPERM: it does, as another user's). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === 'EPERM';
  }
}

/**
 * When process `pid` started (Linux: clock ticks since boot, /proc/PID/stat field 22), or undefined
 * where that cannot be read. With the pid it names one process for good: after a crash, a new
 * process given the same pid (a container restarted runs the same command as the same pid) is not
 * taken for the lock's owner.
 */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (in parentheses, which may hold spaces) start at field 3.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** What a lock file holds: this process's pid, and when it started where that is known. */
function ownerText(): string {
  return `${process.pid}\n${startTimeOf(process.pid) ?? ''}\n`;
}

/** A lock file's text and age, or undefined when there is none. */
function readLock(lock: string): { text: string; mtimeMs: number } | undefined {
  try {
    return { text: fs.readFileSync(lock, 'utf8'), mtimeMs: fs.statSync(lock).mtimeMs };
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** A lock file still empty after this long is a leftover (its owner writes it right after making it). */
const UNWRITTEN_STALE_MS = 5000;

/** The live owner a lock file's text names; undefined for a leftover. */
function ownerOf(read: { text: string; mtimeMs: number }, options: PidLockOptions): number | undefined {
  if (options.staleMs !== undefined && (options.now ?? Date.now)() - read.mtimeMs > options.staleMs) return undefined;
  // An empty file is a lock being written this instant: its owner is alive (a process id of -1 stands
  // for "unknown"); one that stayed empty for seconds was left by a process that died between making and writing it.
  if (read.text.trim() === '') return (options.now ?? Date.now)() - read.mtimeMs > UNWRITTEN_STALE_MS ? undefined : -1;
  const [pidText = '', started = ''] = read.text.split('\n');
  const owner = Number(pidText.trim());
  if (!processAlive(owner)) return undefined;
  // The pid lives, but another process may have been given it since the owner died.
  const now = started.trim() === '' ? undefined : startTimeOf(owner);
  return now === undefined || now === started.trim() ? owner : undefined;
}

/** The pid in lock file `lock` when a live process holds it; undefined when it is free or a leftover. */
export function lockOwner(lock: string, options: PidLockOptions = {}): number | undefined {
  const read = readLock(lock);
  return read ? ownerOf(read, options) : undefined;
}

/** Makes the lock file; its text (the owner, and a nonce: this taking of it), or undefined when it exists. */
function create(lock: string): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(lock, 'wx', 0o600);
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return undefined;
    throw error;
  }
  const text = `${ownerText()}${randomBytes(8).toString('hex')}\n`;
  try {
    fs.writeSync(fd, text);
  } finally {
    fs.closeSync(fd);
  }
  return text;
}

/** Removes the lock if it is still this taking of it (one that ran past `staleMs` may have been taken over since). */
function releaseOwn(lock: string, text: string): void {
  try {
    if (fs.readFileSync(lock, 'utf8') === text) fs.rmSync(lock, { force: true });
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
}

/** A takeover lock older than this is a leftover whoever holds it (it is held for microseconds). */
const TAKEOVER_STALE_MS = 5000;

/**
 * Removes the leftover lock file judged with text `text`, under the takeover lock; or, while
 * another process holds that, the pid of the process taking it over (a takeover lock left by a
 * process that died in it is removed for the next try).
 */
function removeLeftover(lock: string, text: string): number | undefined {
  const guard = `${lock}.takeover`;
  const mine = create(guard);
  if (mine === undefined) {
    const held = readLock(guard);
    if (!held) return undefined;
    const owner = ownerOf(held, { staleMs: TAKEOVER_STALE_MS });
    if (owner !== undefined) return owner;
    releaseOwn(guard, held.text);
    return undefined;
  }
  try {
    releaseOwn(lock, text);
  } finally {
    releaseOwn(guard, mine);
  }
  return undefined;
}

/** Takes lock `lock` now, taking over a leftover; or says which live process holds it (or is taking it over). */
export function tryPidLock(lock: string, options: PidLockOptions = {}): HeldLock | { owner: number } {
  for (;;) {
    const text = create(lock);
    if (text !== undefined) {
      let held = true;
      return {
        release: () => {
          if (held) releaseOwn(lock, text);
          held = false;
        },
      };
    }
    const read = readLock(lock);
    // Gone since (its holder let go): make it again. Removing "it" now could remove the lock another
    // process has made meanwhile, and both would hold one.
    if (!read) continue;
    const owner = ownerOf(read, options);
    if (owner !== undefined) return { owner };
    // A leftover: removed only while it is still the file judged (each taking's text is its own),
    // by one process at a time.
    const takingOver = removeLeftover(lock, read.text);
    if (takingOver !== undefined) return { owner: takingOver };
  }
}

/** Runs `work` holding lock `lock`, waiting (`retryMs` between tries) while a live process holds it. */
export async function withPidLock<T>(lock: string, work: () => Promise<T>, options: PidLockOptions & { retryMs?: number } = {}): Promise<T> {
  let taken = tryPidLock(lock, options);
  while (!('release' in taken)) {
    await new Promise((resolve) => setTimeout(resolve, options.retryMs ?? 15));
    taken = tryPidLock(lock, options);
  }
  try {
    return await work();
  } finally {
    taken.release();
  }
}
