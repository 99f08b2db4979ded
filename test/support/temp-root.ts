/**
 * Vitest's global setup: one folder for everything the run's tests and the processes they start
 * write to the system's temporary folder (`TMPDIR`, which `os.tmpdir()` reads, passed to the forks
 * and from them to every CLI, server and MCP process they spawn), removed once every test file has
 * run. Tests make their sandboxes with `mkdtemp` and many do not remove them: without this a run
 * left ~400 folders in /tmp.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-tests-'));
  process.env.TMPDIR = dir;
  return () => {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
}
