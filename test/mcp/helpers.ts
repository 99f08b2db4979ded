/**
 * Test helpers: paths of the real MCP servers from npm and of the fixtures, process checks, and
 * server-everything started over HTTP on a free port (ready when it says it listens).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { McpConfig } from '../../src/config/schema-types.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const pkg = (name: string) => path.join(repoRoot, 'node_modules', '@modelcontextprotocol', name, 'dist', 'index.js');
export const EVERYTHING = pkg('server-everything');
export const FILESYSTEM = pkg('server-filesystem');
export const MEMORY = pkg('server-memory');
export const fixture = (name: string): string => path.join(import.meta.dirname, 'fixtures', name);

/**
 * The start bound for tests that are not about timeouts (`timeout` bounds the start and each call).
 * server-everything answers `initialize` in 0.3 s on a quiet machine and took 1–3 s at load
 * average 16 on 2 cores, so the default 5 s failed a start now and then.
 */
export const START_TIMEOUT_MS = 30_000;

/** server-everything over stdio, run by this Node, with a start bound for a loaded machine. */
export function everythingStdio(extra: Partial<McpConfig> = {}): McpConfig {
  return { type: 'local', command: [process.execPath, EVERYTHING, 'stdio'], timeout: START_TIMEOUT_MS, ...extra };
}

/** True while `pid` is a live process (a zombie counts as dead). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return true;
  try {
    return readFileSync(stat, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * Polls `check` every 20 ms until it holds; fails after `ms`. The bound only tells "never" from
 * "soon": a process that should be gone, or spawned, takes seconds to be so on a loaded machine.
 */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function tempDir(prefix = 'pantheon-mcp-'): Promise<string> {
  return fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), prefix)));
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface HttpEverything {
  url: string;
  child: ChildProcess;
  close(): Promise<void>;
}

/** server-everything over `streamableHttp` (URL …/mcp) or `sse` (URL …/sse), ready once it says it listens. */
export async function startHttpEverything(mode: 'streamableHttp' | 'sse'): Promise<HttpEverything> {
  const port = await freePort();
  const child = spawn(process.execPath, [EVERYTHING, mode], { env: { PATH: process.env.PATH ?? '', PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`server-everything ${mode} did not start: ${err}`)), START_TIMEOUT_MS);
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
      if (/listening on port|running on port/i.test(err)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server-everything ${mode} exited (${String(code)}): ${err}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}/${mode === 'sse' ? 'sse' : 'mcp'}`,
    child,
    async close() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
