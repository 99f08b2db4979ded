/**
 * Where the Redis ledger's time goes under the scheduler: 10,000 tasks 64 at a time through
 * `Scheduler.execute` with SQLite and with Redis under appendfsync always and everysec, interleaved;
 * round trips per task (client), scripts and commands per task with their time (server's INFO
 * commandstats), and the CPU of redis-server and of this process per task. STEPS=name=dir/src,…
 * measures those trees' RedisLedger interleaved with this one's (a before/after in one run).
 *
 *   node bench/profile-redis-ledger.ts [tasks] [reps]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import PQueue from 'p-queue';
import { SqliteLedger } from '../src/scheduler/ledger-sqlite.ts';
import type { Ledger } from '../src/scheduler/ledger.ts';
import { DEFAULT_RETRY } from '../src/scheduler/retry-policy.ts';
import { Scheduler, type ScheduledModel } from '../src/scheduler/scheduler.ts';
import { RedisLedger } from '../src/state/ledger-redis.ts';
// STEPS=name=dir/src,…: those trees' RedisLedger measured interleaved with this one's (before/after in one run).
const steps: { name: string; RedisLedger: typeof RedisLedger }[] = [];
for (const step of (process.env.STEPS ?? '').split(',').filter(Boolean)) {
  const [name = '', dir = ''] = step.split('=');
  steps.push({ name, RedisLedger: ((await import(path.resolve(dir, 'state/ledger-redis.ts'))) as { RedisLedger: typeof RedisLedger }).RedisLedger });
}
import { startRedis, type TestRedis } from '../test/support/redis-server.ts';

const TASKS = Number(process.argv[2] ?? 10_000);
const REPS = Number(process.argv[3] ?? 3);
const limits = { windows: [{ key: 'model:bench/m', maxRequests: 1_000_000_000, windowMs: 60_000 }], tokens: [], concurrency: [{ key: 'model:bench/m', limit: 100_000 }] };
const model: ScheduledModel = { label: 'bench/m', provider: 'bench', key: 'model:bench/m', ...limits };

async function tasks(ledger: Ledger): Promise<number> {
  const scheduler = new Scheduler({ ledger, retry: DEFAULT_RETRY, cooldown: { afterFailures: 3, ms: 60_000 } });
  const ctx = { emit: () => undefined };
  const queue = new PQueue({ concurrency: 64 });
  const task = async (): Promise<void> => {
    const { lease } = await scheduler.execute([model], async () => 'ok', ctx);
    await lease.release();
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: TASKS }, () => queue.add(task)));
  return performance.now() - started;
}

function serverCpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(stat[11]) + Number(stat[12])) * 1000) / 100;
}
function redisPid(port: number): number {
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`${port}`) && fs.readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('redis-server')) return Number(pid);
    } catch {
      // a process that ended meanwhile
    }
  }
  throw new Error('no redis pid');
}

async function serverCalls(ledger: RedisLedger): Promise<Record<string, number>> {
  const info = String(await ledger.connection.command<string>(['INFO', 'commandstats']));
  const calls = [...info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)];
  return Object.fromEntries([...calls.map((m) => [m[1]!, Number(m[2])]), ...calls.map((m) => [`${m[1]!}_µs`, Number(m[3])])]);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-prof-'));
const servers: Record<string, TestRedis> = { always: await startRedis({ appendfsync: 'always' }), everysec: await startRedis({ appendfsync: 'everysec' }) };
const pids = Object.fromEntries(Object.entries(servers).map(([k, s]) => [k, redisPid(s.port)]));
type Variant = { name: string; server: 'always' | 'everysec'; open: typeof RedisLedger.open };
const variants: Variant[] = [];
for (const server of ['everysec', 'always'] as const) {
  for (const step of steps) variants.push({ name: `${step.name}-${server}`, server, open: (o) => step.RedisLedger.open(o) });
  variants.push({ name: `${steps.length > 0 ? 'now-' : ''}${server}`, server, open: (o) => RedisLedger.open(o) });
}
const out: Record<string, number[]> = { sqlite: [] };
for (const v of variants) out[v.name] = [];
let n = 0;
try {
  await tasks(await SqliteLedger.open(path.join(dir, 'warm.sqlite')));
  for (const v of variants) {
    const l = await v.open({ url: servers[v.server]!.url, keyPrefix: `w${v.name}:` });
    await tasks(l);
    await l.close();
  }
  for (let i = 0; i < REPS; i++) {
    out.sqlite!.push(await tasks(await SqliteLedger.open(path.join(dir, `t${i}.sqlite`))));
    for (const v of variants) {
      const k = v.server;
      const l = await v.open({ url: servers[k]!.url, keyPrefix: `b${++n}:` });
      const trips = l.connection.roundTrips;
      const before = await serverCalls(l);
      const cpu = serverCpuMs(pids[k]!);
      const cpuClient = process.cpuUsage();
      const ms = await tasks(l);
      const clientUs = process.cpuUsage(cpuClient);
      const cpuMs = serverCpuMs(pids[k]!) - cpu;
      const after = await serverCalls(l);
      out[v.name]!.push(ms);
      const diff = Object.fromEntries(Object.entries(after).map(([c, v]) => [c, ((v - (before[c] ?? 0)) / TASKS).toFixed(2)]).filter(([, v]) => v !== '0.00'));
      const batch = (l as { batch?: { requests: number; runs: number } }).batch;
      console.log(`${v.name}: ${ms.toFixed(0)} ms, client trips/task ${((l.connection.roundTrips - trips - 1) / TASKS).toFixed(2)}, server cpu ${((cpuMs / TASKS) * 1000).toFixed(0)} µs/task, client cpu ${((clientUs.user + clientUs.system) / TASKS).toFixed(0)} µs/task, server calls/task ${JSON.stringify(diff)}${batch ? `, requests per run ${(batch.requests / batch.runs).toFixed(1)}` : ''}`);
      await l.close();
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const s = med(out.sqlite!);
  console.log(`median: sqlite ${s.toFixed(0)} ms; ${variants.map((v) => `${v.name} ${med(out[v.name]!).toFixed(0)} ms (${(med(out[v.name]!) / s).toFixed(2)}×)`).join('; ')}; load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
} finally {
  for (const s of Object.values(servers)) await s.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
