/**
 * The gateway's overhead in /metrics when its model is called through the AI SDK rather than
 * Pantheon's own client (an HTTP proxy in the server's environment sends OpenAI-compatible models
 * that way; Node's fetch itself goes direct unless NODE_USE_ENV_PROXY): the providers' time is
 * everything from the first request out, the waits between retries inside it, counted once.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { serve, type Served } from './serve-helper.ts';
import { parseMetrics } from './metrics-text.ts';

let sb: Sandbox;
let model: ScriptedServer;
let s: Served;
let client: OpenAI;

beforeAll(async () => {
  model = await startScriptedServer({ apiKey: SECRET, models: { m: {} } });
  sb = await sandbox();
  sb.write('opencode.json', { ...providerConfig(model, { m: {} }), model: 'p/m', cache: { enabled: false }, retry: { maxRetries: 2, baseDelay: 300, maxDelay: 300 } });
  s = await serve(sb, [], { HTTPS_PROXY: 'http://127.0.0.1:9', NO_PROXY: '' });
  client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'unused-open-server', maxRetries: 0 });
});

afterAll(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
});

describe('/v1 overhead through the AI SDK', () => {
  it('a retry’s wait is the provider’s side once: the gateway’s own time before the first request stays in', async () => {
    model.script('m', { type: 'status', status: 503 });
    const answer = await client.chat.completions.create({ model: 'p/m', messages: [{ role: 'user', content: 'hello' }] });
    expect(answer.choices[0]?.message.content).toBe('echo: hello');
    expect(model.log.map((e) => e.status)).toEqual([503, 200]);
    const labels = { provider: 'p', model: 'p/m' };
    let metrics = parseMetrics(await (await fetch(`${s.url}/metrics`)).text());
    for (let i = 0; i < 100 && metrics.value('pantheon_gateway_overhead_seconds_count', labels) === 0; i++) {
      await new Promise((r) => setImmediate(r));
      metrics = parseMetrics(await (await fetch(`${s.url}/metrics`)).text());
    }
    expect(metrics.value('pantheon_gateway_overhead_seconds_count', labels)).toBe(1);
    // Counted twice, the 300 ms wait would make the provider's side longer than the whole request, and the overhead 0.
    const overhead = metrics.value('pantheon_gateway_overhead_seconds_sum', labels);
    expect(overhead).toBeGreaterThan(0);
    expect(overhead).toBeLessThan(0.3);
  });
});
