/**
 * What SSE subscribers cost `opencode serve` (issue 13: 50 subscribers must not slow a turn): the
 * server (the built bundle) against the instant scripted model, prompts one at a time, in rounds
 * without and with `--subscribers` readers of `--stream`, interleaved (a new session each time).
 * The readers run in a process of their own (bench/support/sse-readers.ts; `--in-process`: in this
 * one, beside the client that times the prompts and the scripted model), so the server's CPU time
 * per prompt (from /proc), the readers' and the round trip are told apart. With `--prof`, the
 * rounds are only those with readers and the server (tsc's dist/) runs under `--cpu-prof`: where
 * its time goes, per prompt.
 *
 *   npx node bench/profile-serve.ts [--subscribers N] [--stream /event|/global/event|/api/state/stream] [--cached] [--prompts N] [--rounds N] [--in-process] [--base DIR] [--prof [--keep FILE]] [--top N]
 *
 * `--stream /api/state/stream --subscribers 1 --cached`: what an open dashboard asks of the server
 * (its state stream, without the browser) under bench/dashboard.ts's load (each prompt in a new
 * session, the same question so the cache answers, 8 at a time).
 * `--base DIR`: another build (a copy of dist/ and bin/ with node_modules beside it), measured in
 * the same rounds, alternately with this one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startScriptedServer } from '../test/support/openai-server.ts';
import { processCpuMs, profileTables, summariseProfile } from './support/cpu-profile.ts';
import { median, tempProject } from './support/measure.ts';
import { sseReaders } from './support/sse-readers.ts';
import { SERVER_NODE_FLAGS } from '../src/cli/server-node-flags.ts';

const root = path.resolve(import.meta.dirname, '..');
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? (process.argv[i + 1] as string) : fallback;
};
const SUBSCRIBERS = Number(arg('--subscribers', '50'));
const PROMPTS = Number(arg('--prompts', '100'));
const ROUNDS = Number(arg('--rounds', '3'));
const TOP = Number(arg('--top', '30'));
const PROF = process.argv.includes('--prof');
const IN_PROCESS = process.argv.includes('--in-process');
/** What the readers subscribe to: /event, /global/event, or the dashboard's /api/state/stream. */
const STREAM = arg('--stream', '/event');
/** The dashboard bench's load: each prompt in a new session, the same question (the cache answers), 8 at a time. */
const CACHED = process.argv.includes('--cached');
const CONCURRENCY = CACHED ? 8 : 1;
/** Another build (a copy of dist/ and bin/ with node_modules, as bench/compare-builds.ts takes): measured interleaved with this one. */
const BASE = process.argv.includes('--base') ? arg('--base', '') : undefined;
const ANSWER = 'Hello! How can I help you today?';
const KEY = 'sk-bench-0123456789';

/** The child's stdout line by line; rejects once it has exited with nothing more to read. */
function lines(child: ChildProcess): { next: () => Promise<string> } {
  let buf = '';
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  child.stdout?.on('data', (c: Buffer) => {
    buf += c.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      queue.push(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
    wake?.();
  });
  child.on('close', () => {
    closed = true;
    wake?.();
  });
  return {
    async next() {
      while (!queue.length) {
        if (closed) throw new Error('the process exited');
        await new Promise<void>((r) => (wake = r));
      }
      return queue.shift() as string;
    },
  };
}

/** Readers of `url`: apart (a child process) or here; stop() resolves with their CPU time (ms) when apart. */
async function readers(url: string, headers: Record<string, string>): Promise<{ stop: () => Promise<number | undefined> }> {
  if (!IN_PROCESS) return sseReaders(url, SUBSCRIBERS, headers);
  const abort = new AbortController();
  await Promise.all(
    Array.from({ length: SUBSCRIBERS }, async () => {
      const res = await fetch(url, { headers, signal: abort.signal });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      await reader.read();
      void (async () => {
        for (;;) if ((await reader.read()).done) return;
      })().catch(() => undefined);
    }),
  );
  return { stop: async () => (abort.abort(), undefined) };
}

interface Build {
  name: string;
  url: string;
  pid: number;
  id: string;
  n: number;
  quiet: { rtt: number[]; cpu: number };
  watched: { rtt: number[]; cpu: number; readersCpu: number };
  stop: () => Promise<void>;
}

const model = await startScriptedServer({ apiKey: KEY, models: { 'bench-model': { default: { type: 'text', text: ANSWER } } } });
const tmp = tempProject('serveprof');
const profDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-serveprof-'));
const builds: Build[] = [];
const headers = { 'content-type': 'application/json', 'x-opencode-directory': encodeURIComponent(tmp.project) };

async function start(name: string, bin: string): Promise<Build> {
  const script = `import(${JSON.stringify(path.join(root, 'dist', 'cli', 'main.js'))}).then((m) => m.main(['serve', '--port=0']))`;
  // Profiled, the entry point is main() itself, which does not restart with serve's Node flags (src/cli/server-node-flags.ts): given here.
  const args = PROF ? [...SERVER_NODE_FLAGS, '--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-interval', '200', '--input-type=module', '-e', script] : [bin, 'serve', '--port=0'];
  const child = spawn(process.execPath, args, { cwd: tmp.project, env: tmp.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<void>((r) => child.on('close', () => r()));
  const out = lines(child);
  let url = '';
  try {
    for (let m; !url; ) if ((m = /listening on (http:\/\/\S+)/.exec(await out.next()))) url = m[1] as string;
  } catch {
    throw new Error(`${name}: serve exited before it was ready:\n${err}`);
  }
  const id = ((await (await fetch(`${url}/session`, { method: 'POST', headers, body: '{}' })).json()) as { id: string }).id;
  return { name, url, pid: child.pid as number, id, n: 0, quiet: { rtt: [], cpu: 0 }, watched: { rtt: [], cpu: 0, readersCpu: 0 }, stop: async () => (child.kill('SIGTERM'), await exited) };
}

/** A fresh session for each phase: a session's cost per prompt grows with its history. */
async function newSession(b: Build): Promise<void> {
  b.id = ((await (await fetch(`${b.url}/session`, { method: 'POST', headers, body: '{}' })).json()) as { id: string }).id;
}

async function prompt(b: Build): Promise<number> {
  const started = performance.now();
  const id = CACHED ? ((await (await fetch(`${b.url}/session`, { method: 'POST', headers, body: '{}' })).json()) as { id: string }).id : b.id;
  const text = CACHED ? 'same question' : `prompt ${(b.n += 1)}`;
  const res = await fetch(`${b.url}/session/${id}/message`, { method: 'POST', headers, body: JSON.stringify({ parts: [{ type: 'text', text }] }) });
  const body = await res.text();
  if (res.status !== 200 || !body.includes(ANSWER)) throw new Error(`prompt failed: ${res.status} ${body.slice(0, 300)}`);
  return performance.now() - started;
}

/** PROMPTS prompts, CONCURRENCY at a time: their round trips. */
async function prompts(b: Build): Promise<number[]> {
  const rtt: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < PROMPTS) {
        next += 1;
        rtt.push(await prompt(b));
      }
    }),
  );
  return rtt;
}

try {
  const config = { model: 'local/m', cache: { enabled: CACHED }, provider: { local: { options: { baseURL: model.url, apiKey: KEY }, models: { m: { id: 'bench-model' } } } } };
  fs.writeFileSync(path.join(tmp.project, 'opencode.json'), JSON.stringify(config));
  if (BASE) builds.push(await start('base', path.join(path.resolve(BASE), 'bin', 'opencode.js')));
  builds.push(await start('this', path.join(root, 'bin', 'opencode.js')));
  for (const b of builds) for (let i = 0; i < 30; i++) await prompt(b);
  for (let round = 0; round < ROUNDS; round++) {
    for (const b of builds) {
      if (!PROF) {
        await newSession(b);
        const cpu = processCpuMs(b.pid);
        b.quiet.rtt.push(...(await prompts(b)));
        b.quiet.cpu += processCpuMs(b.pid) - cpu;
      }
      await newSession(b);
      const subs = await readers(`${b.url}${STREAM}`, headers);
      const cpu = processCpuMs(b.pid);
      b.watched.rtt.push(...(await prompts(b)));
      b.watched.cpu += processCpuMs(b.pid) - cpu;
      b.watched.readersCpu += (await subs.stop()) ?? NaN;
    }
    process.stderr.write('.');
  }
  process.stderr.write('\n');
  const total = ROUNDS * PROMPTS;
  const per = (ms: number) => `${((ms / total) * 1000).toFixed(0)} µs`;
  const report = [`load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; ${SUBSCRIBERS} ${STREAM} readers ${IN_PROCESS ? 'in the client’s process' : 'in a process of their own'}; ${ROUNDS} rounds × ${PROMPTS} prompts${CACHED ? ' (cached, each in a new session, 8 at a time)' : ''}${BASE ? ' per build, builds interleaved' : ''}`];
  for (const b of builds) {
    report.push(`${b.name}:`);
    if (!PROF) report.push(`  without readers: round trip median ${median(b.quiet.rtt).toFixed(2)} ms, server CPU ${per(b.quiet.cpu)} a prompt`);
    report.push(`  with readers:    round trip median ${median(b.watched.rtt).toFixed(2)} ms, server CPU ${per(b.watched.cpu)} a prompt${IN_PROCESS ? '' : `, readers' CPU ${per(b.watched.readersCpu)} a prompt`}`);
    if (!PROF) report.push(`  ratio ${(median(b.watched.rtt) / median(b.quiet.rtt)).toFixed(2)}× round trip, ${(b.watched.cpu / b.quiet.cpu).toFixed(2)}× server CPU`);
  }
  await Promise.all(builds.splice(0).map((b) => b.stop()));
  if (PROF) {
    const file = fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('no .cpuprofile was written');
    const keep = process.argv.indexOf('--keep');
    if (keep > 0) fs.copyFileSync(path.join(profDir, file), process.argv[keep + 1] as string);
    report.push('', ...profileTables(summariseProfile(path.join(profDir, file), root), total + 30, 'prompt', TOP));
  }
  process.stdout.write(`${report.join('\n')}\n`);
} finally {
  await Promise.all(builds.map((b) => b.stop()));
  await model.close();
  tmp.cleanup();
  fs.rmSync(profDir, { recursive: true, force: true });
}
