/**
 * Where an open dashboard's cost goes under bench/dashboard.ts's stream of cached turns (issue 15:
 * the server must not slow down with the page open, and the page shares the machine's two cores):
 * per 1,000 events, Chromium's CPU time by process (renderer, GPU/compositor, browser), the page's
 * main thread as Chromium's Performance metrics count it (script, layout, style recalculation, all
 * tasks), the renders, the state frames the page received and their bytes; the update latency in
 * the page (frame arrival → DOM updated) and an event's time → its log row on screen; the run's wall
 * time against the same turns without a page.
 *
 *   npx node bench/profile-dashboard.ts [--turns N] [--rate N] [--rounds N] [--base DIR] [--trace FILE] [--js-prof]
 *
 * `--base DIR`: another build (a copy of dist/ and bin/ with node_modules beside it, as
 * bench/compare-builds.ts takes), its own server and page, measured in the same rounds,
 * alternately with this one, so the machine's load falls on both alike; each round prints the
 * paired ratio (this ÷ base) of Chromium's CPU per 1,000 events. A diagnostic, not part of run-all.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CDPSession } from 'playwright-core';
import { launchChromium } from '../test/support/browser.ts';
import { startScriptedServer } from '../test/support/openai-server.ts';
import { childrenCpuByType, load, type LoadResult } from './support/dashboard-load.ts';
import { profileTables, summariseProfile } from './support/cpu-profile.ts';
import { median, tempProject } from './support/measure.ts';
import { startServe } from './support/serve-process.ts';

const root = path.resolve(import.meta.dirname, '..');
const flag = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const TURNS = Number(flag('--turns') ?? 400);
/** Turns started a second (default: as fast as the server takes them, 8 at a time); a fixed rate gives every build the same stream. */
const RATE = flag('--rate') ? Number(flag('--rate')) : undefined;
const ROUNDS = Number(flag('--rounds') ?? 3);
const BASE = flag('--base');
/** Writes a Chromium trace of this build's first run with the page to FILE and prints its busiest events. */
const TRACE = flag('--trace');
/** Profiles the page's JavaScript (V8's sampling profiler over CDP) in this build's first run with the page; prints its busiest functions (build the page unminified to read them). */
const JS_PROF = process.argv.includes('--js-prof');
const KEY = 'sk-bench-0123456789';
const METRICS = ['TaskDuration', 'ScriptDuration', 'LayoutDuration', 'RecalcStyleDuration', 'LayoutCount', 'RecalcStyleCount'] as const;

interface Build {
  name: string;
  url: string;
  pid: number | undefined;
  dir: string;
  stop: () => Promise<void>;
}

/** `opencode serve` of the build at `bin`, in `cwd`. */
async function serve(name: string, bin: string, cwd: string, env: NodeJS.ProcessEnv): Promise<Build> {
  const served = await startServe({ cwd, env, bin });
  return { name, url: served.url, pid: served.child.pid, dir: cwd, stop: () => served.stop() };
}

interface Sample {
  run: LoadResult;
  noPage: LoadResult;
  cpu: Record<string, number>;
  metrics: Record<string, number>;
  renders: number;
  /** Frames the page received and their bytes, by event name. */
  frames: Record<string, [number, number]>;
  updates: number[];
  rows: number[];
}

const WATCH = `window.updates = []; new PerformanceObserver((list) => { for (const e of list.getEntries()) if (e.name === 'pantheon:update') window.updates.push(e.duration); }).observe({ type: 'measure' });
  window.rows = []; const seen = new Set(); new MutationObserver((list) => { const now = Date.now(); for (const m of list) for (const n of m.addedNodes) if (n.nodeType === 1 && n.matches('tr[data-seq]') && !seen.has(n.getAttribute('data-seq'))) { seen.add(n.getAttribute('data-seq')); window.rows.push(now - Number(n.getAttribute('data-time'))); } }).observe(document.body, { subtree: true, childList: true });`;

/** Chromium's Performance metrics of the page (cumulative since `Performance.enable` on `cdp`). */
async function metricsOf(cdp: CDPSession): Promise<Record<string, number>> {
  const { metrics } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
}

interface TraceEvent {
  ph: string;
  name: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

/** A trace's complete events summed by thread and name: self CPU time (thread time less nested events'), ms. */
function traceSummary(file: string, top = 25): string[] {
  const events = (JSON.parse(fs.readFileSync(file, 'utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
  const threadName = new Map<string, string>();
  for (const e of events) if (e.ph === 'M' && e.name === 'thread_name') threadName.set(`${e.pid}:${e.tid}`, e.args?.name ?? '?');
  const byThread = new Map<string, TraceEvent[]>();
  for (const e of events) {
    if (e.ph !== 'X' || e.tdur === undefined || e.dur === undefined) continue;
    const key = `${e.pid}:${e.tid}`;
    byThread.set(key, [...(byThread.get(key) ?? []), e]);
  }
  const self = new Map<string, number>();
  for (const [key, list] of byThread) {
    list.sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
    const stack: TraceEvent[] = [];
    const childSum = new Map<TraceEvent, number>();
    const close = (e: TraceEvent) => {
      const name = `${threadName.get(key) ?? key} ${e.name}`;
      self.set(name, (self.get(name) ?? 0) + ((e.tdur ?? 0) - (childSum.get(e) ?? 0)) / 1000);
    };
    for (const e of list) {
      while (stack.length && (stack.at(-1) as TraceEvent).ts + ((stack.at(-1) as TraceEvent).dur ?? 0) <= e.ts) close(stack.pop() as TraceEvent);
      const parent = stack.at(-1);
      if (parent) childSum.set(parent, (childSum.get(parent) ?? 0) + (e.tdur ?? 0));
      stack.push(e);
    }
    while (stack.length) close(stack.pop() as TraceEvent);
  }
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, ms]) => `  ${ms.toFixed(0).padStart(6)} ms  ${name}`);
}

let traced = false;
let profiled = false;

async function measure(chrome: Awaited<ReturnType<typeof launchChromium>>, build: Build): Promise<Sample> {
  const noPage = await load(build.url, build.dir, TURNS, build.pid, false, RATE);
  const page = await chrome.context.newPage();
  // The state frames the page receives (EventSource's messages), counted in the page.
  await page.addInitScript(`window.frames_ = {}; const add = EventSource.prototype.addEventListener; EventSource.prototype.addEventListener = function (type, fn, o) { return add.call(this, type, type === 'error' ? fn : (e) => { const f = (window.frames_[type] ??= [0, 0]); f[0] += 1; f[1] += e.data.length; return fn(e); }, o); };`);
  await page.goto(`${build.url}/`);
  await page.waitForSelector('[data-status="live"]');
  await page.evaluate(WATCH);
  await page.evaluate('window.frames_ = {}');
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const m0 = await metricsOf(cdp);
  const trace = TRACE && !traced && build.name === 'this';
  if (trace) await chrome.browser.startTracing(page, { path: TRACE, categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink', 'cc', 'gpu', 'viz', 'v8', 'toplevel'] });
  const prof = JS_PROF && !profiled && build.name === 'this';
  if (prof) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
  }
  const c0 = childrenCpuByType(build.pid);
  const run = await load(build.url, build.dir, TURNS, build.pid, false, RATE);
  const c1 = childrenCpuByType(build.pid);
  if (prof) {
    profiled = true;
    const { profile } = await cdp.send('Profiler.stop');
    const file = path.join(os.tmpdir(), 'pantheon-dashboard.cpuprofile');
    fs.writeFileSync(file, JSON.stringify(profile));
    console.log(profileTables(summariseProfile(file, root), run.events, 'event', 30).join('\n'));
  }
  if (trace && TRACE) {
    traced = true;
    await chrome.browser.stopTracing();
    console.log(`trace of ${build.name} (${run.events} events) in ${TRACE}; self CPU time by thread and event:\n${traceSummary(TRACE).join('\n')}`);
  }
  const m1 = await metricsOf(cdp);
  await cdp.detach();
  const cpu = Object.fromEntries(Object.keys(c1).map((k) => [k, (c1[k] ?? 0) - (c0[k] ?? 0)]));
  const metrics = Object.fromEntries(METRICS.map((k) => [k, (m1[k] ?? 0) - (m0[k] ?? 0)]));
  const updates = await page.evaluate<number[]>('window.updates');
  const rows = await page.evaluate<number[]>('window.rows');
  const frames = await page.evaluate<Record<string, [number, number]>>('window.frames_');
  await page.close();
  return { run, noPage, cpu, metrics, renders: updates.length, frames, updates, rows };
}

const p95 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.95)] ?? NaN;
const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

function line(name: string, s: Sample): string {
  const k = 1000 / s.run.events;
  const cpu = Object.entries(s.cpu)
    .filter(([, v]) => v > 0)
    .map(([t, v]) => `${t} ${(v * k).toFixed(0)}`)
    .join(', ');
  const m = s.metrics;
  return (
    `${name}: ${s.run.events} events in ${(s.run.ms / 1000).toFixed(2)} s (no page ${(s.noPage.ms / 1000).toFixed(2)} s: ${(s.run.ms / s.noPage.ms).toFixed(2)}×) · ` +
    `Chromium CPU ${(total(s.cpu) * k).toFixed(0)} ms per 1000 events (${cpu}) · main thread per 1000 events: tasks ${((m.TaskDuration ?? 0) * 1000 * k).toFixed(0)} ms, script ${((m.ScriptDuration ?? 0) * 1000 * k).toFixed(0)}, layout ${((m.LayoutDuration ?? 0) * 1000 * k).toFixed(0)} (${m.LayoutCount}), style ${((m.RecalcStyleDuration ?? 0) * 1000 * k).toFixed(0)} (${m.RecalcStyleCount}) · ` +
    `${s.renders} renders, frames ${Object.entries(s.frames).map(([t, [n, b]]) => `${t} ${n} (${(b / 1024).toFixed(0)} KiB)`).join(', ')} · update median ${median(s.updates).toFixed(1)} / p95 ${p95(s.updates).toFixed(1)} ms · row median ${median(s.rows).toFixed(0)} / p95 ${p95(s.rows).toFixed(0)} ms · server CPU ${(s.run.serverCpuMs / s.noPage.serverCpuMs).toFixed(2)}× no page`
  );
}

const model = await startScriptedServer({ apiKey: KEY, models: { m: { default: { type: 'text', text: 'answer' } } } });
const temps: ReturnType<typeof tempProject>[] = [];
const builds: Build[] = [];
const chrome = await launchChromium();
try {
  for (const [name, bin] of [['this', path.join(root, 'bin', 'opencode.js')], ...(BASE ? [['base', path.join(BASE, 'bin', 'opencode.js')]] : [])] as [string, string][]) {
    const temp = tempProject(`profile-dashboard-${name}`);
    temps.push(temp);
    fs.writeFileSync(path.join(temp.project, 'opencode.json'), JSON.stringify({ provider: { p: { options: { baseURL: model.url, apiKey: KEY }, models: { m: { cost: { input: 1, output: 2 } } } } }, model: 'p/m' }));
    const build = await serve(name, bin, temp.project, temp.env);
    builds.push(build);
    await load(build.url, build.dir, 50, build.pid); // warm-up (the first prompt fills the cache)
  }
  const samples = new Map<string, Sample[]>(builds.map((b) => [b.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? builds : [...builds].reverse();
    const got: Record<string, Sample> = {};
    for (const build of order) {
      const s = await measure(chrome, build);
      got[build.name] = s;
      samples.get(build.name)?.push(s);
      console.log(`round ${round + 1} ${line(build.name, s)} · load average ${os.loadavg()[0]?.toFixed(1)}`);
    }
    if (got.this && got.base) console.log(`round ${round + 1}: Chromium CPU per 1000 events this ÷ base ${(total(got.this.cpu) / got.this.run.events / (total(got.base.cpu) / got.base.run.events)).toFixed(2)}`);
  }
  for (const build of builds) {
    const all = samples.get(build.name) ?? [];
    const perK = all.map((s) => (total(s.cpu) / s.run.events) * 1000);
    console.log(`${build.name}: Chromium CPU per 1000 events median ${median(perK).toFixed(0)} ms (${perK.map((v) => v.toFixed(0)).join(', ')}); update median ${median(all.flatMap((s) => s.updates)).toFixed(1)} / p95 ${p95(all.flatMap((s) => s.updates)).toFixed(1)} ms; row median ${median(all.flatMap((s) => s.rows)).toFixed(0)} / p95 ${p95(all.flatMap((s) => s.rows)).toFixed(0)} ms`);
  }
} finally {
  await chrome.close();
  for (const b of builds) await b.stop();
  await model.close();
  for (const t of temps) t.cleanup();
}
