/**
 * The state stores side by side: what one admission costs with the in-memory, the embedded SQLite
 * and the Redis ledger (a real redis-server on 127.0.0.1, started here), how many round trips to
 * Redis each admission takes (counted by the client and by Redis's own INFO commandstats), and
 * 10,000 tasks through `Scheduler.execute` on Redis against the same on SQLite (goal ≤ 3×).
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
import { RedisLedger } from '../src/state/ledger-redis.ts';
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
const model: ScheduledModel = { label: 'bench/m', provider: 'bench', key: 'model:bench/m', ...limits };

/** µs per admission (tryReserve), and per whole request (tryReserve + markSent + release), one at a time. */
async function admissions(ledger: Ledger): Promise<{ reserveUs: number; cycleUs: number }> {
  let reserveMs = 0;
  const started = performance.now();
  for (let i = 0; i < ADMISSIONS; i++) {
    const t = performance.now();
    const r = await ledger.tryReserve(request);
    reserveMs += performance.now() - t;
    if (!r.ok) throw new Error('state-stores: an admission was refused');
    await ledger.markSent(r.id);
    await ledger.release(r.id);
  }
  return { reserveUs: (reserveMs / ADMISSIONS) * 1000, cycleUs: ((performance.now() - started) / ADMISSIONS) * 1000 };
}

async function tasks(ledger: Ledger): Promise<number> {
  const scheduler = new Scheduler({ ledger, retry: DEFAULT_RETRY, cooldown: { afterFailures: 3, ms: 60_000 } });
  const ctx = { emit: () => undefined };
  const queue = new PQueue({ concurrency: CONCURRENCY });
  const task = async (): Promise<string> => {
    const { value, lease } = await scheduler.execute([model], async () => 'ok', ctx);
    await lease.release();
    return value;
  };
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

async function body(): Promise<{ rows: Row[]; notes: string[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-bench-state-'));
  const redis = await startRedis();
  let prefixes = 0;
  const openRedis = (): Promise<RedisLedger> => RedisLedger.open({ url: redis.url, keyPrefix: `bench${++prefixes}:` });
  try {
    process.stderr.write(`state-stores: ${ADMISSIONS} admissions per store, ${TASKS} tasks × ${REPS} reps per store `);
    const memory = new MemoryLedger();
    const sqlite = await SqliteLedger.open(path.join(dir, 'ledger.sqlite'));
    const onRedis = await openRedis();
    // Warm-up (JIT, statements, the scripts loaded on the server).
    for (const l of [memory, sqlite, onRedis]) await admissions(l);
    const mem = await admissions(memory);
    const sql = await admissions(sqlite);
    const tripsBefore = onRedis.connection.roundTrips;
    const callsBefore = await serverCalls(onRedis);
    const red = await admissions(onRedis);
    const clientTrips = (onRedis.connection.roundTrips - tripsBefore) / ADMISSIONS;
    const callsAfter = await serverCalls(onRedis);
    const serverScripts = (callsAfter.scripts - callsBefore.scripts) / ADMISSIONS;
    const serverCommands = (callsAfter.commands - callsBefore.commands - 1) / ADMISSIONS;
    const tripsReserve = await (async () => {
      const before = onRedis.connection.roundTrips;
      const r = await onRedis.tryReserve(request);
      const n = onRedis.connection.roundTrips - before;
      if (r.ok) await onRedis.release(r.id, { refund: true });
      return n;
    })();
    process.stderr.write('.');

    const sqlMs: number[] = [];
    const redMs: number[] = [];
    for (let i = 0; i < REPS; i++) {
      sqlMs.push(await tasks(await SqliteLedger.open(path.join(dir, `tasks-${i}.sqlite`))));
      const l = await openRedis();
      redMs.push(await tasks(l));
      await l.close();
      process.stderr.write('.');
    }
    process.stderr.write('\n');
    await Promise.all([memory.close(), sqlite.close(), onRedis.close()]);
    const s = median(sqlMs);
    const r = median(redMs);
    const us = (x: number): string => `${x.toFixed(0)} µs`;
    const rows: Row[] = [
      { bench: 'state stores', case: 'one admission, MemoryLedger (baseline)', result: `${us(mem.reserveUs)} (whole request ${us(mem.cycleUs)})`, figure: '1×', goal: '' },
      { bench: 'state stores', case: 'one admission, SqliteLedger', result: `${us(sql.reserveUs)} (whole request ${us(sql.cycleUs)})`, figure: `${(sql.reserveUs / mem.reserveUs).toFixed(1)}× memory`, goal: '' },
      { bench: 'state stores', case: 'one admission, RedisLedger (127.0.0.1)', result: `${us(red.reserveUs)} (whole request ${us(red.cycleUs)})`, figure: `${(red.reserveUs / sql.reserveUs).toFixed(2)}× SQLite`, goal: '' },
      {
        bench: 'state stores',
        case: 'Redis round trips per request',
        result: `admission ${tripsReserve}; whole request (admit, sent, release) ${clientTrips.toFixed(2)} counted by the client, ${serverScripts.toFixed(2)} scripts counted by Redis (running ${serverCommands.toFixed(0)} commands inside)`,
        figure: `${tripsReserve} per admission`,
        goal: '1',
        ...against(tripsReserve, 1),
      },
      { bench: 'state stores', case: `${TASKS.toLocaleString('en')} tasks through \`Scheduler.execute\`, SqliteLedger (baseline)`, result: `${s.toFixed(0)} ms (${((s / TASKS) * 1000).toFixed(0)} µs/task)`, figure: '1×', goal: '' },
      {
        bench: 'state stores',
        case: `same, RedisLedger`,
        result: `${r.toFixed(0)} ms (${((r / TASKS) * 1000).toFixed(0)} µs/task)`,
        figure: `${(r / s).toFixed(2)}× SQLite`,
        goal: `≤ ${GOAL}×`,
        ...against(r / s, GOAL),
      },
    ];
    const notes = [
      `state stores: one window and one concurrency limit that never bind, checked and recorded on every admission; admissions one at a time (${ADMISSIONS} after a warm-up); tasks ${CONCURRENCY} at a time through an outer p-queue, medians of ${REPS}; redis-server on 127.0.0.1 started by the bench with the tests' settings (append-only, fsync on every write: a whole request pays three fsyncs; appendfsync everysec, Redis's default, does not).`,
    ];
    return { rows, notes };
  } finally {
    await redis.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await runBench(body);

export { body as stateStoresBench };
