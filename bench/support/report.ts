/**
 * Benchmark results as rows of one markdown table, shared by every bench and by run-all.
 * A bench started with `--json` prints its rows as JSON on stdout (run-all collects them);
 * otherwise it prints the table. Progress and notes go to stderr.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { loadAverage } from './measure.ts';

export interface Row {
  bench: string;
  case: string;
  /** What was measured, e.g. `42 ms · 48 MiB`. */
  result: string;
  /** The figure the goal is about, e.g. `2.8× node -e 0`. */
  figure: string;
  goal: string;
  /** undefined: no goal on this line. */
  met?: boolean;
  /** By how much a goal was missed, e.g. `+12%`. */
  miss?: string;
}

export interface BenchOutput {
  rows: Row[];
  /** Extra lines for the reader (what was chosen, what dominates). */
  notes: string[];
  /** Load average seen at the start and end of the bench. */
  load: { before: string; after: string };
}

/** `met` and, when missed, by how much (`+12%` over an upper bound). */
export function against(value: number, bound: number): Pick<Row, 'met' | 'miss'> {
  return value <= bound ? { met: true } : { met: false, miss: `+${(((value - bound) / bound) * 100).toFixed(0)}%` };
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

export function markdownTable(rows: readonly Row[]): string {
  const lines = ['| Benchmark | Case | Result | Figure | Goal | Met |', '|---|---|---|---|---|---|'];
  for (const r of rows) {
    const met = r.met === undefined ? '' : r.met ? '✓' : `✗ (${r.miss ?? 'missed'})`;
    lines.push(`| ${[r.bench, r.case, r.result, r.figure, r.goal, met].map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}

export function nproc(): string {
  try {
    return execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch (error) {
    return `${os.availableParallelism()} (nproc failed: ${error instanceof Error ? error.message : String(error)})`;
  }
}

export function environmentLine(load: string): string {
  return `${new Date().toISOString().slice(0, 10)} · Node ${process.version} · nproc ${nproc()} · load average ${load}`;
}

/** Something a bench needs is missing (a build, a tool): said in one line by runBench, not as a stack trace. */
export class BenchSetupError extends Error {}

/** Throws BenchSetupError unless the CLI bundle of the checkout at `root` is built. */
export function assertBuilt(root: string): void {
  if (!fs.existsSync(path.join(root, 'dist', 'bin', 'opencode.cjs'))) throw new BenchSetupError(`${path.join(root, 'dist')} is missing: run \`npm run build\` first.`);
}

/** Runs a bench's body and prints its result: JSON with `--json`, else a markdown table. */
export async function runBench(body: () => Promise<{ rows: Row[]; notes: string[] }>): Promise<void> {
  const before = loadAverage();
  let result: { rows: Row[]; notes: string[] };
  try {
    result = await body();
  } catch (error) {
    if (!(error instanceof BenchSetupError)) throw error;
    process.stderr.write(`error: ${error.message}\n`);
    process.exitCode = 2;
    return;
  }
  const { rows, notes } = result;
  const output: BenchOutput = { rows, notes, load: { before, after: loadAverage() } };
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(output)}\n`);
    return;
  }
  process.stdout.write(`${environmentLine(`${before} → ${output.load.after}`)}\n\n${markdownTable(rows)}\n`);
  if (notes.length) process.stdout.write(`\n${notes.map((n) => `- ${n}`).join('\n')}\n`);
}
