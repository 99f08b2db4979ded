/**
 * Redis killed mid-run (SIGKILL, as a crashed server) and started again, under both onUnavailable
 * settings. "fail": a task that needs an admission while Redis is away fails with a clear error, the
 * others finish, nothing crashes, and no start goes over the limit. "local": every machine goes on
 * with its own ledger (the limit held per machine, warned), and the shared limit holds again once
 * Redis is back.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasStack, SECRET, userText, type CliResult } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { startRedis, type TestRedis } from '../support/redis-server.ts';
import { events, explainFailure, machineConfig, machines, maxInWindow, removeMachines, startsOf, type Machine } from './machines.ts';

const LIMIT = { maxRequests: 2, windowMs: 3000 };
// "fail" needs the window still full when Redis is killed, and six CLI processes must start and
// report first: that took more than 3 s at load average 10–15, the window emptied, two more were
// admitted before the kill and four succeeded. 15 s leaves room; the runs after the restart wait the rest.
const FAIL_LIMIT = { maxRequests: 2, windowMs: 15_000 };

function ended(r: CliResult): string | undefined {
  return events(r.stdout).findLast((e) => e.type === 'done')?.status as string | undefined;
}

describe('Redis killed mid-run and restarted', () => {
  let redis: TestRedis;
  let server: ScriptedServer;
  let list: Machine[] = [];
  let stage = 'start';
  beforeEach(async () => {
    stage = 'starting Redis';
    redis = await startRedis();
  });
  afterEach(async () => {
    await removeMachines(list);
    await server?.close();
    await redis?.stop();
  });

  it('onUnavailable "fail": waiting tasks fail with a clear error, admitted ones finish, no start over the limit', async () => {
    server = await startScriptedServer({ apiKey: SECRET, models: { lim: { rateLimit: FAIL_LIMIT } } });
    list = await machines(2, machineConfig(server, redis.url, 'out-fail:', FAIL_LIMIT));
    explainFailure(() => list, () => stage);
    const procs = list.flatMap((m) => [0, 1, 2].map((j) => m.start(['run', '--no-cache', '--format', 'json', `machine ${m.name} task ${j}`])));
    // Mid-run: the window is full and everyone else waits for it.
    stage = 'waiting for the first requests';
    await server.waitForRequests(FAIL_LIMIT.maxRequests);
    stage = 'waiting for every process to report';
    await Promise.all(procs.map((p) => p.stdoutMatches(/"type":"(rate_limited|step_start)"/)));
    stage = 'killing Redis';
    await redis.kill('SIGKILL');
    stage = 'waiting for the processes to end, Redis down';
    const results = await Promise.all(procs.map((p) => p.exited));
    for (const r of results) {
      expect(hasStack(r.stderr + r.stdout)).toBe(false);
      expect([0, 1]).toContain(r.code);
      expect(['success', 'failed']).toContain(ended(r));
    }
    const failed = results.filter((r) => r.code === 1);
    expect(results.filter((r) => r.code === 0)).toHaveLength(FAIL_LIMIT.maxRequests);
    for (const r of failed) expect(r.stdout).toMatch(/The state store redis:\/\/127\.0\.0\.1:\d+ cannot be reached/);

    stage = 'restarting Redis';
    await redis.start();
    stage = 'the runs after the restart';
    const again = await Promise.all(list.map((m) => m.start(['run', '--no-cache', `machine ${m.name} after the restart`]).exited));
    for (const r of again) expect(r.code, r.stderr).toBe(0);
    const stats = server.stats();
    expect(stats.models.lim?.requests).toBe(FAIL_LIMIT.maxRequests + 2);
    expect(stats.overLimit).toBe(0);
    expect(stats.maxStartsInWindow('lim', FAIL_LIMIT.windowMs)).toBeLessThanOrEqual(FAIL_LIMIT.maxRequests);
  }, 180_000);

  it('onUnavailable "local": each machine goes on alone (warned), all tasks succeed, the limit holds per machine and again across machines', async () => {
    // No server-side limit here: while Redis is away the limit is held per machine, by design.
    server = await startScriptedServer({ apiKey: SECRET, models: { lim: {} } });
    list = await machines(2, machineConfig(server, redis.url, 'out-local:', LIMIT, { state: { store: redis.url, keyPrefix: 'out-local:', onUnavailable: 'local' } }));
    explainFailure(() => list, () => stage);
    const PER = 4;
    const procs = list.flatMap((m) => Array.from({ length: PER }, (_, j) => m.start(['run', '--no-cache', '--format', 'json', `machine ${m.name} task ${j}`])));
    stage = 'waiting for the first requests';
    await server.waitForRequests(LIMIT.maxRequests);
    stage = 'waiting for every process to report';
    await Promise.all(procs.map((p) => p.stdoutMatches(/"type":"(rate_limited|step_start)"/)));
    const killedAt = Date.now();
    stage = 'killing Redis';
    await redis.kill('SIGKILL');
    // Readiness: each machine has noticed (a STATE_LOCAL warning) and gone on with its own ledger.
    stage = 'waiting for a STATE_LOCAL warning on each machine';
    await Promise.all(list.map((m) => Promise.any(m.procs.map((p) => p.stdoutMatches(/"code":"STATE_LOCAL"/)))));
    stage = `waiting for ${LIMIT.maxRequests + 2} requests, Redis down (the provider has ${String(server.log.length)})`;
    await server.waitForRequests(LIMIT.maxRequests + 2);
    stage = 'restarting Redis';
    await redis.start();
    const restartedAt = Date.now();
    stage = 'waiting for the processes to end after the restart';
    const results = await Promise.all(procs.map((p) => p.exited));
    stage = 'checking the results';
    for (const r of results) {
      expect(r.code, r.stderr).toBe(0);
      expect(ended(r)).toBe('success');
      expect(hasStack(r.stderr)).toBe(false);
    }
    const warning = events(results.map((r) => r.stdout).join('\n')).find((e) => e.code === 'STATE_LOCAL');
    expect(warning?.message).toMatch(/using this machine's ledger/);
    expect(server.log).toHaveLength(2 * PER);
    // Per machine: never over the limit, Redis or not (a few ms of tolerance for the provider reading
    // a request later than the ledger counted it).
    const span = LIMIT.windowMs - 25;
    for (const m of list) {
      expect(maxInWindow(startsOf(server.log, (e) => userText(e).startsWith(`machine ${m.name} `)), span)).toBeLessThanOrEqual(LIMIT.maxRequests);
    }
    // Across machines: never over the limit in a window that lies outside the outage (and the window after it).
    const shared = maxInWindow(startsOf(server.log), span, (from, to) => to < killedAt || from > restartedAt + LIMIT.windowMs);
    expect(shared).toBeLessThanOrEqual(LIMIT.maxRequests);
  }, 180_000);
});
