/**
 * Runs a command line in its own process group (`bash -c`, or `/bin/sh -c` without bash), with
 * stdout and stderr interleaved: the end of the output is kept in memory, and once the output
 * outgrows `spillAfterBytes` the whole of it is streamed to a file (`spill`), up to `spillCapBytes`.
 * A timeout or an abort kills the whole group: SIGTERM, then SIGKILL a second later.
 */
import { shellEnv } from './shell-env.ts';
import { existsSync, type WriteStream } from 'node:fs';

export interface ShellOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Values no variable passed to the command may hold (shellEnv). */
  secrets?: readonly string[];
  /** Variables set over that environment after its credentials were left out (the plugins' `shell.env`: theirs to give). */
  extraEnv?: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Output kept in memory: at most this many bytes from the end. */
  tailBytes: number;
  /** Once the output is longer than this (at most `tailBytes`), the whole of it goes to a file made by `spill`. */
  spillAfterBytes?: number;
  spill?: () => { path: string; stream: WriteStream };
  /** The file holds at most this many bytes (the start of the output). */
  spillCapBytes?: number;
}

export interface SpillFile {
  path: string;
  /** Bytes written to it (less than the output's when the cap was reached or writing failed). */
  bytes: number;
  /** Why writing stopped early, when it failed. */
  error?: string;
}

export interface ShellResult {
  /** The end of the output (all of it when `omittedBytes` is 0). */
  output: string;
  /** Bytes left out of the start of `output`. */
  omittedBytes: number;
  totalBytes: number;
  /** The file holding the whole output, when it outgrew `spillAfterBytes`. */
  file?: SpillFile;
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

/** The end of the output in memory; the whole of it in a file once it is long. */
class SpillingOutput {
  private tail: Buffer[] = [];
  private tailSize = 0;
  private readonly options: ShellOptions;
  private stream: WriteStream | undefined;
  file: SpillFile | undefined;
  omitted = 0;
  total = 0;
  constructor(options: ShellOptions) {
    this.options = options;
  }
  push(chunk: Buffer): void {
    this.total += chunk.length;
    this.tail.push(chunk);
    this.tailSize += chunk.length;
    const spillAfter = this.options.spillAfterBytes;
    if (this.file) this.write(chunk);
    else if (spillAfter !== undefined && this.options.spill && this.total > spillAfter) this.open(this.options.spill);
    while (this.tail.length > 1 && this.tailSize - (this.tail[0] as Buffer).length >= this.options.tailBytes) {
      const dropped = this.tail.shift() as Buffer;
      this.tailSize -= dropped.length;
      this.omitted += dropped.length;
    }
  }
  /** The file starts with everything so far: no byte has been dropped yet (the threshold is below the tail's size). */
  private open(spill: NonNullable<ShellOptions['spill']>): void {
    try {
      const { path, stream } = spill();
      this.stream = stream;
      this.file = { path, bytes: 0 };
      stream.on('error', (error: NodeJS.ErrnoException) => {
        if (this.file && !this.file.error) this.file.error = error.code ?? error.message;
        this.stream = undefined;
      });
    } catch (error) {
      this.file = { path: '', bytes: 0, error: (error as NodeJS.ErrnoException).code ?? (error as Error).message };
      return;
    }
    for (const held of this.tail) this.write(held);
  }
  private write(chunk: Buffer): void {
    if (!this.stream || !this.file || this.file.error) return;
    const room = (this.options.spillCapBytes ?? Number.POSITIVE_INFINITY) - this.file.bytes;
    if (room <= 0) return;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.stream.write(part);
    this.file.bytes += part.length;
  }
  /** Resolves once the file is closed (at once without one). */
  close(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    if (!stream) return Promise.resolve();
    return new Promise((resolve) => {
      stream.once('error', () => resolve());
      stream.end(() => resolve());
    });
  }
  text(): { tail: string; omitted: number } {
    let tail = Buffer.concat(this.tail);
    let omitted = this.omitted;
    if (tail.length > this.options.tailBytes) {
      omitted += tail.length - this.options.tailBytes;
      tail = tail.subarray(tail.length - this.options.tailBytes);
    }
    return { tail: tail.toString('utf8'), omitted };
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
    const output = new SpillingOutput(options);
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
      const { tail, omitted } = output.text();
      const result = {
        output: tail,
        omittedBytes: omitted,
        totalBytes: output.total,
        ...(output.file ? { file: output.file } : {}),
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        timedOut,
        aborted,
        leftRunning,
      };
      void output.close().then(() => resolve(result));
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
      void output.close();
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
