/**
 * Runs a command line in its own process group (`bash -c`, or `/bin/sh -c` without bash), with
 * stdout and stderr interleaved into one capped buffer (the head and the tail are kept). A timeout
 * or an abort kills the whole group: SIGTERM, then SIGKILL a second later.
 */
import { shellEnv } from './shell-env.ts';
import { existsSync } from 'node:fs';

export interface ShellOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Values no variable passed to the command may hold (shellEnv). */
  secrets?: readonly string[];
  /** Variables set over that environment after its credentials were left out (the plugins' `shell.env`: theirs to give). */
  extraEnv?: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Output kept: this many bytes from the start, and `tailBytes` from the end. */
  headBytes: number;
  tailBytes: number;
}

export interface ShellResult {
  output: string;
  /** Bytes left out of the middle of the output. */
  omittedBytes: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  /** The shell exited but something it started in the background still holds the output open. */
  leftRunning: boolean;
}

const KILL_GRACE_MS = 1000;
const DRAIN_MS = 500;

export function shellPath(): string {
  return existsSync('/bin/bash') ? '/bin/bash' : '/bin/sh';
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch (error) {
    // ESRCH: the group is already gone, which is what we wanted.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

class CappedOutput {
  private head: Buffer[] = [];
  private headSize = 0;
  private tail: Buffer[] = [];
  private tailSize = 0;
  private readonly headMax: number;
  private readonly tailMax: number;
  omitted = 0;
  constructor(headMax: number, tailMax: number) {
    this.headMax = headMax;
    this.tailMax = tailMax;
  }
  push(chunk: Buffer): void {
    if (this.headSize < this.headMax) {
      const take = chunk.subarray(0, this.headMax - this.headSize);
      this.head.push(take);
      this.headSize += take.length;
      chunk = chunk.subarray(take.length);
    }
    if (chunk.length === 0) return;
    this.tail.push(chunk);
    this.tailSize += chunk.length;
    while (this.tail.length > 1 && this.tailSize - (this.tail[0] as Buffer).length >= this.tailMax) {
      const dropped = this.tail.shift() as Buffer;
      this.tailSize -= dropped.length;
      this.omitted += dropped.length;
    }
  }
  text(): { head: string; tail: string; omitted: number } {
    let tail = Buffer.concat(this.tail);
    let omitted = this.omitted;
    if (tail.length > this.tailMax) {
      omitted += tail.length - this.tailMax;
      tail = tail.subarray(tail.length - this.tailMax);
    }
    return { head: Buffer.concat(this.head).toString('utf8'), tail: tail.toString('utf8'), omitted };
  }
}

export function runShell(command: string, options: ShellOptions): Promise<ShellResult> {
  return new Promise((resolve, reject) => {
    // child_process (and dgram, which it loads) only when a command runs: not in every run's start-up.
    const { spawn } = process.getBuiltinModule('node:child_process');
    const child = spawn(shellPath(), ['-c', command], {
      cwd: options.cwd,
      env: options.extraEnv ? { ...shellEnv(options.env ?? process.env, options.secrets), ...options.extraEnv } : shellEnv(options.env ?? process.env, options.secrets),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = new CappedOutput(options.headBytes, options.tailBytes);
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
    let timedOut = false;
    let aborted = false;
    let leftRunning = false;
    let done = false;
    let killTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      clearTimeout(drainTimer);
      options.signal?.removeEventListener('abort', onAbort);
      const { head, tail, omitted } = output.text();
      resolve({
        output: head + (omitted > 0 ? `\n\n… [${omitted} bytes omitted] …\n\n` : '') + tail,
        omittedBytes: omitted,
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        timedOut,
        aborted,
        leftRunning,
      });
    };
    /** Stop reading output that something outside our reach still holds open, and finish. */
    const drainLater = (): void => {
      drainTimer ??= setTimeout(() => {
        leftRunning = true;
        child.stdout.destroy();
        child.stderr.destroy();
        finish();
      }, DRAIN_MS);
    };
    const stop = (): void => {
      killGroup(child.pid, 'SIGTERM');
      killTimer ??= setTimeout(() => {
        killGroup(child.pid, 'SIGKILL');
        drainLater();
      }, KILL_GRACE_MS);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, options.timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      stop();
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });

    child.on('error', (error) => {
      done = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // Background children may keep the pipes open; stop waiting for them after a short drain.
      if (!timedOut && !aborted) drainLater();
    });
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      exit ??= { code, signal };
      finish();
    });
  });
}
