/**
 * `POST /v1/completions` (OpenAI's legacy text completions, what editors' autocompletion sends)
 * driven by the official `openai` npm client (and plain fetch) against a real `opencode serve`,
 * with the scripted OpenAI-compatible server as the provider: the body sent up as it is to the
 * provider's `/completions` (`suffix` for fill-in-the-middle, a local server's own fields), JSON and
 * SSE answers, log probabilities in the legacy shape, retries and the fallbacks that take text
 * completions (others skipped), a provider's refusal and broken answers, the client going away,
 * the response cache (never mixed with chat's), budgets, and bad input answered before anything
 * is sent.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { serve, type Served } from './serve-helper.ts';

let sb: Sandbox;
let upstream: ScriptedServer;
let s: Served;
let client: OpenAI;

const post = (body: unknown, headers: Record<string, string> = {}, url = s.url) =>
  fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const completionsSent = () => upstream.log.filter((e) => e.endpoint === 'completions');
const errorOf = async (res: Response) => ((await res.json()) as { error: { message: string; type: string; code: string; param: string | null } }).error;

beforeAll(async () => {
  upstream = await startScriptedServer({ apiKey: SECRET, models: { m: {}, f: {} } });
  sb = await sandbox();
  const options = { baseURL: upstream.url, apiKey: SECRET };
  sb.write('opencode.json', {
    provider: {
      p: { options, models: { m: {}, f: {} } },
      // Not OpenAI-compatible: no text completions; skipped among the fallbacks.
      a: { npm: '@ai-sdk/anthropic', options: { apiKey: 'unused' }, models: { claude: {} } },
    },
    model: 'p/m',
    fallbacks: ['a/claude', 'p/f'],
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

describe('/v1/completions', () => {
  it('the openai client: a text_completion (the provider’s text, finish reason, usage), x-pantheon-model; the body sent up as it is to the provider’s /completions', async () => {
    const { data, response } = await client.completions
      .create({ model: 'p/m', prompt: 'def add(a, b):', suffix: '\n\nprint(add(1, 2))', max_tokens: 32, temperature: 0, stop: ['\n\n'], user: 'u-1' })
      .withResponse();
    expect(data.object).toBe('text_completion');
    expect(data.id).toMatch(/^cmpl-/);
    expect(data.model).toBe('p/m');
    expect(data.choices).toEqual([{ text: 'echo: def add(a, b):', index: 0, logprobs: null, finish_reason: 'stop' }]);
    expect(data.usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 5, total_tokens: 9 });
    expect(response.headers.get('x-pantheon-model')).toBe('p/m');
    const sent = completionsSent().at(-1);
    expect(sent?.model).toBe('m');
    expect(sent?.body).toEqual({ model: 'm', prompt: 'def add(a, b):', suffix: '\n\nprint(add(1, 2))', max_tokens: 32, temperature: 0, stop: ['\n\n'], user: 'u-1' });
    expect(sent?.headers.authorization).toBe(`Bearer ${SECRET}`);
  });

  it('streamed: the text as it comes, the finish reason, the usage chunk asked for, [DONE]; a local server’s own fields and a token prompt go up as they are', async () => {
    upstream.script('m', { type: 'text', chunks: ['  return', ' a + b'] });
    const stream = await client.completions.create({ model: 'p/m', prompt: [[1, 2, 3]], stream: true, stream_options: { include_usage: true }, top_k: 20, n_probs: 0 } as OpenAI.CompletionCreateParamsStreaming);
    const chunks: OpenAI.Completion[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).toBe('  return a + b');
    expect(chunks.every((c) => c.object === 'text_completion' && c.model === 'p/m')).toBe(true);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage?.completion_tokens).toBeGreaterThan(0);
    expect(completionsSent().at(-1)?.body).toEqual({ model: 'm', prompt: [[1, 2, 3]], top_k: 20, n_probs: 0, stream: true, stream_options: { include_usage: true } });
    const raw = await (await post({ model: 'p/m', prompt: 'x', stream: true })).text();
    expect(raw.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(raw).not.toContain('"usage"');
  });

  it('a stream cut off in the middle is asked again and the client gets the text once', async () => {
    const before = upstream.log.length;
    upstream.script('m', { type: 'truncated', text: 'one two three', abrupt: true }, { type: 'text', text: 'one two three' });
    const stream = await client.completions.create({ model: 'p/m', prompt: 'cut', stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe('one two three');
    expect(upstream.log.slice(before).map((e) => `${e.endpoint} ${e.outcome}`)).toEqual(['completions truncated', 'completions ok']);
  });

  it('log probabilities in the legacy shape, JSON and streamed, as the provider gave them', async () => {
    upstream.script('m', { type: 'text', chunks: ['a', 'b'] });
    const whole = await client.completions.create({ model: 'p/m', prompt: 'p', logprobs: 1 });
    expect(whole.choices[0]?.logprobs).toEqual({ tokens: ['a', 'b'], token_logprobs: [-0.1, -0.2], top_logprobs: [null, null], text_offset: [0, 1] });
    upstream.script('m', { type: 'text', chunks: ['a', 'b'] });
    const stream = await client.completions.create({ model: 'p/m', prompt: 'p', logprobs: 1, stream: true });
    const given: unknown[] = [];
    for await (const chunk of stream) if (chunk.choices[0]?.text) given.push(chunk.choices[0].logprobs);
    expect(given).toEqual([
      { tokens: ['a'], token_logprobs: [-0.1], top_logprobs: [null], text_offset: [0] },
      { tokens: ['b'], token_logprobs: [-0.2], top_logprobs: [null], text_offset: [1] },
    ]);
  });

  it('retried, then the next fallback that takes text completions (a provider that does not is skipped); x-pantheon-model says which', async () => {
    const before = upstream.log.length;
    upstream.script('m', { type: 'status', status: 503 }, { type: 'status', status: 503 });
    const { data, response } = await client.completions.create({ model: 'p/m', prompt: 'fall' }).withResponse();
    expect(data.choices[0]?.text).toBe('echo: fall');
    expect(response.headers.get('x-pantheon-model')).toBe('p/f');
    expect(upstream.log.slice(before).map((e) => `${e.endpoint} ${e.model} ${e.status}`)).toEqual(['completions m 503', 'completions m 503', 'completions f 200']);
  });

  it('a provider’s refusal is a 400 with its message, code and param, not retried; broken answers are retried, then a 502 saying so', async () => {
    upstream.script('m', { type: 'status', status: 400, body: { error: { message: "This model's maximum context length is 4096 tokens", type: 'invalid_request_error', param: 'prompt', code: 'context_length_exceeded' } } });
    const before = upstream.log.length;
    const refused = await client.completions.create({ model: 'p/m', prompt: 'long' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    const error = refused as InstanceType<typeof OpenAI.BadRequestError>;
    expect(error.message).toContain('maximum context length is 4096 tokens');
    expect(error.code).toBe('context_length_exceeded');
    expect(error.param).toBe('prompt');
    expect(upstream.log.length - before).toBe(1);
    upstream.script('m', { type: 'bad_json' }, { type: 'bad_json' });
    upstream.script('f', { type: 'bad_json', body: '{"choices": []}' }, { type: 'bad_json', body: '{"choices": []}' });
    const broken = await post({ model: 'p/m', prompt: 'broken' });
    expect(broken.status).toBe(502);
    const brokenError = await errorOf(broken);
    expect(brokenError.message).toContain('Every answer was broken or cut off');
    expect(brokenError.message).toContain('the answer has no choices');
  });

  it('the client going away in the middle of a stream cancels the provider’s request; the server goes on', async () => {
    // The first words, then nothing until the connection closes.
    upstream.script('m', { type: 'hang', text: 'one two' });
    const abort = new AbortController();
    const res = await fetch(`${s.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'p/m', prompt: 'slowly', stream: true }), signal: abort.signal });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    abort.abort();
    await upstream.waitFor((log) => log.some((e) => e.endpoint === 'completions' && JSON.stringify(e.body).includes('slowly') && e.clientAborted));
    expect((await client.completions.create({ model: 'p/m', prompt: 'next' })).choices[0]?.text).toBe('echo: next');
  });

  it('bad input: one sentence naming the field, OpenAI’s error shape, nothing sent', async () => {
    const before = upstream.log.length;
    const cases: [unknown, number, string][] = [
      [{ model: 'p/m' }, 400, 'body field "prompt": is required.'],
      [{ model: 'p/m', prompt: { text: 'a' } }, 400, 'body field "prompt": expected a string, found an object.'],
      [{ model: 'p/m', prompt: ['a', 'b'] }, 400, 'prompt: one prompt per request is supported (got 2).'],
      [{ model: 'p/m', prompt: [[1], [2]] }, 400, 'prompt: one prompt per request is supported (got 2).'],
      [{ model: 'p/m', prompt: 'a', n: 2 }, 400, 'body field "n": must be at most 1, found 2.'],
      [{ model: 'p/m', prompt: 'a', max_tokens: -1 }, 400, 'body field "max_tokens": must be at least 0, found -1.'],
      [{ model: 'p/m', prompt: 'a', stop: ['1', '2', '3', '4', '5'] }, 400, 'body field "stop": must have at most 4 items.'],
      [{ model: 'p/m', prompt: 'a', logprobs: true }, 400, 'body field "logprobs": expected an integer or null, found a boolean.'],
      [{ model: 'agent/build', prompt: 'a' }, 400, 'model "agent/build": text completions take a model (provider/model), not an agent.'],
      [{ model: 'a/claude', prompt: 'a' }, 400, 'model "a/claude": text completions go only to OpenAI-compatible providers that Pantheon calls directly; provider "a" uses @ai-sdk/anthropic, which has no text completions.'],
      [{ model: 'p/nope', prompt: 'a' }, 404, 'model "p/nope": provider "p" has no model "nope".'],
    ];
    for (const [body, status, message] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      const error = await errorOf(res);
      expect(error.message).toContain(message);
      expect(error.type).toBe('invalid_request_error');
    }
    const agent = await errorOf(await post({ model: 'a/claude', prompt: 'a' }));
    expect(agent.param).toBe('model');
    expect(agent.message).toContain('Use /v1/chat/completions for this model.');
    const broken = await fetch(`${s.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model": "p/m", "prompt": ' });
    expect(broken.status).toBe(400);
    expect(upstream.log.length).toBe(before);
  });
});

describe('/v1/completions with the cache and budgets', () => {
  it('the same completion answered from the cache (x-pantheon-cache: hit, nothing sent); a chat request with the same text is not', async () => {
    const own = await sandbox();
    own.write('opencode.json', { provider: { p: { options: { baseURL: upstream.url, apiKey: SECRET }, models: { m: {} } } }, model: 'p/m', cache: { enabled: true, store: 'memory' } });
    const cached = await serve(own);
    try {
      const before = upstream.log.length;
      const body = { model: 'p/m', prompt: 'kept', max_tokens: 8 };
      const first = await post(body, {}, cached.url);
      expect(first.headers.get('x-pantheon-cache')).toBeNull();
      const text = ((await first.json()) as { choices: { text: string }[] }).choices[0]?.text;
      // The entry is stored once the answer is sent.
      let second = await post(body, {}, cached.url);
      for (let i = 0; i < 50 && second.headers.get('x-pantheon-cache') !== 'hit'; i++) second = await post(body, {}, cached.url);
      expect(second.headers.get('x-pantheon-cache')).toBe('hit');
      expect(((await second.json()) as { choices: { text: string }[] }).choices[0]?.text).toBe(text);
      const sent = upstream.log.length - before;
      const chat = await fetch(`${cached.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'p/m', messages: [{ role: 'user', content: 'kept' }], max_tokens: 8 }) });
      expect(chat.headers.get('x-pantheon-cache')).toBeNull();
      expect(((await chat.json()) as { object: string }).object).toBe('chat.completion');
      // Another suffix is another completion; one asking log probabilities is always sent.
      expect((await post({ ...body, suffix: '!' }, {}, cached.url)).headers.get('x-pantheon-cache')).toBeNull();
      expect((await post({ ...body, logprobs: 0 }, {}, cached.url)).headers.get('x-pantheon-cache')).toBeNull();
      expect(upstream.log.length - before).toBe(sent + 3);
    } finally {
      await cached.stop();
      await own.remove();
    }
  });

  it('a budget crossed with a downgrade chain that has no model taking text completions: 429 insufficient_quota, nothing sent', async () => {
    const own = await sandbox();
    own.write('opencode.json', {
      provider: {
        p: { options: { baseURL: upstream.url, apiKey: SECRET }, models: { m: { cost: { input: 1, output: 1 } } } },
        a: { npm: '@ai-sdk/anthropic', options: { apiKey: 'unused' }, models: { claude: {} } },
      },
      model: 'p/m',
      budget: { perDay: { tokens: 50 }, onExceeded: 'downgrade', downgrade: ['a/claude'] },
    });
    const budgeted = await serve(own);
    try {
      const before = upstream.log.length;
      expect((await post({ model: 'p/m', prompt: 'x'.repeat(120), max_tokens: 4 }, {}, budgeted.url)).status).toBe(200);
      const refused = await post({ model: 'p/m', prompt: 'y'.repeat(120), max_tokens: 4 }, {}, budgeted.url);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('x-should-retry')).toBe('false');
      expect(await errorOf(refused)).toMatchObject({ type: 'insufficient_quota', code: 'budget_exceeded' });
      expect(upstream.log.length - before).toBe(1);
    } finally {
      await budgeted.stop();
      await own.remove();
    }
  });
});
