import { describe, expect, it } from 'vitest';
import { maxStartsInWindow, startScriptedServer } from '../openai-server.ts';
import type { RequestLogEntry } from '../openai-server.ts';
import { chat, useScriptedServers } from './fetch-helpers.ts';

const start = useScriptedServers();

describe('scripting', () => {
  it('keeps one FIFO queue per model, with repeat and forever', async () => {
    const server = await start({ models: { a: { script: [{ type: 'text', text: 'a1' }] } } });
    server.script('a', { type: 'status', status: 500, repeat: 2 }, { type: 'text', text: 'a-last' });
    server.script('b', { type: 'text', text: 'b-always', forever: true }, { type: 'text', text: 'never reached' });
    expect(server.pending('a')).toBe(4);
    expect(server.pending('b')).toBe(Infinity);
    const results: string[] = [];
    for (const model of ['a', 'b', 'a', 'a', 'b', 'a', 'a']) {
      const response = await chat(server, { model });
      results.push(response.ok ? ((await response.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content ?? '' : String(response.status));
    }
    expect(results).toEqual(['a1', 'b-always', '500', '500', 'b-always', 'a-last', 'echo: Hello there']);
    expect(server.pending('a')).toBe(0);
  });

  it('rejects malformed steps with the path of the problem', async () => {
    const server = await start();
    expect(() => server.script('m', { type: 'nope' } as never)).toThrow(/script\('m'\)\[0\]\.type/);
    expect(() => server.script('m', { type: 'text', text: 'x' }, { type: 'status', status: 418 } as never)).toThrow(/\[1\]\.status/);
    expect(() => server.script('m', { type: 'text', text: 'ab', chunks: ['a'] })).toThrow(/do not join/);
    expect(() => server.script('m', { type: 'tool_calls', calls: [] })).toThrow(/calls/);
    await expect(startScriptedServer({ models: { x: { script: [{ type: 'text' } as never] } } })).rejects.toThrow(/models\.x\.script\[0\]/);
    expect(server.pending('m')).toBe(0);
  });

  it('reset() restores the configured scripts and empties the log', async () => {
    const server = await start({ models: { m: { script: [{ type: 'text', text: 'configured' }] } } });
    server.script('m', { type: 'text', text: 'added' });
    await (await chat(server)).text();
    server.reset();
    expect(server.log).toHaveLength(0);
    expect(server.pending('m')).toBe(1);
    const body = (await (await chat(server)).json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content).toBe('configured');
    expect(server.log[0]?.seq).toBe(1);
  });

  it('answers 400 to malformed requests and logs them', async () => {
    const server = await start();
    const response = await fetch(`${server.url}/chat/completions`, { method: 'POST', body: '{not json' });
    expect(response.status).toBe(400);
    const noMessages = await fetch(`${server.url}/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'm' }) });
    expect(noMessages.status).toBe(400);
    expect(server.log.map((entry) => [entry.model, entry.status, entry.outcome])).toEqual([
      ['', 400, 'status'],
      ['m', 400, 'status'],
    ]);
    expect((await fetch(`${server.url}/nowhere`)).status).toBe(404);
  });

  it('with strictModels, unknown models get 404 model_not_found', async () => {
    const server = await start({ strictModels: true, models: { known: {} } });
    server.script('scripted', { type: 'text', text: 'ok' });
    expect((await chat(server, { model: 'known' })).status).toBe(200);
    expect((await chat(server, { model: 'scripted' })).status).toBe(200);
    const missing = await chat(server, { model: 'ghost' });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'model_not_found' } });
  });
});

describe('server-side limits and stats', () => {
  it('refuses a request when the model window is full, with Retry-After and retry-after-ms', async () => {
    let clock = 10_000;
    const server = await start({ now: () => clock, models: { m: { rateLimit: { maxRequests: 2, windowMs: 1000 } } } });
    expect((await chat(server)).status).toBe(200);
    clock += 400;
    expect((await chat(server)).status).toBe(200);
    clock += 100;
    const refused = await chat(server);
    expect(refused.status).toBe(429);
    expect([refused.headers.get('retry-after'), refused.headers.get('retry-after-ms')]).toEqual(['1', '500']);
    expect(await refused.json()).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
    clock += 500;
    expect((await chat(server)).status).toBe(200);
    expect((await chat(server, { model: 'other' })).status).toBe(200);
    const stats = server.stats();
    expect(stats.overLimit).toBe(1);
    expect(stats.models.m).toMatchObject({ requests: 4, overLimit: 1, outcomes: { ok: 3, rate_limited: 1 } });
    expect(stats.models.other).toMatchObject({ requests: 1, overLimit: 0 });
    expect(server.log[2]).toMatchObject({ outcome: 'rate_limited', limit: 'model-window', step: undefined });
    expect(stats.maxStartsInWindow('m', 1000)).toBe(3);
    expect(stats.maxStartsInWindow('m', 100)).toBe(1);
    expect(stats.maxStartsInWindow(undefined, 1)).toBe(2);
    expect(server.pending('m')).toBe(0);
  });

  it('applies a global window over all models and honours graceMs', async () => {
    let clock = 0;
    const server = await start({ now: () => clock, rateLimit: { maxRequests: 2, windowMs: 1000, graceMs: 50 } });
    expect((await chat(server, { model: 'a' })).status).toBe(200);
    expect((await chat(server, { model: 'b' })).status).toBe(200);
    clock = 949;
    const refused = await chat(server, { model: 'c' });
    expect([refused.status, refused.headers.get('retry-after-ms')]).toEqual([429, '1']);
    expect(server.log[2]?.limit).toBe('global-window');
    clock = 950;
    expect((await chat(server, { model: 'c' })).status).toBe(200);
  });

  it('refuses requests above the concurrency limit and records peak concurrency', async () => {
    const server = await start({ models: { m: { concurrencyLimit: 2, default: { type: 'hang' } } } });
    const controller = new AbortController();
    const hung = [chat(server, { signal: controller.signal }), chat(server, { signal: controller.signal })];
    await server.waitForRequests(2);
    const refused = await chat(server);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBeNull();
    expect(server.log[2]?.limit).toBe('model-concurrency');
    controller.abort();
    await Promise.allSettled(hung);
    await server.waitFor(() => server.stats().inFlight === 0);
    expect(server.stats()).toMatchObject({ peakConcurrency: 2, overLimit: 1 });
    expect(server.stats().models.m).toMatchObject({ peakConcurrency: 2, inFlight: 0 });
    server.script('m', { type: 'text', text: 'free again' });
    expect((await chat(server)).status).toBe(200);
  });

  it('maxStartsInWindow counts starts in half-open windows', () => {
    const entries = [0, 10, 999, 1000, 1500, 1999].map((startedAt, index) => ({ startedAt, model: index % 2 === 0 ? 'a' : 'b' }) as RequestLogEntry);
    expect(maxStartsInWindow(entries, 1000)).toBe(3);
    expect(maxStartsInWindow(entries, 1001)).toBe(4);
    expect(maxStartsInWindow(entries, 1000, 'a')).toBe(2);
    expect(maxStartsInWindow([], 1000)).toBe(0);
  });
});

describe('API keys and the model list', () => {
  it('answers 401 with an OpenAI error when the key is missing or wrong, and logs the header as sent', async () => {
    const server = await start({ apiKey: 'global-key', models: { own: { apiKey: 'model-key' }, open: { apiKey: false } } });
    const missing = await chat(server);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    const wrong = await chat(server, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: { code: 'invalid_api_key' } });
    expect((await chat(server, { headers: { authorization: 'Bearer global-key' } })).status).toBe(200);
    expect((await chat(server, { model: 'own', headers: { authorization: 'Bearer global-key' } })).status).toBe(401);
    expect((await chat(server, { model: 'own', headers: { authorization: 'Bearer model-key' } })).status).toBe(200);
    expect((await chat(server, { model: 'open' })).status).toBe(200);
    expect(server.log.map((entry) => entry.headers.authorization)).toEqual([undefined, 'Bearer nope', 'Bearer global-key', 'Bearer global-key', 'Bearer model-key', undefined]);
    expect(server.log.map((entry) => entry.status)).toEqual([401, 401, 200, 401, 200, 200]);
  });

  it('lists configured and scripted models at GET /v1/models', async () => {
    const server = await start({ apiKey: 'k', models: { alpha: {}, beta: {} } });
    server.script('gamma', { type: 'text', text: 'x' });
    expect((await fetch(`${server.url}/models`)).status).toBe(401);
    const response = await fetch(`${server.url}/models`, { headers: { authorization: 'Bearer k' } });
    expect(await response.json()).toEqual({
      object: 'list',
      data: ['alpha', 'beta', 'gamma'].map((id) => ({ id, object: 'model', created: 0, owned_by: 'scripted' })),
    });
    expect(server.log).toHaveLength(0);
  });
});
