/**
 * The dashboard (bench of issue 15): the page's JavaScript gzipped; first render (navigation start
 * to the first state painted, in Chromium); a stream of turns answered from the cache (~1,000 events
 * a second) with and without the page open, alternately: the server must not slow down; and, with
 * the page open, each update's latency in the page (a frame's arrival → the DOM shows it, the page's
 * own `pantheon:update` measure) and, for the record, an event's timestamp → its log row on screen.
 *
 *   npx node bench/dashboard.ts [--quick] [--json] [--prompts N]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { launchChromium } from '../test/support/browser.ts';
import { startScriptedServer } from '../test/support/openai-server.ts';
import { median, tempProject } from './support/measure.ts';
import { against, runBench, type Row } from './support/report.ts';

const root = path.resolve(import.meta.dirname, '..');
const bin = path.join(root, 'bin', 'opencode.js');
const QUICK = process.argv.includes('--quick');
const promptsArg = process.argv.indexOf('--prompts');
const PROMPTS = promptsArg > 0 ? Number(process.argv[promptsArg + 1]) : QUICK ? 200 : 600;
/** Runs without and with the page, alternately (the machine's load drifts). */
const ROUNDS = QUICK ? 1 : 2;
const LOADS = QUICK ? 3 : 5;
const CONCURRENCY = 8;
const KEY = 'sk-bench-0123456789';
const GOALS = { gzipKB: 150, firstRenderMs: 300, latencyMs: 50, slowdown: 1.1 };

function startServe(cwd: string, env: NodeJS.ProcessEnv): Promise<{ url: string; stop: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'serve', '--port=0'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const exited = new Promise<void>((done) => child.on('close', () => done()));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ url: m[1] as string, stop: async () => (child.kill('SIGTERM'), await exited) });
    });
    child.on('error', reject);
    void exited.then(() => reject(new Error('serve exited before it was ready')));
  });
}

/** `n` prompts, `CONCURRENCY` at a time, each in a new session with the same text (so the cache answers): wall ms and events seen. */
async function load(url: string, dir: string, n: number): Promise<{ ms: number; events: number }> {
  const headers = { 'content-type': 'application/json', 'x-opencode-directory': encodeURIComponent(dir) };
  const abort = new AbortController();
  let events = 0;
  const res = await fetch(`${url}/global/event`, { signal: abort.signal });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const counting = (async () => {
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      events += decoder.decode(value).split('\n\n').filter((f) => f.includes('"pantheon.')).length;
    }
  })().catch(() => undefined);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        next += 1;
        const s = (await (await fetch(`${url}/session`, { method: 'POST', headers, body: '{}' })).json()) as { id: string };
        const r = await fetch(`${url}/session/${s.id}/message`, { method: 'POST', headers, body: JSON.stringify({ parts: [{ type: 'text', text: 'same question' }] }) });
        if (r.status !== 200) throw new Error(`prompt answered ${r.status}`);
        await r.text();
      }
    }),
  );
  const ms = performance.now() - started;
  abort.abort();
  await counting;
  return { ms, events };
}

async function body(): Promise<{ rows: Row[]; notes: string[] }> {
  const js = fs.readFileSync(path.join(root, 'dist', 'dashboard', 'app.js'));
  const css = fs.readFileSync(path.join(root, 'dist', 'dashboard', 'app.css'));
  // A row moved by the list's diff is added again: each entry (data-seq) is counted once, when it first appears.
  const gz = gzipSync(js, { level: 9 }).length / 1024;
  const gzCss = gzipSync(css, { level: 9 }).length / 1024;
  const model = await startScriptedServer({ apiKey: KEY, models: { m: { default: { type: 'text', text: 'answer' } } } });
  const temp = tempProject('dashboard');
  fs.writeFileSync(path.join(temp.project, 'opencode.json'), JSON.stringify({ provider: { p: { options: { baseURL: model.url, apiKey: KEY }, models: { m: { cost: { input: 1, output: 2 } } } } }, model: 'p/m' }));
  const project = { cwd: temp.project, env: temp.env };
  const served = await startServe(project.cwd, project.env);
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
    await load(served.url, project.cwd, 50); // warm-up (the first prompt fills the cache)
    const without: { ms: number; events: number }[] = [];
    const withPage: { ms: number; events: number }[] = [];
    const updates: number[] = [];
    const rows: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      without.push(await load(served.url, project.cwd, PROMPTS));
      const page = await chrome.context.newPage();
      await page.goto(`${served.url}/`);
      await page.waitForSelector('[data-status="live"]');
      // Each update's own measure (frame arrival → DOM updated), and each log row's event time → on screen (counted once per entry).
      await page.evaluate(`window.updates = []; new PerformanceObserver((list) => { for (const e of list.getEntries()) if (e.name === 'pantheon:update') window.updates.push(e.duration); }).observe({ type: 'measure' });
        window.rows = []; const seen = new Set(); new MutationObserver((list) => { const now = Date.now(); for (const m of list) for (const n of m.addedNodes) if (n.nodeType === 1 && n.matches('tr[data-seq]') && !seen.has(n.getAttribute('data-seq'))) { seen.add(n.getAttribute('data-seq')); window.rows.push(now - Number(n.getAttribute('data-time'))); } }).observe(document.body, { subtree: true, childList: true });`);
      withPage.push(await load(served.url, project.cwd, PROMPTS));
      updates.push(...(await page.evaluate<number[]>('window.updates')));
      rows.push(...(await page.evaluate<number[]>('window.rows')));
      await page.close();
    }
    const sum = (runs: { ms: number; events: number }[]) => runs.reduce((a, r) => ({ ms: a.ms + r.ms, events: a.events + r.events }), { ms: 0, events: 0 });
    const base = sum(without);
    const open = sum(withPage);
    const p95 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.95)] ?? NaN;
    const rate = (r: { ms: number; events: number }) => (r.events / r.ms) * 1000;
    const slowdown = open.ms / base.ms;
    const total = ROUNDS * PROMPTS;
    return {
      rows: [
        { bench: 'dashboard', case: 'page JavaScript (Preact + uPlot + ours), gzipped', result: `${gz.toFixed(1)} KB (+ ${gzCss.toFixed(1)} KB CSS)`, figure: `${gz.toFixed(1)} KB`, goal: `< ${GOALS.gzipKB} KB`, ...against(gz, GOALS.gzipKB) },
        { bench: 'dashboard', case: `first render in Chromium (navigation → first state painted), median of ${LOADS}`, result: `${median(renders).toFixed(0)} ms`, figure: `${median(renders).toFixed(0)} ms`, goal: `< ${GOALS.firstRenderMs} ms`, ...against(median(renders), GOALS.firstRenderMs) },
        { bench: 'dashboard', case: `${total} cached turns, ${CONCURRENCY} at a time, no page open (baseline)`, result: `${(base.ms / 1000).toFixed(2)} s · ${rate(base).toFixed(0)} events/s`, figure: '1×', goal: '' },
        { bench: 'dashboard', case: 'same with the dashboard open', result: `${(open.ms / 1000).toFixed(2)} s · ${rate(open).toFixed(0)} events/s`, figure: `${slowdown.toFixed(2)}× no page`, goal: `≤ ${GOALS.slowdown}×`, ...against(slowdown, GOALS.slowdown) },
        { bench: 'dashboard', case: `update in the page under that stream (frame arrival → DOM updated), ${updates.length} updates`, result: `median ${median(updates).toFixed(1)} ms, p95 ${p95(updates).toFixed(1)} ms`, figure: `${median(updates).toFixed(1)} ms`, goal: `< ${GOALS.latencyMs} ms`, ...against(median(updates), GOALS.latencyMs) },
        { bench: 'dashboard', case: `event → its log row on screen (server, network and page), ${rows.length} rows`, result: `median ${median(rows).toFixed(0)} ms, p95 ${p95(rows).toFixed(0)} ms`, figure: `${median(rows).toFixed(0)} ms`, goal: '' },
      ],
      notes: [`dashboard: events are the pantheon.* frames a /global/event subscriber counted (step_start, text, step_finish, cache_hit, done, … per turn); the page gets a log row per cache hit.${QUICK ? ' --quick: fewer turns and loads, one round.' : ''}`],
    };
  } finally {
    await chrome.close();
    await served.stop();
    await model.close();
    temp.cleanup();
  }
}

await runBench(body);
