import { describe, expect, it } from 'vitest';
import { startScriptedServer } from './openai-server.ts';
import type { RequestLogEntry } from './openai-server.ts';
import { chat, chunks, sseData, streamedText, useScriptedServers } from './openai-server/fetch-helpers.ts';

const start = useScriptedServers();

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

describe('embeddings', () => {
  const embed = (server: { url: string }, body: unknown) => fetch(`${server.url}/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('a vector per input, the same for the same input, floats or base64 float32; logged with the chat requests, under the same limits', async () => {
    const server = await start({ rateLimit: { maxRequests: 3, windowMs: 60_000 } });
    const floats = (await (await embed(server, { model: 'e', input: ['a', 'b'], dimensions: 4 })).json()) as { data: { index: number; embedding: number[] }[]; usage: object };
    expect(floats.data.map((d) => d.index)).toEqual([0, 1]);
    expect(floats.data[0]?.embedding).toHaveLength(4);
    expect(floats.data[0]?.embedding).not.toEqual(floats.data[1]?.embedding);
    expect(floats.usage).toEqual({ prompt_tokens: 2, total_tokens: 2 });
    const b64 = (await (await embed(server, { model: 'e', input: 'a', dimensions: 4, encoding_format: 'base64' })).json()) as { data: { embedding: string }[] };
    const decoded = [...new Float32Array(new Uint8Array(Buffer.from(b64.data[0]?.embedding ?? '', 'base64')).buffer)];
    expect(decoded).toEqual(floats.data[0]?.embedding);
    expect((await chat(server)).status).toBe(200);
    expect((await embed(server, { model: 'e', input: 'c' })).status).toBe(429);
    expect(server.log.map((e) => [e.endpoint, e.status])).toEqual([['embeddings', 200], ['embeddings', 200], ['chat', 200], ['embeddings', 429]]);
  });

  it('plays the model’s steps: a status, a cut-off JSON; refuses a body that is not an embeddings request', async () => {
    const server = await start();
    server.script('e', { type: 'status', status: 503 }, { type: 'truncated' });
    expect((await embed(server, { model: 'e', input: 'a' })).status).toBe(503);
    const cut = await embed(server, { model: 'e', input: 'a' });
    await expect(cut.text()).rejects.toThrow(TypeError);
    expect((await embed(server, { model: 'e', input: [] })).status).toBe(400);
    expect((await embed(server, { model: 'e', input: 'a', dimensions: 0 })).status).toBe(400);
  });
});
