/**
 * This checkout's `/v1` against another build of it, interleaved in the same run (as
 * bench/compare-builds.ts does for start-up): one instant upstream, the bare Node proxy (the floor),
 * and an `opencode serve` of each build with bench/gateway.ts's config (rate limit on, so every
 * request takes a ledger admission). Each round loads every target in turn, at 100 req/s for its CPU
 * time per request (user + system of its process, from /proc) and at 500 req/s for the added
 * latency (p50, p99 minus the upstream's own, measured in the same round); medians over the rounds.
 * A tool for measuring a gateway change, not part of run-all.
 *
 *   npx node bench/compare-gateway.ts --base DIR [--rounds N] [--seconds N] [--stream] [--paired] [--cpu-only] [--rate N] [--cpu-rate N]
 *   (DIR: a built copy of this checkout, with bin/, data/, dist/, presets/, schema/ and node_modules;
 *   --paired: the two builds' loads run at the same time (CPU: each at the CPU rate; latency: each at
 *   the latency rate), so a busy machine weighs on both alike; --cpu-only: no latency loads;
 *   --rate: the latency loads' rate, default 500 req/s — lower it when the machine is too busy to
 *   keep up with 500, where queueing hides any difference; --cpu-rate: the CPU loads' rate, default
 *   100 req/s — at 300–400 a request costs less, as processes are woken less often (docs/performance.md),
 *   and the figure is closer to the request's own work)
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadGenerator, type LoadGenerator, type LoadResult } from './support/load-client.ts';
import { startReady } from './support/spawn-ready.ts';
import { loadAverage, median, tempProject } from './support/measure.ts';

const root = path.resolve(import.meta.dirname, '..');
const flag = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const baseDir = flag('--base');
if (!baseDir || !existsSync(path.join(baseDir, 'bin', 'opencode.js'))) {
  process.stderr.write('usage: npx node bench/compare-gateway.ts --base DIR [--rounds N] [--seconds N] [--stream]\n(DIR: a built copy of this checkout)\n');
  process.exit(2);
}
const ROUNDS = Number(flag('--rounds') ?? 3);
const SECONDS = Number(flag('--seconds') ?? 4);
const STREAM = process.argv.includes('--stream');
const PAIRED = process.argv.includes('--paired');
const CPU_ONLY = process.argv.includes('--cpu-only');
const RATE = Number(flag('--rate') ?? 500);
const CPU_RATE = Number(flag('--cpu-rate') ?? 100);
const BODY = JSON.stringify({ model: 'p/instant', messages: [{ role: 'user', content: 'hi' }], ...(STREAM ? { stream: true } : {}) });

type Load = LoadResult;
interface Target {
  name: string;
  url: string;
  pid?: number;
  cpu: number[];
  p50: number[];
  p99: number[];
}

const children: ChildProcess[] = [];
/** The builds' temp projects (their state folders), removed at the end. */
const projects: { cleanup: () => void }[] = [];

const start = (args: string[], ready: RegExp, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) => startReady(children, args, ready, options);

function cpuMs(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The load generators, kept running for every load of the run: two, for the builds loaded at the same time (--paired). */
const generators = [loadGenerator(), ...(PAIRED ? [loadGenerator()] : [])];

/** One load on generator `g` (0, or 1 for the second of a pair). */
const load = (url: string, rate: number, seconds: number, g = 0): Promise<Load> => (generators[g] as LoadGenerator).run({ url, rate, seconds, headers: {}, body: BODY });

const lines = [`load average at start ${loadAverage()}`];
try {
  const up = Number((await start([path.join(import.meta.dirname, 'support', 'instant-upstream.ts')], /"port":(\d+)/)).match[1]);
  const bare = await start([path.join(import.meta.dirname, 'support', 'bare-proxy.ts'), String(up)], /"port":(\d+)/);
  const config = { provider: { p: { options: { baseURL: `http://127.0.0.1:${up}/v1`, apiKey: 'sk-bench-0123456789' }, models: { instant: {} }, rateLimit: { rpm: 1_000_000 } } }, model: 'p/instant', cache: { enabled: false } };
  // Each build in a project and state folder of its own: loaded at the same time (--paired), the two
  // would otherwise share one ledger file, and wait on each other's write lock.
  const serve = (dir: string) => {
    const project = tempProject('gwcompare');
    projects.push(project);
    const env = { ...project.env, OPENCODE_CONFIG_CONTENT: JSON.stringify(config) };
    return start([path.join(dir, 'bin', 'opencode.js'), 'serve', '--port=0'], /listening on (http:\/\/\S+)/, { cwd: project.project, env });
  };
  const base = await serve(path.resolve(baseDir));
  const self = await serve(root);
  const direct: Target = { name: 'direct (upstream)', url: `http://127.0.0.1:${up}/v1/chat/completions`, cpu: [], p50: [], p99: [] };
  const targets: Target[] = [
    { name: 'bare Node proxy (floor)', url: `http://127.0.0.1:${bare.match[1]}/v1/chat/completions`, pid: bare.pid, cpu: [], p50: [], p99: [] },
    { name: 'Pantheon, base build', url: `${base.match[1]}/v1/chat/completions`, pid: base.pid, cpu: [], p50: [], p99: [] },
    { name: 'Pantheon, this build', url: `${self.match[1]}/v1/chat/completions`, pid: self.pid, cpu: [], p50: [], p99: [] },
  ];
  for (const t of [direct, ...targets]) await load(t.url, 200, 2); // warm-up: connections, JIT, the ledger
  if (PAIRED) await load(direct.url, 200, 2, 1); // the second generator's own warm-up
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate the order of the two builds from round to round.
    const order = round % 2 ? [targets[0], targets[2], targets[1]] : targets;
    if (PAIRED) {
      // Both builds loaded at the same time (and the floor on its own): whatever else the machine
      // does falls on the two alike.
      const floor = targets[0] as Target;
      const before = cpuMs(floor.pid);
      const l = await load(floor.url, CPU_RATE, SECONDS);
      floor.cpu.push(((cpuMs(floor.pid) - before) / Math.max(1, l.ok)) * 1000);
      const pair = targets.slice(1);
      const starts = pair.map((t) => cpuMs(t.pid));
      const loads = await Promise.all(pair.map((t, i) => load(t.url, CPU_RATE, SECONDS, i)));
      pair.forEach((t, i) => t.cpu.push(((cpuMs(t.pid) - (starts[i] as number)) / Math.max(1, (loads[i] as Load).ok)) * 1000));
    } else {
      for (const t of order as Target[]) {
        const before = cpuMs(t.pid);
        const l = await load(t.url, CPU_RATE, SECONDS);
        t.cpu.push(((cpuMs(t.pid) - before) / Math.max(1, l.ok)) * 1000);
      }
    }
    const d = CPU_ONLY ? undefined : await load(direct.url, RATE, SECONDS);
    const latency = (t: Target, l: Load) => {
      if (l.errors) lines.push(`round ${round + 1}: ${t.name}: ${l.errors} errors at ${RATE} req/s`);
      t.p50.push(l.p50 - (d as Load).p50);
      t.p99.push(l.p99 - (d as Load).p99);
    };
    if (d && PAIRED) {
      const floor = targets[0] as Target;
      latency(floor, await load(floor.url, RATE, SECONDS));
      const pair = targets.slice(1);
      const loads = await Promise.all(pair.map((t, i) => load(t.url, RATE, SECONDS, i)));
      pair.forEach((t, i) => latency(t, loads[i] as Load));
    } else for (const t of d ? (order as Target[]) : []) latency(t, await load(t.url, RATE, SECONDS));
    process.stderr.write(`compare-gateway: round ${round + 1} of ${ROUNDS} done (load average ${loadAverage()})\n`);
  }
  lines.push(`${ROUNDS} rounds, ${SECONDS} s per load, CPU at ${CPU_RATE} req/s${STREAM ? ', streamed' : ''}${PAIRED ? ', the builds loaded at the same time' : ''}${CPU_ONLY ? '' : `, latency at ${RATE} req/s`}; medians (each round's figures in brackets)`);
  for (const t of targets) {
    const all = (xs: number[], digits: number) => xs.map((x) => x.toFixed(digits)).join(', ');
    const latency = t.p50.length ? ` · added p50 +${median(t.p50).toFixed(2)} ms [${all(t.p50, 2)}] · p99 +${median(t.p99).toFixed(2)} ms [${all(t.p99, 2)}]` : '';
    lines.push(`${t.name.padEnd(24)} CPU ${median(t.cpu).toFixed(0)} µs a request [${all(t.cpu, 0)}]${latency}`);
  }
  const [, older, newer] = targets as [Target, Target, Target];
  const ratios = newer.cpu.map((c, i) => c / (older.cpu[i] as number));
  lines.push(`this build's CPU per request / the base build's, round by round: [${ratios.map((r) => r.toFixed(3)).join(', ')}], median ${median(ratios).toFixed(3)}`);
  lines.push(`load average at end ${loadAverage()}`);
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  for (const g of generators) g.close();
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  for (const p of projects) p.cleanup();
}
