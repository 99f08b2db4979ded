/**
 * The start-up gate of `opencode run`: at most as many local runs as the machine has cores load
 * and start at once; the others wait, asleep, until one of those has sent its first request, is
 * waiting on a rate limit, or has ended. Twelve runs started together on two cores otherwise share
 * the cores evenly and all finish loading at about the same time, so the first request of any of
 * them leaves only once every one has loaded (~125 ms of CPU each, ~0.75 s in all); through the gate
 * the first ones start as if alone and the rest load while they are answered (bench/parallel-runs.ts,
 * docs/performance.md, issue #18).
 *
 * Only speed depends on it, never a limit: the ledger decides every admission. So everything here
 * is best effort and bounded. A slot is a file (`slot-<i>`, holding "<pid> <ms since epoch>")
 * created exclusively in a folder of the user's own (startGateDir); a holder gives it back at
 * the first of: its startup is over (src/cli/startup-done.ts), HOLD_MS, its exit. A slot whose
 * holder is gone or has held it longer than HOLD_MS is free. A waiter wakes when the folder changes
 * (fs.watch), then tries only the slots whose files are gone (one read of the folder), and every
 * WATCHED_POLL_MS (POLL_MS where the folder cannot be watched), then tries every slot, stale ones
 * included; it goes on without a slot after WAIT_MS. Waiting is nearly free: a waiter trying every
 * slot every 25 ms took ~14 ms of CPU a second from the runs loading, now ~3 (docs/performance.md).
 * Any failure of the file system (read-only, full, another user's folder) means no gate.
 * `PANTHEON_START_GATE=off` turns it off; `PANTHEON_START_GATE=<n>` sets the number of slots.
 */
import { makeDirSync } from '../make-dir.ts';
const fs = process.getBuiltinModule('node:fs');
const os = process.getBuiltinModule('node:os');
const path = process.getBuiltinModule('node:path');

export interface StartGateOptions {
  /** The slots' folder (default: startGateDir). */
  dir?: string;
  /** How many may start at once (default: the machine's cores, or `PANTHEON_START_GATE`). */
  slots?: number;
  /** A slot held longer than this is free (ms). */
  holdMs?: number;
  /** Longest wait for a slot before going on without one (ms). */
  waitMs?: number;
  /** How often a waiter tries every slot, stale ones included, when no change of the folder woke it (ms; default WATCHED_POLL_MS, or POLL_MS without a watch). */
  pollMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface StartGatePass {
  /** The slot taken (its file), or undefined when the process goes on without one. */
  readonly slot: string | undefined;
  /** Gives the slot back (only once; a no-op without a slot). */
  release(): void;
}

export const HOLD_MS = 1000;
export const WAIT_MS = 5000;
/** The poll where the folder cannot be watched, and the one that finds stale slots where it can. */
const POLL_MS = 25;
const WATCHED_POLL_MS = 250;

const NO_PASS: StartGatePass = { slot: undefined, release: () => undefined };

const MAX_SLOTS = 1024;

/**
 * The number of slots `env` asks for: 0 when the gate is off, the machine's cores when it says
 * nothing. A value that is neither is reported through `warn` (one line) and the cores are used.
 */
export function gateSlots(env: NodeJS.ProcessEnv = process.env, warn: (line: string) => void = () => undefined): number {
  const cores = Math.max(1, os.availableParallelism());
  const given = env.PANTHEON_START_GATE;
  const asked = given?.trim().toLowerCase();
  if (!asked) return cores;
  if (asked === 'off' || asked === '0' || asked === 'false') return 0;
  const n = Number(asked);
  if (/^[0-9]+$/.test(asked) && n >= 1 && n <= MAX_SLOTS) return n;
  warn(
    `warning: PANTHEON_START_GATE: expected "off" or a whole number of runs that load at once (1 to ${MAX_SLOTS}), found ${quoted(given ?? '')}; using ${cores} (this machine's cores).\n` +
      'hint: Unset it to let as many runs load at once as there are cores.\n',
  );
  return cores;
}

/** At most 40 characters of a value (printErr makes them safe for a terminal). */
function quoted(value: string): string {
  return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
}

/** `$XDG_RUNTIME_DIR/pantheon/start-gate` (the user's own folder for such files), else one under the temp folder. */
export function startGateDir(env: NodeJS.ProcessEnv = process.env): string {
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime && path.isAbsolute(runtime)) return path.join(runtime, 'pantheon', 'start-gate');
  const uid = typeof process.getuid === 'function' ? process.getuid() : os.userInfo().username;
  return path.join(os.tmpdir(), `pantheon-${uid}`, 'start-gate');
}

/** The folder, made if missing; undefined when it cannot be used (or is not this user's). */
function usableDir(dir: string): string | undefined {
  try {
    makeDirSync(dir, 0o700);
    const stat = fs.lstatSync(dir);
    if (!stat.isDirectory()) return undefined;
    if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists (another user's, after a pid was reused).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the slot file is held: by a live process, for less than holdMs. */
function held(file: string, now: number, holdMs: number): boolean {
  let text: string;
  let mtime: number;
  try {
    text = fs.readFileSync(file, 'latin1');
    mtime = fs.statSync(file).mtimeMs;
  } catch {
    return false;
  }
  const [pid, since] = text.split(' ').map(Number);
  // Created but not yet written: its holder is writing it now, unless the file is old.
  if (!pid || !since) return now - mtime < holdMs;
  return now - since < holdMs && alive(pid);
}

/** Takes slot `i` if it is free (a stale holder's file replaced); the file, or undefined. */
function take(dir: string, i: number, holdMs: number): string | undefined {
  const file = path.join(dir, `slot-${i}`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o600);
      try {
        fs.writeSync(fd, `${process.pid} ${Date.now()}`);
      } finally {
        fs.closeSync(fd);
      }
      return file;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (held(file, Date.now(), holdMs)) return undefined;
    try {
      fs.unlinkSync(file);
    } catch {
      // Another waiter removed it first.
    }
  }
  return undefined;
}

/** Removes the slot file if it is still this process's. */
function giveBack(file: string): void {
  try {
    if (fs.readFileSync(file, 'latin1').startsWith(`${process.pid} `)) fs.unlinkSync(file);
  } catch {
    // Gone already (taken over as stale, or the folder removed).
  }
}

/** Waits for a slot (at most waitMs); resolves with the pass, which the caller releases when its start-up is over. */
export async function enterStartGate(options: StartGateOptions = {}): Promise<StartGatePass> {
  let warning: string | undefined;
  const slots = options.slots ?? gateSlots(options.env, (line) => (warning = line));
  // Printed as every line of the CLI is (print.ts: safe for a terminal), loaded only when needed.
  if (warning) (await import('./print.ts')).printErr(warning);
  if (slots <= 0) return NO_PASS;
  const dir = usableDir(options.dir ?? startGateDir(options.env));
  if (!dir) return NO_PASS;
  const holdMs = options.holdMs ?? HOLD_MS;
  const deadline = Date.now() + (options.waitMs ?? WAIT_MS);
  let watcher: ReturnType<typeof fs.watch> | undefined;
  let wake: (() => void) | undefined;
  /** Woken by a change of the folder (not the poll): only slots whose files are gone are tried. */
  let changed = false;
  try {
    for (;;) {
      const present = changed ? slotNames(dir) : undefined;
      for (let i = 0; i < slots; i++) {
        if (present?.has(`slot-${i}`)) continue;
        const file = take(dir, i, holdMs);
        if (file) return pass(file, holdMs);
      }
      if (Date.now() >= deadline) return NO_PASS;
      if (!watcher) {
        try {
          watcher = fs.watch(dir, { persistent: false }, () => wake?.());
          watcher.on('error', () => undefined);
          // A slot given back between the tries above and the watch: look once more, now that a change wakes this.
          changed = true;
          continue;
        } catch {
          // No watching here: the poll alone.
        }
      }
      const pollMs = options.pollMs ?? (watcher ? WATCHED_POLL_MS : POLL_MS);
      changed = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          wake = undefined;
          resolve(false);
        }, Math.min(pollMs, Math.max(1, deadline - Date.now())));
        wake = () => {
          clearTimeout(timer);
          wake = undefined;
          resolve(true);
        };
      });
    }
  } catch {
    return NO_PASS;
  } finally {
    watcher?.close();
  }
}

/** The names in the slots' folder (one read), or undefined when it cannot be read (every slot is then tried). */
function slotNames(dir: string): Set<string> | undefined {
  try {
    return new Set(fs.readdirSync(dir));
  } catch {
    return undefined;
  }
}

function pass(file: string, holdMs: number): StartGatePass {
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    clearTimeout(timer);
    process.off('exit', release);
    giveBack(file);
  };
  const timer = setTimeout(release, holdMs);
  timer.unref();
  process.once('exit', release);
  return { slot: file, release };
}
