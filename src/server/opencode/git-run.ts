/**
 * Runs git for the server's routes (GET /file/status, the /vcs routes): without a shell, the
 * arguments a list the caller built (paths only after `--`), settings that keep a repository's own
 * config from running programs for a diff (`--no-ext-diff`, `--no-textconv` are the callers'),
 * without the optional locks a read would take, and bounded: at most `timeoutMs`, and at most
 * `maxBytes` of output kept (the rest is dropped and `truncated` says so; git is stopped).
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

/** git's answer, whatever its exit code; rejects only when git cannot be started. */
export function runGit(cwd: string, args: readonly string[], options: GitOptions = {}): Promise<GitResult> {
  const maxBytes = options.maxBytes ?? GIT_MAX_OUTPUT;
  return new Promise((resolve, reject) => {
    const child = spawn('git', [...SETTINGS, ...args], { cwd, stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: { ...process.env, GIT_OPTIONAL_LOCKS: '0', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' } });
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
