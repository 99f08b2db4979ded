import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { SECRET, providerConfig, sandbox, type Sandbox } from './cli-helper.ts';

const LIMIT = { maxRequests: 3, windowMs: 1000 };
const PROCESSES = 12;

describe('parallel opencode run processes share one rate limit', () => {
  let server: ScriptedServer;
  let sb: Sandbox;

  beforeAll(async () => {
    // The server enforces the same window: a request over the limit would get a 429 and count in overLimit.
    server = await startScriptedServer({ apiKey: SECRET, models: { lim: { rateLimit: LIMIT } } });
    sb = await sandbox();
    sb.write('opencode.json', {
      ...providerConfig(server, { lim: { rateLimit: LIMIT } }),
      model: 'p/lim',
      retry: { maxRetries: 0 },
    });
  });
  afterAll(async () => {
    await server.close();
    await sb.remove();
  });

  it(`${PROCESSES} processes against a model limited to ${LIMIT.maxRequests} per ${LIMIT.windowMs} ms: all succeed, no window exceeded`, async () => {
    const runs = Array.from({ length: PROCESSES }, (_, i) => sb.run(['run', '--no-cache', `task number ${i}`]));
    const results = await Promise.all(runs);
    results.forEach((r, i) => {
      expect(r.code, `process ${i}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toBe(`echo: task number ${i}\n`);
    });
    const stats = server.stats();
    expect(stats.models.lim?.requests).toBe(PROCESSES);
    expect(stats.maxStartsInWindow('lim', LIMIT.windowMs)).toBeLessThanOrEqual(LIMIT.maxRequests);
    expect(stats.overLimit).toBe(0);
    // the limit was really binding: 12 starts at 3 per second span at least three windows
    const starts = server.log.map((e) => e.startedAt).sort((a, b) => a - b);
    expect((starts.at(-1) ?? 0) - (starts[0] ?? 0)).toBeGreaterThanOrEqual(3 * LIMIT.windowMs - 50);
    // This asserts the limit, not speed (bench/limit-under-load.ts measures the makespan): twelve Node
    // processes starting at once on a loaded 2-core machine can take well over 30 s to finish.
  }, 180_000);
});
