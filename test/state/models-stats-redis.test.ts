/**
 * With `state.store: "redis://…"`, `opencode models` shows the limits learned on any machine and
 * `opencode stats` counts every machine's calls: both read Redis, not this machine's SQLite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LearnedLimit } from '../../src/scheduler/learned.ts';
import { RedisLedger } from '../../src/state/ledger-redis.ts';
import { sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { freePort, startRedis, type TestRedis } from '../support/redis-server.ts';

describe('models and stats read the Redis state store', () => {
  let redis: TestRedis;
  let sb: Sandbox;
  const keyPrefix = `ms${process.pid}:`;
  beforeAll(async () => {
    redis = await startRedis();
    sb = await sandbox();
  });
  afterAll(async () => {
    await sb?.remove();
    await redis?.stop();
  });

  it('shows what another machine learned and counts what it spent', async () => {
    sb.write('opencode.json', { model: 'p/m', provider: { p: { options: { baseURL: 'http://127.0.0.1:9/v1' }, models: { m: {} } } }, state: { store: redis.url, keyPrefix } });
    const shared = await RedisLedger.open({ url: redis.url, keyPrefix });
    const now = await shared.serverTime();
    const learned: LearnedLimit = { key: 'learned:p/m', name: 'requests', kind: 'requests', limit: 40, remaining: 3, resetAt: now + 30_000, observedAt: now, source: 'x-ratelimit-*' };
    await shared.recordLearned('learned:p/m', [learned], now);
    await shared.recordUsage({ t: Date.now(), runId: 'elsewhere', agent: 'oracle', provider: 'p', model: 'p/m', inputTokens: 12, outputTokens: 3, costUSD: 0.25, cached: false, retries: 1, fallbacks: 0, waitedMs: 40 });
    await shared.close();

    const models = await sb.run(['models', '--json']);
    expect(models.code, models.stderr).toBe(0);
    const [model] = JSON.parse(models.stdout) as { ref: string; learned: { name: string; limit: number; remaining: number; learnedAt: number }[] }[];
    expect(model?.learned).toEqual([expect.objectContaining({ name: 'requests', limit: 40, remaining: 3, learnedAt: now })]);

    const stats = await sb.run(['stats', '--json', '--days', '1']);
    expect(stats.code, stats.stderr).toBe(0);
    const report = JSON.parse(stats.stdout) as { totals: Record<string, number> };
    expect(report.totals).toEqual({ requests: 1, cacheHits: 0, inputTokens: 12, outputTokens: 3, costUSD: 0.25, savedUSD: 0, retries: 1, fallbacks: 0, rateLimitWaits: 1, waitedMs: 40 });
  });

  it('an unreachable Redis: models lists the config with a warning, stats is a state error naming the store', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    sb.write('opencode.json', { model: 'p/m', provider: { p: { options: { baseURL: 'http://127.0.0.1:9/v1' }, models: { m: {} } } }, state: { store: url } });
    const models = await sb.run(['models', '--table']);
    expect(models.code, models.stderr).toBe(0);
    expect(models.stdout).toMatch(/^p\/m/m);
    expect(models.stderr).toMatch(/^warning: learned limits not read from the state store: /m);
    const stats = await sb.run(['stats']);
    expect(stats.code).toBe(2);
    expect(stats.stderr).toContain(url);
    expect(stats.stderr).not.toMatch(/\n\s+at /);
  });
});
