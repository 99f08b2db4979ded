import os from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Generous on purpose: a bound here only decides how soon a hang is reported. Tests that spawn
    // the CLI, `opencode serve`, MCP servers, Redis or Chromium take several times longer on a
    // loaded machine (load average 10–20 on 2 cores), and a test must not fail for that.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Kills any redis-server a test left running (one that timed out before its `stop`); gives the
    // run a temporary folder of its own, removed at the end (tests' sandboxes and what the
    // processes they start write there).
    globalSetup: ['test/support/temp-root.ts', 'test/support/redis-leftovers.ts'],
    // At least two files at a time, even on 2 cores (vitest's default there is one): most tests
    // wait on subprocesses and sockets, and one worker left the cores idle between files
    // (full suite on 2 cores: 542 s with one worker, 397 s with two, under load).
    maxWorkers: Math.max(2, os.availableParallelism()),
  },
});
