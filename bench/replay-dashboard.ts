/**
 * What the open dashboard costs Chromium, build against build, without a server competing for the
 * CPUs (issue 15). `--record FILE` runs bench/dashboard.ts's cached turns against `opencode serve`
 * once and keeps the page and its /api/state/stream as they arrived (chunks with their times).
 * Replaying FILE serves that page and stream, with the same timing, to the page of each build given
 * (its dist/dashboard), in alternate rounds; each round opens the page, waits for it to settle, then
 * plays the stream and measures Chromium's CPU (every process, from /proc), the renders (the page's
 * `pantheon:update` measures), the update latency (frame arrival → DOM updated) and frame arrival →
 * the animation frame that shows it. Every build gets the same stream, so paired ratios hold to
 * about ±10 % at load average 10, where live runs (bench/profile-dashboard.ts) swing ±20 %.
 * A diagnostic, not part of run-all.
 *
 *   npx node bench/replay-dashboard.ts --record FILE [--turns N]
 *   npx node bench/replay-dashboard.ts FILE [--rounds N] [--trace PREFIX] NAME=DIR [NAME=DIR …]
 *
 * DIR: a checkout with a build (DIR/dist/dashboard/app.js and app.css). `--trace PREFIX` writes a
 * Chromium trace of each build's first round to PREFIX-NAME.json.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { launchChromium } from '../test/support/browser.ts';
import { startScriptedServer } from '../test/support/openai-server.ts';
import { childrenCpuByPid, childrenCpuSince, load } from './support/dashboard-load.ts';
import { median, tempProject } from './support/measure.ts';
import { startServe } from './support/serve-process.ts';

const flag = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const KEY = 'sk-bench-0123456789';

interface Recording {
  html: string;
  /** The stream as it arrived: ms since it opened, text. */
  chunks: [number, string][];
}

async function record(file: string, turns: number): Promise<void> {
  const model = await startScriptedServer({ apiKey: KEY, models: { m: { default: { type: 'text', text: 'answer' } } } });
  const temp = tempProject('replay-dashboard');
  fs.writeFileSync(path.join(temp.project, 'opencode.json'), JSON.stringify({ provider: { p: { options: { baseURL: model.url, apiKey: KEY }, models: { m: { cost: { input: 1, output: 2 } } } } }, model: 'p/m' }));
  const served = await startServe({ cwd: temp.project, env: temp.env });
  try {
    await load(served.url, temp.project, 50, served.child.pid); // warm-up (the first prompt fills the cache)
    const html = await (await fetch(`${served.url}/`)).text();
    const res = await fetch(`${served.url}/api/state/stream`);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const chunks: [number, string][] = [];
    const opened = performance.now();
    const decoder = new TextDecoder();
    const reading = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        chunks.push([performance.now() - opened, decoder.decode(value, { stream: true })]);
      }
    })().catch(() => undefined);
    const run = await load(served.url, temp.project, turns, served.child.pid);
    await new Promise((r) => setTimeout(r, 300));
    await reader.cancel();
    await reading;
    fs.writeFileSync(file, JSON.stringify({ html, chunks } satisfies Recording));
    console.log(`${file}: ${run.events} events in ${(run.ms / 1000).toFixed(2)} s; ${chunks.length} chunks of the state stream`);
  } finally {
    await served.stop();
    await model.close();
    temp.cleanup();
  }
}

/** In the page: each update's measure, and frame arrival → the animation frame that paints it (the one it was made in, or the next). */
const WATCH = `window.updates = []; window.framed = [];
  new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.name === 'pantheon:update') window.updates.push(e.duration); }).observe({ type: 'measure' });
  let inFrame = false; const raf = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = (cb) => raf((t) => { inFrame = true; try { cb(t); } finally { inFrame = false; } });
  const measure = performance.measure.bind(performance);
  performance.measure = (name, o) => { const r = measure(name, o); if (name === 'pantheon:update') { const start = o.start; if (inFrame) window.framed.push(performance.now() - start); else raf(() => window.framed.push(performance.now() - start)); } return r; };`;

interface Sample {
  cpu: Record<string, number>;
  renders: number;
  updates: number[];
  framed: number[];
}

async function replay(file: string, builds: { name: string; dir: string }[], rounds: number, trace: string | undefined): Promise<void> {
  const { html, chunks } = JSON.parse(fs.readFileSync(file, 'utf8')) as Recording;
  const first = chunks.findIndex(([, text]) => text.includes('event: snapshot')) + 1;
  let dir = '';
  let play: (() => Promise<void>) | undefined;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
    } else if (/^\/dashboard\/(app\.js|app\.css|plot\.js)$/.test(url.pathname)) {
      // plot.js: builds before the fourteenth session have none (uPlot was inside app.js).
      const file = path.join(dir, 'dist', url.pathname);
      if (!fs.existsSync(file)) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': url.pathname.endsWith('.js') ? 'text/javascript' : 'text/css', 'cache-control': 'no-store' });
      res.end(fs.readFileSync(file));
    } else if (url.pathname === '/api/state/stream') {
      // The snapshot at once; the rest when the round starts, at the times it arrived.
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (const [, text] of chunks.slice(0, first)) res.write(text);
      let gone = false;
      req.on('close', () => (gone = true));
      play = async () => {
        const start = performance.now() - (chunks[first]?.[0] ?? 0);
        for (const [at, text] of chunks.slice(first)) {
          const wait = start + at - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          if (gone) return;
          res.write(text);
        }
      };
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  const chrome = await launchChromium();
  const samples = new Map<string, Sample[]>(builds.map((b) => [b.name, []]));
  const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  const p95 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.95)] ?? NaN;
  try {
    for (let round = 0; round < rounds; round++) {
      for (const build of round % 2 === 0 ? builds : [...builds].reverse()) {
        dir = build.dir;
        play = undefined;
        const page = await chrome.context.newPage();
        await page.addInitScript(WATCH);
        await page.goto(url);
        await page.waitForSelector('[data-status="live"]');
        await new Promise((r) => setTimeout(r, 1500)); // the page settles (and a closed page's renderer exits)
        const tracing = trace && round === 0 ? `${trace}-${build.name}.json` : undefined;
        if (tracing) await chrome.browser.startTracing(page, { path: tracing, categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink', 'cc', 'gpu', 'viz', 'v8', 'toplevel'] });
        const before = childrenCpuByPid(undefined);
        const u0 = await page.evaluate<number>('window.updates.length');
        await (play as (() => Promise<void>) | undefined)?.();
        await new Promise((r) => setTimeout(r, 300));
        const cpu = childrenCpuSince(before, undefined);
        if (tracing) await chrome.browser.stopTracing();
        const updates = (await page.evaluate<number[]>('window.updates')).slice(u0);
        const framed = (await page.evaluate<number[]>('window.framed')).slice(u0);
        await page.close();
        samples.get(build.name)?.push({ cpu, renders: updates.length, updates, framed });
        const by = Object.entries(cpu)
          .filter(([, ms]) => ms > 0)
          .map(([type, ms]) => `${type} ${ms.toFixed(0)}`)
          .join(', ');
        console.log(`round ${round + 1} ${build.name}: Chromium CPU ${total(cpu).toFixed(0)} ms (${by}), ${updates.length} renders, ${(total(cpu) / updates.length).toFixed(1)} ms a render · load average ${os.loadavg()[0]?.toFixed(1)}`);
      }
    }
    for (const build of builds) {
      const all = samples.get(build.name) ?? [];
      const updates = all.flatMap((s) => s.updates);
      const framed = all.flatMap((s) => s.framed);
      console.log(
        `${build.name}: Chromium CPU median ${median(all.map((s) => total(s.cpu))).toFixed(0)} ms (${all.map((s) => total(s.cpu).toFixed(0)).join(', ')}); renders ${all.map((s) => s.renders).join(', ')}; ` +
          `update median ${median(updates).toFixed(1)} / p95 ${p95(updates).toFixed(1)} ms; arrival → its frame median ${median(framed).toFixed(1)} / p95 ${p95(framed).toFixed(1)} ms`,
      );
    }
    const base = builds.at(-1);
    for (const build of builds.slice(0, -1)) {
      const ratios = (samples.get(build.name) ?? []).map((s, i) => total(s.cpu) / total(samples.get(base?.name ?? '')?.[i]?.cpu ?? {}));
      console.log(`${build.name} ÷ ${base?.name}: Chromium CPU per round ${ratios.map((r) => r.toFixed(2)).join(', ')}; median ${median(ratios).toFixed(2)}`);
    }
  } finally {
    await chrome.close();
    server.close();
  }
}

const recordTo = flag('--record');
if (recordTo) await record(recordTo, Number(flag('--turns') ?? 300));
else {
  const file = process.argv[2];
  const builds = process.argv
    .slice(3)
    .filter((a) => /^[\w-]+=/.test(a))
    .map((a) => ({ name: a.slice(0, a.indexOf('=')), dir: path.resolve(a.slice(a.indexOf('=') + 1)) }));
  if (!file || !fs.existsSync(file) || builds.length === 0) {
    console.error('usage: npx node bench/replay-dashboard.ts --record FILE [--turns N]  |  npx node bench/replay-dashboard.ts FILE [--rounds N] [--trace PREFIX] NAME=DIR [NAME=DIR …]');
    process.exit(2);
  }
  await replay(file, builds, Number(flag('--rounds') ?? 4), flag('--trace'));
}
