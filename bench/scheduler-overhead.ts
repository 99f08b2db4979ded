/**
 * What the scheduler adds per task: 10,000 tasks against an in-process model that answers at
 * once, through `Scheduler.execute` (MemoryLedger, a model with no limits, the lease released
 * after each task) vs the same tasks through a bare p-queue. Both sides are fed through a
 * p-queue of concurrency 64, so the only difference is the scheduler's own work per task.
 * Extra line: the same through a SqliteLedger in a temp dir (what the CLI uses). Then both again
 * with a limit that never binds (`rpm: 1,000,000`): every task is admitted, marked sent and
 * released in the ledger, as with any configured limit. For scale, the floor (the same calls
 * through a scheduler that does nothing) and, with SQLite, a model without limits with learning on
 * (the default: an admission reads the model's learned limits first).
 *
 * Goals (issue #18): MemoryLedger ≤ 1.5×, SqliteLedger ≤ 2× the bare p-queue.
 *
 *   npx node bench/scheduler-overhead.ts [--json] [--reps N | --quick]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
/** Processes each case runs in (a fresh V8 each: see `body`). */
const PROCESSES = process.argv.includes('--quick') ? 2 : 5;
const MEMORY_GOAL = 1.5;
const SQLITE_GOAL = 2;

const model: ScheduledModel = { label: 'bench/instant', provider: 'bench', key: 'model:bench/instant', windows: [], tokens: [], concurrency: [] };
/** A configured limit the run never reaches: checked and recorded on every task. */
const limited: ScheduledModel = { ...model, label: 'bench/limited', key: 'model:bench/limited', windows: [{ key: 'model:bench/limited', maxRequests: 1_000_000, windowMs: 60_000 }] };
/** No configured limit, learning on (`rateLimit.learn`, the default): each admission reads the limits learned for the model. */
const learning: ScheduledModel = { ...model, label: 'bench/learning', key: 'model:bench/learning', learnKey: 'learned:bench/learning' };
const instant = async (): Promise<string> => 'ok';

function check(results: string[]): void {
  if (results.length !== TASKS || results.some((r) => r !== 'ok')) throw new Error('scheduler-overhead: a task did not answer');
}

/** Runs TASKS of `task` through a p-queue of CONCURRENCY (a process measures one case, so its calls see one task); the wall ms. */
async function timed(task: () => Promise<string>): Promise<number> {
  const queue = new PQueue({ concurrency: CONCURRENCY });
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: TASKS }, () => queue.add(task)));
  const ms = performance.now() - started;
  check(results);
  return ms;
}

function bare(): Promise<number> {
  return timed(instant);
}

/**
 * The floor: the same calls through a scheduler that does nothing (an async `execute` that calls the
 * attempt and answers value, lease and model; a lease whose `markSent` and `release` answer a
 * resolved promise): what the calling shape itself costs over the bare p-queue.
 */
async function floor(): Promise<number> {
  const resolved = Promise.resolve();
  const lease = { markSent: () => resolved, release: () => resolved };
  const execute = async <T>(chain: ScheduledModel[], attempt: (m: ScheduledModel, l: typeof lease) => Promise<T>) => {
    const m = chain[0] as ScheduledModel;
    const value = await attempt(m, lease);
    await resolved;
    return { value, lease, model: m };
  };
  const task = async (): Promise<string> => {
    const { value, lease: l } = await execute([model], async (_m, held) => {
      await held.markSent();
      return instant();
    });
    await l.release();
    return value;
  };
  return timed(task);
}

async function scheduled(ledger: Ledger, on: ScheduledModel = model): Promise<number> {
  const scheduler = new Scheduler({ ledger, retry: DEFAULT_RETRY, cooldown: { afterFailures: 3, ms: 60_000 } });
  const ctx = { emit: () => undefined };
  const task = async (): Promise<string> => {
    const { value, lease } = await scheduler.execute([on], async (_m, l) => {
      // What the provider fetch does when a response begins (lease.ts markingSends).
      await l.markSent();
      return instant();
    }, ctx);
    await lease.release();
    return value;
  };
  return timed(task);
}

/** The cases, each measured in processes of its own (see `body`). */
const CASES = {
  bare: () => bare(),
  floor: () => floor(),
  mem: () => scheduled(new MemoryLedger()),
  memLim: () => scheduled(new MemoryLedger(), limited),
  sql: (ledger: Ledger) => scheduled(ledger),
  sqlLim: (ledger: Ledger) => scheduled(ledger, limited),
  sqlLearn: (ledger: Ledger) => scheduled(ledger, learning),
} satisfies Record<string, (sqlite: Ledger) => Promise<number>>;
type CaseName = keyof typeof CASES;

/** `--case NAME`: that case alone, WARMUP + REPS rounds; prints the measured rounds' ms as JSON. */
async function oneCase(name: CaseName): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-bench-sched-'));
  try {
    const sqlite = await SqliteLedger.open(path.join(dir, 'ledger.sqlite'));
    const ms: number[] = [];
    for (let i = 0; i < WARMUP + REPS; i++) {
      const t = await CASES[name](sqlite);
      if (i >= WARMUP) ms.push(t);
    }
    await sqlite.close();
    process.stdout.write(`${JSON.stringify(ms)}\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The median round of one case in a fresh process. */
function inProcess(name: CaseName): number {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--case', name, ...(process.argv.includes('--quick') ? ['--quick'] : []), ...(repsArg > 0 ? ['--reps', String(REPS)] : [])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return median(JSON.parse(out) as number[]);
}

async function body(): Promise<{ rows: Row[]; notes: string[] }> {
  // Each case runs in processes of its own: V8 compiles p-queue and the scheduler for the code that
  // goes through them, so in one process every case's figure moved with the others (adding one case
  // moved the memory ledger's row from 1.6× to 2.1× the bare p-queue). PROCESSES processes a case,
  // the cases alternating, so the machine's load falls on all alike; the median of their medians.
  // The bare p-queue is the one that drifts: 14–20 ms a round from one run to the next on this
  // machine (its five processes alike), while each scheduled case stays within ~1 ms; the ratios
  // move with it.
  const names = Object.keys(CASES) as CaseName[];
  const runs = new Map<CaseName, number[]>(names.map((n) => [n, []]));
  process.stderr.write(`scheduler-overhead: ${TASKS} tasks × (${WARMUP} warm-up + ${REPS} measured rounds) × ${PROCESSES} processes a case `);
  for (let p = 0; p < PROCESSES; p++) {
    for (const name of names) (runs.get(name) as number[]).push(inProcess(name));
    process.stderr.write('.');
  }
  process.stderr.write('\n');
  const [b, f, m, ml, s, sl, sn] = (['bare', 'floor', 'mem', 'memLim', 'sql', 'sqlLim', 'sqlLearn'] as const).map((n) => median(runs.get(n) as number[])) as [number, number, number, number, number, number, number];
  const perTask = (ms: number) => `${(((ms - b) / TASKS) * 1000).toFixed(1)} µs/task over p-queue`;
  /** A row of one case against the bare p-queue, judged against `goal` (×) when it has one. */
  const caseRow = (text: string, ms: number, goal?: number): Row => ({
    bench: 'scheduler',
    case: text,
    result: `${ms.toFixed(0)} ms (${perTask(ms)})`,
    figure: `${(ms / b).toFixed(2)}× bare p-queue`,
    goal: goal === undefined ? '' : `≤ ${goal}×`,
    ...(goal === undefined ? {} : against(ms / b, goal)),
  });
  const rows: Row[] = [
    { bench: 'scheduler', case: `${TASKS.toLocaleString('en')} instant tasks, bare p-queue (baseline)`, result: `${b.toFixed(0)} ms`, figure: '1×', goal: '' },
    caseRow('same calls through a scheduler that does nothing (`execute` → attempt → `markSent`, `release`: the calls’ own cost, the floor)', f),
    caseRow('same through `Scheduler.execute`, MemoryLedger', m, MEMORY_GOAL),
    caseRow('same through `Scheduler.execute`, SqliteLedger', s, SQLITE_GOAL),
    caseRow('same with `rpm: 1,000,000` (admitted, marked sent, released in the ledger; never binds), MemoryLedger', ml, MEMORY_GOAL),
    caseRow(`same with \`rpm: 1,000,000\`, SqliteLedger (the starts of every round kept: ${(TASKS * (WARMUP + REPS)).toLocaleString('en')} in each process at its end)`, sl, SQLITE_GOAL),
    caseRow('same with no limit and learning on (`rateLimit.learn`, the default: each admission reads the limits learned for the model), SqliteLedger', sn),
  ];
  const notes = [
    `scheduler: concurrency ${CONCURRENCY} on both sides (an outer p-queue; the model itself has no limits, so the scheduler never waits); the lease is released after every task; each case in ${PROCESSES} processes of its own (the cases alternating), each process ${WARMUP} warm-up rounds then ${REPS} measured; the median of the processes' median rounds. The floor: the same calls through a scheduler that does nothing.`,
  ];
  return { rows, notes };
}

const caseArg = process.argv.indexOf('--case');
if (caseArg > 0) await oneCase(process.argv[caseArg + 1] as CaseName);
else if (import.meta.main) await runBench(body);

export { body as schedulerOverheadBench };
