/**
 * The state stores side by side: what one admission costs with the in-memory, the embedded SQLite
 * and the Redis ledger (real redis-servers on 127.0.0.1, started here), how many round trips to
 * Redis each admission takes (counted by the client and by Redis's own INFO commandstats), and
 * 10,000 tasks through `Scheduler.execute` on Redis against the same on SQLite (goal ≤ 3×). Then the
 * same for a model with no configured limit and learning on (`rateLimit.learn`, the default, so most
 * requests): each admission carries the limits learned for the model, which both ledgers keep between
 * reads (a Redis admission checks their generation in its own script: one round trip, goal 1).
 *
 * Two Redis servers: `appendfsync everysec` (Redis's default; like SQLite's `synchronous = NORMAL`
 * in WAL mode, which the SQLite ledger uses: written to the OS at once, fsynced later — a crash of
 * the process loses nothing, a power loss may lose the last moments), against which the goal is
 * measured; and `appendfsync always` (an fsync before every reply; the tests' setting), beside it.
 *
 *   node bench/state-stores.ts [--json] [--quick]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import PQueue from 'p-queue';
import { MemoryLedger } from '../src/scheduler/ledger-memory.ts';
import { SqliteLedger } from '../src/scheduler/ledger-sqlite.ts';
import type { Ledger, ReserveRequest } from '../src/scheduler/ledger.ts';
import { DEFAULT_RETRY } from '../src/scheduler/retry-policy.ts';
import { Scheduler, type ScheduledModel } from '../src/scheduler/scheduler.ts';
import { LEASE_MAX } from '../src/scheduler/slot-lease.ts';
import { LEARNED_KEPT_MS, RedisLedger } from '../src/state/ledger-redis.ts';
import { startRedis } from '../test/support/redis-server.ts';
import { median } from './support/measure.ts';
import { against, runBench, type Row } from './support/report.ts';

const QUICK = process.argv.includes('--quick');
const ADMISSIONS = QUICK ? 500 : 2000;
const TASKS = QUICK ? 2000 : 10_000;
const REPS = QUICK ? 1 : 3;
const CONCURRENCY = 64;
const GOAL = 3;

/** A limit that admits everything (so nothing waits) but is checked and recorded like a real one. */
const limits = { windows: [{ key: 'model:bench/m', maxRequests: 1_000_000_000, windowMs: 60_000 }], tokens: [], concurrency: [{ key: 'model:bench/m', limit: 100_000 }] };
const request: ReserveRequest = { ...limits, leaseMs: 30_000 };
/** The gateway's kind of request (bench/gateway.ts: `rpm: 1,000,000`): a large window alone, so the SQLite ledger leases slots ahead. */
const windowAlone: ReserveRequest = { windows: limits.windows, tokens: [], concurrency: [], leaseMs: 30_000 };
const model: ScheduledModel = { label: 'bench/m', provider: 'bench', key: 'model:bench/m', ...limits };
/** No configured limit, learning on (the default): an admission reads (or keeps) the limits learned for the model. */
const learning: ScheduledModel = { label: 'bench/l', provider: 'bench', key: 'model:bench/l', windows: [], tokens: [], concurrency: [], learnKey: 'learned:bench/l' };

/** µs per admission (tryReserve), and per whole request (tryReserve + markSent + release), one at a time. */
async function admissions(ledger: Ledger, req: ReserveRequest = request): Promise<{ reserveUs: number; cycleUs: number }> {
  let reserveMs = 0;
  const started = performance.now();
  for (let i = 0; i < ADMISSIONS; i++) {
    const t = performance.now();
    const r = await ledger.tryReserve(req);
    reserveMs += performance.now() - t;
    if (!r.ok) throw new Error('state-stores: an admission was refused');
    await ledger.markSent(r.id);
    await ledger.release(r.id);
  }
  return { reserveUs: (reserveMs / ADMISSIONS) * 1000, cycleUs: ((performance.now() - started) / ADMISSIONS) * 1000 };
}

/** One request through `Scheduler.execute` on `on`: admitted, run (an instant model), released. */
function oneTask(scheduler: Scheduler, on: ScheduledModel): () => Promise<string> {
  const ctx = { emit: () => undefined };
  return async () => {
    const { value, lease } = await scheduler.execute([on], async () => 'ok', ctx);
    await lease.release();
    return value;
  };
}

/** Milliseconds for TASKS tasks on `on`, CONCURRENCY at a time, each admitted, run (an instant model) and released. */
async function tasks(ledger: Ledger, on: ScheduledModel = model): Promise<number> {
  const task = oneTask(new Scheduler({ ledger, retry: DEFAULT_RETRY, cooldown: { afterFailures: 3, ms: 60_000 } }), on);
  const queue = new PQueue({ concurrency: CONCURRENCY });
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: TASKS }, () => queue.add(task)));
  const ms = performance.now() - started;
  if (results.length !== TASKS || results.some((r) => r !== 'ok')) throw new Error('state-stores: a task did not answer');
  return ms;
}

/** What Redis itself counted (INFO commandstats): scripts run (EVALSHA/EVAL: one round trip each) and every command, those the scripts ran included. */
async function serverCalls(ledger: RedisLedger): Promise<{ scripts: number; commands: number }> {
  const info = String(await ledger.connection.command<string>(['INFO', 'commandstats']));
  const calls = [...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => ({ name: m[1] ?? '', calls: Number(m[2]) }));
  return { scripts: calls.filter((c) => c.name === 'evalsha' || c.name === 'eval').reduce((n, c) => n + c.calls, 0), commands: calls.reduce((n, c) => n + c.calls, 0) };
}

/** Round trips per request, one request at a time: the client's count and the scripts and commands Redis counted. */
async function tripsAlone(ledger: RedisLedger): Promise<{ admission: number; client: number; scripts: number; commands: number }> {
  const before = ledger.connection.roundTrips;
  const r = await ledger.tryReserve(request);
  const admission = ledger.connection.roundTrips - before;
  if (r.ok) await ledger.release(r.id, { refund: true });
  const trips = ledger.connection.roundTrips;
  const calls = await serverCalls(ledger);
  await admissions(ledger);
  const client = (ledger.connection.roundTrips - trips) / ADMISSIONS;
  const after = await serverCalls(ledger);
  // The INFO call itself is one command.
  return { admission, client, scripts: (after.scripts - calls.scripts) / ADMISSIONS, commands: (after.commands - calls.commands - 1) / ADMISSIONS };
}

/**
 * Round trips on the learning-on model, one request at a time through `Scheduler.execute` (after a
 * warm-up, so the kept limits are what a busy process answers from): per admission (the execute
 * call) and per whole request (its release too), counted by the client; and the scripts Redis ran.
 */
async function tripsLearning(ledger: RedisLedger): Promise<{ admission: number; reads: number; seconds: number; client: number; scripts: number }> {
  const scheduler = new Scheduler({ ledger, retry: DEFAULT_RETRY, cooldown: { afterFailures: 3, ms: 60_000 } });
  const ctx = { emit: () => undefined };
  const request = async (): Promise<number> => {
    const before = ledger.connection.roundTrips;
    const { lease } = await scheduler.execute([learning], async () => 'ok', ctx);
    const admission = ledger.connection.roundTrips - before;
    await lease.release();
    return admission;
  };
  for (let i = 0; i < 50; i++) await request();
  const trips = ledger.connection.roundTrips;
  const calls = await serverCalls(ledger);
  let admissions = 0;
  const started = performance.now();
  for (let i = 0; i < ADMISSIONS; i++) admissions += await request();
  const seconds = (performance.now() - started) / 1000;
  const client = (ledger.connection.roundTrips - trips) / ADMISSIONS;
  const after = await serverCalls(ledger);
  // Round trips beyond one an admission: the learned limits read again (kept at most LEARNED_KEPT_MS).
  return { admission: admissions / ADMISSIONS, reads: admissions - ADMISSIONS, seconds, client, scripts: (after.scripts - calls.scripts) / ADMISSIONS };
}

async function body(): Promise<{ rows: Row[]; notes: string[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-bench-state-'));
  const everysec = await startRedis({ appendfsync: 'everysec' });
  const always = await startRedis({ appendfsync: 'always' });
  let prefixes = 0;
  const openRedis = (server: typeof always): Promise<RedisLedger> => RedisLedger.open({ url: server.url, keyPrefix: `bench${++prefixes}:` });
  try {
    process.stderr.write(`state-stores: ${ADMISSIONS} admissions per store, ${TASKS} tasks × ${REPS} reps per store `);
    const memory = new MemoryLedger();
    const sqlite = await SqliteLedger.open(path.join(dir, 'ledger.sqlite'));
    const redisEs = await openRedis(everysec);
    const redisAl = await openRedis(always);
    // Warm-up (JIT, statements, the scripts loaded on the servers).
    for (const l of [memory, sqlite, redisEs, redisAl]) await admissions(l);
    const mem = await admissions(memory);
    const sql = await admissions(sqlite);
    await admissions(sqlite, windowAlone);
    const sqlAlone = await admissions(sqlite, windowAlone);
    const es = await admissions(redisEs);
    const al = await admissions(redisAl);
    const alone = await tripsAlone(redisAl);
    const learnTrips = await tripsLearning(redisAl);
    process.stderr.write('.');

    const sqlMs: number[] = [];
    const esMs: number[] = [];
    const alMs: number[] = [];
    const sqlLearnMs: number[] = [];
    const esLearnMs: number[] = [];
    let trips = 0;
    let runs = { requests: 0, runs: 0 };
    for (let i = 0; i < REPS; i++) {
      sqlMs.push(await tasks(await SqliteLedger.open(path.join(dir, `tasks-${i}.sqlite`))));
      for (const [server, out] of [[everysec, esMs], [always, alMs]] as const) {
        const l = await openRedis(server);
        const before = l.connection.roundTrips;
        out.push(await tasks(l));
        trips += l.connection.roundTrips - before;
        runs = { requests: runs.requests + l.batch.requests, runs: runs.runs + l.batch.runs };
        await l.close();
      }
      sqlLearnMs.push(await tasks(await SqliteLedger.open(path.join(dir, `learn-${i}.sqlite`)), learning));
      const l = await openRedis(everysec);
      esLearnMs.push(await tasks(l, learning));
      await l.close();
      process.stderr.write('.');
    }
    process.stderr.write('\n');
    await Promise.all([memory.close(), sqlite.close(), redisEs.close(), redisAl.close()]);
    const s = median(sqlMs);
    const e = median(esMs);
    const a = median(alMs);
    const sLearn = median(sqlLearnMs);
    const eLearn = median(esLearnMs);
    const us = (x: number): string => `${x.toFixed(0)} µs`;
    const perTask = trips / (TASKS * REPS * 2);
    const rows: Row[] = [
      { bench: 'state stores', case: 'one admission, MemoryLedger (baseline)', result: `${us(mem.reserveUs)} (whole request ${us(mem.cycleUs)})`, figure: '1×', goal: '' },
      { bench: 'state stores', case: 'one admission, SqliteLedger', result: `${us(sql.reserveUs)} (whole request ${us(sql.cycleUs)})`, figure: `${(sql.reserveUs / mem.reserveUs).toFixed(1)}× memory`, goal: '' },
      {
        bench: 'state stores',
        case: 'one admission, SqliteLedger, a large window alone (slots leased ahead; the gateway’s `rpm`)',
        result: `${us(sqlAlone.reserveUs)} (whole request ${us(sqlAlone.cycleUs)})`,
        figure: `${(sqlAlone.cycleUs / sql.cycleUs).toFixed(2)}× the request above`,
        goal: '',
      },
      { bench: 'state stores', case: 'one admission, RedisLedger (127.0.0.1, appendfsync everysec)', result: `${us(es.reserveUs)} (whole request ${us(es.cycleUs)})`, figure: `${(es.reserveUs / sql.reserveUs).toFixed(2)}× SQLite`, goal: '' },
      { bench: 'state stores', case: 'one admission, RedisLedger (127.0.0.1, appendfsync always)', result: `${us(al.reserveUs)} (whole request ${us(al.cycleUs)})`, figure: `${(al.reserveUs / sql.reserveUs).toFixed(2)}× SQLite`, goal: '' },
      {
        bench: 'state stores',
        case: 'Redis round trips per request, one at a time',
        result: `admission ${alone.admission}; whole request (admit, sent, release) ${alone.client.toFixed(2)} counted by the client, ${alone.scripts.toFixed(2)} scripts counted by Redis (running ${alone.commands.toFixed(0)} commands inside)`,
        figure: `${alone.admission} per admission`,
        goal: '1',
        ...against(alone.admission, 1),
      },
      {
        bench: 'state stores',
        case: `Redis round trips per task, ${CONCURRENCY} at a time (the tasks below)`,
        result: `${perTask.toFixed(3)} per task (its admission and release share script runs with the other tasks'; its success sends nothing while no failure is recorded), ${(runs.requests / runs.runs).toFixed(1)} requests per script run`,
        figure: `${perTask.toFixed(3)} per admission`,
        goal: '',
      },
      { bench: 'state stores', case: `${TASKS.toLocaleString('en')} tasks through \`Scheduler.execute\`, SqliteLedger (synchronous = NORMAL; baseline)`, result: `${s.toFixed(0)} ms (${((s / TASKS) * 1000).toFixed(0)} µs/task)`, figure: '1×', goal: '' },
      {
        bench: 'state stores',
        case: 'same, RedisLedger, appendfsync everysec (the same durability)',
        result: `${e.toFixed(0)} ms (${((e / TASKS) * 1000).toFixed(0)} µs/task)`,
        figure: `${(e / s).toFixed(2)}× SQLite`,
        goal: `≤ ${GOAL}×`,
        ...against(e / s, GOAL),
      },
      { bench: 'state stores', case: 'same, RedisLedger, appendfsync always (an fsync per script run)', result: `${a.toFixed(0)} ms (${((a / TASKS) * 1000).toFixed(0)} µs/task)`, figure: `${(a / s).toFixed(2)}× SQLite`, goal: '' },
      {
        bench: 'state stores',
        case: 'Redis round trips per request with learning on (no configured limit; `rateLimit.learn`, the default), one at a time through `Scheduler.execute`',
        result: `admission ${learnTrips.admission.toFixed(3)} (the learned limits read ${learnTrips.reads} times in ${learnTrips.seconds.toFixed(1)} s: kept up to ${LEARNED_KEPT_MS} ms, the admission's script checks their generation); whole request (admit, release) ${learnTrips.client.toFixed(2)} counted by the client, ${learnTrips.scripts.toFixed(2)} scripts counted by Redis`,
        figure: `1 per admission + ${learnTrips.reads} reads`,
        goal: `1 + a read a second`,
        // One round trip an admission, and a read of the learned limits at most once per LEARNED_KEPT_MS (and one at the start).
        ...against(learnTrips.reads, Math.floor((learnTrips.seconds * 1000) / LEARNED_KEPT_MS) + 1),
      },
      { bench: 'state stores', case: `${TASKS.toLocaleString('en')} tasks with learning on (no configured limit), SqliteLedger`, result: `${sLearn.toFixed(0)} ms (${((sLearn / TASKS) * 1000).toFixed(0)} µs/task)`, figure: `${(sLearn / s).toFixed(2)}× the configured-limit tasks`, goal: '' },
      {
        bench: 'state stores',
        case: 'same with learning on, RedisLedger, appendfsync everysec',
        result: `${eLearn.toFixed(0)} ms (${((eLearn / TASKS) * 1000).toFixed(0)} µs/task)`,
        figure: `${(eLearn / sLearn).toFixed(2)}× SQLite`,
        goal: `≤ ${GOAL}×`,
        ...against(eLearn / sLearn, GOAL),
      },
    ];
    const notes = [
      `state stores: one window and one concurrency limit that never bind, checked and recorded on every admission (the leased row: the window alone, so the SQLite ledger takes up to ${LEASE_MAX} admissions in one commit (one row) and defers the sent and release marks to its next write); admissions one at a time (${ADMISSIONS} after a warm-up); tasks ${CONCURRENCY} at a time through an outer p-queue, medians of ${REPS}, SQLite and the two Redis servers interleaved; two redis-servers on 127.0.0.1 started by the bench, append-only: appendfsync everysec (Redis's default) and always (the tests' setting). The goal row compares like with like: the SQLite ledger runs synchronous = NORMAL in WAL mode (a commit is written to the OS, not fsynced), which is what everysec gives (written at once, fsynced within a second).`,
    ];
    return { rows, notes };
  } finally {
    await everysec.stop();
    await always.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await runBench(body);

export { body as stateStoresBench };
