/**
 * The dashboard (bench of issue 15): the page's JavaScript gzipped; first render (navigation start
 * to the first state on screen, in Chromium); event → page latency (an event's timestamp to its log
 * row in the page, measured in the page); and a stream of turns answered from the cache (~1,000
 * events a second on this machine) with and without the page open: the server must not slow down.
 *
 *   npx node bench/dashboard.ts [--json] [--prompts N]
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
const promptsArg = process.argv.indexOf('--prompts');
const PROMPTS = promptsArg > 0 ? Number(process.argv[promptsArg + 1]) : 600;
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
    // First render, five fresh loads.
    const renders: number[] = [];
    for (let i = 0; i < 5; i++) {
      const page = await chrome.context.newPage();
      await page.goto(`${served.url}/`);
      // A function, not a string: the page's CSP forbids eval.
      await page.waitForFunction(() => performance.getEntriesByName('pantheon:first-render').length > 0);
      renders.push(await page.evaluate<number>("performance.getEntriesByName('pantheon:first-render')[0].startTime"));
      await page.close();
    }
    await load(served.url, project.cwd, 50); // warm-up (the first prompt fills the cache)
    const without = await load(served.url, project.cwd, PROMPTS);
    const page = await chrome.context.newPage();
    await page.goto(`${served.url}/`);
    await page.waitForSelector('[data-status="live"]');
    await page.evaluate(`window.latencies = []; const seen = new Set(); new MutationObserver((list) => { const now = Date.now(); for (const m of list) for (const n of m.addedNodes) if (n.nodeType === 1 && n.matches('tr[data-seq]') && !seen.has(n.getAttribute('data-seq'))) { seen.add(n.getAttribute('data-seq')); window.latencies.push(now - Number(n.getAttribute('data-time'))); } }).observe(document.body, { subtree: true, childList: true });`);
    const withPage = await load(served.url, project.cwd, PROMPTS);
    const latencies = (await page.evaluate<number[]>('window.latencies')).sort((a, b) => a - b);
    await page.close();
    const p95 = latencies[Math.floor(latencies.length * 0.95)] ?? NaN;
    const rate = (r: { ms: number; events: number }) => (r.events / r.ms) * 1000;
    const slowdown = withPage.ms / without.ms;
    return {
      rows: [
        { bench: 'dashboard', case: 'page JavaScript (Preact + uPlot + ours), gzipped', result: `${gz.toFixed(1)} KB (+ ${gzCss.toFixed(1)} KB CSS)`, figure: `${gz.toFixed(1)} KB`, goal: `< ${GOALS.gzipKB} KB`, ...against(gz, GOALS.gzipKB) },
        { bench: 'dashboard', case: 'first render in Chromium (navigation → first state on screen), median of 5', result: `${median(renders).toFixed(0)} ms`, figure: `${median(renders).toFixed(0)} ms`, goal: `< ${GOALS.firstRenderMs} ms`, ...against(median(renders), GOALS.firstRenderMs) },
        { bench: 'dashboard', case: `event → page (event timestamp → its log row, in the page), ${latencies.length} rows`, result: `median ${median(latencies).toFixed(0)} ms, p95 ${p95} ms`, figure: `${median(latencies).toFixed(0)} ms`, goal: `< ${GOALS.latencyMs} ms`, ...against(median(latencies), GOALS.latencyMs) },
        { bench: 'dashboard', case: `${PROMPTS} cached turns, ${CONCURRENCY} at a time, no page open (baseline)`, result: `${(without.ms / 1000).toFixed(2)} s · ${rate(without).toFixed(0)} events/s`, figure: '1×', goal: '' },
        { bench: 'dashboard', case: 'same with the dashboard open', result: `${(withPage.ms / 1000).toFixed(2)} s · ${rate(withPage).toFixed(0)} events/s`, figure: `${slowdown.toFixed(2)}× no page`, goal: `≤ ${GOALS.slowdown}×`, ...against(slowdown, GOALS.slowdown) },
      ],
      notes: [`dashboard: events are the pantheon.* frames a /global/event subscriber counted (step_start, text, step_finish, cache_hit, done, … per turn); the page gets a log row per cache hit.`],
    };
  } finally {
    await chrome.close();
    await served.stop();
    await model.close();
    temp.cleanup();
  }
}

await runBench(body);
