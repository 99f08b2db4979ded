/**
 * Runs the whole test suite again and again while CPU hogs keep every core busy, and stops at the
 * first failing run: the suite must pass on a loaded machine, every time (a test that fails one run
 * in twenty blocks a landing sooner or later). Builds once first.
 *
 *   npm run test:stress -- [--runs N] [--hogs N]      (default 20 runs, one hog per core)
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  return Number.isInteger(value) && value >= 0 ? value : fallback;
};
const RUNS = arg('--runs', 20);
const HOGS = arg('--hogs', os.availableParallelism());
const root = path.resolve(import.meta.dirname, '..');
const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
const logDir = path.join(root, '.tmp', 'stress');

function startHogs(): ChildProcess[] {
  return Array.from({ length: HOGS }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

function runSuite(log: string): Promise<number> {
  return new Promise((resolve) => {
    const out = fs.openSync(log, 'w');
    const child = spawn(process.execPath, [vitest, 'run'], { cwd: root, stdio: ['ignore', out, out], env: { ...process.env, NO_COLOR: '1' } });
    child.on('close', (code) => {
      fs.closeSync(out);
      resolve(code ?? 1);
    });
  });
}

const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
fs.mkdirSync(logDir, { recursive: true });
const hogs = startHogs();
const stop = (): void => {
  for (const hog of hogs) hog.kill('SIGKILL');
};
process.on('SIGINT', () => {
  stop();
  process.exit(130);
});
let passed = 0;
try {
  for (let i = 1; i <= RUNS; i++) {
    const started = performance.now();
    const log = path.join(logDir, `run-${i}.log`);
    const code = await runSuite(log);
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    const load = os.loadavg().map((n) => n.toFixed(1)).join(' ');
    if (code !== 0) {
      process.stdout.write(`run ${i}: FAILED after ${seconds} s (load ${load}); log: ${path.relative(root, log)}\n`);
      const failed = fs.readFileSync(log, 'utf8').split('\n').filter((l) => / FAIL | × /.test(l));
      process.stdout.write(`${failed.slice(0, 20).join('\n')}\n`);
      break;
    }
    passed += 1;
    process.stdout.write(`run ${i}: passed in ${seconds} s (load ${load})\n`);
  }
} finally {
  stop();
}
process.stdout.write(`${passed} of ${RUNS} runs passed in a row with ${HOGS} CPU hogs.\n`);
process.exitCode = passed === RUNS ? 0 : 1;
