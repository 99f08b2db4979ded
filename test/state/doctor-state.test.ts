import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LearnedLimit } from '../../src/scheduler/learned.ts';
import { RedisLedger } from '../../src/state/ledger-redis.ts';
import { SqliteLedger, defaultLedgerPath } from '../../src/scheduler/ledger-sqlite.ts';
import { check, doctorTree, type DoctorTree } from '../doctor/helper.ts';
import { freePort, startRedis, type TestRedis } from '../support/redis-server.ts';

const PASSWORD = 'doctor-redis-pw';

describe('doctor: the state store', () => {
  let tree: DoctorTree;
  let redis: TestRedis | undefined;
  beforeAll(async () => {
    redis = await startRedis({ password: PASSWORD });
  });
  afterAll(async () => {
    await redis?.stop();
  });
  beforeEach(async () => {
    tree = await doctorTree();
  });
  afterEach(async () => {
    await tree.remove();
  });

  it('names the embedded ledger by default', async () => {
    const report = await tree.doctor({ groups: ['cache'] });
    expect(check(report, 'cache', 'state store').message).toMatch(/^embedded SQLite ledger .*ledger\.sqlite$/);
  });

  it('fails for an unreachable Redis with onUnavailable "fail", warns with "local"; never shows the password', async () => {
    const port = await freePort();
    const store = `redis://:${PASSWORD}@127.0.0.1:${port}`;
    tree.write('opencode.json', { state: { store } });
    const failed = check(await tree.doctor({ groups: ['cache'] }), 'cache', 'state store');
    expect(failed.status).toBe('fail');
    expect(failed.message).toMatch(new RegExp(`^The state store redis://127\\.0\\.0\\.1:${port} cannot be reached`));
    tree.write('opencode.json', { state: { store, onUnavailable: 'local' } });
    const warned = check(await tree.doctor({ groups: ['cache'] }), 'cache', 'state store');
    expect(warned.status).toBe('warn');
    expect(JSON.stringify([failed, warned])).not.toContain(PASSWORD);
  });

  it('an unreachable Redis: the ledger line says it was not read and points at the state store line', async () => {
    const port = await freePort();
    tree.write('opencode.json', { state: { store: `redis://:${PASSWORD}@127.0.0.1:${port}` } });
    const report = await tree.doctor({ groups: ['cache'] });
    const ledger = check(report, 'cache', 'ledger');
    expect(ledger.status).toBe('skip');
    expect(ledger.message).toMatch(new RegExp(`^not read: The state store redis://127\\.0\\.0\\.1:${port} cannot be reached: .* \\(see state store\\)$`));
    expect(JSON.stringify(report)).not.toContain(PASSWORD);
  });

  it('a config that does not load: the ledger and the state store are skipped, pointing at the config line', async () => {
    tree.write('opencode.json', { state: { store: 42 } });
    const report = await tree.doctor({ groups: ['cache'] });
    for (const name of ['ledger', 'state store']) {
      const result = check(report, 'cache', name);
      expect(result.status).toBe('skip');
      expect(result.message).toBe('not checked: the config did not load (see config)');
    }
  });

  it('reports latency, version, prefix and clock offset of a live Redis', async () => {
    tree.write('opencode.json', { state: { store: redis?.url, keyPrefix: 'team-a:' } });
    const result = check(await tree.doctor({ groups: ['cache'] }), 'cache', 'state store');
    expect(result.status).toBe('ok');
    expect(result.message).toMatch(/^redis:\/\/127\.0\.0\.1:\d+ answered in .* \(Redis \d+\.\d+\.\d+, key prefix team-a:, its clock [+-].* from this machine's; windows use Redis's clock\)$/);
    expect(result.message).not.toContain(PASSWORD);
  });

  it('measures the clock offset against this machine\'s clock (a machine 5 s ahead reads Redis 5 s behind)', async () => {
    tree.write('opencode.json', { state: { store: redis?.url } });
    const ahead = check(await tree.doctor({ groups: ['cache'], now: () => Date.now() + 5000 }), 'cache', 'state store');
    const offset = /its clock ([+-])(\d+(?:\.\d+)?) (ms|s) from/.exec(ahead.message);
    expect(offset?.[1]).toBe('-');
    const ms = Number(offset?.[2]) * (offset?.[3] === 's' ? 1000 : 1);
    expect(ms).toBeGreaterThan(4000);
    expect(ms).toBeLessThan(6000);
  });

  it('reads cooldowns and learned limits from Redis when the config puts the state there, not from this machine\'s SQLite', async () => {
    const keyPrefix = `doc${process.pid}:`;
    tree.write('opencode.json', { state: { store: redis?.url, keyPrefix } });
    const shared = await RedisLedger.open({ url: redis!.url, keyPrefix });
    const now = await shared.serverTime();
    await shared.recordFailure('model:p/shared', 1, 60_000);
    const learned: LearnedLimit = { key: 'learned:p/shared', name: 'requests', kind: 'requests', limit: 40, remaining: 0, resetAt: now + 30_000, observedAt: now, source: 'x-ratelimit-*' };
    await shared.recordLearned('learned:p/shared', [learned], now);
    await shared.close();
    // This machine's own ledger has a cooldown of its own, which doctor must not show for a Redis store.
    const local = new SqliteLedger({ path: defaultLedgerPath(tree.env) });
    await local.recordFailure('model:p/local-only', 1, 60_000);
    await local.close();
    const report = await tree.doctor({ groups: ['cache'] });
    expect(check(report, 'cache', 'ledger').message).toBe(`${redis!.url.replace(/\/\/.*@/, '//')} (key prefix ${keyPrefix}) is readable`);
    const cooldowns = check(report, 'cache', 'cooldowns');
    expect(cooldowns.status).toBe('warn');
    expect(cooldowns.message).toMatch(/^1 model is cooling down: p\/shared for /);
    expect(check(report, 'cache', 'learned limits').message).toMatch(/^1 limit learned for 1 model$/);
    expect(JSON.stringify(report)).not.toContain(PASSWORD);
  });

  it('--fix prunes the Redis store: an ended cooldown goes, a running one stays', async () => {
    const keyPrefix = `fix${process.pid}:`;
    tree.write('opencode.json', { state: { store: redis?.url, keyPrefix } });
    const shared = await RedisLedger.open({ url: redis!.url, keyPrefix });
    await shared.recordFailure('model:p/ended', 1, 1);
    await shared.recordFailure('model:p/running', 1, 60_000);
    const fields = async (): Promise<string[]> => (await shared.connection.command<string[]>(['HKEYS', `${keyPrefix}f`])).sort();
    // Readiness: the 1 ms cooldown has ended on Redis's clock.
    while ((await shared.listCooldowns()).length > 1) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await fields()).toEqual(['model:p/ended', 'model:p/running']);
    const report = await tree.doctor({ groups: ['cache'], fix: true });
    expect(report.fixed).toContain(`removed expired entries from the state store ${redis!.url.replace(/\/\/.*@/, '//')} (key prefix ${keyPrefix})`);
    expect(await fields()).toEqual(['model:p/running']);
    await shared.close();
    expect(JSON.stringify(report)).not.toContain(PASSWORD);
  });
});
