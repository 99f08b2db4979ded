/**
 * The gateway's gate and limits over real HTTP: bearer keys from server.keys (missing, wrong,
 * right; on chat, the Responses API, text completions and embeddings), a key's own request limit with X-RateLimit-* headers and 429 + Retry-After (other keys
 * unaffected), a provider limit wait longer than the client allows answered 429 at once, an
 * oversized body, and plain curl (JSON and SSE). Nothing is stored for any of it.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesContaining, providerConfig, sandbox, SECRET, userText, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { serve, type Served } from './serve-helper.ts';

const run = promisify(execFile);
const ALPHA = 'pk-alpha-0123456789';
const BETA = 'pk-beta-0123456789';
const GAMMA = 'pk-gamma-0123456789';

let sb: Sandbox;
let model: ScriptedServer;
let s: Served;
const client = (apiKey: string, extra: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}) => new OpenAI({ baseURL: `${s.url}/v1`, apiKey, maxRetries: 0, ...extra });
const ask = { model: 'p/m', messages: [{ role: 'user' as const, content: 'hi' }] };

beforeAll(async () => {
  model = await startScriptedServer({ apiKey: SECRET, models: { m: {}, lim: {}, one: {} } });
  sb = await sandbox();
  sb.write('opencode.json', {
    ...providerConfig(model, { m: {}, lim: { rateLimit: { maxRequests: 1, windowMs: 60_000 } }, one: { rateLimit: { concurrency: 1 } } }),
    model: 'p/m',
    cache: { enabled: false },
    server: { keys: [ALPHA, { key: BETA, name: 'beta', rateLimit: { maxRequests: 2, windowMs: 60_000 } }, { key: GAMMA, name: 'gamma' }] },
  });
  s = await serve(sb);
});

afterAll(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
});

describe('/v1 keys and limits', () => {
  it('a missing or wrong key is a 401 in OpenAI’s shape; a configured key passes', async () => {
    const none = await fetch(`${s.url}/v1/models`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'invalid_api_key', message: expect.stringContaining('needs an API key') } });
    const wrong = await client('pk-wrong-0123456789').chat.completions.create(ask).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(JSON.stringify(wrong)).not.toContain(ALPHA);
    const ok = await client(ALPHA).chat.completions.create(ask);
    expect(ok.choices[0]?.message.content).toBe('echo: hi');
  });

  it('the Responses API, text completions and embeddings are behind the same keys: nothing sent without one', async () => {
    const before = model.log.length;
    const wrong = client('pk-wrong-0123456789');
    expect(await wrong.responses.create({ model: 'p/m', input: 'hi' }).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(await wrong.completions.create({ model: 'p/m', prompt: 'hi' }).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((await fetch(`${s.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"p/m","prompt":"hi"}' })).status).toBe(401);
    expect(await wrong.embeddings.create({ model: 'p/m', input: 'hi' }).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((await fetch(`${s.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"p/m","input":"hi"}' })).status).toBe(401);
    expect(model.log.length).toBe(before);
    expect((await client(ALPHA).responses.create({ model: 'p/m', input: 'hi' })).output_text).toBe('echo: hi');
    expect((await client(ALPHA).embeddings.create({ model: 'p/m', input: 'hi' })).data).toHaveLength(1);
    expect((await client(ALPHA).completions.create({ model: 'p/m', prompt: 'hi' })).choices[0]?.text).toBe('echo: hi');
  });

  it('GET /v1/models/{model} is behind the same keys, and clients that go away before its answer leave the server serving', async () => {
    // No key at all (the openai client will not send without one).
    const none = await fetch(`${s.url}/v1/models/p%2Fm`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { code: 'invalid_api_key' } });
    const wrong = await client('pk-wrong-0123456789').models.retrieve('p/m').catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(JSON.stringify(wrong)).not.toContain(ALPHA);
    // Connections cut as soon as the request is written, and a client that aborts its own call.
    const { port } = new URL(s.url);
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((resolve) => {
        const socket = net.connect(Number(port), '127.0.0.1', () => {
          socket.write(`GET /v1/models/p%2Fm HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${ALPHA}\r\n\r\n`, () => socket.destroy());
        });
        socket.on('close', () => resolve());
        socket.on('error', () => resolve());
      });
    }
    const aborted = await client(ALPHA).models.retrieve('p/m', { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(aborted).toBeInstanceOf(OpenAI.APIUserAbortError);
    expect(await client(ALPHA).models.retrieve('p/m')).toMatchObject({ id: 'p/m', object: 'model' });
    expect(s.proc.stderr()).not.toMatch(/^error:/m);
  });

  it('a key’s own limit: X-RateLimit-* on each answer, then 429 with Retry-After; other keys go on', async () => {
    const beta = client(BETA);
    const first = await beta.chat.completions.create(ask).withResponse();
    expect(first.response.headers.get('x-ratelimit-limit')).toBe('2');
    expect(first.response.headers.get('x-ratelimit-remaining')).toBe('1');
    expect(Number(first.response.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    const second = await beta.chat.completions.create(ask).withResponse();
    expect(second.response.headers.get('x-ratelimit-remaining')).toBe('0');
    const before = model.log.length;
    const third = await beta.chat.completions.create(ask).catch((e: unknown) => e);
    expect(third).toBeInstanceOf(OpenAI.RateLimitError);
    const err = third as InstanceType<typeof OpenAI.RateLimitError>;
    expect(Number(err.headers?.get('retry-after'))).toBeGreaterThan(50);
    expect(err.code).toBe('rate_limit_exceeded');
    expect(model.log.length).toBe(before);
    expect((await client(ALPHA).chat.completions.create(ask)).choices[0]?.message.content).toBe('echo: hi');
  });

  it('keys take turns on a busy model: one with many requests queued does not hold another behind all of them', async () => {
    const queued = async () => Number(/^pantheon_queue_depth\{provider="p",model="p\/one"\} (\d+)$/m.exec(await (await fetch(`${s.url}/metrics`)).text())?.[1] ?? 0);
    // The first call holds the model's one slot until its client lets go; the others are answered at once.
    model.script('one', { type: 'hang' }, { type: 'echo', repeat: 5 });
    const first = new AbortController();
    const send = (key: string, text: string, signal?: AbortSignal) =>
      client(key).chat.completions.create({ model: 'p/one', messages: [{ role: 'user', content: text }] }, { headers: { 'x-pantheon-max-wait': '60000' }, ...(signal ? { signal } : {}) });
    const held = send(ALPHA, 'a1', first.signal).catch((e: unknown) => e);
    await model.waitFor((log) => log.some((e) => userText(e) === 'a1'));
    // alpha's other three join the lane one after another, then gamma's two (the queue's depth says each has joined).
    const answers: Promise<unknown>[] = [];
    for (const [i, text] of ['a2', 'a3', 'a4', 'g1', 'g2'].entries()) {
      answers.push(send(text.startsWith('a') ? ALPHA : GAMMA, text));
      while ((await queued()) < i + 1) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    first.abort();
    expect(await held).toBeInstanceOf(OpenAI.APIUserAbortError);
    await Promise.all(answers);
    const sent = model.log.filter((e) => e.model === 'one').map((e) => userText(e));
    expect(sent).toEqual(['a1', 'a2', 'g1', 'a3', 'g2', 'a4']);
  });

  it('a provider limit wait longer than the client allows is a 429 with Retry-After at once, not a hang', async () => {
    const alpha = client(ALPHA);
    await alpha.chat.completions.create({ ...ask, model: 'p/lim' });
    const started = Date.now();
    const waited = await alpha.chat.completions.create({ ...ask, model: 'p/lim' }, { headers: { 'x-pantheon-max-wait': '200' } }).catch((e: unknown) => e);
    expect(waited).toBeInstanceOf(OpenAI.RateLimitError);
    const err = waited as InstanceType<typeof OpenAI.RateLimitError>;
    expect(Number(err.headers?.get('retry-after'))).toBeGreaterThanOrEqual(50);
    expect(err.message).toMatch(/rate limit/i);
    // The client's own timeout bounds the wait as well (the openai client sends x-stainless-timeout).
    const timed = await client(ALPHA, { timeout: 20_000 }).chat.completions.create({ ...ask, model: 'p/lim' }).catch((e: unknown) => e);
    expect(timed).toBeInstanceOf(OpenAI.RateLimitError);
    expect(Date.now() - started).toBeLessThan(10_000); // not the 60 s window, nor the client's 20 s
    expect(model.log.filter((e) => e.model === 'lim')).toHaveLength(1);
  });

  it('a body over the size limit is a 413 in OpenAI’s shape', async () => {
    const big = JSON.stringify({ ...ask, messages: [{ role: 'user', content: 'x'.repeat(17 * 1024 * 1024) }] });
    const res = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${ALPHA}`, 'content-type': 'application/json' }, body: big });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: 'request_too_large', type: 'invalid_request_error' } });
  });

  it('plain curl: JSON, and SSE ending in [DONE]', async () => {
    const body = JSON.stringify({ ...ask, messages: [{ role: 'user', content: 'from curl' }] });
    const json = await run('curl', ['-sS', '-D', '-', '-H', `Authorization: Bearer ${ALPHA}`, '-H', 'content-type: application/json', '-d', body, `${s.url}/v1/chat/completions`]);
    const [head, text] = json.stdout.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    expect(head).toMatch(/x-pantheon-model: p\/m/i);
    expect(JSON.parse(text as string).choices[0].message.content).toBe('echo: from curl');
    const sse = await run('curl', ['-sSN', '-H', `Authorization: Bearer ${ALPHA}`, '-H', 'content-type: application/json', '-d', JSON.stringify({ ...JSON.parse(body), stream: true }), `${s.url}/v1/chat/completions`]);
    const frames = sse.stdout.split('\n\n').filter(Boolean);
    expect(frames.at(-1)).toBe('data: [DONE]');
    const content = frames.slice(0, -1).map((f) => JSON.parse(f.replace(/^data: /, '')).choices[0]?.delta?.content ?? '').join('');
    expect(content).toBe('echo: from curl');
  });

  it('nothing of it is stored: no session files, and no key in any state file', async () => {
    const sessions = path.join(sb.dataHome, 'pantheon', 'sessions');
    expect(fs.existsSync(sessions) ? fs.readdirSync(sessions, { recursive: true }).filter((f) => String(f).endsWith('.json')) : []).toEqual([]);
    expect(await filesContaining(sb.root, ALPHA).then((files) => files.filter((f) => !f.endsWith('opencode.json')))).toEqual([]);
  });
});
