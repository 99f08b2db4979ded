/**
 * Learned limits across processes: what one `opencode run` learns from the provider's headers
 * paces the next process, and `models` and `doctor` show it with when it was learned.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { SECRET, sandbox, type Sandbox } from './cli-helper.ts';

describe('learned limits (CLI, across processes)', () => {
  let sb: Sandbox;
  let server: ScriptedServer;
  beforeEach(async () => {
    sb = await sandbox();
    server = await startScriptedServer({ models: { m: { announce: 'openai', rateLimit: { maxRequests: 1, windowMs: 6000 } } } });
    sb.write('opencode.json', {
      model: 'local/m',
      provider: { local: { options: { baseURL: server.url, apiKey: SECRET }, models: { m: {} } } },
      cache: { enabled: false },
    });
  });
  afterEach(async () => {
    await sb.remove();
    await server.close();
  });

  it('the process after a remaining: 0 waits for the announced reset; models and doctor show what was learned', async () => {
    const first = await sb.run(['run', 'one']);
    expect(first.code, first.stderr).toBe(0);
    // The first answer said: nothing left until the window is over (6 s after it started).
    const resetAt = (server.log[0]?.startedAt ?? 0) + 6000;
    const second = await sb.run(['run', '--format', 'json', 'two']);
    expect(second.code, second.stderr).toBe(0);
    const events = second.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; limit?: string });
    expect(events.find((e) => e.type === 'rate_limited')).toMatchObject({ limit: 'learned:local/m requests (learned)' });
    expect(server.log[1]?.startedAt).toBeGreaterThanOrEqual(resetAt);
    const models = await sb.run(['models', '--json']);
    expect(models.code, models.stderr).toBe(0);
    const [model] = JSON.parse(models.stdout) as { ref: string; learned: { name: string; limit: number; remaining: number; resetAt: number; learnedAt: number; exhausted: boolean; source: string }[] }[];
    expect(model?.learned).toEqual([expect.objectContaining({ name: 'requests', limit: 1, remaining: 0, exhausted: true, source: 'x-ratelimit-*' })]);
    // Learned from the second answer, as of the moment its request went out (after the reset, before the provider read it).
    expect(model?.learned[0]?.learnedAt).toBeGreaterThanOrEqual(resetAt);
    expect(model?.learned[0]?.learnedAt).toBeLessThanOrEqual(server.log[1]?.startedAt ?? 0);

    const text = await sb.run(['models', '--table']);
    expect(text.stdout).toMatch(/Learned from the providers' answers \(rateLimit\.learn\):\n {2}local\/m {2}requests: 0 of 1 left, full again in [\d.]+ s \(x-ratelimit-\*, learned \d\d:\d\d:\d\d\)/);
    const doctor = await sb.run(['doctor', '--check', 'cache', '--json']);
    const checks = (JSON.parse(doctor.stdout) as { checks: { name: string; message: string; details?: string[] }[] }).checks;
    expect(checks.find((c) => c.name === 'learned limits')).toMatchObject({ message: '1 limit learned for 1 model', details: [expect.stringMatching(/^local\/m {2}requests: 0 of 1 left/)] });

    expect(server.stats().models.m).toMatchObject({ requests: 2, overLimit: 0 });
  });

  it('--debug notes a header that was ignored; without --debug nothing is said', async () => {
    await server.close();
    server = await startScriptedServer({ models: { m: { script: [{ type: 'status', status: 429, retryAfter: 'soon', headers: { 'x-ratelimit-remaining-requests': '-3', 'x-ratelimit-reset-requests': '1s' } }] } } });
    sb.write('opencode.json', {
      model: 'local/m',
      provider: { local: { options: { baseURL: server.url, apiKey: SECRET }, models: { m: {} } } },
      retry: { maxRetries: 1, baseDelay: 10 },
      cache: { enabled: false },
    });
    const quiet = await sb.run(['run', 'x']);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toMatch(/debug:/);
    server.script('m', { type: 'status', status: 429, retryAfter: 'soon', headers: { 'x-ratelimit-remaining-requests': '-3', 'x-ratelimit-reset-requests': '1s' } });
    const loud = await sb.run(['run', '--debug', 'y']);
    expect(loud.code, loud.stderr).toBe(0);
    expect(loud.stderr).toMatch(/debug: rate-limit headers from local\/m: ignored x-ratelimit-\* requests remaining: "-3" is not a whole number/);
    expect(loud.stderr).toMatch(/ignored retry-after: "soon"/);
  });
});
