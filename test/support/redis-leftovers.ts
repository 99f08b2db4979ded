/**
 * Vitest's global setup: a folder where test/support/redis-server.ts notes each redis-server it
 * starts (a file per process id, removed when the server exits), and, once every test file has run,
 * the servers still noted killed. A test that times out never reaches its `stop`, and vitest ends
 * its fork with a signal, which runs no exit hook: without this its server would outlive the run.
 * The folder is this run's own (passed to the forks in PANTHEON_TEST_REDIS_PIDS), so runs side by
 * side never touch each other's servers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-test-redis-'));
  process.env.PANTHEON_TEST_REDIS_PIDS = dir;
  return () => {
    for (const name of fs.readdirSync(dir)) {
      try {
        process.kill(Number(name), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
