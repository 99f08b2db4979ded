/**
 * A real redis-server for tests: started on 127.0.0.1 and a free port, ready when it logs "Ready to
 * accept connections", stopped afterwards. It can be killed and started again on the same port and
 * data folder (append-only file, fsync on every write), as a restarted production server would be.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const hasRedisServer = (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
  try {
    fs.accessSync(path.join(dir, 'redis-server'), fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
});

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface TestRedis {
  port: number;
  /** `redis://[:password@]127.0.0.1:port`. */
  url: string;
  /** Ends the server with a signal (SIGKILL: as if the machine died) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and data folder; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it and removes its data folder. */
  stop(): Promise<void>;
}

/** Redis tests fail (not skip) without the server: CI installs it (.ci/run), and so should a developer. */
export function requireRedisServer(): void {
  if (!hasRedisServer) {
    throw new Error('redis-server is not on PATH: the Redis tests need it (Debian: apt-get install redis-server; .ci/run installs it).');
  }
}

export interface StartRedisOptions {
  password?: string;
  /** The append-only file's fsync policy: 'always' (default: every write on disk before the reply) or 'everysec' (Redis's own default). */
  appendfsync?: 'always' | 'everysec';
}

/** Notes a running server for the run's global teardown (redis-leftovers.ts), until it exits. */
function noteRunning(proc: ChildProcess): void {
  const dir = process.env.PANTHEON_TEST_REDIS_PIDS;
  if (!dir || proc.pid === undefined) return;
  const file = path.join(dir, String(proc.pid));
  fs.writeFileSync(file, '');
  proc.once('exit', () => fs.rmSync(file, { force: true }));
}

export async function startRedis(options: StartRedisOptions = {}): Promise<TestRedis> {
  requireRedisServer();
  let port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-redis-'));
  let child: ChildProcess | undefined;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', options.appendfsync ?? 'always'];
  if (options.password) args.push('--requirepass', options.password);

  const start = async (): Promise<void> => {
    const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    noteRunning(proc);
    await new Promise<void>((resolve, reject) => {
      let log = '';
      const onExit = (code: number | null): void => reject(new Error(`redis-server exited with ${code}: ${log}`));
      proc.once('error', reject);
      proc.once('close', onExit); // after its output is read: the reason is in it
      proc.stdout?.setEncoding('utf8');
      proc.stdout?.on('data', (chunk: string) => {
        log += chunk;
        if (log.includes('Ready to accept connections')) {
          proc.off('close', onExit);
          resolve();
        }
      });
    });
  };
  const kill = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill(signal);
    await exited;
  };
  // The port was free a moment ago; something else may have taken it since (a busy machine opens
  // many connections): then the first start fails with "Address already in use" and takes another port.
  for (let attempt = 1; ; attempt++) {
    try {
      await start();
      break;
    } catch (error) {
      if (attempt === 3 || !String(error).includes('Address already in use')) throw error;
      port = await freePort();
      args[1] = String(port);
    }
  }
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  return {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    kill,
    start,
    async stop() {
      await kill('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
