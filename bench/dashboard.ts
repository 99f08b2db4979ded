/**
 * The dashboard (bench of issue 15): the page's JavaScript gzipped; first render (navigation start
 * to the first state painted, in Chromium); a stream of turns answered from the cache with and
 * without the page open, alternately: the server must not slow down; and, with the page open, each
 * update's latency in the page (a frame's arrival → the DOM shows it, the page's own
 * `pantheon:update` measure) and, for the record, an event's timestamp → its log row on screen.
 * Then the burst: turns whose answers stream 300 chunks (a `text` event each) between turns answered
 * from the cache (a log row each), as fast as the server takes them, with and without the page: the
 * events a second, the slowdown, the page's update latency during the burst, and whether the page
 * shows the newest log entry and the server's totals once it is over. Chromium's CPU time (every
 * process of it) during each run with the page says what the page costs the machine.
 *
 *   npx node bench/dashboard.ts [--quick] [--json] [--prompts N]
 */
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { launchChromium } from '../test/support/browser.ts';
import { startScriptedServer } from '../test/support/openai-server.ts';
import { childrenCpuMs, CONCURRENCY, load as loadOn, type LoadResult } from './support/dashboard-load.ts';
import { median, tempProject } from './support/measure.ts';
import { startServe } from './support/serve-process.ts';
import { against, runBench, type Row } from './support/report.ts';

const root = path.resolve(import.meta.dirname, '..');
const QUICK = process.argv.includes('--quick');
const promptsArg = process.argv.indexOf('--prompts');
const PROMPTS = promptsArg > 0 ? Number(process.argv[promptsArg + 1]) : QUICK ? 200 : 600;
/** Runs without and with the page, alternately (the machine's load drifts). */
const ROUNDS = QUICK ? 1 : 2;
const LOADS = QUICK ? 3 : 5;
const KEY = 'sk-bench-0123456789';
const GOALS = { gzipKB: 150, firstRenderMs: 300, latencyMs: 50, slowdown: 1.1, burstRate: 1000 };
/** The burst: turns, and the words (chunks, `text` events) of each streamed answer. */
const BURST_TURNS = QUICK ? 64 : 160;
/** The paced stream: events a second, for how long. */
const PACED_EVENTS = 1000;
const PACED_SECONDS = QUICK ? 4 : 8;
const ANSWER = Array.from({ length: 300 }, (_, i) => `w${i}`).join(' ');

/** The server's process, whose CPU time each load measures. */
let serverPid: number | undefined;

const load = (url: string, dir: string, n: number, burst = false, perSecond?: number): Promise<LoadResult> => loadOn(url, dir, n, serverPid, burst, perSecond);

async function body(): Promise<{ rows: Row[]; notes: string[] }> {
  // The page's script and the chart library it imports after its first render, each gzipped on its own as the server would send them.
  const scripts = ['app.js', 'plot.js'].map((file) => gzipSync(fs.readFileSync(path.join(root, 'dist', 'dashboard', file)), { level: 9 }).length / 1024);
  const css = fs.readFileSync(path.join(root, 'dist', 'dashboard', 'app.css'));
  const gz = scripts.reduce((a, b) => a + b, 0);
  const gzCss = gzipSync(css, { level: 9 }).length / 1024;
  const model = await startScriptedServer({ apiKey: KEY, models: { m: { default: { type: 'text', text: 'answer' } }, b: { default: { type: 'text', text: ANSWER } } } });
  const temp = tempProject('dashboard');
  fs.writeFileSync(path.join(temp.project, 'opencode.json'), JSON.stringify({ provider: { p: { options: { baseURL: model.url, apiKey: KEY }, models: { m: { cost: { input: 1, output: 2 } }, b: { cost: { input: 1, output: 2 } } } } }, model: 'p/m' }));
  const project = { cwd: temp.project, env: temp.env };
  const served = await startServe({ cwd: project.cwd, env: project.env });
  serverPid = served.child.pid;
  const chrome = await launchChromium();
  try {
    // First render: fresh loads.
    const renders: number[] = [];
    for (let i = 0; i < LOADS; i++) {
      const page = await chrome.context.newPage();
      await page.goto(`${served.url}/`);
      // A function, not a string: the page's CSP forbids eval.
      await page.waitForFunction(() => performance.getEntriesByName('pantheon:first-render').length > 0);
      renders.push(await page.evaluate<number>("performance.getEntriesByName('pantheon:first-render')[0].startTime"));
      await page.close();
    }
    const warm = await load(served.url, project.cwd, 50); // warm-up (the first prompt fills the cache)
    // The stream: 1,000 events a second into the open page, turns started at that pace
    // (events per turn as the warm-up counted them), without and with the page, alternately.
    const perTurn = warm.events / 50;
    const pace = PACED_EVENTS / perTurn;
    const pacedTurns = Math.round(pace * PACED_SECONDS);
    const pacedWithout: LoadResult[] = [];
    const pacedWith: LoadResult[] = [];
    let pacedPageCpuMs = 0;
    for (let round = 0; round < ROUNDS; round++) {
      pacedWithout.push(await load(served.url, project.cwd, pacedTurns, false, pace));
      const page = await chrome.context.newPage();
      await page.goto(`${served.url}/`);
      await page.waitForSelector('[data-status="live"]');
      const cpu = childrenCpuMs(served.child.pid);
      pacedWith.push(await load(served.url, project.cwd, pacedTurns, false, pace));
      pacedPageCpuMs += childrenCpuMs(served.child.pid) - cpu;
      await page.close();
    }
    const without: LoadResult[] = [];
    const withPage: LoadResult[] = [];
    const updates: number[] = [];
    const rows: number[] = [];
    let pageCpuMs = 0;
    for (let round = 0; round < ROUNDS; round++) {
      without.push(await load(served.url, project.cwd, PROMPTS));
      const page = await chrome.context.newPage();
      await page.goto(`${served.url}/`);
      await page.waitForSelector('[data-status="live"]');
      // Each update's own measure (frame arrival → DOM updated), and each log row's event time → on screen (counted once per entry).
      await page.evaluate(`window.updates = []; new PerformanceObserver((list) => { for (const e of list.getEntries()) if (e.name === 'pantheon:update') window.updates.push(e.duration); }).observe({ type: 'measure' });
        window.rows = []; const seen = new Set(); new MutationObserver((list) => { const now = Date.now(); for (const m of list) for (const n of m.addedNodes) if (n.nodeType === 1 && n.matches('tr[data-seq]') && !seen.has(n.getAttribute('data-seq'))) { seen.add(n.getAttribute('data-seq')); window.rows.push(now - Number(n.getAttribute('data-time'))); } }).observe(document.body, { subtree: true, childList: true });`);
      const cpu = childrenCpuMs(served.child.pid);
      withPage.push(await load(served.url, project.cwd, PROMPTS));
      pageCpuMs += childrenCpuMs(served.child.pid) - cpu;
      updates.push(...(await page.evaluate<number[]>('window.updates')));
      rows.push(...(await page.evaluate<number[]>('window.rows')));
      await page.close();
    }
    const pageCpu = pageCpuMs;
    // The burst, without and with the page.
    const burstWithout = await load(served.url, project.cwd, BURST_TURNS, true);
    const page = await chrome.context.newPage();
    await page.goto(`${served.url}/`);
    await page.waitForSelector('[data-status="live"]');
    await page.evaluate(`window.updates = []; new PerformanceObserver((list) => { for (const e of list.getEntries()) if (e.name === 'pantheon:update') window.updates.push(e.duration); }).observe({ type: 'measure' });`);
    const cpuBefore = childrenCpuMs(served.child.pid);
    const burstWith = await load(served.url, project.cwd, BURST_TURNS, true);
    const burstCpu = childrenCpuMs(served.child.pid) - cpuBefore;
    const burstUpdates = await page.evaluate<number[]>('window.updates');
    // Once it is over, the page shows the server's newest log entry and today's totals.
    const after = (await (await fetch(`${served.url}/api/state`)).json()) as { log: { seq: number }[]; usage: { today: { requests: number; costUSD: number } } };
    const newest = String(after.log.at(-1)?.seq);
    const settled = performance.now();
    const caughtUp = await page
      .waitForFunction(
        (want) => {
          type Doc = { querySelector(s: string): { getAttribute(n: string): string | null } | null };
          const doc = (globalThis as unknown as { document: Doc }).document;
          return doc.querySelector('tbody tr[data-seq]')?.getAttribute('data-seq') === want.newest && Number(doc.querySelector('[data-totals="today"]')?.getAttribute('data-requests')) === want.requests;
        },
        { newest, requests: after.usage.today.requests },
        { timeout: 10_000 },
      )
      .then(
        () => performance.now() - settled,
        () => undefined,
      );
    await page.close();
    const sum = (runs: LoadResult[]) => runs.reduce((a, r) => ({ ms: a.ms + r.ms, events: a.events + r.events, serverCpuMs: a.serverCpuMs + r.serverCpuMs }), { ms: 0, events: 0, serverCpuMs: 0 });
    const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const base = sum(without);
    const open = sum(withPage);
    const p95 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.95)] ?? NaN;
    const rate = (r: { ms: number; events: number }) => (r.events / r.ms) * 1000;
    const slowdown = open.ms / base.ms;
    const total = ROUNDS * PROMPTS;
    return {
      rows: [
        { bench: 'dashboard', case: 'page JavaScript (Preact + uPlot + ours), gzipped', result: `${gz.toFixed(1)} KB: app.js ${(scripts[0] ?? 0).toFixed(1)}, plot.js (uPlot, after the first render) ${(scripts[1] ?? 0).toFixed(1)} (+ ${gzCss.toFixed(1)} KB CSS)`, figure: `${gz.toFixed(1)} KB`, goal: `< ${GOALS.gzipKB} KB`, ...against(gz, GOALS.gzipKB) },
        { bench: 'dashboard', case: `first render in Chromium (navigation → first state painted), median of ${LOADS}`, result: `${median(renders).toFixed(0)} ms`, figure: `${median(renders).toFixed(0)} ms`, goal: `< ${GOALS.firstRenderMs} ms`, ...against(median(renders), GOALS.firstRenderMs) },
        ...pacedRows(pacedWithout, pacedWith, pacedPageCpuMs, pace),
        { bench: 'dashboard', case: `${total} cached turns, ${CONCURRENCY} at a time, no page open (baseline)`, result: `${(base.ms / 1000).toFixed(2)} s · ${rate(base).toFixed(0)} events/s · server's CPU ${secs(base.serverCpuMs)}`, figure: '1×', goal: '' },
        { bench: 'dashboard', case: 'same with the dashboard open', result: `${(open.ms / 1000).toFixed(2)} s · ${rate(open).toFixed(0)} events/s · server's CPU ${secs(open.serverCpuMs)} (${(open.serverCpuMs / base.serverCpuMs).toFixed(2)}× no page) · Chromium's CPU ${(pageCpu / 1000).toFixed(2)} s`, figure: `${slowdown.toFixed(2)}× no page`, goal: `≤ ${GOALS.slowdown}×`, ...against(slowdown, GOALS.slowdown) },
        { bench: 'dashboard', case: `update in the page under that stream (frame arrival → DOM updated), ${updates.length} updates`, result: `median ${median(updates).toFixed(1)} ms, p95 ${p95(updates).toFixed(1)} ms`, figure: `${median(updates).toFixed(1)} ms`, goal: `< ${GOALS.latencyMs} ms`, ...against(median(updates), GOALS.latencyMs) },
        { bench: 'dashboard', case: `event → its log row on screen (server, network and page), ${rows.length} rows`, result: `median ${median(rows).toFixed(0)} ms, p95 ${p95(rows).toFixed(0)} ms`, figure: `${median(rows).toFixed(0)} ms`, goal: '' },
        { bench: 'dashboard', case: `burst: ${BURST_TURNS} turns, 8 at a time, every other one streaming 300 chunks, the rest cached; no page open (baseline)`, result: `${(burstWithout.ms / 1000).toFixed(2)} s · ${rate(burstWithout).toFixed(0)} events/s · server's CPU ${secs(burstWithout.serverCpuMs)}`, figure: '1×', goal: '' },
        { bench: 'dashboard', case: 'burst with the dashboard open: events a second', result: `${(burstWith.ms / 1000).toFixed(2)} s · ${rate(burstWith).toFixed(0)} events/s · server's CPU ${secs(burstWith.serverCpuMs)} (${(burstWith.serverCpuMs / burstWithout.serverCpuMs).toFixed(2)}× no page) · Chromium's CPU ${(burstCpu / 1000).toFixed(2)} s`, figure: `${rate(burstWith).toFixed(0)} events/s`, goal: `≥ ${GOALS.burstRate} events/s`, ...(rate(burstWith) >= GOALS.burstRate ? { met: true } : { met: false, miss: `${(((GOALS.burstRate - rate(burstWith)) / GOALS.burstRate) * 100).toFixed(0)}% short` }) },
        { bench: 'dashboard', case: 'burst with the dashboard open: the server', result: `${(burstWith.ms / burstWithout.ms).toFixed(2)}× the burst without the page`, figure: `${(burstWith.ms / burstWithout.ms).toFixed(2)}× no page`, goal: `≤ ${GOALS.slowdown}×`, ...against(burstWith.ms / burstWithout.ms, GOALS.slowdown) },
        { bench: 'dashboard', case: `burst: update in the page (frame arrival → DOM updated), ${burstUpdates.length} updates`, result: `median ${median(burstUpdates).toFixed(1)} ms, p95 ${p95(burstUpdates).toFixed(1)} ms`, figure: `${median(burstUpdates).toFixed(1)} ms`, goal: `< ${GOALS.latencyMs} ms`, ...against(median(burstUpdates), GOALS.latencyMs) },
        { bench: 'dashboard', case: 'burst: the page shows the newest log entry and the server’s totals after it', result: caughtUp === undefined ? 'not within 10 s' : `yes, ${caughtUp.toFixed(0)} ms after the last answer`, figure: caughtUp === undefined ? 'no' : 'yes', goal: 'yes', met: caughtUp !== undefined },
      ],
      notes: [`dashboard: events are the pantheon.* frames a /global/event subscriber counted (step_start, text, step_finish, cache_hit, done, … per turn); the page gets a log row per cache hit. Chromium's CPU: user + system time of every Chromium process during the run with the page (2 cores in all); the server's CPU: its process's, from /proc, over the same run.${QUICK ? ' --quick: fewer turns and loads, one round.' : ''}`],
    };
  } finally {
    await chrome.close();
    await served.stop();
    await model.close();
    temp.cleanup();
  }
}

/** The paced stream's rows: each turn's round trip and the server's CPU, with the page against without. */
function pacedRows(without: LoadResult[], open: LoadResult[], pageCpuMs: number, pace: number): Row[] {
  const turns = (runs: LoadResult[]) => runs.flatMap((r) => r.turnMs);
  const cpuPerEvent = (runs: LoadResult[]) => runs.reduce((a, r) => a + r.serverCpuMs, 0) / runs.reduce((a, r) => a + r.events, 0);
  const rate = (runs: LoadResult[]) => (runs.reduce((a, r) => a + r.events, 0) / runs.reduce((a, r) => a + r.ms, 0)) * 1000;
  const p95 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.95)] ?? NaN;
  const [a, b] = [turns(without), turns(open)];
  const ratio = median(b) / median(a);
  const describe = (runs: LoadResult[], t: number[]) => `${rate(runs).toFixed(0)} events/s · a turn median ${median(t).toFixed(1)} ms, p95 ${p95(t).toFixed(1)} ms · server's CPU ${(cpuPerEvent(runs) * 1000).toFixed(0)} µs an event`;
  return [
    { bench: 'dashboard', case: `${PACED_EVENTS} events/s (${pace.toFixed(0)} cached turns a second, ${PACED_SECONDS} s), no page open (baseline)`, result: describe(without, a), figure: '1×', goal: '' },
    {
      bench: 'dashboard',
      case: `same with the dashboard open: the server's turns`,
      result: `${describe(open, b)} (${(cpuPerEvent(open) / cpuPerEvent(without)).toFixed(2)}× no page) · Chromium's CPU ${(pageCpuMs / 1000).toFixed(2)} s`,
      figure: `${ratio.toFixed(2)}× no page`,
      goal: `≤ ${GOALS.slowdown}×`,
      ...against(ratio, GOALS.slowdown),
    },
  ];
}

await runBench(body);
