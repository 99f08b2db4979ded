import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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

  it('reports latency, version, prefix and clock offset of a live Redis', async () => {
    tree.write('opencode.json', { state: { store: redis?.url, keyPrefix: 'team-a:' } });
    const result = check(await tree.doctor({ groups: ['cache'] }), 'cache', 'state store');
    expect(result.status).toBe('ok');
    expect(result.message).toMatch(/^redis:\/\/127\.0\.0\.1:\d+ answered in .* \(Redis \d+\.\d+\.\d+, key prefix team-a:, its clock [+-].* from this machine's; windows use Redis's clock\)$/);
    expect(result.message).not.toContain(PASSWORD);
  });
});
