/**
 * The gateway's rate-limit headers and per-key limits over real HTTP (raw fetch, as curl sends it,
 * and the official openai client) against a real `opencode serve`: a client without a limit of its
 * own sees the rate window of the model it asks for; a model without one sends no such headers;
 * X-Request-ID is echoed; one key at its limit (a window, or requests in flight) never holds back
 * another key.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { serve, type Served } from './serve-helper.ts';

const OPEN = 'pk-open-0123456789';
const GREEDY = 'pk-greedy-0123456789';
const ONE_AT_A_TIME = 'pk-serial-0123456789';
const OTHER = 'pk-other-0123456789';
const METERED = 'pk-metered-0123456789';

let sb: Sandbox;
let model: ScriptedServer;
let s: Served;
const client = (apiKey: string) => new OpenAI({ baseURL: `${s.url}/v1`, apiKey, maxRetries: 0 });
const body = (m: string, extra: object = {}) => JSON.stringify({ model: m, messages: [{ role: 'user', content: 'hi' }], ...extra });
const post = (key: string, payload: string, headers: Record<string, string> = {}) =>
  fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers }, body: payload });

beforeAll(async () => {
  model = await startScriptedServer({ apiKey: SECRET, models: { m: {}, lane: {}, lane2: {}, slow: {} } });
  sb = await sandbox();
  sb.write('opencode.json', {
    ...providerConfig(model, { m: {}, lane: { rateLimit: { maxRequests: 3, windowMs: 60_000 } }, lane2: { rateLimit: { maxRequests: 5, windowMs: 60_000 } }, slow: {} }),
    model: 'p/m',
    cache: { enabled: false },
    server: {
      keys: [
        OPEN,
        { key: GREEDY, name: 'greedy', rateLimit: { maxRequests: 2, windowMs: 60_000 } },
        { key: ONE_AT_A_TIME, name: 'serial', rateLimit: { concurrency: 1 } },
        OTHER,
        { key: METERED, name: 'metered', rateLimit: { maxRequests: 10, windowMs: 60_000 } },
      ],
    },
  });
  s = await serve(sb);
});

afterAll(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
});

describe('X-RateLimit-* for a client without a limit of its own', () => {
  it('raw fetch: the window of the model asked for, counting down; none for a model without a window; X-Request-ID echoed', async () => {
    const first = await post(OPEN, body('p/lane'), { 'x-request-id': 'req-abc-1' });
    expect(first.status).toBe(200);
    await first.json();
    expect(first.headers.get('x-request-id')).toBe('req-abc-1');
    expect(first.headers.get('x-ratelimit-limit')).toBe('3');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('2');
    const reset = Number(first.headers.get('x-ratelimit-reset'));
    expect(reset).toBeGreaterThan(Date.now() / 1000 + 50);
    expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 61);
    const second = await post(OPEN, body('p/lane'));
    await second.json();
    expect(second.headers.get('x-ratelimit-remaining')).toBe('1');
    expect(second.headers.get('x-request-id')).toMatch(/^[\w-]{8,}$/);
    const plain = await post(OPEN, body('p/m'));
    await plain.json();
    expect(plain.status).toBe(200);
    expect(plain.headers.get('x-ratelimit-limit')).toBeNull();
  });

  it('the openai client sees the same; on the lane’s 429: Retry-After and Remaining 0', async () => {
    const { response } = await client(OPEN).chat.completions.create({ model: 'p/lane', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(response.headers.get('x-ratelimit-limit')).toBe('3');
    expect(response.headers.get('x-ratelimit-remaining')).toBe('0');
    const over = await client(OPEN).chat.completions.create({ model: 'p/lane', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-pantheon-max-wait': '0' } }).catch((e: unknown) => e);
    expect(over).toBeInstanceOf(OpenAI.RateLimitError);
    const headers = (over as InstanceType<typeof OpenAI.RateLimitError>).headers;
    expect(Number(headers?.get('retry-after'))).toBeGreaterThan(0);
    expect(headers?.get('x-ratelimit-limit')).toBe('3');
    expect(headers?.get('x-ratelimit-remaining')).toBe('0');
  });
});

describe('X-RateLimit-* on /api/v1', () => {
  it('a sync prompt naming a model: that model’s window; a key with its own limit: the key’s', async () => {
    const auth = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });
    const session = (await (await fetch(`${s.url}/api/v1/sessions`, { method: 'POST', headers: auth(OPEN), body: '{}' })).json()) as { id: string };
    const prompt = (key: string) => fetch(`${s.url}/api/v1/sessions/${session.id}/prompt`, { method: 'POST', headers: { ...auth(key), 'x-request-id': 'rest-1' }, body: JSON.stringify({ parts: [{ type: 'text', text: 'hi' }], model: 'p/lane2' }) });
    const open = await prompt(OPEN);
    expect(open.status).toBe(200);
    await open.json();
    expect(open.headers.get('x-request-id')).toBe('rest-1');
    expect(open.headers.get('x-ratelimit-limit')).toBe('5');
    expect(open.headers.get('x-ratelimit-remaining')).toBe('4');
    const other = await fetch(`${s.url}/api/v1/sessions/${session.id}`, { headers: auth(OPEN) });
    await other.json();
    expect(other.headers.get('x-ratelimit-limit')).toBeNull();
    const metered = await prompt(METERED);
    await metered.json();
    expect(metered.headers.get('x-ratelimit-limit')).toBe('10');
    expect(metered.headers.get('x-ratelimit-remaining')).toBe('9');
  });
});

describe('per-key limits', () => {
  it('a key at its window limit is refused while another key, at the same time, is served', async () => {
    const greedy = Array.from({ length: 8 }, () => post(GREEDY, body('p/m')));
    const other = Array.from({ length: 4 }, () => post(OTHER, body('p/m')));
    const [g, o] = await Promise.all([Promise.all(greedy), Promise.all(other)]);
    expect(g.map((r) => r.status).sort()).toEqual([200, 200, 429, 429, 429, 429, 429, 429]);
    for (const r of g.filter((x) => x.status === 429)) {
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(r.headers.get('x-ratelimit-remaining')).toBe('0');
      expect(await r.json()).toMatchObject({ error: { code: 'rate_limit_exceeded', type: 'rate_limit_error' } });
    }
    expect(o.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    await Promise.all([...g, ...o].filter((r) => !r.bodyUsed).map((r) => r.body?.cancel()));
  });

  it('a key with concurrency 1: a second request while its first streams is refused, another key is not; once the stream ends it is served again', async () => {
    model.script('slow', { type: 'slow', text: 'a b c d', chunks: ['a ', 'b ', 'c ', 'd'], chunkDelayMs: 150 });
    const streaming = await client(ONE_AT_A_TIME).chat.completions.create({ model: 'p/slow', messages: [{ role: 'user', content: 'go' }], stream: true });
    const second = await client(ONE_AT_A_TIME).chat.completions.create({ model: 'p/m', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(OpenAI.RateLimitError);
    expect((second as Error).message).toMatch(/1 in flight/);
    expect((await client(OTHER).chat.completions.create({ model: 'p/m', messages: [{ role: 'user', content: 'hi' }] })).choices[0]?.message.content).toBe('echo: hi');
    let text = '';
    for await (const chunk of streaming) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('a b c d');
    const again = await client(ONE_AT_A_TIME).chat.completions.create({ model: 'p/m', messages: [{ role: 'user', content: 'again' }] });
    expect(again.choices[0]?.message.content).toBe('echo: again');
  });
});
