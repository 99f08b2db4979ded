/**
 * A provider that cannot be reached, over real HTTP against a real `opencode serve`: nothing listens
 * on its port, so every attempt fails to connect. Such attempts never reached the provider, so
 * they take nothing from its rate window: the retry is not held back by the limit, the client gets
 * the provider's failure (502) rather than a 429, and the next request finds the window as it was.
 * What the window counts is read from `/metrics` and `X-RateLimit-Remaining`.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { freePort } from '../support/redis-server.ts';
import { parseMetrics } from './metrics-text.ts';
import { serve, type Served } from './serve-helper.ts';

let sb: Sandbox;
let up: ScriptedServer;
let s: Served;

const post = (model: string, headers: Record<string, string> = {}) =>
  fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }) });

beforeAll(async () => {
  up = await startScriptedServer({ apiKey: SECRET, models: { m: {} } });
  sb = await sandbox();
  const window = { rateLimit: { maxRequests: 2, windowMs: 60_000 } };
  sb.write('opencode.json', {
    provider: {
      down: { options: { baseURL: `http://127.0.0.1:${await freePort()}/v1`, apiKey: SECRET }, models: { m: window } },
      up: { options: { baseURL: up.url, apiKey: SECRET }, models: { m: window } },
    },
    model: 'up/m',
    // An agent on the unreachable model, so that /health lists its provider.
    agent: { scout: { model: 'down/m' } },
    cache: { enabled: false },
    retry: { maxRetries: 2, baseDelay: 10, maxDelay: 20 },
  });
  s = await serve(sb);
});

afterAll(async () => {
  await s?.stop();
  await up?.close();
  await sb?.remove();
});

it('attempts that could not connect take nothing from the window: a 502 listing them (not a 429), again and again', async () => {
  // Three attempts a request against a window of two: were their starts counted, the second attempt
  // would wait a minute for the window, and with no wait allowed the client would get a 429.
  for (let i = 0; i < 3; i++) {
    const res = await post('down/m', { 'x-pantheon-max-wait': '0' });
    const body = (await res.json()) as { error: { message: string; code: string } };
    expect(res.status).toBe(502);
    expect(body.error.code).toBe('all_fallbacks_failed');
    expect(body.error.message).toBe("Every model in the chain failed (down/m). No provider answered: check the network connection and each provider's baseURL (`opencode doctor` tries them).");
  }
  // Each request: its first attempt and two retries on the network failure; the window holds none of them.
  const metrics = parseMetrics(await (await fetch(`${s.url}/metrics`)).text());
  expect(metrics.value('pantheon_retries_total', { model: 'down/m', status: 'network' })).toBe(6);
  expect(metrics.value('pantheon_rate_window_used', { model: 'down/m' })).toBe(0);
});

it('the official openai client sees the same; a reachable model with the same window is unaffected and counts its own request', async () => {
  const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const failed = await client.chat.completions.create({ model: 'down/m', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-pantheon-max-wait': '0' } }).catch((e: unknown) => e);
  expect(failed).toBeInstanceOf(OpenAI.InternalServerError);
  expect((failed as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
  const { response } = await client.chat.completions.create({ model: 'up/m', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
  expect(response.headers.get('x-pantheon-model')).toBe('up/m');
  expect(response.headers.get('x-ratelimit-remaining')).toBe('1');
  const metrics = parseMetrics(await (await fetch(`${s.url}/metrics`)).text());
  expect(metrics.value('pantheon_rate_window_used', { model: 'down/m' })).toBe(0);
  expect(metrics.value('pantheon_rate_window_used', { model: 'up/m' })).toBe(1);
});

it("after three such requests (cooldown.afterFailures) the dashboard's state shows the lane cooling in this server alone; the shared ledger holds no cooldown", async () => {
  const state = (await (await fetch(`${s.url}/api/state`)).json()) as { lanes: { model: string; state: string; cooldown?: { failures: number; unreachable?: boolean } }[] };
  const down = state.lanes.find((l) => l.model === 'down/m');
  expect(down).toMatchObject({ state: 'cooling', cooldown: { unreachable: true } });
  expect(down?.cooldown?.failures).toBeGreaterThanOrEqual(3);
  // The server's health says so too.
  const health = (await (await fetch(`${s.url}/health`)).json()) as { status: string; checks: { providers: { id: string; status: string; coolingDown: { model: string }[] }[] } };
  expect(health.checks.providers.find((p) => p.id === 'down')).toMatchObject({ status: 'error', coolingDown: [{ model: 'down/m' }] });
  // Another process on this machine (doctor reads the shared ledger) sees no cooldown.
  const doctor = JSON.parse((await sb.run(['doctor', '--check', 'cache', '--json'])).stdout) as { checks: { name: string; message: string }[] };
  expect(doctor.checks.find((c) => c.name === 'cooldowns')?.message).toBe('none active');
});
