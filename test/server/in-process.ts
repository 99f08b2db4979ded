/**
 * An in-process server for tests that read its own state (subscriber counts, the host's event
 * stream): a temp project folder (a `.git` marks its root) with XDG folders of its own, a memory
 * ledger, 127.0.0.1 on a free port. `stop()` closes the server and removes the folder.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Host } from '../../src/core/host.ts';
import { MemoryLedger } from '../../src/scheduler/ledger-memory.ts';
import { startServer, type RunningServer } from '../../src/server/start.ts';
import type { ServerOptions } from '../../src/server/state.ts';

export interface InProcess {
  running: RunningServer;
  url: string;
  /** The project folder (also HOME). */
  dir: string;
  stop(): Promise<void>;
}

export async function startInProcess(prefix: string, heartbeatMs: number, options: Partial<ServerOptions> = {}): Promise<InProcess> {
  const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), `pantheon-${prefix}-`)));
  await fs.mkdir(path.join(dir, '.git'));
  const env = { HOME: dir, XDG_CONFIG_HOME: path.join(dir, 'c'), XDG_DATA_HOME: path.join(dir, 'd'), XDG_CACHE_HOME: path.join(dir, 'k') };
  const host = await Host.open({ cwd: dir, env, ledger: new MemoryLedger() });
  const running = await startServer(host, { hostname: '127.0.0.1', port: 0, cors: [], maxBodyBytes: 1 << 20, drainMs: 1000, debug: false, heartbeatMs, ...options }, { version: 'test', log: () => undefined });
  return {
    running,
    url: running.url,
    dir,
    async stop() {
      await running.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
