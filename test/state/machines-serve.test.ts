/**
 * Two `opencode serve` instances (as behind a load balancer), each on its own machine, sharing their
 * scheduler's state through one Redis: prompts through both stay inside one provider limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET } from '../cli/cli-helper.ts';
import { v1Calls } from '../server/sdk-clients.ts';
import { serve, type Served } from '../server/serve-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { startRedis, type TestRedis } from '../support/redis-server.ts';
import { machineConfig, machines, removeMachines, type Machine } from './machines.ts';

const LIMIT = { maxRequests: 3, windowMs: 2000 };
const PER_SERVER = 6;

describe('two opencode serve instances on one Redis', () => {
  let redis: TestRedis;
  let server: ScriptedServer;
  let list: Machine[] = [];
  const served: Served[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    server = await startScriptedServer({ apiKey: SECRET, models: { lim: { rateLimit: LIMIT } } });
  });
  afterAll(async () => {
    await Promise.allSettled(served.map((s) => s.stop()));
    await removeMachines(list);
    await server?.close();
    await redis?.stop();
  });

  it(`${PER_SERVER} prompts through each of two servers: the provider refuses none`, async () => {
    list = await machines(2, machineConfig(server, redis.url, 'serve2:', LIMIT));
    for (const m of list) served.push(await serve(m.sb));
    const prompts = served.flatMap((s, i) => {
      const api = v1Calls(s.url, list[i]!.sb.project);
      return Array.from({ length: PER_SERVER }, async (_, j) => {
        const created = await api.create();
        const id = (created.data as { id: string }).id;
        const answered = await api.prompt(id, `server ${i} prompt ${j}`);
        return { status: answered.status, text: JSON.stringify(answered.data) };
      });
    });
    const answers = await Promise.all(prompts);
    answers.forEach((a, k) => {
      expect(a.status).toBe(200);
      expect(a.text).toContain(`echo: server ${Math.floor(k / PER_SERVER)} prompt ${k % PER_SERVER}`);
    });
    const stats = server.stats();
    expect(stats.models.lim?.requests).toBe(2 * PER_SERVER);
    expect(stats.overLimit).toBe(0);
    expect(stats.maxStartsInWindow('lim', LIMIT.windowMs)).toBeLessThanOrEqual(LIMIT.maxRequests);
    // Both servers really sent: each one's prompts reached the provider.
    for (const i of [0, 1]) expect(server.log.filter((e) => JSON.stringify(e.messages).includes(`server ${i} prompt`))).toHaveLength(PER_SERVER);
  }, 180_000);
});
