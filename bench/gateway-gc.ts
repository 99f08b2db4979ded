/**
 * What a gateway request leaves to the garbage collector, against the floor in the same run: the
 * bare Node pass-through proxy and Pantheon's `/v1` (bench/gateway.ts's config: rate limit on,
 * cache off), each started fresh with `--trace-gc-nvp` and put through bench/gateway.ts's sequence
 * — 2 s at 200 req/s (400 requests of warm-up), 10 s quiet, then the measured load, 5 s at
 * 500 req/s. From V8's own lines for that load: young-generation GCs (scavenges), what they
 * promoted to the old generation per request (objects that outlived two of them), the sum of all
 * GC pauses and the longest, and the old generation's full GCs (mark-compacts). The targets take
 * turns, a fresh process each round; medians over the rounds.
 *
 * Promotion is the figure to watch: an object that dies young costs a scavenge almost nothing, one
 * that outlives two is copied twice and then waits for a full GC. What Pantheon promoted per
 * request was 3.3 KB before the twenty-eighth session (docs/performance.md), ~0.9 KB after.
 *
 *   npx node bench/gateway-gc.ts [--quick] [--rounds N] [--base DIR] [--json]
 *   (--base DIR: also another built copy of this checkout, as bench/compare-gateway.ts takes it)
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { loadGenerator } from './support/load-client.ts';
import { median, numberFlag, tempProject } from './support/measure.ts';
import { assertBuilt, runBench, type Row } from './support/report.ts';
import { startReady } from './support/spawn-ready.ts';

const root = path.resolve(import.meta.dirname, '..');
const flag = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const QUICK = process.argv.includes('--quick');
const ROUNDS = Math.round(numberFlag('--rounds', QUICK ? 1 : 3));
const BASE = flag('--base');
const WARM = { rate: 200, seconds: 2 };
const QUIET_MS = QUICK ? 2000 : 10_000;
const LOAD = { rate: 500, seconds: 5 };

interface GcFigures {
  requests: number;
  errors: number;
  scavenges: number;
  promotedKB: number;
  pauseMs: number;
  longestMs: number;
  markCompacts: number;
}

/** One `--trace-gc-nvp` line's field, as a number (NaN when absent). */
function field(line: string, name: string): number {
  const m = new RegExp(`(?:^|\\s)${name}=([0-9.]+)`).exec(line);
  return m ? Number(m[1]) : Number.NaN;
}

/** V8's GC lines among a process's output (`gc=s`: a scavenge; `gc=mc`, `gc=mmc`: a mark-compact). */
function gcFigures(out: string, requests: number, errors: number): GcFigures {
  const lines = out.split('\n').filter((l) => / gc=\w+ /.test(l));
  const scavenges = lines.filter((l) => / gc=s /.test(l));
  const pauses = lines.map((l) => field(l, 'pause')).filter((p) => !Number.isNaN(p));
  return {
    requests,
    errors,
    scavenges: scavenges.length,
    promotedKB: scavenges.reduce((sum, l) => sum + (field(l, 'promoted') || 0), 0) / 1024,
    pauseMs: pauses.reduce((a, b) => a + b, 0),
    longestMs: Math.max(0, ...pauses),
    markCompacts: lines.filter((l) => / gc=m?mc /.test(l)).length,
  };
}

/** A build's name for the table: its commit, else its folder. */
function buildName(dir: string): string {
  try {
    return `build ${execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()}`;
  } catch {
    return path.basename(dir);
  }
}

/** The temporary project folders of Pantheon's rounds: removed when the bench ends. */
const projects: { cleanup: () => void }[] = [];

const generator = loadGenerator();
const BODY = JSON.stringify({ model: 'p/instant', messages: [{ role: 'user', content: 'hi' }] });

/** A target started afresh, its stdout kept (V8's lines go there), put through the sequence. */
async function measure(start: () => Promise<{ url: string; child: ChildProcess; out: () => string }>, body: string): Promise<GcFigures> {
  const t = await start();
  try {
    await generator.run({ url: t.url, ...WARM, headers: {}, body });
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    const mark = t.out().length;
    const r = await generator.run({ url: t.url, ...LOAD, headers: {}, body });
    return gcFigures(t.out().slice(mark), r.ok, r.errors);
  } finally {
    t.child.kill('SIGTERM');
    await new Promise((resolve) => (t.child.exitCode === null ? t.child.once('close', resolve) : resolve(undefined)));
  }
}

/** Spawns `node …args` with its stdout kept, ready at `ready`'s first match (its first group: the URL or port). */
async function spawnKept(args: string[], ready: RegExp, url: (m: RegExpExecArray) => string, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ url: string; child: ChildProcess; out: () => string }> {
  const children: ChildProcess[] = [];
  let out = '';
  const started = startReady(children, args, ready, options);
  const child = children[0] as ChildProcess;
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  const { match } = await started;
  return { url: url(match), child, out: () => out };
}

await runBench(async () => {
  assertBuilt(root);
  if (BASE) assertBuilt(BASE);
  const upChildren: ChildProcess[] = [];
  const up = Number((await startReady(upChildren, [path.join(import.meta.dirname, 'support', 'instant-upstream.ts')], /"port":(\d+)/)).match[1]);
  const config = {
    provider: { p: { options: { baseURL: `http://127.0.0.1:${up}/v1`, apiKey: 'sk-bench-0123456789' }, models: { instant: {} }, rateLimit: { rpm: 1_000_000 } } },
    model: 'p/instant',
    cache: { enabled: false },
  };
  const bare = () =>
    spawnKept(['--trace-gc-nvp', '--min-semi-space-size=4', path.join(import.meta.dirname, 'support', 'bare-proxy.ts'), String(up)], /"port":(\d+)/, (m) => `http://127.0.0.1:${m[1]}/v1/chat/completions`);
  const pantheonAt = (dir: string) => () => {
    const project = tempProject('gateway-gc');
    projects.push(project);
    // serve restarts itself with its own V8 flags (src/cli/server-node-flags.ts), keeping these.
    return spawnKept(['--trace-gc-nvp', path.join(dir, 'bin', 'opencode.js'), 'serve', '--port=0'], /listening on (http:\/\/\S+)/, (m) => `${m[1]}/v1/chat/completions`, {
      cwd: project.project,
      env: { ...project.env, OPENCODE_CONFIG_CONTENT: JSON.stringify(config) },
    });
  };
  const targets: { name: string; start: () => Promise<{ url: string; child: ChildProcess; out: () => string }>; body: string }[] = [
    { name: 'bare Node proxy (floor)', start: bare, body: BODY.replace('p/instant', 'instant') },
    { name: 'Pantheon /v1 (rate limit on)', start: pantheonAt(root), body: BODY },
    ...(BASE ? [{ name: `Pantheon /v1 (rate limit on), ${buildName(BASE)}`, start: pantheonAt(BASE), body: BODY }] : []),
  ];
  const results = new Map<string, GcFigures[]>();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of targets) {
        process.stderr.write(`gateway-gc: round ${round + 1}/${ROUNDS}: ${t.name}\n`);
        const figures = await measure(t.start, t.body);
        process.stderr.write(`gateway-gc:   ${JSON.stringify(figures)}\n`);
        results.set(t.name, [...(results.get(t.name) ?? []), figures]);
      }
    }
  } finally {
    generator.close();
    for (const c of upChildren) c.kill('SIGTERM');
    for (const p of projects) p.cleanup();
  }
  const med = (name: string, pick: (f: GcFigures) => number): number => median((results.get(name) ?? []).map(pick));
  const floor = targets[0]?.name as string;
  const rows: Row[] = targets.map((t) => {
    const perRequest = (f: GcFigures) => f.promotedKB / Math.max(1, f.requests);
    const promoted = med(t.name, perRequest);
    const pause = med(t.name, (f) => f.pauseMs);
    const result = `${med(t.name, (f) => f.requests)} requests (${med(t.name, (f) => f.errors)} errors) · ${med(t.name, (f) => f.scavenges)} scavenges · promoted ${promoted.toFixed(2)} KB a request · GC pauses ${pause.toFixed(1)} ms (longest ${med(t.name, (f) => f.longestMs).toFixed(1)}) · ${med(t.name, (f) => f.markCompacts)} mark-compacts`;
    const figure = t.name === floor ? 'floor' : `promoted ${(promoted / Math.max(0.001, med(floor, perRequest))).toFixed(1)}× the floor's · pauses ${(pause / Math.max(0.001, med(floor, (f) => f.pauseMs))).toFixed(1)}×`;
    return { bench: 'gateway GC', case: `${t.name}, first load at ${LOAD.rate} req/s`, result, figure, goal: '' };
  });
  const notes = [
    `Each target afresh per round (${ROUNDS} round${ROUNDS === 1 ? '' : 's'}, medians): ${WARM.seconds} s at ${WARM.rate} req/s, ${QUIET_MS / 1000} s quiet, then ${LOAD.seconds} s at ${LOAD.rate} req/s measured from V8's --trace-gc-nvp lines; the bare proxy with --min-semi-space-size=4 as serve has it.`,
  ];
  return { rows, notes };
});
