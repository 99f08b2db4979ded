/**
 * `opencode serve` (the built CLI) against the scripted OpenAI-compatible server, which answers at
 * once: spawn to the readiness line; a prompt's round trip (`POST /session/{id}/message`) above the
 * model's own time (the scripted server's log); the same with 50 `/event` subscribers reading (in a
 * process of their own, as other clients would be: in this one, their reading delayed the prompt's
 * client and the scripted model beside it), with the server's CPU time a prompt from /proc;
 * the server's memory after 1,000 prompts across 100 sessions; and `opencode run --attach` next to
 * the plain-`fetch` script of bench/run-vs-fetch.ts, interleaved in the same run.
 *
 *   npx node bench/serve.ts [--json] [--runs N]
 */
import fs from 'node:fs';
import path from 'node:path';
import { startScriptedServer, type ScriptedServer } from '../test/support/openai-server.ts';
import { measureCases, median, tempProject, wallAndRss, writeLocalConfig } from './support/measure.ts';
import type { CommandCase, RunResult } from './support/measure.ts';
import { against, assertBuilt, runBench } from './support/report.ts';
import type { Row } from './support/report.ts';
import { startServe, type Served } from './support/serve-process.ts';
import { sseReaders } from './support/sse-readers.ts';
import { processCpuMs } from './support/cpu-profile.ts';

const root = path.resolve(import.meta.dirname, '..');
const bin = path.join(root, 'bin', 'opencode.js');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 15;
const ANSWER = 'Hello! How can I help you today?';
const KEY = 'sk-bench-0123456789';
const GOALS = { readyMs: 300, rttMs: 15, rssMiB: 150, subscribers: 1.1, attach: 1.2 };

function memoryOf(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

function client(url: string, directory: string) {
  const headers = { 'content-type': 'application/json', 'x-opencode-directory': encodeURIComponent(directory) };
  return {
    headers,
    async session(): Promise<string> {
      const res = await fetch(`${url}/session`, { method: 'POST', headers, body: '{}' });
      return ((await res.json()) as { id: string }).id;
    },
    /** One synchronous prompt: its round trip (ms), checked to carry the answer. */
    async prompt(id: string, text: string): Promise<number> {
      const started = performance.now();
      const res = await fetch(`${url}/session/${id}/message`, { method: 'POST', headers, body: JSON.stringify({ parts: [{ type: 'text', text }] }) });
      const body = await res.text();
      const ms = performance.now() - started;
      if (res.status !== 200 || !body.includes(ANSWER)) throw new Error(`prompt failed: ${res.status} ${body.slice(0, 500)}`);
      return ms;
    },
  };
}

/** Round trips of `n` prompts on one session, each minus the model's own time for it (scripted server's log). */
async function roundTrips(api: ReturnType<typeof client>, model: ScriptedServer, n: number, tag: string): Promise<{ rtt: number[]; over: number[] }> {
  const id = await api.session();
  const rtt: number[] = [];
  const over: number[] = [];
  for (let i = 0; i < n; i++) {
    const before = model.log.length;
    const ms = await api.prompt(id, `${tag} ${i}`);
    const entry = model.log[before];
    if (model.log.length !== before + 1 || entry?.endedAt == null) throw new Error('expected one model request per prompt');
    rtt.push(ms);
    over.push(ms - (entry.endedAt - entry.startedAt));
  }
  return { rtt, over };
}

async function body(): Promise<{ rows: Row[]; notes: string[] }> {
  assertBuilt(root);
  const model = await startScriptedServer({ apiKey: KEY, models: { 'bench-model': { default: { type: 'text', text: ANSWER } } } });
  const tmp = tempProject('serve');
  const servers: Served[] = [];
  try {
    writeLocalConfig(tmp.project, model.url, KEY, { cache: { enabled: false } });
    const at = { cwd: tmp.project, env: { ...tmp.env, BENCH_API_KEY: KEY } };

    process.stderr.write('serve: spawn to ready ');
    const ready: number[] = [];
    for (let i = 0; i < 2 + RUNS; i++) {
      const s = await startServe(at);
      if (i >= 2) ready.push(s.readyMs);
      await s.stop();
      process.stderr.write('.');
    }
    process.stderr.write('\n');

    const s = await startServe(at);
    servers.push(s);
    const pid = s.child.pid as number;
    const api = client(s.url, tmp.project);
    process.stderr.write('serve: round trips, 50 subscribers, 1,000 prompts ');
    await roundTrips(api, model, 20, 'warm');
    let cpu = processCpuMs(pid);
    const quiet = await roundTrips(api, model, 50, 'quiet');
    const quietCpu = processCpuMs(pid) - cpu;
    const subs = await sseReaders(`${s.url}/event`, 50, api.headers);
    cpu = processCpuMs(pid);
    const watched = await roundTrips(api, model, 50, 'watched');
    const watchedCpu = processCpuMs(pid) - cpu;
    await subs.stop();
    cpu = processCpuMs(pid);
    const quiet2 = await roundTrips(api, model, 50, 'quiet again');
    const quiet2Cpu = processCpuMs(pid) - cpu;
    process.stderr.write('.');
    const before = memoryOf(pid);
    const sessions = await Promise.all(Array.from({ length: 100 }, () => api.session()));
    const PER = 10;
    const lanes = 10;
    const loadStarted = performance.now();
    await Promise.all(
      Array.from({ length: lanes }, async (_, lane) => {
        for (let k = lane; k < sessions.length; k += lanes) for (let i = 0; i < PER; i++) await api.prompt(sessions[k] as string, `session ${k} prompt ${i}`);
      }),
    );
    const loadMs = performance.now() - loadStarted;
    const after = memoryOf(pid);
    process.stderr.write('.\n');

    const rttOver = median(quiet.over);
    const quietRtt = (median(quiet.rtt) + median(quiet2.rtt)) / 2;
    const watchedRtt = median(watched.rtt);
    const subRatio = watchedRtt / quietRtt;

    // run --attach next to the plain fetch script, interleaved, against the same server.
    let seen = model.log.length;
    const expectOne = (name: string) => (r: RunResult) => {
      const made = model.log.length - seen;
      seen = model.log.length;
      if (r.code !== 0 || !r.stdout.includes(ANSWER) || made !== 1) throw new Error(`${name}: exit ${String(r.code)}, ${made} requests\n${r.stdout}${r.stderr}`);
    };
    const node = process.execPath;
    const cases: CommandCase[] = [
      { name: 'plain fetch', command: node, args: [path.join(import.meta.dirname, 'fixtures', 'plain-fetch.mjs'), model.url, 'bench-model', 'hello'], ...at, check: expectOne('plain fetch') },
      { name: 'run --attach', command: node, args: [bin, 'run', '--attach', s.url, 'hello'], ...at, check: expectOne('run --attach') },
    ];
    process.stderr.write(`serve: run --attach vs plain fetch, ${cases.length} commands × (2 warm-ups + ${RUNS} runs) `);
    const [fetchRun, attach] = await measureCases(cases, { runs: RUNS, warmups: 2 });
    if (!fetchRun || !attach) throw new Error('serve: missing results');
    const attachRatio = attach.wallMs.median / fetchRun.wallMs.median;
    const final = memoryOf(pid);

    const ms = (v: number) => `${v.toFixed(1)} ms`;
    const rows: Row[] = [
      { bench: 'serve', case: 'spawn → readiness line', result: `${median(ready).toFixed(0)} ms (min ${Math.min(...ready).toFixed(0)}, max ${Math.max(...ready).toFixed(0)})`, figure: `${median(ready).toFixed(0)} ms`, goal: `≤ ${GOALS.readyMs} ms`, ...against(median(ready), GOALS.readyMs) },
      { bench: 'serve', case: 'prompt round trip (sync `POST /session/{id}/message`), instant model', result: `${ms(median(quiet.rtt))} (model's own time ${ms(median(quiet.rtt) - rttOver)})`, figure: `+${ms(rttOver)} over the model`, goal: `≤ +${GOALS.rttMs} ms`, ...against(rttOver, GOALS.rttMs) },
      { bench: 'serve', case: 'same, with 50 `/event` subscribers reading (in a process of their own)', result: `${ms(watchedRtt)} (none: ${ms(quietRtt)}); server CPU ${ms(watchedCpu / 50)} a prompt (none: ${ms((quietCpu + quiet2Cpu) / 100)})`, figure: `${subRatio.toFixed(2)}× without`, goal: `≤ ${GOALS.subscribers}×`, ...against(subRatio, GOALS.subscribers) },
      { bench: 'serve', case: 'RSS after 1,000 prompts across 100 sessions', result: `${after.rss.toFixed(0)} MiB (peak ${after.peak.toFixed(0)}, before ${before.rss.toFixed(0)}); ${(1000 / (loadMs / 1000)).toFixed(0)} prompts/s at 10 at a time`, figure: `${after.rss.toFixed(0)} MiB`, goal: `≤ ${GOALS.rssMiB} MiB`, ...against(after.rss, GOALS.rssMiB) },
      { bench: 'serve', case: 'plain `fetch` script, streamed (baseline)', result: wallAndRss(fetchRun), figure: '', goal: '' },
      { bench: 'serve', case: '`opencode run --attach URL "hello"`', result: wallAndRss(attach), figure: `${attachRatio.toFixed(2)}× plain fetch`, goal: `≤ ${GOALS.attach}× plain fetch`, ...against(attachRatio, GOALS.attach) },
    ];
    const notes = [
      `serve: medians; ${RUNS} spawns after 2 warm-ups; 50 prompts per round-trip figure after 20 warm-ups (one session each, history growing); the scripted model answers at once, in the bench process; server RSS from /proc (${final.rss.toFixed(0)} MiB at the end, peak ${final.peak.toFixed(0)} MiB); cache off so every prompt reaches the model.`,
    ];
    return { rows, notes };
  } finally {
    await Promise.all(servers.map((x) => x.stop()));
    await model.close();
    tmp.cleanup();
  }
}

if (import.meta.main) await runBench(body);

export { body as serveBench };
