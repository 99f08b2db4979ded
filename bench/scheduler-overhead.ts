/**
 * What the scheduler adds per task: 10,000 tasks against an in-process model that answers at
 * once, through `Scheduler.execute` (MemoryLedger, a model with no limits, the lease released
 * after each task) vs the same tasks through a bare p-queue. Both sides are fed through a
 * p-queue of concurrency 64, so the only difference is the scheduler's own work per task.
 * Extra line: the same through a SqliteLedger in a temp dir (what the CLI uses). Then both again
 * with a limit that never binds (`rpm: 1,000,000`): every task is admitted, marked sent and
 * released in the ledger, as with any configured limit.
 *
 * Goals (issue #18): MemoryLedger ≤ 1.5×, SqliteLedger ≤ 2× the bare p-queue.
 *
 *   npx node bench/scheduler-overhead.ts [--json] [--reps N | --quick]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import PQueue from 'p-queue';
import { DEFAULT_RETRY } from '../src/scheduler/retry-policy.ts';
import { MemoryLedger } from '../src/scheduler/ledger-memory.ts';
import { SqliteLedger } from '../src/scheduler/ledger-sqlite.ts';
import type { Ledger } from '../src/scheduler/ledger.ts';
import { Scheduler } from '../src/scheduler/scheduler.ts';
import type { ScheduledModel } from '../src/scheduler/scheduler.ts';
import { median } from './support/measure.ts';
import { against, runBench } from './support/report.ts';
import type { Row } from './support/report.ts';

const TASKS = 10_000;
const CONCURRENCY = 64;
const repsArg = process.argv.indexOf('--reps');
const REPS = repsArg > 0 ? Number(process.argv[repsArg + 1]) : process.argv.includes('--quick') ? 3 : 9;
/**
 * Rounds of every case before measuring: V8 compiles the scheduler's and the ledgers' paths over
 * the first rounds (a round of 10k tasks takes 2–8× as long until then on a slow machine), and a
 * long-lived process (serve, the gateway) runs them warm. The bare p-queue is warmed alike.
 */
const WARMUP = process.argv.includes('--quick') ? 3 : 10;
const MEMORY_GOAL = 1.5;
const SQLITE_GOAL = 2;

const model: ScheduledModel = { label: 'bench/instant', provider: 'bench', key: 'model:bench/instant', windows: [], tokens: [], concurrency: [] };
/** A configured limit the run never reaches: checked and recorded on every task. */
const limited: ScheduledModel = { ...model, label: 'bench/limited', key: 'model:bench/limited', windows: [{ key: 'model:bench/limited', maxRequests: 1_000_000, windowMs: 60_000 }] };
const instant = async (): Promise<string> => 'ok';

function check(results: string[]): void {
  if (results.length !== TASKS || results.some((r) => r !== 'ok')) throw new Error('scheduler-overhead: a task did not answer');
}

async function bare(): Promise<number> {
  const queue = new PQueue({ concurrency: CONCURRENCY });
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: TASKS }, () => queue.add(instant)));
  const ms = performance.now() - started;
  check(results);
  return ms;
}

async function scheduled(ledger: Ledger, on: ScheduledModel = model): Promise<number> {
  const scheduler = new Scheduler({ ledger, retry: DEFAULT_RETRY, cooldown: { afterFailures: 3, ms: 60_000 } });
  const ctx = { emit: () => undefined };
  const queue = new PQueue({ concurrency: CONCURRENCY });
  const task = async (): Promise<string> => {
    const { value, lease } = await scheduler.execute([on], async (_m, l) => {
      // What the provider fetch does when a response begins (lease.ts markingSends).
      await l.markSent();
      return instant();
    }, ctx);
    await lease.release();
    return value;
  };
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: TASKS }, () => queue.add(task)));
  const ms = performance.now() - started;
  check(results);
  return ms;
}

async function body(): Promise<{ rows: Row[]; notes: string[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-bench-sched-'));
  try {
    const bareMs: number[] = [];
    const memMs: number[] = [];
    const sqlMs: number[] = [];
    const memLimMs: number[] = [];
    const sqlLimMs: number[] = [];
    const sqlite = await SqliteLedger.open(path.join(dir, 'ledger.sqlite'));
    process.stderr.write(`scheduler-overhead: ${TASKS} tasks × (${WARMUP} warm-up + ${REPS} measured rounds) `);
    // Warm-up rounds of every case, then measured ones; the cases alternate within each round, so
    // load falls on all alike.
    for (let i = 0; i < WARMUP + REPS; i++) {
      const measured = i >= WARMUP;
      const times = [await bare(), await scheduled(new MemoryLedger()), await scheduled(new MemoryLedger(), limited), await scheduled(sqlite), await scheduled(sqlite, limited)];
      if (measured) [bareMs, memMs, memLimMs, sqlMs, sqlLimMs].forEach((list, j) => list.push(times[j] as number));
      process.stderr.write(measured ? '.' : ',');
    }
    process.stderr.write('\n');
    await sqlite.close();
    const b = median(bareMs);
    const m = median(memMs);
    const s = median(sqlMs);
    const ml = median(memLimMs);
    const sl = median(sqlLimMs);
    const perTask = (ms: number) => `${(((ms - b) / TASKS) * 1000).toFixed(1)} µs/task over p-queue`;
    const rows: Row[] = [
      { bench: 'scheduler', case: `${TASKS.toLocaleString('en')} instant tasks, bare p-queue (baseline)`, result: `${b.toFixed(0)} ms`, figure: '1×', goal: '' },
      {
        bench: 'scheduler',
        case: `same through \`Scheduler.execute\`, MemoryLedger`,
        result: `${m.toFixed(0)} ms (${perTask(m)})`,
        figure: `${(m / b).toFixed(2)}× bare p-queue`,
        goal: `≤ ${MEMORY_GOAL}×`,
        ...against(m / b, MEMORY_GOAL),
      },
      {
        bench: 'scheduler',
        case: `same through \`Scheduler.execute\`, SqliteLedger`,
        result: `${s.toFixed(0)} ms (${perTask(s)})`,
        figure: `${(s / b).toFixed(2)}× bare p-queue`,
        goal: `≤ ${SQLITE_GOAL}×`,
        ...against(s / b, SQLITE_GOAL),
      },
      {
        bench: 'scheduler',
        case: `same with \`rpm: 1,000,000\` (admitted, marked sent, released in the ledger; never binds), MemoryLedger`,
        result: `${ml.toFixed(0)} ms (${perTask(ml)})`,
        figure: `${(ml / b).toFixed(2)}× bare p-queue`,
        goal: `≤ ${MEMORY_GOAL}×`,
        ...against(ml / b, MEMORY_GOAL),
      },
      {
        bench: 'scheduler',
        case: `same with \`rpm: 1,000,000\`, SqliteLedger (the starts of every round kept: ${(TASKS * (WARMUP + REPS)).toLocaleString('en')} at the end)`,
        result: `${sl.toFixed(0)} ms (${perTask(sl)})`,
        figure: `${(sl / b).toFixed(2)}× bare p-queue`,
        goal: `≤ ${SQLITE_GOAL}×`,
        ...against(sl / b, SQLITE_GOAL),
      },
    ];
    const notes = [
      `scheduler: concurrency ${CONCURRENCY} on both sides (an outer p-queue; the model itself has no limits, so the scheduler never waits); the lease is released after every task; medians of ${REPS} rounds after ${WARMUP} warm-up rounds of every case, in one process.`,
    ];
    return { rows, notes };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await runBench(body);

export { body as schedulerOverheadBench };
