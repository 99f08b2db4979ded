/**
 * The dashboard's "today" usage comes from the shared ledger by the same function as `opencode
 * stats`: a run made by another process while the server is up shows in `GET /api/state` and on
 * the state stream, with the numbers `opencode stats --days 1 --json` prints (and `GET /api/stats` answers); and the lanes show
 * the limits learned from the provider's headers, with when they were learned.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { getJson, serve, type Served } from './serve-helper.ts';
import { openStateStream } from './state-stream.ts';

let sb: Sandbox | undefined;
let model: ScriptedServer | undefined;
let s: Served | undefined;
afterEach(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
  s = undefined;
  model = undefined;
  sb = undefined;
});

interface Totals {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  costUSD: number;
  byAgent: Record<string, { requests: number }>;
}

describe('dashboard usage from the ledger', () => {
  it('counts a run of another process, as opencode stats does', async () => {
    model = await startScriptedServer({ apiKey: SECRET, default: { type: 'text', text: 'ok', usage: { prompt_tokens: 70, completion_tokens: 30 } } });
    sb = await sandbox();
    sb.write('opencode.json', { ...providerConfig(model, { m: { cost: { input: 2, output: 4 } } }), model: 'p/m', cache: { enabled: false } });
    // Started before the server: earlier today.
    const before = await sb.run(['run', '--agent', 'explore', 'before']);
    expect(before.code, before.stderr).toBe(0);
    s = await serve(sb);
    const stream = await openStateStream(s.url);
    try {
      const snapshot = await stream.until((f) => f.event === 'snapshot');
      expect((snapshot.data as { usage: { today: Totals } }).usage.today).toMatchObject({ requests: 1, inputTokens: 70, outputTokens: 30 });
      // Another process, while the server runs: only the ledger tells the server about it.
      const other = await sb.run(['run', '--format', 'json', '--agent', 'oracle', 'other']);
      expect(other.code, other.stderr).toBe(0);
      const pushed = await stream.until((f) => f.event === 'usage' && (f.data as { today: Totals }).today.requests === 2);
      expect((pushed.data as { today: Totals }).today.byAgent.oracle?.requests).toBe(1);
      const state = (await getJson(`${s.url}/api/state`)).body as { usage: { today: Totals; sinceStart: Totals } };
      const stats = await sb.run(['stats', '--days', '1', '--json']);
      expect(stats.code, stats.stderr).toBe(0);
      const report = JSON.parse(stats.stdout) as { totals: Totals; byAgent: Record<string, unknown>; byProvider: Record<string, unknown>; byModel: Record<string, unknown> };
      expect(state.usage.today).toEqual({ ...report.totals, byAgent: report.byAgent, byProvider: report.byProvider, byModel: report.byModel });
      expect(state.usage.today).toMatchObject({ requests: 2, inputTokens: 140, outputTokens: 60, costUSD: expect.closeTo((2 * (70 * 2 + 30 * 4)) / 1e6, 12) });
      // The server itself made no call.
      expect(state.usage.sinceStart.requests).toBe(0);
      // GET /api/stats answers what `opencode stats --json` prints, by the same function.
      const api = await getJson(`${s.url}/api/stats?days=1`);
      expect(api.status).toBe(200);
      expect(api.body).toEqual(report);
      const oracle = (await getJson(`${s.url}/api/stats?agent=oracle`)).body as { totals: Totals; filters: unknown };
      expect(oracle).toMatchObject({ filters: { agent: 'oracle' }, totals: { requests: 1 } });
      const bad = await getJson(`${s.url}/api/stats?days=0`);
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.body)).toContain('days: expected a whole number of days from 1 to 3650, found \\"0\\".');
      const empty = await getJson(`${s.url}/api/stats?agent=`);
      expect(empty).toMatchObject({ status: 400, body: { name: 'BadRequest', data: { message: 'agent: expected an agent name, found nothing.', field: 'agent' } } });
      expect((await getJson(`${s.url}/api/stats?provider=%20`)).body).toMatchObject({ data: { message: 'provider: expected a provider id, found nothing.' } });
    } finally {
      stream.close();
    }
  });
});

describe('learned limits in /api/state', () => {
  it('a lane shows what the provider announced, with when it was learned and when it expires', async () => {
    model = await startScriptedServer({ apiKey: SECRET, models: { m: { announce: 'openai', rateLimit: { maxRequests: 5, windowMs: 60_000 } } } });
    sb = await sandbox();
    sb.write('opencode.json', { ...providerConfig(model, { m: {} }), model: 'p/m', cache: { enabled: false } });
    const before = Date.now();
    const run = await sb.run(['run', 'learn']);
    expect(run.code, run.stderr).toBe(0);
    const arrived = model.log[0]?.startedAt ?? 0;
    s = await serve(sb);
    const state = (await getJson(`${s.url}/api/state`)).body as { lanes: { model: string; learned: { name: string; limit?: number; remaining: number; learnedAt: number; expiresAt: number; resetAt: number; source: string }[] }[] };
    const lane = state.lanes.find((l) => l.model === 'p/m');
    expect(lane?.learned).toEqual([expect.objectContaining({ name: 'requests', limit: 5, remaining: 4, source: 'x-ratelimit-*' })]);
    const learned = lane?.learned[0];
    // Learned as of the moment its request went out: after the run began, before the provider read it.
    expect(learned?.learnedAt).toBeGreaterThanOrEqual(before);
    expect(learned?.learnedAt).toBeLessThanOrEqual(arrived);
    expect(learned?.resetAt).toBeGreaterThan(learned?.learnedAt ?? Infinity);
    expect(learned?.expiresAt).toBeGreaterThanOrEqual(learned?.resetAt ?? Infinity);
  });
});
