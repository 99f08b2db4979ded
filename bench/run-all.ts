/**
 * Runs every benchmark in sequence, each in its own process, and prints one markdown table ready
 * for the README, with the date, Node version, `nproc` and the load average.
 * `npm run bench` builds first; run directly, build with `npm run build` before.
 *
 *   node bench/run-all.ts [--quick]   (--quick: fewer runs in the benches that take it)
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadAverage } from './support/measure.ts';
import { environmentLine, markdownTable } from './support/report.ts';
import type { BenchOutput } from './support/report.ts';

const BENCHES = ['startup.ts', 'run-vs-fetch.ts', 'scheduler-overhead.ts', 'parallel-runs.ts', 'rate-fidelity.ts', 'limit-under-load.ts', 'doctor.ts', 'tool-loop.ts', 'workflow-fanout.ts', 'serve.ts', 'gateway.ts', 'gateway-gc.ts', 'dashboard.ts', 'state-stores.ts'];

const QUICK = process.argv.includes('--quick');

function runJson(file: string): Promise<BenchOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(import.meta.dirname, file), '--json', ...(QUICK ? ['--quick'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${file} exited with ${String(code)}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as BenchOutput);
      } catch (error) {
        reject(new Error(`${file} printed no JSON result: ${error instanceof Error ? error.message : String(error)}`));
      }
    });
  });
}

const root = path.resolve(import.meta.dirname, '..');
if (!fs.existsSync(path.join(root, 'dist', 'bin', 'opencode.cjs'))) {
  process.stderr.write('dist/ is missing: run `npm run build` first (or `npm run bench`).\n');
  process.exit(2);
}
const started = performance.now();
const before = loadAverage();
const results: BenchOutput[] = [];
for (const file of BENCHES) results.push(await runJson(file));
const after = loadAverage();
const loads = results.map((r, i) => `${BENCHES[i]?.replace(/\.ts$/, '')} ${r.load.before} → ${r.load.after}`);
process.stdout.write(
  [
    '',
    environmentLine(`${before} → ${after}`),
    '',
    markdownTable(results.flatMap((r) => r.rows)),
    '',
    ...results.flatMap((r) => r.notes).map((n) => `- ${n}`),
    `- load average (1, 5, 15 min) per bench: ${loads.join('; ')}. Whole set: ${((performance.now() - started) / 1000).toFixed(0)} s.`,
    '',
  ].join('\n'),
);
