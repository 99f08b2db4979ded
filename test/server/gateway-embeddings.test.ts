/**
 * `POST /v1/embeddings` driven by the official `openai` npm client (and plain fetch) against a real
 * `opencode serve`, with the scripted OpenAI-compatible server as the provider: vectors as the model
 * gave them (base64, as the client asks by default, or floats), fields passed through, one model
 * retried but never fallen back from, limits shared with chat, budgets, usage in /metrics, the
 * client going away, the AI SDK's path, and bad input answered before anything is sent.
 */
import fs from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { scriptedVector } from '../support/openai-server/embeddings.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { parseMetrics } from './metrics-text.ts';
import { serve, type Served } from './serve-helper.ts';

let sb: Sandbox;
let upstream: ScriptedServer;
let s: Served;
let client: OpenAI;

const post = (body: unknown, headers: Record<string, string> = {}, url = s.url) =>
  fetch(`${url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const embeddingsSent = () => upstream.log.filter((e) => e.endpoint === 'embeddings');

beforeAll(async () => {
  upstream = await startScriptedServer({ apiKey: SECRET, models: { e: {}, m: {} } });
  sb = await sandbox();
  const options = { baseURL: upstream.url, apiKey: SECRET };
  sb.write('opencode.json', {
    provider: {
      p: { options, models: { e: { cost: { input: 1, output: 1 } }, m: {} } },
      // Two requests a minute for the whole provider, chat and embeddings together.
      q: { options, models: { e: {}, m: {} }, rateLimit: { rpm: 2 } },
    },
    model: 'p/m',
    fallbacks: ['p/m'],
    cache: { enabled: false },
    retry: { maxRetries: 1, baseDelay: 10, maxDelay: 10 },
  });
  s = await serve(sb);
  client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'unused-open-server', maxRetries: 0 });
});

afterAll(async () => {
  await s?.stop();
  await upstream?.close();
  await sb?.remove();
});

describe('/v1/embeddings', () => {
  it('the openai client: a vector per input in order (it asks for base64 and decodes it), usage, x-pantheon-model; floats asked upstream', async () => {
    const { data, response } = await client.embeddings.create({ model: 'p/e', input: ['first text', 'second text'] }).withResponse();
    expect(data.object).toBe('list');
    expect(data.model).toBe('p/e');
    expect(data.data.map((d) => d.index)).toEqual([0, 1]);
    expect(data.data[0]?.embedding).toEqual(scriptedVector('first text', 8));
    expect(data.data[1]?.embedding).toEqual(scriptedVector('second text', 8));
    expect(data.usage).toEqual({ prompt_tokens: 6, total_tokens: 6 });
    expect(response.headers.get('x-pantheon-model')).toBe('p/e');
    const sent = embeddingsSent().at(-1);
    expect(sent?.model).toBe('e');
    expect(sent?.body).toEqual({ model: 'e', input: ['first text', 'second text'] });
    expect(sent?.headers.authorization).toBe(`Bearer ${SECRET}`);
  });

  it('floats when asked; dimensions, user and NVIDIA NIM’s input_type go up as they are (OpenAI’s metadata does not); token arrays too', async () => {
    const res = await post({ model: 'p/e', input: 'a query', encoding_format: 'float', dimensions: 3, user: 'u-1', input_type: 'query', truncate: 'END', metadata: { team: 'a' } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { embedding: number[] }[] };
    expect(body.data[0]?.embedding).toEqual(scriptedVector('a query', 3));
    expect(embeddingsSent().at(-1)?.body).toEqual({ model: 'e', input: 'a query', dimensions: 3, user: 'u-1', input_type: 'query', truncate: 'END' });
    const tokens = await client.embeddings.create({ model: 'p/e', input: [[1, 2, 3], [4]] });
    expect(tokens.data.map((d) => d.embedding)).toEqual([scriptedVector([1, 2, 3], 8), scriptedVector([4], 8)]);
    expect(tokens.usage.prompt_tokens).toBe(4);
  });

  it('a failing model is retried, never replaced: the top-level fallbacks are not used (vectors of two models do not compare)', async () => {
    upstream.script('e', { type: 'status', status: 503 });
    const retried = await client.embeddings.create({ model: 'p/e', input: 'again' });
    expect(retried.data[0]?.embedding).toEqual(scriptedVector('again', 8));
    const before = upstream.log.length;
    upstream.script('e', { type: 'status', status: 503 }, { type: 'status', status: 503 });
    const failed = await client.embeddings.create({ model: 'p/e', input: 'down' }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(OpenAI.APIError);
    expect((failed as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect(upstream.log.slice(before).map((e) => `${e.endpoint} ${e.model} ${e.status}`)).toEqual(['embeddings e 503', 'embeddings e 503']);
  });

  it('a provider’s answer that is not an embeddings list (not JSON, a vector short) is retried, then a 502 naming why; nothing of it reaches the client', async () => {
    upstream.script('e', { type: 'bad_json', body: '{"object":"list","data":[]}' });
    const retried = await client.embeddings.create({ model: 'p/e', input: 'one' });
    expect(retried.data[0]?.embedding).toEqual(scriptedVector('one', 8));
    const before = upstream.log.length;
    upstream.script('e', { type: 'bad_json' }, { type: 'bad_json', body: '{"data":[{"index":0,"embedding":"not numbers ["}, {"index":0,"embedding":[1]}]}' });
    const res = await post({ model: 'p/e', input: ['a', 'b'] });
    expect(res.status).toBe(502);
    const error = ((await res.json()) as { error: { message: string; type: string } }).error;
    expect(error.type).toBe('api_error');
    expect(error.message).toContain('Every model in the chain failed (p/e)');
    expect(error.message).toContain('Every answer was broken or cut off (the last: the embeddings answer is malformed: vector 0 is neither a list of numbers nor base64)');
    expect(upstream.log.length - before).toBe(2);
  });

  it('a provider’s refusal is a 400 with its message, not retried', async () => {
    upstream.script('e', { type: 'status', status: 400, body: { error: { message: "'input_type' is required for this model", type: 'invalid_request_error', param: 'input_type', code: 'missing_param' } } });
    const before = upstream.log.length;
    const refused = await client.embeddings.create({ model: 'p/e', input: 'passage' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    const error = refused as InstanceType<typeof OpenAI.BadRequestError>;
    expect(error.message).toContain("'input_type' is required for this model");
    expect(error.code).toBe('missing_param');
    expect(error.param).toBe('input_type');
    expect(upstream.log.length - before).toBe(1);
  });

  it('one provider limit for chat and embeddings: past it, an embeddings client that will not wait gets a 429 with Retry-After, and nothing is sent', async () => {
    const before = upstream.log.length;
    const chat = await client.chat.completions.create({ model: 'q/m', messages: [{ role: 'user', content: 'hi' }] });
    expect(chat.choices[0]?.message.content).toBe('echo: hi');
    expect((await post({ model: 'q/e', input: 'one' })).status).toBe(200);
    const limited = await post({ model: 'q/e', input: 'two' }, { 'x-pantheon-max-wait': '0' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
    expect(upstream.log.length - before).toBe(2);
    // Chat, limited the same, moves to the top-level fallback instead.
    const { response } = await client.chat.completions.create({ model: 'q/m', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-pantheon-max-wait': '0' } }).withResponse();
    expect(response.headers.get('x-pantheon-model')).toBe('p/m');
  });

  it('usage and cost in /metrics, as a chat request’s', async () => {
    const labels = { provider: 'p', model: 'p/e' };
    const before = parseMetrics(await (await fetch(`${s.url}/metrics`)).text());
    await client.embeddings.create({ model: 'p/e', input: 'x'.repeat(400) });
    let after = parseMetrics(await (await fetch(`${s.url}/metrics`)).text());
    // The bookkeeping comes right after the answer is sent.
    for (let i = 0; i < 100 && after.value('pantheon_tokens_total', { ...labels, direction: 'input' }) === before.value('pantheon_tokens_total', { ...labels, direction: 'input' }); i++) {
      await new Promise((r) => setImmediate(r));
      after = parseMetrics(await (await fetch(`${s.url}/metrics`)).text());
    }
    expect(after.value('pantheon_tokens_total', { ...labels, direction: 'input' }) - before.value('pantheon_tokens_total', { ...labels, direction: 'input' })).toBe(100);
    expect(after.value('pantheon_model_requests_total', { ...labels, outcome: 'ok' }) - before.value('pantheon_model_requests_total', { ...labels, outcome: 'ok' })).toBe(1);
    expect(after.value('pantheon_cost_usd_total', labels) - before.value('pantheon_cost_usd_total', labels)).toBeCloseTo(100 / 1e6, 12);
  });

  it('the client going away cancels the provider’s request', async () => {
    upstream.script('e', { type: 'echo', delayMs: 30_000 });
    const abort = new AbortController();
    const gone = fetch(`${s.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'p/e', input: 'slow' }), signal: abort.signal }).catch((e: unknown) => e);
    await upstream.waitFor((log) => log.some((e) => e.endpoint === 'embeddings' && e.endedAt === null && JSON.stringify(e.body).includes('slow')));
    abort.abort();
    expect(await gone).toBeInstanceOf(Error);
    await upstream.waitFor((log) => log.some((e) => JSON.stringify(e.body).includes('slow') && e.clientAborted));
    expect((await post({ model: 'p/e', input: 'next' })).status).toBe(200);
  });

  it('bad input: one sentence naming the field, OpenAI’s error shape, nothing sent', async () => {
    const before = upstream.log.length;
    const cases: [unknown, number, string][] = [
      [{ model: 'p/e', input: [] }, 400, 'body field "input": must not be empty.'],
      [{ model: 'p/e', input: '' }, 400, 'body field "input": must not be empty.'],
      [{ model: 'p/e', input: Array.from({ length: 2049 }, () => 'x') }, 400, 'body field "input": must have at most 2048 items.'],
      [{ model: 'p/e', input: ['a', 2] }, 400, 'body field "input[1]": expected a string, found an integer.'],
      [{ model: 'p/e', input: { text: 'a' } }, 400, 'body field "input": expected a string, found an object.'],
      [{ model: 'p/e' }, 400, 'body field "input": is required.'],
      [{ model: 'p/e', input: 'a', encoding_format: 'hex' }, 400, 'body field "encoding_format": expected one of "float", "base64", null, found "hex".'],
      [{ model: 'p/e', input: 'a', dimensions: 0 }, 400, 'body field "dimensions": must be at least 1, found 0.'],
      [{ model: 'agent/build', input: 'a' }, 400, 'model "agent/build": embeddings take a model (provider/model), not an agent.'],
      [{ model: 'p/nope', input: 'a' }, 404, 'model "p/nope": provider "p" has no model "nope".'],
      [{ model: 'nope', input: 'a' }, 404, 'model "nope": expected provider/model or agent/<name>.'],
    ];
    for (const [body, status, message] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      const error = ((await res.json()) as { error: { message: string; type: string } }).error;
      expect(error.message).toContain(message);
      expect(error.type).toBe('invalid_request_error');
    }
    const broken = await fetch(`${s.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model": "p/e", "input": ' });
    expect(broken.status).toBe(400);
    expect(upstream.log.length).toBe(before);
  });
});

describe('/v1/embeddings beside the wire client', () => {
  it('through the AI SDK (an HTTP proxy in the environment): the same vectors; token arrays refused there; a package without embeddings named', async () => {
    const own = await sandbox();
    // A provider package of the project's own (as OpenCode loads them) that has chat models only.
    const pkg = path.join(own.project, 'node_modules', 'chat-only-provider');
    fs.mkdirSync(pkg, { recursive: true });
    fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'chat-only-provider', version: '1.0.0', type: 'module', main: 'index.js' }));
    fs.writeFileSync(path.join(pkg, 'index.js'), 'export function createChatOnly() { const p = () => ({}); p.languageModel = () => ({}); return p; }\n');
    own.write('opencode.json', {
      provider: { p: { options: { baseURL: upstream.url, apiKey: SECRET }, models: { e: {} } }, c: { npm: 'chat-only-provider', models: { x: {} } } },
      model: 'p/e',
      cache: { enabled: false },
    });
    const proxied = await serve(own, [], { HTTPS_PROXY: 'http://127.0.0.1:9', NO_PROXY: '' });
    try {
      const sdkClient = new OpenAI({ baseURL: `${proxied.url}/v1`, apiKey: 'unused-open-server', maxRetries: 0 });
      upstream.script('e', { type: 'status', status: 503 });
      const answer = await sdkClient.embeddings.create({ model: 'p/e', input: ['via the sdk', 'two'], dimensions: 5 });
      expect(answer.data.map((d) => d.embedding)).toEqual([scriptedVector('via the sdk', 5), scriptedVector('two', 5)]);
      expect(answer.usage.prompt_tokens).toBe(4);
      expect(embeddingsSent().slice(-2).map((e) => e.status)).toEqual([503, 200]);
      const before = upstream.log.length;
      const tokens = await post({ model: 'p/e', input: [[1, 2]] }, {}, proxied.url);
      expect(tokens.status).toBe(400);
      expect(((await tokens.json()) as { error: { message: string } }).error.message).toContain('token arrays as input go only to OpenAI-compatible providers');
      const chatOnly = await post({ model: 'c/x', input: 'a' }, {}, proxied.url);
      expect(chatOnly.status).toBe(400);
      expect(((await chatOnly.json()) as { error: { message: string } }).error.message).toContain('provider "c" (chat-only-provider) has no embedding models.');
      expect(upstream.log.length).toBe(before);
    } finally {
      await proxied.stop();
      await own.remove();
    }
  });

  it('with the response cache on: the same request answered from it (x-pantheon-cache: hit, the same vectors, nothing sent, counted as a cache hit); another dimensions or input type is another request', async () => {
    const own = await sandbox();
    own.write('opencode.json', { provider: { p: { options: { baseURL: upstream.url, apiKey: SECRET }, models: { e: {} } } }, model: 'p/e', cache: { enabled: true, store: 'memory' } });
    const cachedServer = await serve(own);
    try {
      const cachedClient = new OpenAI({ baseURL: `${cachedServer.url}/v1`, apiKey: 'unused-open-server', maxRetries: 0 });
      const before = upstream.log.length;
      const first = await cachedClient.embeddings.create({ model: 'p/e', input: ['kept', 'twice'] }).withResponse();
      expect(first.response.headers.get('x-pantheon-cache')).toBeNull();
      // The entry is stored once the answer is sent.
      let second = await cachedClient.embeddings.create({ model: 'p/e', input: ['kept', 'twice'] }).withResponse();
      for (let i = 0; i < 50 && second.response.headers.get('x-pantheon-cache') !== 'hit'; i++) second = await cachedClient.embeddings.create({ model: 'p/e', input: ['kept', 'twice'] }).withResponse();
      expect(second.response.headers.get('x-pantheon-cache')).toBe('hit');
      expect(second.data.data.map((d) => d.embedding)).toEqual(first.data.data.map((d) => d.embedding));
      expect(second.data.usage).toEqual(first.data.usage);
      const sent = upstream.log.length - before;
      const floats = await post({ model: 'p/e', input: ['kept', 'twice'], encoding_format: 'float' }, {}, cachedServer.url);
      expect(floats.headers.get('x-pantheon-cache')).toBe('hit');
      expect(((await floats.json()) as { data: { embedding: number[] }[] }).data[0]?.embedding).toEqual(scriptedVector('kept', 8));
      expect(upstream.log.length - before).toBe(sent);
      expect((await post({ model: 'p/e', input: ['kept', 'twice'], dimensions: 4 }, {}, cachedServer.url)).headers.get('x-pantheon-cache')).toBeNull();
      expect((await post({ model: 'p/e', input: ['kept', 'twice'], input_type: 'query' }, {}, cachedServer.url)).headers.get('x-pantheon-cache')).toBeNull();
      expect(upstream.log.length - before).toBe(sent + 2);
      // Cache-Control: no-cache asks the provider again; no-store too, and keeps nothing.
      expect((await post({ model: 'p/e', input: ['kept', 'twice'] }, { 'cache-control': 'no-cache' }, cachedServer.url)).headers.get('x-pantheon-cache')).toBeNull();
      expect((await post({ model: 'p/e', input: 'not kept' }, { 'cache-control': 'no-store' }, cachedServer.url)).headers.get('x-pantheon-cache')).toBeNull();
      expect((await post({ model: 'p/e', input: 'not kept' }, {}, cachedServer.url)).headers.get('x-pantheon-cache')).toBeNull();
      expect(upstream.log.length - before).toBe(sent + 5);
      const metrics = parseMetrics(await (await fetch(`${cachedServer.url}/metrics`)).text());
      expect(metrics.value('pantheon_cache_hits_total', { provider: 'p', model: 'p/e' })).toBeGreaterThanOrEqual(2);
    } finally {
      await cachedServer.stop();
      await own.remove();
    }
  });

  it('a budget that the request would cross: 429 insufficient_quota, nothing sent', async () => {
    const own = await sandbox();
    own.write('opencode.json', { provider: { p: { options: { baseURL: upstream.url, apiKey: SECRET }, models: { e: { cost: { input: 1, output: 1 } } } } }, model: 'p/e', budget: { perDay: { tokens: 50 } } });
    const budgeted = await serve(own);
    try {
      const before = upstream.log.length;
      expect((await post({ model: 'p/e', input: 'x'.repeat(120) }, {}, budgeted.url)).status).toBe(200);
      // Another input (the same one would come from the cache, which costs nothing).
      const refused = await post({ model: 'p/e', input: 'y'.repeat(120) }, {}, budgeted.url);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('x-should-retry')).toBe('false');
      const error = ((await refused.json()) as { error: { type: string; code: string } }).error;
      expect(error).toMatchObject({ type: 'insufficient_quota', code: 'budget_exceeded' });
      expect(upstream.log.length - before).toBe(1);
    } finally {
      await budgeted.stop();
      await own.remove();
    }
  });
});
