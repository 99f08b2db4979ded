/**
 * An MCP stdio client transport that owns its child process completely. Like the SDK's
 * StdioClientTransport (same framing: newline-delimited JSON through the SDK's
 * serializeMessage/deserializeMessage), plus what a long-lived CLI needs:
 * - the server runs in a process group of its own (POSIX), so `npx …`/`uvx …` wrappers and
 *   whatever they spawn are stopped together: no orphaned grandchildren;
 * - `killSync()` for `process.on('exit')`;
 * - the tail of its stderr and the first lines of non-JSON-RPC output are kept for error reasons;
 * - lines that are not JSON-RPC are skipped (servers that log to stdout still work).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { deserializeMessage, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

export interface ChildStdioOptions {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  /** After closing stdin, how long to wait for the server to exit before SIGTERM, then SIGKILL. */
  graceMs?: number;
}

const STDERR_TAIL = 2000;
const JUNK_LINES = 3;
const MAX_LINE = 10 * 1024 * 1024;
const POSIX = process.platform !== 'win32';

/** The exit of a child process, as observed. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ChildStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private readonly options: ChildStdioOptions;
  private pending = '';
  private child: ChildProcess | undefined;
  private stderrText = '';
  private readonly junk: string[] = [];
  private exitInfo: ChildExit | undefined;
  private exited: Promise<void> = Promise.resolve();
  private closing = false;
  private stopReason: string | undefined;
  /** Set once the whole process group has been killed after the server exited: never signal again. */
  private reaped = false;

  constructor(options: ChildStdioOptions) {
    this.options = options;
  }

  /** The child's pid once started (also after it exited), for status and tests. */
  pid: number | undefined;

  /** The last ~2 KB the server wrote on stderr. */
  stderrTail(): string {
    return this.stderrText;
  }

  /** Forgets the stderr seen so far (the start-up banner), so an exit later is described by what came after. */
  resetStderr(): void {
    this.stderrText = '';
  }

  /** The first lines the server wrote on stdout that were not JSON-RPC. */
  junkLines(): readonly string[] {
    return this.junk;
  }

  /** Why this transport stopped the server on its own (a message too large), if it did. */
  stopped(): string | undefined {
    return this.stopReason;
  }

  /** How the child ended, once it has. */
  exit(): ChildExit | undefined {
    return this.exitInfo;
  }

  start(): Promise<void> {
    if (this.child) throw new Error('ChildStdioTransport already started');
    return new Promise((resolve, reject) => {
      const child = spawn(this.options.command, this.options.args, {
        env: this.options.env,
        cwd: this.options.cwd,
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: POSIX,
        windowsHide: true,
      });
      this.child = child;
      this.exited = new Promise((done) => child.once('close', () => done()));
      child.once('error', (error) => {
        reject(error);
        this.onerror?.(error);
      });
      child.once('spawn', () => {
        this.pid = child.pid;
        resolve();
      });
      // The server (the group leader) exited: kill what is left of its group (a wrapper's children).
      child.once('exit', () => this.reap());
      child.once('close', (code, signal) => {
        this.exitInfo = { code, signal };
        this.child = undefined;
        this.reap();
        this.onclose?.();
      });
      child.stdin?.on('error', (error) => this.onerror?.(error));
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.onStdout(chunk));
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        this.stderrText = (this.stderrText + chunk).slice(-STDERR_TAIL);
      });
    });
  }

  private onStdout(chunk: string): void {
    // Only the new chunk is searched for line ends: a long line arriving in many chunks costs its length, not its square.
    let newline = chunk.indexOf('\n');
    if (newline === -1) {
      this.pending += chunk;
    } else {
      const first = this.pending + chunk.slice(0, newline);
      this.pending = '';
      this.onLine(first.replace(/\r$/, ''));
      for (let start = newline + 1; ; start = newline + 1) {
        newline = chunk.indexOf('\n', start);
        if (newline === -1) {
          this.pending = chunk.slice(start);
          break;
        }
        this.onLine(chunk.slice(start, newline).replace(/\r$/, ''));
      }
    }
    if (this.pending.length > MAX_LINE) {
      this.pending = '';
      this.stopReason ??= `sent a message larger than ${MAX_LINE / (1024 * 1024)} MB on stdout (the most one message may take) and was stopped`;
      this.onerror?.(new Error(`the server ${this.stopReason}`));
      void this.close();
    }
  }

  private onLine(line: string): void {
    if (!line.trim()) return;
    let message: JSONRPCMessage;
    try {
      message = deserializeMessage(line);
    } catch {
      // Not JSON-RPC (a log line, a banner, garbage): keep the first few for the error reason.
      if (this.junk.length < JUNK_LINES) this.junk.push(line.length > 200 ? `${line.slice(0, 200)}…` : line);
      return;
    }
    this.onmessage?.(message);
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      const stdin = this.child?.stdin;
      if (!stdin || stdin.destroyed) {
        reject(new Error('Not connected: the server process is not running'));
        return;
      }
      if (stdin.write(serializeMessage(message))) resolve();
      else stdin.once('drain', resolve);
    });
  }

  /** Ends stdin, waits `graceMs` for the server to exit, then SIGTERM, then SIGKILL, to the whole group. */
  async close(): Promise<void> {
    const child = this.child;
    if (!child || this.closing) {
      await this.exited;
      return;
    }
    this.closing = true;
    const grace = this.options.graceMs ?? 500;
    child.stdin?.end();
    if (!(await this.waitExit(grace))) {
      this.signal('SIGTERM');
      if (!(await this.waitExit(grace * 2))) {
        this.signal('SIGKILL');
        await this.exited;
      }
    }
    this.reap();
    this.pending = '';
  }

  /** SIGKILL to the server and its process group at once; for `process.on('exit')`. */
  killSync(): void {
    this.signal('SIGKILL');
  }

  private reap(): void {
    if (this.reaped) return;
    this.signal('SIGKILL');
    this.reaped = true;
  }

  private signal(signal: NodeJS.Signals): void {
    const pid = this.pid;
    if (pid === undefined || this.reaped) return;
    try {
      if (POSIX) process.kill(-pid, signal);
      else this.child?.kill(signal);
    } catch (error) {
      // ESRCH: the group is already gone, which is what we want.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }

  private async waitExit(ms: number): Promise<boolean> {
    if (this.exitInfo) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const done = await Promise.race([this.exited.then(() => true as const), timeout]);
    clearTimeout(timer);
    return done;
  }
}
