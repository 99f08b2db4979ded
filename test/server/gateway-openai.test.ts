/**
 * The OpenAI-compatible gateway (/v1) driven by the official `openai` npm client against a real
 * `opencode serve`, with the scripted OpenAI-compatible server as the provider: chat, streaming with
 * usage, tools passed through, fallbacks and agents, OpenAI-shaped errors.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { serve, type Served } from './serve-helper.ts';

/** The usage details of a provider that reported none (as the AI SDK reads it, and OpenAI sends them: zeros). */
const NONE_DETAILED = { prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } };

let sb: Sandbox;
let model: ScriptedServer;
let s: Served;
let client: OpenAI;

beforeAll(async () => {
  model = await startScriptedServer({ apiKey: SECRET, models: { m: {}, f: {}, bad: {}, 'meta/llama-3.3-70b': {} } });
  sb = await sandbox();
  sb.write('opencode.json', {
    ...providerConfig(model, { m: {}, f: {}, bad: {}, 'meta/llama-3.3-70b': {} }),
    model: 'p/m',
    fallbacks: ['p/f'],
    agent: { helper: { model: 'p/f', fallbacks: ['p/m'] } },
    cache: { enabled: false },
    retry: { maxRetries: 1, baseDelay: 10 },
  });
  s = await serve(sb);
  client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'unused-open-server', maxRetries: 0 });
});

afterAll(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
});

describe('/v1 with the openai client', () => {
  it('chat: the answer, its usage, and x-pantheon-model', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'p/m', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello there' }] }).withResponse();
    expect(data.choices[0]?.message.content).toBe('echo: hello there');
    expect(data.choices[0]?.finish_reason).toBe('stop');
    expect(data.object).toBe('chat.completion');
    expect(data.usage?.total_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-pantheon-model')).toBe('p/m');
    const sent = model.log.at(-1);
    expect(sent?.model).toBe('m');
    expect(sent?.messages?.[0]).toMatchObject({ role: 'system', content: 'be brief' });
  });

  it('streaming with stream_options.include_usage: deltas, a finish reason, then a usage chunk', async () => {
    model.script('m', { type: 'text', chunks: ['one ', 'two ', 'three'], usage: { prompt_tokens: 7, completion_tokens: 3 } });
    const stream = await client.chat.completions.create({ model: 'p/m', messages: [{ role: 'user', content: 'count' }], stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('one two three');
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)?.usage).toEqual({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10, ...NONE_DETAILED });
    expect(chunks.at(-1)?.choices).toEqual([]);
  });

  it('tools: the model’s tool call comes back to the client, and the client’s tool result goes up', async () => {
    model.script('m', { type: 'tool_calls', calls: [{ name: 'get_weather', arguments: { city: 'Paris' }, id: 'call_1' }] });
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
    const first = await client.chat.completions.create({ model: 'p/m', messages: [{ role: 'user', content: 'weather in Paris?' }], tools, tool_choice: 'auto' });
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call).toMatchObject({ id: 'call_1', type: 'function', function: { name: 'get_weather' } });
    expect(JSON.parse((call as { function: { arguments: string } }).function.arguments)).toEqual({ city: 'Paris' });
    expect(model.log.at(-1)?.tools?.[0]).toMatchObject({ type: 'function', function: { name: 'get_weather' } });
    model.script('m', { type: 'text', text: 'Sunny, 21 °C.' });
    const second = await client.chat.completions.create({
      model: 'p/m',
      tools,
      messages: [{ role: 'user', content: 'weather in Paris?' }, first.choices[0]?.message as OpenAI.ChatCompletionMessageParam, { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' }],
    });
    expect(second.choices[0]?.message.content).toBe('Sunny, 21 °C.');
    const upstream = model.log.at(-1)?.messages as { role: string; tool_call_id?: string; content?: unknown; tool_calls?: unknown[] }[];
    expect(upstream.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
    expect(upstream[1]?.tool_calls).toHaveLength(1);
    expect(upstream[2]).toMatchObject({ tool_call_id: 'call_1', content: '{"temp":21}' });
  });

  it('streamed tool calls arrive as tool_calls deltas', async () => {
    model.script('m', { type: 'tool_calls', calls: [{ name: 'lookup', arguments: { q: 'x' }, id: 'call_9' }] });
    const stream = client.chat.completions.stream({ model: 'p/m', messages: [{ role: 'user', content: 'look it up' }], tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }] });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]?.message.tool_calls?.[0]).toMatchObject({ id: 'call_9', function: { name: 'lookup', arguments: '{"q":"x"}' } });
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('a refused key upstream falls back along the chain; x-pantheon-model names the fallback', async () => {
    model.script('m', { type: 'status', status: 401 });
    const { data, response } = await client.chat.completions.create({ model: 'p/m', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(data.choices[0]?.message.content).toBe('echo: hi');
    expect(response.headers.get('x-pantheon-model')).toBe('p/f');
    expect(data.model).toBe('p/f');
  });

  it('agent/<name> runs on that agent’s chain', async () => {
    const { response } = await client.chat.completions.create({ model: 'agent/helper', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(response.headers.get('x-pantheon-model')).toBe('p/f');
  });

  it('/metrics counts the gateway’s own overhead per model', async () => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    const count = /pantheon_gateway_overhead_seconds_count\{provider="p",model="p\/m"\} (\d+)/.exec(text);
    expect(Number(count?.[1])).toBeGreaterThanOrEqual(3);
  });

  it('models: configured models and agents', async () => {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(expect.arrayContaining(['p/m', 'p/f', 'p/meta/llama-3.3-70b', 'agent/helper']));
  });

  it('models.retrieve: a model or an agent by its id (encoded as the client sends it, or as a path of any depth); an unknown one is model_not_found', async () => {
    const m = await client.models.retrieve('p/m');
    expect(m).toMatchObject({ id: 'p/m', object: 'model', owned_by: 'p' });
    expect(typeof m.created).toBe('number');
    expect(await client.models.retrieve('agent/helper')).toMatchObject({ id: 'agent/helper', object: 'model', owned_by: 'pantheon' });
    // curl's form: the id's slashes as they are, however many (a NIM model's id has its own).
    const plain = await fetch(`${s.url}/v1/models/p/f`);
    expect(plain.status).toBe(200);
    expect(await plain.json()).toMatchObject({ id: 'p/f', object: 'model' });
    expect(await client.models.retrieve('p/meta/llama-3.3-70b')).toMatchObject({ id: 'p/meta/llama-3.3-70b', owned_by: 'p' });
    const deep = await fetch(`${s.url}/v1/models/p/meta/llama-3.3-70b`);
    expect(deep.status).toBe(200);
    expect(await deep.json()).toMatchObject({ id: 'p/meta/llama-3.3-70b' });
    const missing = await client.models.retrieve('p/nope').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect((missing as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
    expect((missing as InstanceType<typeof OpenAI.NotFoundError>).param).toBe('model');
    expect((missing as Error).message).toContain('p/nope');
    // A model the config turns off is not there either, and a long id is cut short in the message.
    const long = await fetch(`${s.url}/v1/models/${encodeURIComponent(`p/${'x'.repeat(5000)}`)}`);
    expect(long.status).toBe(404);
    const body = (await long.json()) as { error: { message: string; type: string } };
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message.length).toBeLessThan(400);
    // Not a route for other methods: 405, OpenAI-shaped.
    const del = await fetch(`${s.url}/v1/models/p%2Fm`, { method: 'DELETE' });
    expect(del.status).toBe(405);
    expect(((await del.json()) as { error: { code: string } }).error.code).toBe('method_not_allowed');
  });

  it('errors are OpenAI-shaped with the right status', async () => {
    const unknown = await client.chat.completions.create({ model: 'p/nope', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect((unknown as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
    expect((unknown as Error).message).toContain('p/nope');

    const noAgent = await client.chat.completions.create({ model: 'agent/ghost', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(noAgent).toBeInstanceOf(OpenAI.NotFoundError);

    const role = await client.chat.completions.create({ model: 'p/m', messages: [{ role: 'wizard', content: 'x' } as never] }).catch((e: unknown) => e);
    expect(role).toBeInstanceOf(OpenAI.BadRequestError);
    expect((role as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('messages[0].role');

    const orphan = await client.chat.completions.create({ model: 'p/m', messages: [{ role: 'tool', tool_call_id: 'nope', content: 'x' }] }).catch((e: unknown) => e);
    expect(orphan).toBeInstanceOf(OpenAI.BadRequestError);
    expect((orphan as Error).message).toContain('tool_call_id');

    const schema = await client.chat.completions
      .create({ model: 'p/m', messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: 't', parameters: { type: 'object', properties: { a: { type: 'strnig' } } } } }] })
      .catch((e: unknown) => e);
    expect(schema).toBeInstanceOf(OpenAI.BadRequestError);
    expect((schema as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('tools[0].function.parameters');

    const upstream400 = model.log.length;
    model.script('m', { type: 'status', status: 400 });
    const refused = await client.chat.completions.create({ model: 'p/m', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(model.log.length).toBe(upstream400 + 1);
  });
});
