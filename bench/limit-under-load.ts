/**
 * The cross-process limit on a machine that is busy: rounds of parallel `opencode run` processes
 * (the real CLI, separate processes, one shared ledger) against the scripted server, whose model
 * refuses any request over 3 per 1000 ms with a 429 — while CPU hogs keep every core busy, so the
 * processes are starved between admission and sending. From the server's log: requests refused
 * (goal 0, every round) and the tightest window; makespan per round ÷ ideal, where ideal =
 * (ceil(P/3) − 1) × 1000 ms between the first and last arrival.
 *
 *   npx node bench/limit-under-load.ts [--json] [--rounds N] [--processes P]
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startScriptedServer } from '../test/support/openai-server.ts';
import { median, runOnce } from './support/measure.ts';
import { runBench } from './support/report.ts';
import type { Row } from './support/report.ts';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  return Number.isInteger(value) && value > 0 ? value : fallback;
};
const ROUNDS = arg('--rounds', 20);
const PROCESSES = arg('--processes', 12);
const LIMIT = { maxRequests: 3, windowMs: 1000 };
const IDEAL_MS = (Math.ceil(PROCESSES / LIMIT.maxRequests) - 1) * LIMIT.windowMs;
const KEY = 'sk-bench-0123456789';
const root = path.resolve(import.meta.dirname, '..');
const bin = path.join(root, 'bin', 'opencode.js');

/** One busy loop per core, in their own processes, until stopped. */
function startHogs(): ChildProcess[] {
  return Array.from({ length: os.availableParallelism() }, () =>
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
  );
}

async function body(): Promise<{ rows: Row[]; notes: string[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-bench-load-'));
  const server = await startScriptedServer({ apiKey: KEY, models: { lim: { rateLimit: LIMIT } } });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: dir,
    XDG_DATA_HOME: path.join(dir, 'data'),
    XDG_CACHE_HOME: path.join(dir, 'cache'),
    XDG_CONFIG_HOME: path.join(dir, 'config'),
    NO_COLOR: '1',
  };
  fs.writeFileSync(
    path.join(dir, 'opencode.json'),
    JSON.stringify({
      provider: { p: { options: { baseURL: server.url, apiKey: KEY }, models: { lim: { rateLimit: LIMIT } } } },
      model: 'p/lim',
      retry: { maxRetries: 0 },
    }),
  );
  fs.mkdirSync(path.join(dir, '.git'));
  const hogs = startHogs();
  const refusedPerRound: number[] = [];
  const makespans: number[] = [];
  let tightest = Number.POSITIVE_INFINITY;
  let failedRuns = 0;
  try {
    process.stderr.write(`limit-under-load: ${ROUNDS} rounds × ${PROCESSES} processes at ${LIMIT.maxRequests}/${LIMIT.windowMs} ms, ${hogs.length} CPU hogs\n`);
    for (let round = 0; round < ROUNDS; round++) {
      server.reset();
      const runs = await Promise.all(
        Array.from({ length: PROCESSES }, (_, i) =>
          runOnce({ name: 'run', command: process.execPath, args: [bin, 'run', '--no-cache', `round ${round} task ${i}`], cwd: dir, env }),
        ),
      );
      failedRuns += runs.filter((r) => r.code !== 0).length;
      const stats = server.stats();
      refusedPerRound.push(stats.overLimit);
      const arrivals = server.log.map((e) => e.startedAt).sort((a, b) => a - b);
      makespans.push((arrivals.at(-1) ?? 0) - (arrivals[0] ?? 0));
      for (let i = LIMIT.maxRequests; i < arrivals.length; i++) {
        tightest = Math.min(tightest, (arrivals[i] as number) - (arrivals[i - LIMIT.maxRequests] as number));
      }
      process.stderr.write(`  round ${round + 1}: ${stats.overLimit} refused, ${runs.filter((r) => r.code !== 0).length} failed, makespan ${makespans.at(-1)} ms\n`);
    }
  } finally {
    for (const hog of hogs) hog.kill('SIGKILL');
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const refused = refusedPerRound.reduce((a, b) => a + b, 0);
  const worst = Math.max(...makespans);
  return {
    rows: [
      {
        bench: 'limit under load',
        case: `${ROUNDS} rounds × ${PROCESSES} \`opencode run\` processes at ${LIMIT.maxRequests}/${LIMIT.windowMs} ms, every core hogged: refused by the server`,
        result: `${refused} of ${ROUNDS * PROCESSES} refused (${refusedPerRound.filter((n) => n > 0).length} rounds with any); ${failedRuns} runs failed; tightest ${LIMIT.maxRequests + 1} arrivals span ${tightest} ms`,
        figure: String(refused),
        goal: '0',
        ...(refused === 0 && failedRuns === 0 ? { met: true } : { met: false, miss: `${refused} refused, ${failedRuns} failed` }),
      },
      {
        bench: 'limit under load',
        case: 'same: makespan per round (first → last arrival)',
        result: `median ${median(makespans).toFixed(0)} ms, worst ${worst} ms (ideal ${IDEAL_MS} ms)`,
        figure: `${(median(makespans) / IDEAL_MS).toFixed(2)}× ideal`,
        goal: '',
      },
    ],
    notes: [
      `limit under load: the server refuses (429) any request that would be the ${LIMIT.maxRequests + 1}th inside ${LIMIT.windowMs} ms by its own clock; \`retry.maxRetries: 0\`, so a refusal would also fail the run. Makespan includes the processes' start-up on hogged cores.`,
    ],
  };
}

if (import.meta.main) await runBench(body);

export { body as limitUnderLoadBench };
