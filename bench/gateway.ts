/**
 * The gateway's added latency, side by side in one run, with one load generator (bench/support/
 * load.ts, an open loop over keep-alive connections, one process kept running for every load) against one instant local upstream
 * (bench/support/instant-upstream.ts): the upstream directly; a bare Node pass-through proxy (the
 * floor for any Node process in the path); Pantheon's `/v1` (`opencode serve`, a provider rate limit
 * configured, so every request goes through the scheduler and the shared SQLite ledger); Portkey's
 * open-source gateway (`@portkey-ai/gateway`, from npm). Added latency = the target's p50/p99 minus
 * the direct p50/p99 at 500 requests/s, after a warm-up of 400 requests; the same for the floor,
 * Pantheon and Portkey after 10,000 more each (V8 has compiled their hot code by its top tier then);
 * then errors at 1,000 and 2,000 requests/s. Before all of it, the upstream alone takes 10 s at
 * 500 requests/s, so that the load generator's and the upstream's own compilation is done.
 *
 * After the 500 requests/s run, Pantheon's own `/metrics` view of its overhead
 * (`pantheon_gateway_overhead_seconds`: total minus the provider's time) is read back and set beside
 * the added latency measured from outside. Last, each gateway's CPU time per request (its process's
 * user + system time from /proc, at 100 requests/s, below every gateway's saturation): the work a
 * request costs, which latencies on a busy machine hide behind queueing; and the same for
 * Pantheon's `/v1/responses` (against its chat route) and `/v1/embeddings` (against the bare proxy
 * passing embeddings through).
 *
 *   npx node bench/gateway.ts [--json] [--seconds N] [--quick] [--rounds N] [--root DIR]
 *   (--quick: 2 s per load, no 1,000 req/s step, one round; --rounds: rounds of first loads, each
 *   with the gateways started afresh, default 3 — the goal rows are their medians; --root: the
 *   Pantheon checkout to measure, built, default this one)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadGenerator, type LoadResult } from './support/load-client.ts';
import { startReady, track } from './support/spawn-ready.ts';
import { median, numberFlag, tempProject } from './support/measure.ts';
import { against, runBench, type Row } from './support/report.ts';

const root = path.resolve(import.meta.dirname, '..');
const QUICK = process.argv.includes('--quick');
const SECONDS = numberFlag('--seconds', QUICK ? 2 : 5);
/** Requests each of the floor and Pantheon serve before their second, warmed, 500 req/s load. */
const WARM_REQUESTS = QUICK ? 2500 : 10_000;
/** Rounds of first loads, each with the gateways started afresh (the goal rows: medians). */
const ROUNDS = Math.round(numberFlag('--rounds', QUICK ? 1 : 3));
const BODY = JSON.stringify({ model: 'p/instant', messages: [{ role: 'user', content: 'hi' }] });
const rootArg = process.argv.indexOf('--root');
const PANTHEON = path.resolve(rootArg > 0 ? (process.argv[rootArg + 1] as string) : root);
const PORTKEY = path.join(root, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');

type Load = LoadResult;

interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The gateway's process, for its CPU time. */
  pid?: number;
}

/** A process's user + system CPU time so far (ms), from /proc (Linux; clock ticks of 10 ms); undefined elsewhere. */
function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

const children: ChildProcess[] = [];
/** Pantheon's temporary project folders, one a round: removed when the bench ends. */
const projects: { cleanup: () => void }[] = [];

const start = (args: string[], ready: RegExp, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) => startReady(children, args, ready, options);

async function waitAnswering(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await fetch(url).then(() => true, () => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} never answered`);
}

/** The one load generator, kept running for every load of the run (bench/support/load-client.ts). */
const generator = loadGenerator();

async function load(t: Target, rate: number, seconds: number): Promise<Load> {
  process.stderr.write(`gateway: ${t.name} at ${rate} req/s for ${seconds} s\n`);
  const result = await generator.run({ url: t.url, rate, seconds, headers: t.headers, body: t.body });
  process.stderr.write(`gateway:   ${JSON.stringify(result)}\n`);
  return result;
}

/** Pantheon's own account of its overhead so far: requests and total ms (`pantheon_gateway_overhead_seconds`). */
async function ownOverhead(base: string): Promise<{ count: number; sumMs: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const sum = (name: string) => text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `)).reduce((a, l) => a + Number(l.split(' ').at(-1)), 0);
  const count = sum('pantheon_gateway_overhead_seconds_count');
  return { count, sumMs: sum('pantheon_gateway_overhead_seconds_sum') * 1000 };
}

/** The instant upstream, started once for the whole run. */
async function startUpstream(): Promise<string> {
  const up = Number((await start([path.join(import.meta.dirname, 'support', 'instant-upstream.ts')], /"port":(\d+)/)).match[1]);
  return `http://127.0.0.1:${up}`;
}

interface Gateways {
  list: Target[];
  routes: Target[];
  notes: string[];
  pantheon: string;
  /** Stops this round's gateways (the upstream stays). */
  stop(): Promise<void>;
}

/** The gateways in front of `upstream`, each in a fresh process: the bare proxy, Pantheon, Portkey. */
async function targets(upstream: string): Promise<Gateways> {
  const notes: string[] = [];
  const first = children.length;
  const bare = Number((await start([path.join(import.meta.dirname, 'support', 'bare-proxy.ts'), new URL(upstream).port], /"port":(\d+)/)).match[1]);
  const barePid = children.at(-1)?.pid;
  const project = tempProject('gateway');
  projects.push(project);
  const config = {
    provider: { p: { options: { baseURL: `${upstream}/v1`, apiKey: 'sk-bench-0123456789' }, models: { instant: {} }, rateLimit: { rpm: 1_000_000 } } },
    model: 'p/instant',
    cache: { enabled: false },
  };
  const env = { ...project.env, OPENCODE_CONFIG_CONTENT: JSON.stringify(config) };
  const pantheon = (await start([path.join(PANTHEON, 'bin', 'opencode.js'), 'serve', '--port=0'], /listening on (http:\/\/\S+)/, { cwd: project.project, env })).match[1] as string;
  const pantheonPid = children.at(-1)?.pid;
  const list: Target[] = [
    { name: 'direct (upstream)', url: `${upstream}/v1/chat/completions`, headers: {}, body: BODY },
    { name: 'bare Node proxy (floor)', url: `http://127.0.0.1:${bare}/v1/chat/completions`, headers: {}, body: BODY, ...(barePid ? { pid: barePid } : {}) },
    { name: 'Pantheon /v1 (rate limit on)', url: `${pantheon}/v1/chat/completions`, headers: {}, body: BODY, ...(pantheonPid ? { pid: pantheonPid } : {}) },
  ];
  if (existsSync(PORTKEY)) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const child = track(spawn(process.execPath, [PORTKEY, `--port=${port}`], { stdio: 'ignore' }));
    children.push(child);
    const portkeyPid = child.pid;
    await waitAnswering(`http://127.0.0.1:${port}/`);
    list.push({
      name: 'Portkey gateway',
      url: `http://127.0.0.1:${port}/v1/chat/completions`,
      headers: { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${upstream}/v1`, authorization: 'Bearer sk-bench-0123456789' },
      body: BODY.replace('p/instant', 'instant'),
      ...(portkeyPid ? { pid: portkeyPid } : {}),
    });
  } else notes.push('Portkey: @portkey-ai/gateway is not installed (npm install), so it is left out of this run.');
  // Pantheon's other model routes, for their CPU per request beside the chat route's (and the bare proxy's embeddings).
  const embed = JSON.stringify({ model: 'p/instant', input: 'hi' });
  const routes: Target[] = [
    { ...(list[2] as Target), name: 'Pantheon /v1/chat/completions again, beside the routes below' },
    { name: 'Pantheon /v1/responses', url: `${pantheon}/v1/responses`, headers: {}, body: JSON.stringify({ model: 'p/instant', input: 'hi' }), ...(pantheonPid ? { pid: pantheonPid } : {}) },
    { name: 'bare Node proxy (floor), /v1/embeddings', url: `http://127.0.0.1:${bare}/v1/embeddings`, headers: {}, body: embed.replace('p/instant', 'instant'), ...(barePid ? { pid: barePid } : {}) },
    { name: 'Pantheon /v1/embeddings', url: `${pantheon}/v1/embeddings`, headers: {}, body: embed, ...(pantheonPid ? { pid: pantheonPid } : {}) },
  ];
  const own = children.slice(first);
  const stop = async (): Promise<void> => {
    await Promise.all(own.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((done) => c.once('close', done).kill('SIGTERM')) : undefined)));
    children.splice(first, own.length);
  };
  return { list, routes, notes, pantheon, stop };
}

const fmt = (ms: number) => `${ms.toFixed(2)} ms`;
/** An added figure with its sign (a target can measure below the upstream's own tail). */
const signed = (ms: number) => `${ms < 0 ? '−' : '+'}${fmt(Math.abs(ms))}`;

await runBench(async () => {
  const upstream = await startUpstream();
  // The load generator and the upstream are fresh processes too: V8 compiles their own hot code in
  // their first thousands of requests, which fell inside the first round's measured loads (in two
  // of four runs the upstream's own first-round p50 was 2–3× its later rounds'). They serve 5,000
  // requests before anything is measured.
  await load({ name: 'direct (upstream), warming the load generator and the upstream', url: `${upstream}/v1/chat/completions`, headers: {}, body: BODY }, 500, QUICK ? 2 : 10);
  const rows: Row[] = [];
  // The first load of a fresh process is one sample of a long tail: each round starts the gateways
  // afresh and loads each once; the goal rows take the medians over the rounds, of each round's
  // figures against the upstream measured in the same round. The last round's processes go on.
  const firsts = new Map<string, { load: Load; added: { p50: number; p99: number } }[]>();
  let own = { count: 0, meanMs: NaN };
  let g: Gateways | undefined;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      if (g) await g.stop();
      g = await targets(upstream);
      process.stderr.write(`gateway: first loads, round ${round + 1} of ${ROUNDS}\n`);
      for (const t of g.list) await load(t, 200, 2); // warm-up: connections, JIT, the ledger
      const at500 = new Map<string, Load>();
      for (const t of g.list) {
        const before = t.name.startsWith('Pantheon') ? await ownOverhead(g.pantheon) : undefined;
        at500.set(t.name, await load(t, 500, SECONDS));
        if (before) {
          const after = await ownOverhead(g.pantheon);
          const count = after.count - before.count;
          own = { count, meanMs: count ? (after.sumMs - before.sumMs) / count : NaN };
        }
      }
      const direct = at500.get(g.list[0]?.name as string) as Load;
      for (const [name, l] of at500) firsts.set(name, [...(firsts.get(name) ?? []), { load: l, added: { p50: l.p50 - direct.p50, p99: l.p99 - direct.p99 } }]);
    }
    const { list, routes, notes } = g as Gateways;
    const med = (name: string, pick: (r: { load: Load; added: { p50: number; p99: number } }) => number): number => median((firsts.get(name) ?? []).map(pick));
    const added = (name: string) => ({ p50: med(name, (r) => r.added.p50), p99: med(name, (r) => r.added.p99) });
    const each = (name: string, pick: (r: { load: Load; added: { p50: number; p99: number } }) => number): string => (firsts.get(name) ?? []).map((r) => signed(pick(r)).replace(' ms', '')).join(', ');
    const floorName = list[1]?.name as string;
    const hasPortkey = firsts.has('Portkey gateway');
    const of = ROUNDS > 1 ? ` (medians of ${ROUNDS} rounds)` : '';
    for (const t of list) {
      const errors = (firsts.get(t.name) ?? []).reduce((n, r) => n + r.load.errors, 0);
      const rate = med(t.name, (r) => r.load.ok / r.load.seconds);
      const a = added(t.name);
      const result = `p50 ${fmt(med(t.name, (r) => r.load.p50))} · p99 ${fmt(med(t.name, (r) => r.load.p99))}${of} · ${rate.toFixed(0)} req/s ok · ${errors} errors`;
      if (t.name === list[0]?.name) rows.push({ bench: 'gateway', case: `${t.name}, 500 req/s`, result, figure: 'baseline', goal: '' });
      else if (t.name.startsWith('Pantheon')) {
        const f = added(floorName);
        const rounds = (pick: (r: { load: Load; added: { p50: number; p99: number } }) => number) => (ROUNDS > 1 ? `; rounds ${each(t.name, pick)} against ${each(floorName, pick)}` : '');
        rows.push({ bench: 'gateway', case: `${t.name}, 500 req/s: added p50`, result, figure: `${signed(a.p50)} (floor ${signed(f.p50)})${rounds((r) => r.added.p50)}`, goal: `≤ floor + 0.2 ms`, ...against(a.p50, f.p50 + 0.2) });
        rows.push({ bench: 'gateway', case: `${t.name}, 500 req/s: added p99`, result: '', figure: `${signed(a.p99)} (floor ${signed(f.p99)})${rounds((r) => r.added.p99)}`, goal: `≤ floor + 1.5 ms`, ...against(a.p99, f.p99 + 1.5) });
        rows.push({ bench: 'gateway', case: `${t.name}, 500 req/s: own overhead in /metrics`, result: `${own.count} requests counted`, figure: `mean ${fmt(own.meanMs)} (measured from outside: mean added ≈ p50 ${signed(a.p50)})`, goal: '' });
        if (hasPortkey) {
          const k = added('Portkey gateway');
          rows.push({ bench: 'gateway', case: `${t.name} vs Portkey: added p50`, result: '', figure: `${fmt(a.p50)} vs ${fmt(k.p50)}${ROUNDS > 1 ? `; rounds ${each('Portkey gateway', (r) => r.added.p50)}` : ''}`, goal: '≤ ½ Portkey’s', ...against(a.p50, k.p50 / 2) });
        }
      } else rows.push({ bench: 'gateway', case: `${t.name}, 500 req/s`, result, figure: `${signed(a.p50)} p50 · ${signed(a.p99)} p99`, goal: '' });
    }
    // The same again once each gateway has served WARM_REQUESTS more at 500 req/s: a
    // server that has run a while, its code compiled by V8's top tier (TurboFan optimises a function
    // after ~3,000 calls, about as many requests), against one that has served a few hundred.
    const warmDirect = await load(list[0] as Target, 500, SECONDS);
    for (const t of list.slice(1)) {
      await load(t, 500, WARM_REQUESTS / 500);
      const l = await load(t, 500, SECONDS);
      const a = { p50: l.p50 - warmDirect.p50, p99: l.p99 - warmDirect.p99 };
      const result = `p50 ${fmt(l.p50)} · p99 ${fmt(l.p99)} · ${(l.ok / l.seconds).toFixed(0)} req/s ok · ${l.errors} errors (direct: p50 ${fmt(warmDirect.p50)} · p99 ${fmt(warmDirect.p99)})`;
      rows.push({ bench: 'gateway', case: `${t.name}, 500 req/s, after ${WARM_REQUESTS.toLocaleString('en')} more requests`, result, figure: `${signed(a.p50)} p50 · ${signed(a.p99)} p99`, goal: '' });
    }
    for (const rate of QUICK ? [2000] : [1000, 2000]) {
      for (const t of list.slice(1)) {
        const l = await load(t, rate, Math.max(2, Math.round(SECONDS / 2)));
        const result = `${l.errors} errors of ${l.sent} · p50 ${fmt(l.p50)} · p99 ${fmt(l.p99)} · ${(l.ok / l.seconds).toFixed(0)} req/s ok${l.firstError.length ? ` (${l.firstError.join(', ')})` : ''}`;
        rows.push({ bench: 'gateway', case: `${t.name}, ${rate} req/s`, result, figure: `${l.errors} errors`, goal: t.name.startsWith('Pantheon') ? 'no errors' : '', ...(t.name.startsWith('Pantheon') ? against(l.errors, 0) : {}) });
      }
    }
    const cpu = new Map<string, number>();
    for (const t of routes) await load(t, 200, 2); // their warm-up
    // The bookkeeping and garbage of the 2,000 req/s load finish before any CPU is counted.
    await new Promise((r) => setTimeout(r, 2000));
    for (const t of [...list.slice(1), ...routes]) {
      const before = cpuMs(t.pid);
      const l = await load(t, 100, SECONDS);
      const after = cpuMs(t.pid);
      if (before !== undefined && after !== undefined && l.ok > 0) cpu.set(t.name, ((after - before) / l.ok) * 1000);
    }
    // Each route against its own floor: the chat route's, measured again just before, for /v1/responses (the same call, another shape); the bare proxy's embeddings for /v1/embeddings.
    const baseOf: Record<string, [string, string]> = {
      'Pantheon /v1/responses': ['Pantheon /v1/chat/completions again, beside the routes below', 'the chat route beside it'],
      'Pantheon /v1/embeddings': ['bare Node proxy (floor), /v1/embeddings', 'the bare proxy'],
    };
    for (const [name, us] of cpu) {
      const [base, what] = baseOf[name] ?? [list[1]?.name as string, 'the bare proxy'];
      const baseUs = cpu.get(base);
      const figure = name === list[1]?.name || name === 'bare Node proxy (floor), /v1/embeddings' ? 'floor' : baseUs ? `${(us / baseUs).toFixed(1)}× ${what}` : '';
      rows.push({ bench: 'gateway', case: `${name}: CPU per request, 100 req/s`, result: `${us.toFixed(0)} µs (user + system of its process)`, figure, goal: '' });
    }
    notes.push(`gateway: the first loads (the goal rows) ${ROUNDS > 1 ? `in ${ROUNDS} rounds, the gateways started afresh for each; medians` : 'in one round'}; the later loads on the last round's processes.`);
    notes.push('gateway: one open-loop load generator, one process kept running for every load (it and the upstream serve 10 s at 500 req/s before any measured load, so no load pays for their start or their compilation); upstream, bare proxy, Pantheon and Portkey each in their own process on the same 2-core machine, so load generator and targets compete for the CPUs.');
    return { rows, notes };
  } finally {
    generator.close();
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((done) => c.once('close', done).kill('SIGTERM')) : undefined)));
    for (const p of projects) p.cleanup();
  }
});
