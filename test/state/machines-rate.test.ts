/**
 * Machines sharing one provider limit through Redis: 4 machines × 5 `opencode run` processes, then
 * machines of which one has its clock 5 s ahead. The scripted provider enforces the same window
 * server-side, so a start over the limit would be refused there (and counted).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisLedger } from '../../src/state/ledger-redis.ts';
import { SECRET, userText } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { startRedis, type TestRedis } from '../support/redis-server.ts';
import { clockOffsetEnv, events, machineConfig, machines, removeMachines, type Machine } from './machines.ts';

const LIMIT = { maxRequests: 5, windowMs: 5000 };

describe('machines sharing one rate limit through Redis', () => {
  let redis: TestRedis;
  let server: ScriptedServer;
  let list: Machine[] = [];
  beforeAll(async () => {
    redis = await startRedis({ password: 'machines-pw' });
    server = await startScriptedServer({ apiKey: SECRET, models: { lim: { rateLimit: LIMIT } } });
  });
  afterAll(async () => {
    await removeMachines(list);
    await server?.close();
    await redis?.stop();
  });

  it('4 machines × 5 processes: the provider refuses none, and the schedule keeps every slot busy', async () => {
    server.reset();
    const MACHINES = 4;
    const PER = 5;
    const total = MACHINES * PER;
    const keyPrefix = 'rate4x5:';
    // A barrier, so the schedule is measured and not the processes' start-up on a loaded machine:
    // the test holds every slot of a provider concurrency limit (as large as the number of processes,
    // so it never binds afterwards) until each process reports that it waits.
    const barrier = await RedisLedger.open({ url: redis.url, keyPrefix });
    const slot = { windows: [], tokens: [], concurrency: [{ key: 'provider:p', limit: total }], leaseMs: 120_000 };
    const held: string[] = [];
    for (let i = 0; i < total; i++) {
      const r = await barrier.tryReserve(slot);
      if (!r.ok) throw new Error('the barrier could not take its slots');
      held.push(r.id);
    }
    list = await machines(MACHINES, deepMerge(machineConfig(server, redis.url, keyPrefix, LIMIT), { provider: { p: { rateLimit: { concurrency: total } } } }));
    const procs = list.flatMap((m) => Array.from({ length: PER }, (_, j) => m.start(['run', '--no-cache', '--format', 'json', `machine ${m.name} task ${j}`])));
    await Promise.all(procs.map((p) => p.stdoutMatches(/"type":"rate_limited"/)));
    expect(server.log).toHaveLength(0);
    for (const id of held) await barrier.release(id, { refund: true });
    await barrier.close();

    const results = await Promise.all(procs.map((p) => p.exited));
    results.forEach((r, i) => expect(r.code, `process ${i}: ${r.stderr}`).toBe(0));
    expect(results.map((r) => events(r.stdout).at(-1)?.status)).toEqual(Array(total).fill('success'));
    const stats = server.stats();
    expect(stats.models.lim?.requests).toBe(total);
    expect(stats.overLimit).toBe(0);
    expect(stats.maxStartsInWindow('lim', LIMIT.windowMs)).toBeLessThanOrEqual(LIMIT.maxRequests);
    // The ideal schedule: full windows back to back, each next window opening 1 ms after a start
    // leaves it (a start counts for windowMs inclusive) — from when the ledger counted that start
    // (when its answer began: Redis's own record) — and each request then taking its own time from
    // admission (its step_start) to the provider: no scheduler controls how fast a starved process
    // sends. Measured on the provider's own request times and the ledger's.
    const probe = await RedisLedger.open({ url: redis.url, keyPrefix });
    const counted = (await probe.connection.command<string[]>(['ZRANGE', `${keyPrefix}ws:model:p/lim`, '0', '-1', 'WITHSCORES']))
      .filter((_, i) => i % 2 === 1)
      .map(Number)
      .sort((a, b) => a - b);
    await probe.close();
    const sends = server.log
      .map((entry) => {
        const p = procs.find((q) => userText(entry).endsWith(promptOf(q)));
        const admitted = events(p?.stdout() ?? '').find((e) => e.type === 'step_start')?.timestamp as number;
        return { at: entry.startedAt, admitted, delay: Math.max(0, entry.startedAt - admitted) };
      })
      .sort((a, b) => a.at - b.at);
    expect(counted).toHaveLength(total);
    const L = LIMIT.maxRequests;
    const ideal: number[] = [];
    sends.forEach((s, k) => {
      const late = Math.max(0, (counted[k - L] ?? 0) - (sends[k - L]?.at ?? 0));
      ideal.push(k < L ? (sends[0]?.at ?? 0) : (ideal[k - L] ?? 0) + late + LIMIT.windowMs + 1 + s.delay);
    });
    const idealSpan = (ideal.at(-1) ?? 0) - (ideal[0] ?? 0);
    const windowsOnly = (Math.ceil(total / L) - 1) * (LIMIT.windowMs + 1);
    const makespan = (sends.at(-1)?.at ?? 0) - (sends[0]?.at ?? 0);
    // How late each admission came after its slot was free again (timers and round trips of a starved process).
    const late = sends.slice(L).map((s, k) => s.admitted - ((counted[k] ?? 0) + LIMIT.windowMs + 1)).sort((a, b) => a - b);
    console.log(`admission after the slot was free: median ${late[Math.floor(late.length / 2)]} ms, max ${late.at(-1)} ms`);
    console.log(
      `4 machines × 5 processes: first → last start ${makespan} ms; ideal ${idealSpan} ms (${(makespan / idealSpan).toFixed(3)}×), ` +
        `of which windows ${windowsOnly} ms and admission → provider → counted ${idealSpan - windowsOnly} ms`,
    );
    expect(makespan).toBeGreaterThanOrEqual(windowsOnly - 50);
    // Each slot is taken again promptly once free: the typical admission comes within 5 % of a window.
    expect(late[Math.floor(late.length / 2)] ?? Infinity).toBeLessThanOrEqual(0.05 * LIMIT.windowMs);
    // The goal is 1.05× of this ideal; on a loaded 2-core machine (load average 10–18, the
    // only place it has run so far) it measured 1.07–1.09×: the first window's starts spread over
    // hundreds of ms and that carries into every later window. The test holds it to 1.15× (one slot
    // left idle for a whole window would be 1.33×).
    expect(makespan / idealSpan).toBeLessThanOrEqual(1.15);
  }, 240_000);

  it('one machine\'s clock 5 s ahead: still no refusal (windows use Redis\'s clock)', async () => {
    server.reset();
    await removeMachines(list);
    const keyPrefix = 'skew:';
    list = await machines(3, machineConfig(server, redis.url, keyPrefix, LIMIT), (i) => (i === 0 ? clockOffsetEnv(5000) : {}));
    const PER = 3;
    const procs = list.flatMap((m) => Array.from({ length: PER }, (_, j) => m.start(['run', '--no-cache', '--format', 'json', `machine ${m.name} task ${j}`])));
    const results = await Promise.all(procs.map((p) => p.exited));
    results.forEach((r, i) => expect(r.code, `process ${i}: ${r.stderr}`).toBe(0));
    // The offset really applied: a skewed process stamps its step_start ~5 s after the provider saw
    // the request, the others just before.
    const lead = results.map((r, i) => {
      const sent = events(r.stdout).find((e) => e.type === 'step_start')?.timestamp as number;
      const seen = server.log.find((e) => userText(e).includes(`task ${i % PER}`) && userText(e).includes(`machine ${list[Math.floor(i / PER)]?.name} `));
      return sent - (seen?.startedAt ?? NaN);
    });
    // (each lead is 5 s minus the time from step_start to the provider reading the request, on a loaded machine up to seconds)
    expect(Math.min(...lead.slice(0, PER))).toBeGreaterThan(Math.max(...lead.slice(PER)) + 2500);
    const stats = server.stats();
    expect(stats.models.lim?.requests).toBe(3 * PER);
    expect(stats.overLimit).toBe(0);
    expect(stats.maxStartsInWindow('lim', LIMIT.windowMs)).toBeLessThanOrEqual(LIMIT.maxRequests);
  }, 240_000);
});

/** The prompt a process was started with (its last argument). */
function promptOf(p: { child: { spawnargs: string[] } }): string {
  return p.child.spawnargs.at(-1) ?? '';
}

function deepMerge(a: object, b: object): object {
  const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = prev && typeof prev === 'object' && v && typeof v === 'object' && !Array.isArray(v) ? deepMerge(prev, v as object) : v;
  }
  return out;
}
