/**
 * `opencode run` with a three-step tool loop (read, read, answer) against the scripted server,
 * next to the single-call `opencode run`, same agent and tools, interleaved. What the loop adds
 * beyond the model's own round trips is the client's work between a response's end and the next
 * request: the tool call, the step loop, the scheduler's admission.
 *
 *   npx node bench/tool-loop.ts [--json] [--runs N | --quick]
 */
import fs from 'node:fs';
import path from 'node:path';
import { startScriptedServer } from '../test/support/openai-server.ts';
import type { RequestLogEntry } from '../test/support/openai-server.ts';
import { measureCases, median, runsFromArgv, tempProject, wallCpuRss, writeLocalConfig } from './support/measure.ts';
import type { CommandCase, RunResult } from './support/measure.ts';
import { against, assertBuilt, runBench } from './support/report.ts';
import type { Row } from './support/report.ts';

const root = path.resolve(import.meta.dirname, '..');
const bin = path.join(root, 'bin', 'opencode.js');
const RUNS = runsFromArgv(10, 4);
const WARMUPS = 2;
/** Goal: each extra step costs the client at most this much on top of the model's round trip. */
const STEP_GOAL_MS = 10;
const KEY = 'sk-bench-0123456789';
const ANSWER = 'The two files agree.';

async function body(): Promise<{ rows: Row[]; notes: string[] }> {
  assertBuilt(root);
  const server = await startScriptedServer({ apiKey: KEY, models: { 'bench-model': { default: { type: 'text', text: ANSWER } } } });
  const tmp = tempProject('tool-loop');
  try {
    fs.writeFileSync(path.join(tmp.project, 'a.txt'), 'alpha\n'.repeat(50));
    fs.writeFileSync(path.join(tmp.project, 'b.txt'), 'beta\n'.repeat(50));
    writeLocalConfig(tmp.project, server.url, KEY);
    const scriptLoop = (): void =>
      server.script(
        'bench-model',
        { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: 'a.txt' } }] },
        { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: 'b.txt' } }] },
        { type: 'text', text: ANSWER },
      );
    let seen = 0;
    /** Per loop run: ms from a response's end to the next request's start, and the server's time per request. */
    const gaps: number[][] = [[], []];
    const serverMs: number[] = [];
    const check = (name: string, requests: number, next: () => void) => (r: RunResult, warmup: boolean) => {
      const made = server.log.slice(seen);
      seen = server.log.length;
      if (r.code !== 0 || !r.stdout.includes(ANSWER) || made.length !== requests || made.some((e) => e.status !== 200)) {
        throw new Error(`${name}: exit ${String(r.code)}, ${made.length} requests (expected ${requests})\n${r.stdout}${r.stderr}`);
      }
      if (!warmup) {
        for (const e of made) serverMs.push((e.endedAt ?? e.startedAt) - e.startedAt);
        made.slice(1).forEach((e: RequestLogEntry, i) => gaps[i]?.push(e.startedAt - ((made[i] as RequestLogEntry).endedAt ?? 0)));
      }
      next();
    };
    const at = { cwd: tmp.project, env: tmp.env };
    const args = [bin, 'run', '--no-cache', 'Compare a.txt and b.txt'];
    const cases: CommandCase[] = [
      // After the single call, queue the loop's three steps for the loop run that follows it.
      { name: 'single call', command: process.execPath, args, ...at, check: check('single call', 1, scriptLoop) },
      { name: 'tool loop', command: process.execPath, args, ...at, check: check('tool loop', 3, () => undefined) },
    ];
    process.stderr.write(`tool-loop: ${cases.length} commands × (${WARMUPS} warm-ups + ${RUNS} runs) `);
    const [single, loop] = await measureCases(cases, { runs: RUNS, warmups: WARMUPS });
    if (!single || !loop) throw new Error('tool-loop: missing results');
    const extra = loop.wallMs.median - single.wallMs.median;
    const roundTrip = median(serverMs);
    const perStep = (extra - 2 * roundTrip) / 2;
    const rss = single.rssMiB && loop.rssMiB ? `, RSS ${(loop.rssMiB / single.rssMiB).toFixed(2)}×` : '';
    // The goal's figure: what the client spends per extra step between a response's end and the
    // next request (server clock, both gaps of every run pooled; load moves it far less than the
    // difference of two whole-process wall times, which is shown beside it).
    const gap = median([...(gaps[0] ?? []), ...(gaps[1] ?? [])]);
    const cpuPerStep = single.cpuMs !== undefined && loop.cpuMs !== undefined ? (loop.cpuMs - single.cpuMs) / 2 : undefined;
    const rows: Row[] = [
      { bench: 'tool loop', case: '`opencode run` single call (baseline)', result: wallCpuRss(single), figure: '', goal: '' },
      {
        bench: 'tool loop',
        case: '`opencode run` read → read → answer (3 model calls)',
        result: wallCpuRss(loop),
        figure: `${gap.toFixed(1)} ms per extra step beyond the server's time (wall +${extra.toFixed(0)} ms, ${perStep.toFixed(1)} ms a step${cpuPerStep === undefined ? '' : `; CPU ${cpuPerStep.toFixed(1)} ms a step`}${rss})`,
        goal: `≤ ${STEP_GOAL_MS} ms per extra step`,
        ...against(gap, STEP_GOAL_MS),
      },
    ];
    const notes = [
      `tool loop: median of ${RUNS} runs after ${WARMUPS} warm-ups, interleaved; default agent (sisyphus: system prompt and the tool definitions sent with every call), --no-cache, SQLite ledger.`,
      `tool loop: the server answers in ${roundTrip.toFixed(1)} ms (median); between a response's end and the next request the client spends ${median(gaps[0] ?? []).toFixed(1)} ms after the first step (the first tool call loads the tools' code) and ${median(gaps[1] ?? []).toFixed(1)} ms after the second (medians: the read tool, the step loop, the scheduler's admission).`,
    ];
    return { rows, notes };
  } finally {
    await server.close();
    tmp.cleanup();
  }
}

if (import.meta.main) await runBench(body);

export { body as toolLoopBench };
