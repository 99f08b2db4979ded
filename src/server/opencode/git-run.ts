/**
 * Runs git for the server's routes (GET /file/status, the /vcs routes): without a shell, the
 * arguments a list the caller built (paths only after `--`), settings that keep a repository's own
 * config from running programs for a diff (`--no-ext-diff`, `--no-textconv` are the callers'),
 * without the optional locks a read would take, and bounded: at most `timeoutMs`, and at most
 * `maxBytes` of output kept (the rest is dropped and `truncated` says so; git is stopped) — or, for
 * a list, its first records read as they come (`gitRecords`).
 */
import { spawn } from 'node:child_process';

/** OpenCode's settings for every git it runs (paths as they are, no fsmonitor hook, no CRLF rewriting). */
const SETTINGS = ['--no-optional-locks', '-c', 'core.autocrlf=false', '-c', 'core.fsmonitor=false', '-c', 'core.quotepath=false', '-c', 'core.symlinks=true'];
export const GIT_TIMEOUT_MS = 10_000;
export const GIT_MAX_OUTPUT = 16 * 1024 * 1024;
/** Kept of stderr, for the sentence a failure gives. */
const STDERR_BYTES = 4096;

export interface GitResult {
  /** git's exit code (null when it was stopped). */
  code: number | null;
  stdout: Buffer;
  stderr: string;
  /** Output past `maxBytes` was dropped. */
  truncated: boolean;
  /** Stopped after `timeoutMs`. */
  timedOut: boolean;
}

export interface GitOptions {
  maxBytes?: number;
  timeoutMs?: number;
  /** Written to git's stdin (else it gets none). */
  stdin?: string;
}

function spawnGit(cwd: string, args: readonly string[], stdin: 'ignore' | 'pipe') {
  return spawn('git', [...SETTINGS, ...args], { cwd, stdio: [stdin, 'pipe', 'pipe'], env: { ...process.env, GIT_OPTIONAL_LOCKS: '0', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' } });
}

/** git's answer, whatever its exit code; rejects only when git cannot be started. */
export function runGit(cwd: string, args: readonly string[], options: GitOptions = {}): Promise<GitResult> {
  const maxBytes = options.maxBytes ?? GIT_MAX_OUTPUT;
  return new Promise((resolve, reject) => {
    const child = spawnGit(cwd, args, options.stdin === undefined ? 'ignore' : 'pipe');
    const chunks: Buffer[] = [];
    let kept = 0;
    let truncated = false;
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? GIT_TIMEOUT_MS);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (truncated) return;
      if (kept + chunk.length > maxBytes) {
        chunks.push(chunk.subarray(0, maxBytes - kept));
        kept = maxBytes;
        truncated = true;
        child.kill('SIGKILL');
        return;
      }
      chunks.push(chunk);
      kept += chunk.length;
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < STDERR_BYTES) stderr += chunk.toString('utf8').slice(0, STDERR_BYTES - stderr.length);
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: truncated || timedOut ? null : code, stdout: Buffer.concat(chunks), stderr, truncated, timedOut });
    });
    if (options.stdin !== undefined && child.stdin) {
      // git may exit before reading it all (a patch it refuses): the broken pipe is its answer, not ours.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.stdin);
    }
  });
}

/** The first line of git's complaint, for a sentence (control characters dropped). */
export function gitComplaint(result: GitResult): string {
  if (result.timedOut) return 'git took too long and was stopped';
  const line = result.stderr.split('\n').find((l) => l.trim() !== '') ?? `git exited with code ${String(result.code)}`;
  return line.replace(/\p{Cc}/gu, ' ').trim().slice(0, 300);
}

/** Longest one record of a list may be (a path is at most a few KiB); a longer one fails the call. */
const MAX_RECORD_BYTES = 1024 * 1024;

/**
 * The first `max` NUL-terminated records of `git ARGS` (`-z` output, UTF-8), read as they come, and
 * whether there were more: git is stopped then, so a repository with a million changed files costs
 * what its first records cost, never its whole output held in memory. Rejects with git's complaint
 * when it fails or takes longer than `timeoutMs`.
 */
export function gitRecords(cwd: string, args: readonly string[], max: number, timeoutMs = GIT_TIMEOUT_MS): Promise<{ records: string[]; more: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawnGit(cwd, args, 'ignore');
    const records: string[] = [];
    let partial: Buffer[] = [];
    let partialBytes = 0;
    let stderr = '';
    let settled = false;
    const finish = (outcome: { records: string[]; more: boolean } | Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const timer = setTimeout(() => finish(new Error(`git ${String(args[0])} failed: no answer in ${timeoutMs / 1000} s`)), timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (settled) return;
      let start = 0;
      for (let nul = chunk.indexOf(0); nul !== -1; nul = chunk.indexOf(0, start)) {
        partial.push(chunk.subarray(start, nul));
        records.push(Buffer.concat(partial).toString('utf8'));
        partial = [];
        partialBytes = 0;
        start = nul + 1;
        if (records.length > max) {
          records.length = max;
          finish({ records, more: true });
          return;
        }
      }
      partial.push(chunk.subarray(start));
      partialBytes += chunk.length - start;
      if (partialBytes > MAX_RECORD_BYTES) finish(new Error(`git ${String(args[0])} failed: a record of its output is over ${MAX_RECORD_BYTES / 1024 / 1024} MiB`));
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < STDERR_BYTES) stderr += chunk.toString('utf8').slice(0, STDERR_BYTES - stderr.length);
    });
    child.on('error', (error) => finish(new Error(`git ${String(args[0])} failed: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) {
        // Output that does not end with a NUL: its last record still counts.
        const tail = Buffer.concat(partial).toString('utf8');
        if (tail) records.push(tail);
        finish(records.length > max ? { records: records.slice(0, max), more: true } : { records, more: false });
        return;
      }
      const why = stderr.split('\n').find((l) => l.trim() !== '')?.replace(/\p{Cc}/gu, ' ').trim().slice(0, 300) || (signal ? `stopped by ${signal}` : `exit code ${String(code)}`);
      finish(new Error(`git ${String(args[0])} failed: ${why}`));
    });
  });
}
