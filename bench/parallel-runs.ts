/**
 * Twelve `opencode run` processes started at once (the built CLI, separate processes, one shared
 * SQLite ledger) under a shared limit of 4 requests per 3 s, against the scripted server, which
 * enforces the same limit (a 429 for a fifth start inside 3 s by its clock). Makespan is spawn →
 * last exit; ideal = (⌈12 / 4⌉ − 1) × 3 s + the wall time of one `run` alone, measured in the same
 * bench: what the makespan would be if starting twelve processes cost no more than starting one.
 * Each round runs the twelve with the start-up gate (src/cli/start-gate.ts) and without it.
 * Goal (issue #18): makespan ≤ 1.1× ideal, none refused.
 *
 *   npx node bench/parallel-runs.ts [--json] [--rounds N | --quick]
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startScriptedServer } from '../test/support/openai-server.ts';
import { median, runOnce, tempProject } from './support/measure.ts';
import type { RunResult } from './support/measure.ts';
import { against, assertBuilt, runBench } from './support/report.ts';
import type { Row } from './support/report.ts';

const root = path.resolve(import.meta.dirname, '..');
const bin = path.join(root, 'bin', 'opencode.js');
const roundsAt = process.argv.indexOf('--rounds');
const ROUNDS = roundsAt > 0 ? Number(process.argv[roundsAt + 1]) : process.argv.includes('--quick') ? 1 : 3;
const PROCESSES = 12;
const LIMIT = { maxRequests: 4, windowMs: 3000 };
const GOAL = 1.1;
const KEY = 'sk-bench-0123456789';
const ANSWER = 'ok';

async function body(): Promise<{ rows: Row[]; notes: string[] }> {
  assertBuilt(root);
  const server = await startScriptedServer({ apiKey: KEY, models: { lim: { rateLimit: LIMIT, default: { type: 'text', text: ANSWER } } } });
  const tmp = tempProject('parallel');
  const config = {
    provider: { p: { options: { baseURL: server.url, apiKey: KEY }, models: { lim: { rateLimit: LIMIT } } } },
    model: 'p/lim',
    retry: { maxRetries: 0 },
  };
  fs.writeFileSync(path.join(tmp.project, 'opencode.json'), JSON.stringify(config));
  /** Each round gets its own ledger (a fresh state folder) and starts once the server's window is empty. */
  const envFor = (name: string): NodeJS.ProcessEnv => ({ ...tmp.env, XDG_DATA_HOME: path.join(tmp.root, `data-${name}`) });
  const quiet = async (): Promise<void> => {
    const last = server.log.at(-1)?.startedAt;
    if (last !== undefined) await sleep(Math.max(0, last + LIMIT.windowMs + 50 - Date.now()));
    server.reset();
  };
  const ok = (r: RunResult): boolean => r.code === 0 && r.stdout.includes(ANSWER);
  const singles: number[] = [];
  const makespans: number[] = [];
  const ungated: number[] = [];
  let refused = 0;
  let failed = 0;
  try {
    process.stderr.write(`parallel-runs: ${ROUNDS} rounds × (2 lone runs, then ${PROCESSES} at once at ${LIMIT.maxRequests}/${LIMIT.windowMs} ms, with and without the start-up gate) `);
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < 2; i++) {
        await quiet();
        const lone = await runOnce({ name: 'lone run', command: process.execPath, args: [bin, 'run', '--no-cache', `lone ${round}.${i}`], cwd: tmp.project, env: envFor(`lone-${round}-${i}`) });
        if (!ok(lone)) throw new Error(`lone run failed: exit ${String(lone.code)}\n${lone.stderr}`);
        singles.push(lone.wallMs);
      }
      // With the start-up gate (src/cli/start-gate.ts) and without it, in turn first.
      for (const gate of round % 2 === 0 ? [true, false] : [false, true]) {
        await quiet();
        const env = { ...envFor(`round-${round}-${gate ? 'gate' : 'nogate'}`), ...(gate ? {} : { PANTHEON_START_GATE: 'off' }) };
        const started = performance.now();
        const runs = await Promise.all(
          Array.from({ length: PROCESSES }, (_, i) => runOnce({ name: 'run', command: process.execPath, args: [bin, 'run', '--no-cache', `round ${round} task ${i}`], cwd: tmp.project, env })),
        );
        (gate ? makespans : ungated).push(performance.now() - started);
        failed += runs.filter((r) => !ok(r)).length;
        refused += server.stats().overLimit;
      }
      process.stderr.write('.');
    }
    process.stderr.write('\n');
  } finally {
    await server.close();
    tmp.cleanup();
  }
  const single = median(singles);
  const ideal = (Math.ceil(PROCESSES / LIMIT.maxRequests) - 1) * LIMIT.windowMs + single;
  const makespan = median(makespans);
  const makespanUngated = median(ungated);
  const rows: Row[] = [
    { bench: 'parallel runs', case: 'one `opencode run` alone (baseline)', result: `${single.toFixed(0)} ms`, figure: '', goal: '' },
    {
      bench: 'parallel runs',
      case: `${PROCESSES} \`opencode run\` at once, shared ${LIMIT.maxRequests} per ${LIMIT.windowMs / 1000} s: makespan (spawn → last exit)`,
      result: `${makespan.toFixed(0)} ms (ideal ${ideal.toFixed(0)} ms); ${refused} refused, ${failed} failed`,
      figure: `${(makespan / ideal).toFixed(3)}× ideal`,
      goal: `≤ ${GOAL}×, 0 refused`,
      ...(refused + failed > 0 ? { met: false, miss: `${refused} refused, ${failed} failed` } : against(makespan / ideal, GOAL)),
    },
    {
      bench: 'parallel runs',
      case: 'same without the start-up gate (`PANTHEON_START_GATE=off`: all twelve load at once)',
      result: `${makespanUngated.toFixed(0)} ms`,
      figure: `${(makespanUngated / ideal).toFixed(3)}× ideal (gate: ${(makespan / makespanUngated).toFixed(2)}× this)`,
      goal: '',
    },
  ];
  const notes = [
    `parallel runs: median of ${ROUNDS} rounds, each with the start-up gate and without it (in turn first); ideal = (⌈${PROCESSES}/${LIMIT.maxRequests}⌉ − 1) × ${LIMIT.windowMs} ms + one lone run's wall (median of ${singles.length}); a fresh ledger each round; \`retry.maxRetries: 0\`, so a 429 would fail a run.`,
  ];
  return { rows, notes };
}

if (import.meta.main) await runBench(body);

export { body as parallelRunsBench };
