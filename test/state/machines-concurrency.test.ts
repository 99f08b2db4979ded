/**
 * A concurrency limit held across machines through Redis, and freed when a machine dies: its
 * processes are SIGKILLed, their owner key expires, and the next admission anywhere takes the slots.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { startRedis, type TestRedis } from '../support/redis-server.ts';
import { events, machineConfig, machines, removeMachines, type Machine } from './machines.ts';

describe('machines sharing a concurrency limit through Redis', () => {
  let redis: TestRedis;
  let server: ScriptedServer;
  let list: Machine[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    // The provider refuses a third request in flight; the first two never answer (until their client dies).
    server = await startScriptedServer({ apiKey: SECRET, models: { lim: { concurrencyLimit: 2, script: [{ type: 'hang', repeat: 2 }] } } });
  });
  afterAll(async () => {
    await removeMachines(list);
    await server?.close();
    await redis?.stop();
  });

  it('machine B waits while machine A holds both slots, and gets one when A is SIGKILLed', async () => {
    list = await machines(2, machineConfig(server, redis.url, 'conc:', { concurrency: 2 }));
    const [a, b] = list as [Machine, Machine];
    const held = [a.start(['run', '--no-cache', 'held one']), a.start(['run', '--no-cache', 'held two'])];
    await server.waitForRequests(2);
    const waiting = b.start(['run', '--no-cache', '--format', 'json', 'from machine B']);
    const waited = await waiting.stdoutMatches(/"type":"rate_limited"/);
    expect(events(waited).find((e) => e.type === 'rate_limited')?.limit).toMatch(/concurrency/);
    // Nothing of B's reached the provider while A's two requests were in flight.
    expect(server.log).toHaveLength(2);
    await a.kill('SIGKILL');
    expect((await Promise.all(held.map((p) => p.exited))).map((r) => r.signal)).toEqual(['SIGKILL', 'SIGKILL']);
    const done = await waiting.exited;
    expect(done.code, done.stderr).toBe(0);
    expect(events(done.stdout).filter((e) => e.type === 'text').map((e) => e.text).join('')).toBe('echo: from machine B');
    const stats = server.stats();
    expect(stats.models.lim?.requests).toBe(3);
    expect(stats.overLimit).toBe(0);
    expect(stats.peakConcurrency).toBeLessThanOrEqual(2);
  }, 120_000);
});
