/**
 * `opencode run --no-cache "hello"` (the built CLI) against the scripted OpenAI-compatible server,
 * next to a plain-`fetch` script doing the same streamed chat completion and `node -e 0`, all in
 * the same run, interleaved. An extra line: `opencode run "hello"` answered from a warm cache.
 * Goals (issue #18): wall ≤ 1.5× the fetch script's (medians), peak RSS ≤ 80 MiB. CPU time (user +
 * system) is shown beside wall time: on a busy machine it moves much less.
 *
 *   npx node bench/run-vs-fetch.ts [--json] [--runs N | --quick]
 */
import path from 'node:path';
import { startScriptedServer } from '../test/support/openai-server.ts';
import { measureCases, median, runOnce, runsFromArgv, tempProject, wallCpuRss, writeLocalConfig } from './support/measure.ts';
import type { CommandCase, RunResult } from './support/measure.ts';
import { against, assertBuilt, runBench } from './support/report.ts';
import type { Row } from './support/report.ts';

const root = path.resolve(import.meta.dirname, '..');
const bin = path.join(root, 'bin', 'opencode.js');
const RUNS = runsFromArgv(25, 5);
const WARMUPS = 2;
const GOAL = 1.5;
const RSS_GOAL_MIB = 80;
const ANSWER = 'Hello! How can I help you today?';
const KEY = 'sk-bench-0123456789';

async function body(): Promise<{ rows: Row[]; notes: string[] }> {
  assertBuilt(root);
  const server = await startScriptedServer({
    apiKey: KEY,
    models: { 'bench-model': { default: { type: 'text', text: ANSWER } } },
  });
  const tmp = tempProject('run');
  try {
    writeLocalConfig(tmp.project, server.url, KEY);
    const node = process.execPath;
    const at = { cwd: tmp.project, env: { ...tmp.env, BENCH_API_KEY: KEY } };
    let seen = 0;
    /** Per case: ms from spawn to the request reaching the server, and from the response's end to exit. */
    const phases = new Map<string, { before: number[]; after: number[] }>();
    /** Each run must succeed, print the answer (unless `node -e 0`) and reach the server `requests` times (0 for a cache hit). */
    const expect = (name: string, requests: number, answers = true) => (r: RunResult, warmup: boolean) => {
      const made = server.log.length - seen;
      seen = server.log.length;
      if (r.code !== 0 || (answers && !r.stdout.includes(ANSWER)) || made !== requests) {
        throw new Error(`${name}: exit ${String(r.code)}, ${made} requests (expected ${requests})\n${r.stdout}${r.stderr}`);
      }
      const entry = made === 1 && !warmup ? server.log.at(-1) : undefined;
      if (entry?.endedAt != null) {
        const p = phases.get(name) ?? phases.set(name, { before: [], after: [] }).get(name);
        p?.before.push(entry.startedAt - r.spawnedAt);
        p?.after.push(r.exitedAt - entry.endedAt);
      }
    };
    const cases: CommandCase[] = [
      { name: 'node -e 0', command: node, args: ['-e', '0'], ...at, check: expect('node -e 0', 0, false) },
      {
        name: 'plain fetch',
        command: node,
        args: [path.join(import.meta.dirname, 'fixtures', 'plain-fetch.mjs'), server.url, 'bench-model', 'hello'],
        ...at,
        check: expect('plain fetch', 1),
      },
      { name: 'run --no-cache', command: node, args: [bin, 'run', '--no-cache', 'hello'], ...at, check: expect('run --no-cache', 1) },
      { name: 'run (cache hit)', command: node, args: [bin, 'run', 'hello'], ...at, check: expect('run (cache hit)', 0) },
    ];
    // Fill the cache once so every measured `run "hello"` is a hit.
    const prime = await runOnce({ ...cases[3]!, name: 'prime the cache' });
    expect('prime the cache', 1)(prime, true);
    process.stderr.write(`run-vs-fetch: ${cases.length} commands × (${WARMUPS} warm-ups + ${RUNS} runs) `);
    const [base, fetchRun, run, cached] = await measureCases(cases, { runs: RUNS, warmups: WARMUPS });
    if (!base || !fetchRun || !run || !cached) throw new Error('run-vs-fetch: missing results');
    const vsFetch = run.wallMs.median / fetchRun.wallMs.median;
    const x = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
    const cpu = (a: number | undefined, b: number | undefined) => (a && b ? `, CPU ${x(a, b)}` : '');
    const rss = (a: number | undefined, b: number | undefined) => (a && b ? `, RSS ${x(a, b)}` : '');
    const peak = run.rssMiB ?? Number.NaN;
    const rows: Row[] = [
      { bench: 'run', case: '`node -e 0` (baseline)', result: wallCpuRss(base), figure: '', goal: '' },
      { bench: 'run', case: 'plain `fetch` script, streamed (baseline)', result: wallCpuRss(fetchRun), figure: `${x(fetchRun.wallMs.median, base.wallMs.median)} node -e 0`, goal: '' },
      {
        bench: 'run',
        case: '`opencode run --no-cache "hello"`',
        result: wallCpuRss(run),
        figure: `${vsFetch.toFixed(2)}× plain fetch${cpu(run.cpuMs, fetchRun.cpuMs)}${rss(run.rssMiB, fetchRun.rssMiB)}`,
        goal: `≤ ${GOAL}× plain fetch`,
        ...against(vsFetch, GOAL),
      },
      {
        bench: 'run',
        case: '`opencode run --no-cache "hello"`: peak memory',
        result: `${peak.toFixed(0)} MiB`,
        figure: `${peak.toFixed(0)} MiB`,
        goal: `≤ ${RSS_GOAL_MIB} MiB`,
        ...against(peak, RSS_GOAL_MIB),
      },
      {
        bench: 'run',
        case: '`opencode run "hello"` (cache hit)',
        result: wallCpuRss(cached),
        figure: `${x(cached.wallMs.median, fetchRun.wallMs.median)} plain fetch${cpu(cached.cpuMs, fetchRun.cpuMs)}${rss(cached.rssMiB, fetchRun.rssMiB)}`,
        goal: '',
      },
    ];
    const split = [...phases].map(([name, p]) => `${name} ${median(p.before).toFixed(0)} ms to the request, ${median(p.after).toFixed(0)} ms from the response's end to exit`);
    const notes = [
      `run: where the time goes (medians, server clock): ${split.join('; ')}.`,
      `run: median of ${RUNS} runs after ${WARMUPS} warm-ups, interleaved; the scripted server runs in the bench process; temp project and XDG folders; default agent (its system prompt is sent), SQLite ledger and cache as in normal use.`,
    ];
    return { rows, notes };
  } finally {
    await server.close();
    tmp.cleanup();
  }
}

if (import.meta.main) await runBench(body);

export { body as runVsFetchBench };
