import { afterEach, describe, expect, it } from 'vitest';
import { maxStartsInWindow, startScriptedServer } from './openai-server.ts';
import type { RequestLogEntry, ScriptedServer, ScriptedServerOptions } from './openai-server.ts';

const servers: ScriptedServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(options: ScriptedServerOptions = {}): Promise<ScriptedServer> {
  const server = await startScriptedServer(options);
  servers.push(server);
  return server;
}

interface ChatRequest {
  model?: string;
  stream?: boolean;
  includeUsage?: boolean;
  content?: string;
  extra?: Record<string, unknown>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

function chat(server: ScriptedServer, request: ChatRequest = {}): Promise<Response> {
  const body = {
    model: request.model ?? 'm',
    messages: [{ role: 'user', content: request.content ?? 'Hello there' }],
    ...(request.stream === true ? { stream: true } : {}),
    ...(request.includeUsage === true ? { stream_options: { include_usage: true } } : {}),
    ...request.extra,
  };
  return fetch(`${server.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...request.headers },
    body: JSON.stringify(body),
    signal: request.signal,
  });
}

/** The `data:` payloads of an SSE body, [DONE] included. */
function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: '))
    .map((frame) => frame.slice('data: '.length));
}

interface Chunk {
  choices: { delta: Record<string, unknown>; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

function chunks(text: string): Chunk[] {
  return sseData(text)
    .filter((data) => data !== '[DONE]')
    .map((data) => JSON.parse(data) as Chunk);
}

function streamedText(parsed: Chunk[]): string {
  return parsed.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
}

describe('text answers', () => {
  it('answers a non-streamed request with JSON, usage and a full log entry', async () => {
    const server = await start();
    server.script('m', { type: 'text', text: 'Four words right here', usage: { prompt_tokens: 11 } });
    const response = await chat(server, { extra: { temperature: 0.2, top_p: 0.9, max_tokens: 100 } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Four words right here' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 11, completion_tokens: 6, total_tokens: 17 },
    });
    await server.waitFor((log) => log[0]?.endedAt !== null);
    expect(server.log[0]).toMatchObject({
      seq: 1,
      model: 'm',
      stream: false,
      status: 200,
      outcome: 'ok',
      step: 'text',
      clientAborted: false,
      temperature: 0.2,
      top_p: 0.9,
      max_tokens: 100,
      messages: [{ role: 'user', content: 'Hello there' }],
      usage: { prompt_tokens: 11, completion_tokens: 6, total_tokens: 17 },
    });
    expect(server.log[0]?.headers['content-type']).toBe('application/json');
    expect(server.log[0]?.endedAt).toBeGreaterThanOrEqual(server.log[0]?.startedAt ?? Infinity);
  });

  it('streams text in several chunks, then finish_reason, usage and [DONE]', async () => {
    const server = await start();
    server.script('m', { type: 'text', chunks: ['Hel', 'lo, ', 'world'] }, { type: 'text', text: 'no usage here' });
    const response = await chat(server, { stream: true, includeUsage: true });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const text = await response.text();
    expect(sseData(text).at(-1)).toBe('[DONE]');
    const parsed = chunks(text);
    expect(parsed[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    expect(parsed.slice(1, 4).map((chunk) => chunk.choices[0]?.delta.content)).toEqual(['Hel', 'lo, ', 'world']);
    expect(parsed[4]?.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    expect(parsed[5]).toMatchObject({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 } });
    expect(parsed).toHaveLength(6);

    const plain = chunks(await (await chat(server, { stream: true })).text());
    expect(streamedText(plain)).toBe('no usage here');
    expect(plain.some((chunk) => chunk.usage !== undefined)).toBe(false);
    expect(plain.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('echoes the last user message by default, deterministically, with usage ~chars/4', async () => {
    const server = await start();
    const first = (await (await chat(server, { model: 'anything', content: 'same question' })).json()) as Record<string, unknown>;
    const second = (await (await chat(server, { model: 'anything', content: 'same question' })).json()) as Record<string, unknown>;
    expect(first).toMatchObject({ choices: [{ message: { content: 'echo: same question' } }], usage: { prompt_tokens: 4, completion_tokens: 5 } });
    expect(second.choices).toEqual(first.choices);
    expect(second.usage).toEqual(first.usage);
    const streamed = chunks(await (await chat(server, { model: 'anything', content: 'a b c', stream: true })).text());
    expect(streamed.filter((chunk) => chunk.choices[0]?.delta.content !== undefined).length).toBeGreaterThan(2);
    expect(streamedText(streamed)).toBe('echo: a b c');
  });

  it('uses per-model and global defaults when a queue is empty', async () => {
    const server = await start({
      default: { type: 'text', text: 'global default' },
      models: { down: { default: { type: 'status', status: 503 } } },
    });
    expect((await chat(server, { model: 'down' })).status).toBe(503);
    const body = (await (await chat(server, { model: 'other' })).json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content).toBe('global default');
  });

  it('cuts a text longer than max_tokens and reports finish_reason length', async () => {
    const server = await start();
    server.script('m', { type: 'text', text: 'one two three four five six seven eight' }, { type: 'text', text: 'one two three four five six' });
    const body = (await (await chat(server, { extra: { max_tokens: 2 } })).json()) as { choices: { message: { content: string }; finish_reason: string }[]; usage: { completion_tokens: number } };
    expect(body.choices[0]).toMatchObject({ message: { content: 'one two ' }, finish_reason: 'length' });
    expect(body.usage.completion_tokens).toBe(2);
    const streamed = chunks(await (await chat(server, { stream: true, extra: { max_tokens: 3 } })).text());
    expect(streamedText(streamed)).toBe('one two thre');
    expect(streamed.at(-1)?.choices[0]?.finish_reason).toBe('length');
  });

  it('waits delayMs before answering and chunkDelayMs before each chunk of a slow step', async () => {
    const server = await start();
    server.script('m', { type: 'text', text: 'late', delayMs: 40 }, { type: 'slow', text: 'a b c', chunkDelayMs: 20 });
    const before = Date.now();
    await (await chat(server)).text();
    expect(Date.now() - before).toBeGreaterThanOrEqual(35);
    const sent = Date.now();
    const response = await chat(server, { stream: true });
    expect(response.status).toBe(200);
    expect(streamedText(chunks(await response.text()))).toBe('a b c');
    // Three chunks, each after a 20 ms pause.
    expect(Date.now() - sent).toBeGreaterThanOrEqual(55);
  });
});

describe('tool calls', () => {
  const calls = [
    { name: 'read', arguments: { filePath: 'notes.txt' }, id: 'call_a' },
    { name: 'grep', arguments: '{"pattern":"TODO"}' },
  ];

  it('returns tool_calls with JSON arguments and finish_reason tool_calls', async () => {
    const server = await start();
    server.script('m', { type: 'tool_calls', calls });
    const body = (await (await chat(server)).json()) as { choices: { message: Record<string, unknown>; finish_reason: string }[] };
    expect(body.choices[0]?.finish_reason).toBe('tool_calls');
    expect(body.choices[0]?.message).toEqual({
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'call_a', type: 'function', function: { name: 'read', arguments: '{"filePath":"notes.txt"}' } },
        { id: 'call_1_1', type: 'function', function: { name: 'grep', arguments: '{"pattern":"TODO"}' } },
      ],
    });
  });

  it('streams tool calls as deltas: id and name first, then the arguments in pieces', async () => {
    const server = await start();
    server.script('m', { type: 'tool_calls', calls, text: 'Let me look.' });
    const parsed = chunks(await (await chat(server, { stream: true, includeUsage: true })).text());
    expect(streamedText(parsed)).toBe('Let me look.');
    const deltas = parsed.flatMap((chunk) => (chunk.choices[0]?.delta.tool_calls ?? []) as { index: number; id?: string; function: { name?: string; arguments: string } }[]);
    const first = deltas.filter((delta) => delta.index === 0);
    expect(first[0]).toMatchObject({ id: 'call_a', function: { name: 'read', arguments: '' } });
    expect(first.length).toBeGreaterThan(2);
    expect(first.map((delta) => delta.function.arguments).join('')).toBe('{"filePath":"notes.txt"}');
    expect(deltas.filter((delta) => delta.index === 1).map((delta) => delta.function.arguments).join('')).toBe('{"pattern":"TODO"}');
    expect(parsed.at(-2)?.choices[0]?.finish_reason).toBe('tool_calls');
    expect(parsed.at(-1)?.usage?.completion_tokens).toBeGreaterThan(0);
  });
});

describe('failures as a client sees them', () => {
  it.each([400, 401, 403, 404, 429, 500, 502, 503, 504] as const)('status %i gives that status and an OpenAI error body', async (status) => {
    const server = await start();
    server.script('m', { type: 'status', status });
    const response = await chat(server);
    expect(response.status).toBe(status);
    const body = (await response.json()) as { error: { message: string; type: string } };
    expect(typeof body.error.message).toBe('string');
    expect(typeof body.error.type).toBe('string');
    expect(server.log[0]).toMatchObject({ status, outcome: 'status', step: 'status' });
  });

  it('sends Retry-After (seconds or an HTTP date), retry-after-ms, custom headers and bodies', async () => {
    const server = await start();
    const date = 'Wed, 21 Oct 2026 07:28:00 GMT';
    server.script(
      'm',
      { type: 'status', status: 429, retryAfter: 3, retryAfterMs: 2500 },
      { type: 'status', status: 503, retryAfter: date, headers: { 'x-extra': 'yes' } },
      { type: 'status', status: 502, body: '<html>bad gateway</html>' },
      { type: 'status', status: 400, body: { error: { message: 'custom', type: 'x' } } },
    );
    const limited = await chat(server);
    expect([limited.status, limited.headers.get('retry-after'), limited.headers.get('retry-after-ms')]).toEqual([429, '3', '2500']);
    const unavailable = await chat(server);
    expect([unavailable.headers.get('retry-after'), unavailable.headers.get('x-extra'), unavailable.headers.get('retry-after-ms')]).toEqual([date, 'yes', null]);
    expect(await (await chat(server)).text()).toBe('<html>bad gateway</html>');
    expect(await (await chat(server)).json()).toEqual({ error: { message: 'custom', type: 'x' } });
  });

  it('reset destroys the connection: fetch fails with a network error', async () => {
    const server = await start();
    server.script('m', { type: 'reset' });
    await expect(chat(server)).rejects.toThrow(TypeError);
    await server.waitFor((log) => log[0]?.endedAt !== null);
    expect(server.log[0]).toMatchObject({ outcome: 'reset', status: null, clientAborted: false });
    expect((await chat(server)).status).toBe(200);
  });

  it('hang never answers; the client gets out by aborting', async () => {
    const server = await start();
    server.script('m', { type: 'hang' });
    const controller = new AbortController();
    const pending = chat(server, { signal: controller.signal });
    await server.waitForRequests(1);
    expect(server.log[0]).toMatchObject({ outcome: 'hang', status: null, endedAt: null });
    expect(server.stats()).toMatchObject({ inFlight: 1 });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await server.waitFor((log) => log[0]?.endedAt !== null);
    expect(server.log[0]?.clientAborted).toBe(true);
    expect(server.stats()).toMatchObject({ inFlight: 0, peakConcurrency: 1 });
  });

  it('hang with text sends the start of a stream, then stalls', async () => {
    const server = await start();
    server.script('m', { type: 'hang', text: 'thinking' });
    const controller = new AbortController();
    const response = await chat(server, { stream: true, signal: controller.signal });
    expect(response.status).toBe(200);
    const reader = response.body?.getReader();
    if (reader === undefined) throw new Error('no body');
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('"content":"thinking"');
    controller.abort();
    await expect(reader.read()).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('close() ends hung requests and resolves', async () => {
    const server = await startScriptedServer({ default: { type: 'hang' } });
    const pending = chat(server);
    const [entry] = await server.waitForRequests(1);
    await server.close();
    await expect(pending).rejects.toThrow(TypeError);
    expect(entry?.endedAt).not.toBeNull();
    expect(entry?.clientAborted).toBe(false);
    await expect(server.waitForRequests(2)).rejects.toThrow(/closed/);
  });

  it('bad_json answers 200 with a body that does not parse', async () => {
    const server = await start();
    server.script('m', { type: 'bad_json' }, { type: 'bad_json', body: 'not json at all' });
    const response = await chat(server);
    expect(response.status).toBe(200);
    await expect(response.json()).rejects.toThrow(SyntaxError);
    const stream = sseData(await (await chat(server, { stream: true })).text());
    expect(stream).toEqual(['not json at all', '[DONE]']);
    expect(server.log.map((entry: RequestLogEntry) => entry.outcome)).toEqual(['bad_json', 'bad_json']);
  });

  it('truncated streams stop with no finish_reason and no [DONE]; non-streamed JSON is cut', async () => {
    const server = await start();
    server.script('m', { type: 'truncated', text: 'partial answer' }, { type: 'truncated' }, { type: 'truncated', abrupt: true }, { type: 'truncated', abrupt: true });
    const text = await (await chat(server, { stream: true, includeUsage: true })).text();
    expect(sseData(text)).not.toContain('[DONE]');
    const parsed = chunks(text);
    expect(streamedText(parsed)).toBe('partial answer');
    expect(parsed.every((chunk) => chunk.choices[0]?.finish_reason === null && chunk.usage === undefined)).toBe(true);
    const cut = await chat(server);
    expect(cut.status).toBe(200);
    await expect(cut.json()).rejects.toThrow(SyntaxError);
    const abrupt = await chat(server, { stream: true });
    await expect(abrupt.text()).rejects.toThrow(TypeError);
    const abruptJson = await chat(server);
    await expect(abruptJson.text()).rejects.toThrow(TypeError);
    await server.waitFor((log) => log.every((entry) => entry.endedAt !== null));
    expect(server.log.map((entry) => [entry.outcome, entry.clientAborted])).toEqual(Array(4).fill(['truncated', false]));
  });
});

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
