/**
 * Rate-limit fidelity: 60 tasks at maxRequests 10 / windowMs 2000 through the Scheduler over a
 * SqliteLedger in a temp dir — in one process, then split across 4 worker processes sharing the
 * ledger file. From the recorded attempt start times: over-limit starts (a start with more than
 * 10 starts, itself included, in the 2000 ms before it) and makespan ÷ ideal, where ideal =
 * (ceil(60/10) − 1) × 2000 ms from the first start to the last.
 *
 *   npx node bench/rate-fidelity.ts [--json]
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { MAX_REQUESTS, MODEL_KEY, WINDOW_MS, openRateRunner } from './support/rate-tasks.ts';
import { against, runBench } from './support/report.ts';
import type { Row } from './support/report.ts';

const TASKS = 60;
const PROCESSES = 4;
const IDEAL_MS = (Math.ceil(TASKS / MAX_REQUESTS) - 1) * WINDOW_MS;
const MAKESPAN_GOAL = 1.05;

export interface Fidelity {
  starts: number;
  overLimit: number;
  /** The shortest time spanned by MAX_REQUESTS + 1 consecutive starts (≥ WINDOW_MS when none is over). */
  tightestSpanMs: number;
  makespanMs: number;
}

export function analyse(times: readonly number[]): Fidelity {
  const s = [...times].sort((a, b) => a - b);
  let overLimit = 0;
  let tightest = Number.POSITIVE_INFINITY;
  for (let i = MAX_REQUESTS; i < s.length; i++) {
    const span = (s[i] as number) - (s[i - MAX_REQUESTS] as number);
    tightest = Math.min(tightest, span);
    if (span < WINDOW_MS) overLimit += 1;
  }
  return { starts: s.length, overLimit, tightestSpanMs: tightest, makespanMs: (s.at(-1) ?? 0) - (s[0] ?? 0) };
}

async function inProcess(ledgerPath: string): Promise<number[]> {
  const runner = await openRateRunner(ledgerPath);
  try {
    return await runner.run(TASKS);
  } finally {
    await runner.close();
  }
}

function lines(child: ChildProcessWithoutNullStreams, onLine: (line: string) => void): void {
  let rest = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString()).split('\n');
    rest = parts.pop() ?? '';
    parts.forEach(onLine);
  });
}

/** Starts the workers, waits until every one has its ledger open, then says `go` to all at once. */
async function acrossProcesses(ledgerPath: string): Promise<number[]> {
  const worker = path.join(import.meta.dirname, 'fixtures', 'rate-worker.ts');
  const share = (i: number) => Math.floor(TASKS / PROCESSES) + (i < TASKS % PROCESSES ? 1 : 0);
  const children = Array.from({ length: PROCESSES }, (_, i) => spawn(process.execPath, [worker, ledgerPath, String(share(i))], { stdio: 'pipe' }));
  const handles = children.map((child, i) => {
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let markReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    const starts = new Promise<number[]>((resolve, reject) => {
      let parsed: number[] | undefined;
      lines(child, (line) => {
        if (line === 'ready') markReady();
        else if (line.startsWith('[')) parsed = JSON.parse(line) as number[];
      });
      child.on('close', (code) => {
        if (code === 0 && parsed) resolve(parsed);
        else reject(new Error(`rate worker ${i}: exit ${String(code)}\n${stderr}`));
      });
    });
    return { ready, starts };
  });
  // A worker that dies before `ready` must fail the bench, not leave the others waiting for `go`.
  try {
    await Promise.race([Promise.all(handles.map((h) => h.ready)), Promise.all(handles.map((h) => h.starts))]);
  } catch (error) {
    for (const child of children) child.kill();
    throw error;
  }
  for (const child of children) child.stdin.end('go\n');
  return (await Promise.all(handles.map((h) => h.starts))).flat();
}

/**
 * The start times the ledger itself recorded (integer ms, taken under its write lock), read from
 * its file after the run: shows whether the ledger's decisions were right when the attempt times
 * say otherwise. Reads the SQLite ledger's `starts` table directly.
 */
function ledgerStarts(ledgerPath: string): number[] {
  const db = new DatabaseSync(ledgerPath, { readOnly: true });
  try {
    const rows = db.prepare('SELECT t FROM starts WHERE key = ? ORDER BY t').all(MODEL_KEY) as { t: number }[];
    return rows.map((r) => r.t);
  } finally {
    db.close();
  }
}

function rows(label: string, f: Fidelity, ledger: Fidelity): Row[] {
  const ratio = f.makespanMs / IDEAL_MS;
  return [
    {
      bench: 'rate limit',
      case: `${TASKS} tasks at ${MAX_REQUESTS}/${WINDOW_MS} ms, ${label}: over-limit starts`,
      result: `${f.overLimit} of ${f.starts} attempt starts (tightest ${MAX_REQUESTS + 1} starts span ${f.tightestSpanMs.toFixed(1)} ms); ledger's own times: ${ledger.overLimit} over (tightest ${ledger.tightestSpanMs} ms)`,
      figure: String(f.overLimit),
      goal: '0',
      ...(f.overLimit === 0 ? { met: true } : { met: false, miss: `${f.overLimit} over` }),
    },
    {
      bench: 'rate limit',
      case: `${TASKS} tasks at ${MAX_REQUESTS}/${WINDOW_MS} ms, ${label}: makespan`,
      result: `${f.makespanMs.toFixed(0)} ms first → last start (ideal ${IDEAL_MS} ms)`,
      figure: `${ratio.toFixed(3)}× ideal`,
      goal: `≤ ${MAKESPAN_GOAL}×`,
      ...against(ratio, MAKESPAN_GOAL),
    },
  ];
}

async function body(): Promise<{ rows: Row[]; notes: string[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-bench-rate-'));
  try {
    process.stderr.write(`rate-fidelity: ${TASKS} tasks in 1 process, then across ${PROCESSES} (about ${(2 * IDEAL_MS) / 1000} s)\n`);
    const onePath = path.join(dir, 'one.sqlite');
    const manyPath = path.join(dir, 'shared.sqlite');
    const one = analyse(await inProcess(onePath));
    const many = analyse(await acrossProcesses(manyPath));
    const oneLedger = analyse(ledgerStarts(onePath));
    const manyLedger = analyse(ledgerStarts(manyPath));
    for (const f of [one, many, oneLedger, manyLedger]) {
      if (f.starts !== TASKS) throw new Error(`rate-fidelity: ${f.starts} starts recorded, expected ${TASKS}`);
    }
    const notes = [
      `rate limit: start = when the scheduler called the attempt (wall clock, sub-ms), which is what a provider sees; the ledger's own start times (its \`starts\` table) are shown beside them; a start is over the limit when it and the ${MAX_REQUESTS} before it fall within ${WINDOW_MS} ms; fresh ledger file per mode; the ${PROCESSES} workers get \`go\` together once all have the ledger open.`,
    ];
    return { rows: [...rows('1 process', one, oneLedger), ...rows(`${PROCESSES} processes`, many, manyLedger)], notes };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await runBench(body);

export { body as rateFidelityBench };
