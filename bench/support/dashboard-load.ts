/**
 * The dashboard benches' load and CPU accounting (bench/dashboard.ts, bench/profile-dashboard.ts):
 * turns against `opencode serve`, 8 at a time, each in a new session, counted as the pantheon.*
 * frames a /global/event subscriber sees; and the CPU time of the processes below this one (Chromium's
 * when the server is left out), by Chromium process type.
 */
import fs from 'node:fs';
import { processCpuMs } from './cpu-profile.ts';

export const CONCURRENCY = 8;

export interface LoadResult {
  ms: number;
  events: number;
  serverCpuMs: number;
  /** Each turn's round trip (its session made, its prompt answered), ms. */
  turnMs: number[];
}

/** New questions asked so far (each burst asks new ones, so the model answers them). */
let questions = 0;

/**
 * `n` prompts, CONCURRENCY at a time, each in a new session: with the same text (so the cache
 * answers), or in a burst every other one a new question to model `p/b` (which streams its answer):
 * wall ms, events seen and the server's CPU time (`serverPid`, from /proc) over the run. `perSecond`:
 * turns start no faster than that (so two runs on a loaded machine get the same stream).
 */
export async function load(url: string, dir: string, n: number, serverPid: number | undefined, burst = false, perSecond?: number): Promise<LoadResult> {
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
  const turnMs: number[] = [];
  const cpu = serverPid ? processCpuMs(serverPid) : 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        next += 1;
        const due = perSecond ? started + (next / perSecond) * 1000 - performance.now() : 0;
        if (due > 0) await new Promise((r) => setTimeout(r, due));
        const streamed = burst && next % 2 === 1;
        questions += 1;
        const began = performance.now();
        const prompt = streamed ? { parts: [{ type: 'text', text: `question ${questions}` }], model: { providerID: 'p', modelID: 'b' } } : { parts: [{ type: 'text', text: 'same question' }] };
        const s = (await (await fetch(`${url}/session`, { method: 'POST', headers, body: '{}' })).json()) as { id: string };
        const r = await fetch(`${url}/session/${s.id}/message`, { method: 'POST', headers, body: JSON.stringify(prompt) });
        if (r.status !== 200) throw new Error(`prompt answered ${r.status}`);
        await r.text();
        turnMs.push(performance.now() - began);
      }
    }),
  );
  const ms = performance.now() - started;
  const serverCpuMs = serverPid ? processCpuMs(serverPid) - cpu : NaN;
  abort.abort();
  await counting;
  return { ms, events, serverCpuMs, turnMs };
}

/** Each process below this one but `except` (and its own children): its CPU time (user + system, ms) and Chromium's `--type=` (`browser` for the main process). */
export function childrenCpuByPid(except: number | undefined): Map<number, { type: string; cpu: number }> {
  const procs: { pid: number; ppid: number; cpu: number; type: string }[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = (fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1] as string).split(' ');
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8');
      const type = /--type=([\w-]+)/.exec(cmd)?.[1] ?? 'browser';
      procs.push({ pid: Number(d), ppid: Number(st[1]), cpu: (Number(st[11]) + Number(st[12])) * (1000 / 100), type });
    } catch {
      // gone meanwhile
    }
  }
  const kids = new Map<number, number[]>();
  for (const p of procs) kids.set(p.ppid, [...(kids.get(p.ppid) ?? []), p.pid]);
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const out = new Map<number, { type: string; cpu: number }>();
  const stack = (kids.get(process.pid) ?? []).filter((pid) => pid !== except);
  while (stack.length) {
    const pid = stack.pop() as number;
    const p = byPid.get(pid);
    if (p) out.set(pid, { type: p.type, cpu: p.cpu });
    stack.push(...(kids.get(pid) ?? []));
  }
  return out;
}

/**
 * CPU time (user + system, ms) of every process below this one but `except` (Chromium's, once the
 * server is left out), by Chromium's `--type=` (`browser` for the main process).
 */
export function childrenCpuByType(except: number | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of childrenCpuByPid(except).values()) out[p.type] = (out[p.type] ?? 0) + p.cpu;
  return out;
}

/**
 * The CPU time by type that the processes alive now used since `before` (a `childrenCpuByPid`
 * reading; processes started since count from 0). Unlike two `childrenCpuByType` readings, a
 * process that ended in between (a closed page's renderer) does not take its whole time off.
 */
export function childrenCpuSince(before: Map<number, { type: string; cpu: number }>, except: number | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [pid, p] of childrenCpuByPid(except)) out[p.type] = (out[p.type] ?? 0) + p.cpu - (before.get(pid)?.cpu ?? 0);
  return out;
}

/** CPU time (ms) of every process below this one but `except`, all types together. */
export function childrenCpuMs(except: number | undefined): number {
  return Object.values(childrenCpuByType(except)).reduce((a, b) => a + b, 0);
}
