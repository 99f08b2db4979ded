/**
 * A /v1 request's events reach the server's one event stream like a turn's: the official openai
 * client calls a real `opencode serve` whose scripted provider answers 429 first; then /metrics counts
 * the retry, the request, its tokens, cost and overhead for that model, a signed `rate_limit.exceeded`
 * webhook reaches a receiver started here (verified with the guide's code), and /api/state shows
 * the retry in its log and the call in its usage. A lane's own limit wait is reported the same way.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { getJson, serve, watchEvents, type Served } from './serve-helper.ts';
import { parseMetrics } from './metrics-text.ts';
import { receiver, verifyWebhookSignature } from './webhook-receiver.ts';

let sb: Sandbox;
let model: ScriptedServer;
let s: Served;
let hook: Awaited<ReturnType<typeof receiver>>;
let client: OpenAI;

interface Entry { type: string; sessionID: string; provider?: string; model?: string; status?: number | string; waitMs?: number }

beforeAll(async () => {
  model = await startScriptedServer({ apiKey: SECRET, models: { m: {}, lim: {} } });
  hook = await receiver();
  sb = await sandbox();
  sb.write('opencode.json', {
    ...providerConfig(model, { m: { cost: { input: 1, output: 2 } }, lim: { rateLimit: { maxRequests: 1, windowMs: 800 } } }),
    model: 'p/m',
    cache: { enabled: false },
    retry: { maxRetries: 2, baseDelay: 10, maxDelay: 50 },
    server: { webhooks: [{ id: 'wh_limits', url: hook.url, secret: 'whsec-limits', events: ['rate_limit.exceeded'] }] },
  });
  s = await serve(sb);
  client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'unused-open-server', maxRetries: 0 });
});

afterAll(async () => {
  await s?.stop();
  await model?.close();
  await hook?.close();
  await sb?.remove();
});

describe('/v1 events on the server’s event stream', () => {
  it('a provider 429: /metrics counts it for that model, a signed rate_limit.exceeded webhook is delivered, /api/state shows it', async () => {
    model.script('m', { type: 'status', status: 429, retryAfterMs: 30 });
    const answer = await client.chat.completions.create({ model: 'p/m', messages: [{ role: 'user', content: 'hello' }] });
    expect(answer.choices[0]?.message.content).toBe('echo: hello');
    expect(model.log.map((e) => [e.model, e.status])).toEqual([
      ['m', 429],
      ['m', 200],
    ]);

    const delivery = await hook.next((d) => d.body.event === 'rate_limit.exceeded' && d.body.data.source === 'provider');
    expect(verifyWebhookSignature(delivery.raw, delivery.signature as string, 'whsec-limits')).toBe(true);
    expect(verifyWebhookSignature(delivery.raw, delivery.signature as string, 'whsec-wrong')).toBe(false);
    expect(delivery.body).toMatchObject({ webhook_id: 'wh_limits', data: { provider: 'p', model: 'p/m', status: 429, session_id: expect.stringMatching(/^gw_/) } });
    expect(delivery.body.data.wait_ms).toBeGreaterThanOrEqual(30);
    expect(delivery.raw).not.toContain(SECRET);

    const metrics = parseMetrics(await (await fetch(`${s.url}/metrics`)).text());
    const labels = { provider: 'p', model: 'p/m' };
    expect(metrics.value('pantheon_retries_total', { ...labels, status: '429' })).toBe(1);
    expect(metrics.value('pantheon_model_requests_total', { ...labels, outcome: 'ok' })).toBe(1);
    expect(metrics.value('pantheon_tokens_total', { ...labels, direction: 'input' })).toBe(answer.usage?.prompt_tokens);
    expect(metrics.value('pantheon_tokens_total', { ...labels, direction: 'output' })).toBe(answer.usage?.completion_tokens);
    expect(metrics.value('pantheon_cost_usd_total', labels)).toBeGreaterThan(0);
    expect(metrics.value('pantheon_model_request_duration_seconds_count', labels)).toBe(1);
    expect(metrics.value('pantheon_gateway_overhead_seconds_count', labels)).toBe(1);
    expect(metrics.value('pantheon_requests_in_flight', labels)).toBe(0);

    const state = (await getJson(`${s.url}/api/state`)).body as { log: Entry[]; usage: { sinceStart: { requests: number; byModel: Record<string, { inputTokens: number }> } } };
    const retry = state.log.find((e) => e.type === 'retry');
    expect(retry).toMatchObject({ sessionID: delivery.body.data.session_id, provider: 'p', model: 'p/m', status: 429 });
    expect(state.usage.sinceStart.requests).toBe(1);
    expect(state.usage.sinceStart.byModel['p/m']?.inputTokens).toBe(answer.usage?.prompt_tokens);
  });

  it('a /v1 answer the output limit cut: its step_finish on the event stream says `length`, as a turn’s does', async () => {
    const events = await watchEvents(s.url);
    try {
      model.script('m', { type: 'text', text: 'It all began', finishReason: 'length' });
      const answer = await client.chat.completions.create({ model: 'p/m', messages: [{ role: 'user', content: 'tell me everything' }] });
      expect(answer.choices[0]?.finish_reason).toBe('length');
      const session = /"sessionID":"(gw_[^"]+)"[^\n]*"type":"step_finish"|"type":"step_finish"[^\n]*"sessionID":"(gw_[^"]+)"/;
      await events.until(session);
      const line = events.text().split('\n').find((l) => session.test(l)) as string;
      expect(line).toMatch(/"reason":"length"/);
    } finally {
      events.close();
    }
  });

  it('a wait on the lane’s own limit: rate_limited in /api/state, its wait in /metrics, a rate_limit.exceeded webhook', async () => {
    const ask = { model: 'p/lim', messages: [{ role: 'user' as const, content: 'again' }] };
    // Sent together, so one waits for the other's window whatever the machine's load (sent one after the
    // other, the second had to arrive within the window of the first's start, across the first's answer).
    await Promise.all([client.chat.completions.create(ask), client.chat.completions.create(ask)]);
    const metrics = parseMetrics(await (await fetch(`${s.url}/metrics`)).text());
    expect(metrics.value('pantheon_rate_limit_wait_seconds_count', { model: 'p/lim' })).toBe(1);
    expect(metrics.value('pantheon_model_requests_total', { model: 'p/lim', outcome: 'ok' })).toBe(2);
    const delivery = await hook.next((d) => d.body.event === 'rate_limit.exceeded' && d.body.data.source === 'limit');
    expect(verifyWebhookSignature(delivery.raw, delivery.signature as string, 'whsec-limits')).toBe(true);
    expect(delivery.body.data).toMatchObject({ provider: 'p', model: 'p/lim', limit: expect.any(String) });
    const state = (await getJson(`${s.url}/api/state`)).body as { log: Entry[] };
    expect(state.log.find((e) => e.type === 'rate_limited')).toMatchObject({ model: 'p/lim', sessionID: expect.stringMatching(/^gw_/) });
  });

  it('the overhead in /metrics is the gateway’s own time: the providers’ answers (each attempt’s) and the retry delay are left out, its work on a large answer is in', async () => {
    const labels = { provider: 'p', model: 'p/m' };
    const before = parseMetrics(await (await fetch(`${s.url}/metrics`)).text());
    const text = 'x'.repeat(8 * 1024 * 1024);
    model.script('m', { type: 'status', status: 503, delayMs: 200 }, { type: 'text', text, delayMs: 200 });
    const t0 = performance.now();
    const answer = await client.chat.completions.create({ model: 'p/m', messages: [{ role: 'user', content: 'a long one' }] });
    const clientSeconds = (performance.now() - t0) / 1000;
    expect(answer.choices[0]?.message.content).toHaveLength(text.length);
    // The answer's bookkeeping (and the metric) comes right after it is sent.
    let after = parseMetrics(await (await fetch(`${s.url}/metrics`)).text());
    for (let i = 0; i < 100 && after.value('pantheon_gateway_overhead_seconds_count', labels) === before.value('pantheon_gateway_overhead_seconds_count', labels); i++) {
      await new Promise((r) => setImmediate(r));
      after = parseMetrics(await (await fetch(`${s.url}/metrics`)).text());
    }
    expect(after.value('pantheon_gateway_overhead_seconds_count', labels) - before.value('pantheon_gateway_overhead_seconds_count', labels)).toBe(1);
    const overhead = after.value('pantheon_gateway_overhead_seconds_sum', labels) - before.value('pantheon_gateway_overhead_seconds_sum', labels);
    // Two answers that took 200 ms each to start are the providers' time, not the gateway's.
    expect(overhead).toBeLessThan(clientSeconds - 0.39);
    // Reading 8 MiB of the provider's JSON into the answer is the gateway's own work (JSON.parse alone takes milliseconds).
    expect(overhead).toBeGreaterThan(0.002);
  });
  it('through the AI SDK (an HTTP proxy in the server’s environment), a retry’s wait and the answer’s delay are on the provider’s side, once: the gateway’s own time before the first request stays in', async () => {
    // Node's fetch goes direct unless NODE_USE_ENV_PROXY; Pantheon's own client steps aside for the proxy.
    const own = await sandbox();
    own.write('opencode.json', { ...providerConfig(model, { m: {} }), model: 'p/m', cache: { enabled: false }, retry: { maxRetries: 2, baseDelay: 1500, maxDelay: 1500 } });
    const proxied = await serve(own, [], { HTTPS_PROXY: 'http://127.0.0.1:9', NO_PROXY: '' });
    try {
      const sdkClient = new OpenAI({ baseURL: `${proxied.url}/v1`, apiKey: 'unused-open-server', maxRetries: 0 });
      model.script('m', { type: 'status', status: 503 }, { type: 'echo', delayMs: 1000 });
      const answer = await sdkClient.chat.completions.create({ model: 'p/m', messages: [{ role: 'user', content: 'hello' }] });
      expect(answer.choices[0]?.message.content).toBe('echo: hello');
      expect(model.log.slice(-2).map((e) => e.status)).toEqual([503, 200]);
      const labels = { provider: 'p', model: 'p/m' };
      let metrics = parseMetrics(await (await fetch(`${proxied.url}/metrics`)).text());
      for (let i = 0; i < 100 && metrics.value('pantheon_gateway_overhead_seconds_count', labels) === 0; i++) {
        await new Promise((r) => setImmediate(r));
        metrics = parseMetrics(await (await fetch(`${proxied.url}/metrics`)).text());
      }
      expect(metrics.value('pantheon_gateway_overhead_seconds_count', labels)).toBe(1);
      // Counted twice, the 1.5 s wait would make the provider's side longer than the whole request, and the overhead 0;
      // the answer's 1 s is the provider's too, though no attempt was timed on the wire. The delays are long so that
      // the gateway's own time (the first request through the AI SDK loads it: ~150 ms on a busy machine) stays far below either.
      const overhead = metrics.value('pantheon_gateway_overhead_seconds_sum', labels);
      expect(overhead).toBeGreaterThan(0);
      expect(overhead).toBeLessThan(0.9);
    } finally {
      await proxied.stop();
      await own.remove();
    }
  });
});
