/**
 * This checkout's CLI against another build of it (a copy of dist/ and bin/ made before a change,
 * with node_modules beside it), interleaved in the same run, so background load falls on both
 * alike: `run --attach` (against one `opencode serve` of this build), `run --no-cache`,
 * `config validate` and `serve`'s spawn → readiness line, next to the plain `fetch` script; and
 * the tool loop (`loop`: bench/tool-loop.ts's read → read → answer next to its single call), with
 * each process's CPU time to the µs (bench/fixtures/cpu-at-exit.cjs), the server's gaps and the
 * client's CPU in each (from an answer's end to the next request; it survives load, wall gaps do not).
 * A tool for measuring a start-up or tool-loop change, not part of run-all. `--delay MS`: in the
 * tool loop, every answer (the single call's too) comes MS ms after its request, as a real model's
 * first token does, so that work a build does while it waits for the model shows as such.
 *
 *   npx node bench/compare-builds.ts --base DIR [--runs N] [--only attach,run,validate,serve,loop] [--delay MS]
 */
import fs from 'node:fs';
import path from 'node:path';
import { startScriptedServer } from '../test/support/openai-server.ts';
import { loadAverage, measureCases, median, runOnce, tempProject, wallCpuRss, writeLocalConfig } from './support/measure.ts';
import type { CaseStats, CommandCase, RunResult } from './support/measure.ts';
import { startServe } from './support/serve-process.ts';

const root = path.resolve(import.meta.dirname, '..');
const flag = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const baseDir = flag('--base');
if (!baseDir || !fs.existsSync(path.join(baseDir, 'bin', 'opencode.js'))) {
  process.stderr.write('usage: npx node bench/compare-builds.ts --base DIR [--runs N] [--only attach,run,validate,serve,loop]\n(DIR: a built copy of this checkout, with bin/, dist/ and node_modules)\n');
  process.exit(2);
}
const RUNS = Number(flag('--runs') ?? 11);
const DELAY_MS = Number(flag('--delay') ?? 0);
const only = new Set((flag('--only') ?? 'attach,run,validate,serve,loop').split(','));
const ANSWER = 'Hello! How can I help you today?';
const KEY = 'sk-bench-0123456789';
const builds = [
  { name: 'base', bin: path.join(path.resolve(baseDir), 'bin', 'opencode.js') },
  { name: 'this', bin: path.join(root, 'bin', 'opencode.js') },
];

const model = await startScriptedServer({ apiKey: KEY, models: { 'bench-model': { default: { type: 'text', text: ANSWER } } } });
const tmp = tempProject('compare');
const lines: string[] = [`load average at start ${loadAverage()}`];
const show = (s: CaseStats, ref?: CaseStats) =>
  `${s.name.padEnd(26)} ${wallCpuRss(s)}${ref ? `  (${(s.wallMs.median / ref.wallMs.median).toFixed(2)}× ${ref.name}, CPU ${((s.cpuMs ?? 0) / (ref.cpuMs ?? 1)).toFixed(2)}×)` : ''}`;
try {
  writeLocalConfig(tmp.project, model.url, KEY, { cache: { enabled: false } });
  const at = { cwd: tmp.project, env: { ...tmp.env, BENCH_API_KEY: KEY } };
  const node = process.execPath;
  let seen = 0;
  const expect = (name: string, requests: number) => (r: RunResult) => {
    const made = model.log.length - seen;
    seen = model.log.length;
    if (r.code !== 0 || (requests > 0 && !r.stdout.includes(ANSWER)) || made !== requests) throw new Error(`${name}: exit ${String(r.code)}, ${made} requests\n${r.stdout}${r.stderr}`);
  };
  const fetchCase: CommandCase = { name: 'plain fetch', command: node, args: [path.join(import.meta.dirname, 'fixtures', 'plain-fetch.mjs'), model.url, 'bench-model', 'hello'], ...at, check: expect('plain fetch', 1) };

  if (only.has('attach')) {
    const served = await startServe(at);
    try {
      const cases = [fetchCase, ...builds.map((b) => ({ name: `run --attach (${b.name})`, command: node, args: [b.bin, 'run', '--attach', served.url, 'hello'], ...at, check: expect(b.name, 1) }))];
      process.stderr.write('attach ');
      const [f, a, b] = await measureCases(cases, { runs: RUNS, warmups: 2 });
      lines.push(show(f!), show(a!, f), show(b!, f));
    } finally {
      await served.stop();
    }
  }
  if (only.has('run')) {
    // Each build keeps its own data folder: the ledger's and sessions' formats may differ between builds.
    const own = (b: { name: string }) => ({ cwd: at.cwd, env: { ...at.env, XDG_DATA_HOME: path.join(tmp.root, `data-${b.name}`) } });
    const cases = [fetchCase, ...builds.map((b) => ({ name: `run --no-cache (${b.name})`, command: node, args: [b.bin, 'run', '--no-cache', 'hello'], ...own(b), check: expect(b.name, 1) }))];
    process.stderr.write('run ');
    const [f, a, b] = await measureCases(cases, { runs: RUNS, warmups: 2 });
    lines.push(show(f!), show(a!, f), show(b!, f));
  }
  if (only.has('validate')) {
    const file = path.join(root, 'test', 'fixtures', 'seed', 'section-11.json');
    const cases = [
      { name: 'node -e 0', command: node, args: ['-e', '0'], ...at },
      ...builds.map((b) => ({ name: `config validate (${b.name})`, command: node, args: [b.bin, 'config', 'validate', file], ...at })),
    ];
    process.stderr.write('validate ');
    const [z, a, b] = await measureCases(cases, { runs: RUNS, warmups: 2 });
    lines.push(show(z!), show(a!, z), show(b!, z));
  }
  if (only.has('loop')) lines.push(...(await compareLoops(at.env)));
  if (only.has('serve')) {
    const ready = builds.map(() => [] as number[]);
    const cpu = builds.map(() => [] as number[]);
    process.stderr.write('serve ');
    for (let i = 0; i < RUNS + 2; i++) {
      for (const [k, b] of builds.entries()) {
        const s = await startServe({ ...at, bin: b.bin });
        // CPU time (user + system) up to the readiness line, from /proc: wall time on a busy machine is mostly waiting.
        const stat = fs.readFileSync(`/proc/${String(s.child.pid)}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
        if (i >= 2) {
          ready[k]!.push(s.readyMs);
          cpu[k]!.push(((Number(stat[11]) + Number(stat[12])) * 1000) / 100);
        }
        await s.stop();
      }
      process.stderr.write('.');
    }
    process.stderr.write('\n');
    const mean = (v: number[]) => v.reduce((a, x) => a + x, 0) / v.length;
    builds.forEach((b, k) => lines.push(`serve ready (${b.name})`.padEnd(27) + `${median(ready[k]!).toFixed(0)} ms (min ${Math.min(...ready[k]!).toFixed(0)}, max ${Math.max(...ready[k]!).toFixed(0)}) · CPU to ready ${mean(cpu[k]!).toFixed(0)} ms (mean, 10 ms ticks)`));
  }
} finally {
  await model.close();
  tmp.cleanup();
}

/**
 * The tool loop of each build next to its single call, interleaved (single, loop per build per
 * round), against a scripted server of its own whose clock is the monotonic one. Per build: the
 * client's time from a response's end to the next request (server clock; gap 1 includes the first
 * tool call's first-time costs) with the client's CPU in it, and CPU per extra step: (loop − single)
 * / 2 per round, mean and median, from each process's own CPU time at exit.
 */
async function compareLoops(baseEnv: NodeJS.ProcessEnv): Promise<string[]> {
  const monoMs = (): number => Number(process.hrtime.bigint() / 1000n) / 1000;
  const LOOP_ANSWER = 'The two files agree.';
  const server = await startScriptedServer({ apiKey: KEY, now: monoMs, models: { 'bench-model': { default: { type: 'text', text: LOOP_ANSWER } } } });
  const lt = tempProject('compare-loop');
  try {
    fs.writeFileSync(path.join(lt.project, 'a.txt'), 'alpha\n'.repeat(50));
    fs.writeFileSync(path.join(lt.project, 'b.txt'), 'beta\n'.repeat(50));
    writeLocalConfig(lt.project, server.url, KEY);
    const cpuFile = path.join(lt.root, 'cpu.txt');
    const preload = path.join(import.meta.dirname, 'fixtures', 'cpu-at-exit.cjs');
    const stats = builds.map(() => ({ gaps: [[], []] as number[][], cpuGaps: [[], []] as number[][], perStep: [] as number[], single: [] as number[], loop: [] as number[], rss: [] as number[] }));
    const once = async (bin: string, b: number, loop: boolean) => {
      const delay = DELAY_MS > 0 ? { delayMs: DELAY_MS } : {};
      if (loop) {
        server.script(
          'bench-model',
          { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: 'a.txt' } }], ...delay },
          { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: 'b.txt' } }], ...delay },
          { type: 'text', text: LOOP_ANSWER, ...delay },
        );
      } else if (DELAY_MS > 0) server.script('bench-model', { type: 'text', text: LOOP_ANSWER, ...delay });
      fs.rmSync(cpuFile, { force: true });
      const before = server.log.length;
      const env = { ...baseEnv, ...lt.env, BENCH_CPU_OUT: cpuFile, XDG_DATA_HOME: path.join(lt.root, `data-${String(b)}`) };
      const r = await runOnce({ name: 'loop', command: process.execPath, args: ['-r', preload, bin, 'run', '--no-cache', 'Compare a.txt and b.txt'], cwd: lt.project, env });
      const made = server.log.slice(before);
      if (r.code !== 0 || !r.stdout.includes(LOOP_ANSWER) || made.length !== (loop ? 3 : 1)) throw new Error(`loop (${builds[b]?.name ?? ''}): exit ${String(r.code)}, ${made.length} requests\n${r.stdout}${r.stderr}`);
      const [cpu = '', gaps = ''] = fs.readFileSync(cpuFile, 'utf8').split('\n');
      return { made, cpu: Number(cpu), cpuGaps: gaps.split(' ').filter(Boolean).map(Number), rss: (r.rssKiB ?? 0) / 1024 };
    };
    process.stderr.write('loop ');
    for (let round = 0; round < RUNS + 2; round++) {
      for (const [b, build] of builds.entries()) {
        const single = await once(build.bin, b, false);
        const loop = await once(build.bin, b, true);
        if (round < 2) continue;
        const s = stats[b]!;
        for (let g = 1; g < 3; g++) {
          s.gaps[g - 1]!.push((loop.made[g]?.startedAt ?? 0) - (loop.made[g - 1]?.endedAt ?? 0));
          s.cpuGaps[g - 1]!.push(loop.cpuGaps[g - 1] ?? Number.NaN);
        }
        s.single.push(single.cpu);
        s.loop.push(loop.cpu);
        s.perStep.push((loop.cpu - single.cpu) / 2);
        s.rss.push(loop.rss);
      }
      process.stderr.write('.');
    }
    process.stderr.write('\n');
    const mean = (v: number[]) => v.reduce((a, x) => a + x, 0) / v.length;
    return builds.map((build, b) => {
      const s = stats[b]!;
      return (
        `tool loop (${build.name})`.padEnd(27) +
        `gaps pooled ${median([...s.gaps[0]!, ...s.gaps[1]!]).toFixed(1)} ms (gap 1 ${median(s.gaps[0]!).toFixed(1)}, gap 2 ${median(s.gaps[1]!).toFixed(1)}; client CPU ${median(s.cpuGaps[0]!).toFixed(2)} and ${median(s.cpuGaps[1]!).toFixed(2)}) · ` +
        `CPU per extra step ${mean(s.perStep).toFixed(1)} ms mean, ${median(s.perStep).toFixed(1)} median (single ${median(s.single).toFixed(1)}, loop ${median(s.loop).toFixed(1)} ms) · loop ${median(s.rss).toFixed(1)} MiB`
      );
    });
  } finally {
    await server.close();
    lt.cleanup();
  }
}

lines.push(`load average at end ${loadAverage()}; medians of ${RUNS} interleaved runs after 2 warm-ups${DELAY_MS > 0 ? `; every answer ${DELAY_MS} ms after its request` : ''}`);
process.stdout.write(`${lines.join('\n')}\n`);
