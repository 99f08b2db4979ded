/**
 * `POST /v1/responses` (OpenAI's Responses API) driven by the official `openai` npm client against a
 * real `opencode serve`, with the scripted OpenAI-compatible server as the provider: text, function
 * calls and their outputs, the SSE events (through the client's own `responses.stream()` helper,
 * which checks their order), an answer cut at `max_output_tokens`, a stream that breaks, fallbacks
 * and agents, and what the gateway refuses, named (stored responses: gateway-responses-stored.test.ts).
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { serve, type Served } from './serve-helper.ts';

let sb: Sandbox;
let upstream: ScriptedServer;
let s: Served;
let client: OpenAI;

const weather = { type: 'function' as const, name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: false };
const post = (body: unknown) => fetch(`${s.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

beforeAll(async () => {
  upstream = await startScriptedServer({ apiKey: SECRET, models: { m: {}, f: {} } });
  sb = await sandbox();
  sb.write('opencode.json', {
    ...providerConfig(upstream, { m: {}, f: {} }),
    model: 'p/m',
    fallbacks: ['p/f'],
    agent: { helper: { model: 'p/f', fallbacks: [] } },
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

describe('/v1/responses with the openai client', () => {
  it('text: output_text, usage, x-pantheon-model; instructions go up as the system message', async () => {
    upstream.script('m', { type: 'text', text: 'Short answer.', usage: { prompt_tokens: 9, completion_tokens: 3, cached_tokens: 4 } });
    const { data, response } = await client.responses.create({ model: 'p/m', instructions: 'be brief', input: 'hello there' }).withResponse();
    expect(data.object).toBe('response');
    expect(data.id).toMatch(/^resp_/);
    expect(data.status).toBe('completed');
    expect(data.output_text).toBe('Short answer.');
    expect(data.output).toEqual([{ type: 'message', id: expect.stringMatching(/^msg_/), status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Short answer.', annotations: [] }] }]);
    expect(data.usage).toEqual({ input_tokens: 9, input_tokens_details: { cached_tokens: 4 }, output_tokens: 3, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 12 });
    expect(data.model).toBe('p/m');
    expect(data.instructions).toBe('be brief');
    expect(response.headers.get('x-pantheon-model')).toBe('p/m');
    expect(upstream.log.at(-1)?.messages).toEqual([{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello there' }]);
  });

  it('function calls: the call comes back as a function_call item, and its output goes up as chat’s tool message', async () => {
    upstream.script('m', { type: 'tool_calls', calls: [{ name: 'get_weather', arguments: { city: 'Paris' }, id: 'call_1' }] });
    const first = await client.responses.create({ model: 'p/m', input: 'weather in Paris?', tools: [weather], tool_choice: 'auto' });
    expect(first.output).toEqual([{ type: 'function_call', id: expect.stringMatching(/^fc_/), call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}', status: 'completed' }]);
    expect(upstream.log.at(-1)?.tools).toEqual([{ type: 'function', function: { name: 'get_weather', description: 'Weather of a city', parameters: weather.parameters } }]);
    upstream.script('m', { type: 'text', text: 'Sunny, 21 °C.' });
    const second = await client.responses.create({
      model: 'p/m',
      tools: [weather],
      input: [{ role: 'user', content: 'weather in Paris?' }, ...(first.output as OpenAI.Responses.ResponseInputItem[]), { type: 'function_call_output', call_id: 'call_1', output: '{"temp":21}' }],
    });
    expect(second.output_text).toBe('Sunny, 21 °C.');
    expect(upstream.log.at(-1)?.messages).toEqual([
      { role: 'user', content: 'weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' },
    ]);
  });

  it('streaming: the client’s responses.stream() takes the events in order and builds the same response', async () => {
    upstream.script('m', { type: 'text', chunks: ['one ', 'two ', 'three'], usage: { prompt_tokens: 4, completion_tokens: 3 } });
    const stream = client.responses.stream({ model: 'p/m', input: 'count' });
    const types: string[] = [];
    const sequence: number[] = [];
    for await (const event of stream) {
      types.push(event.type);
      sequence.push(event.sequence_number);
    }
    const final = await stream.finalResponse();
    expect(final.output_text).toBe('one two three');
    expect(final.usage?.total_tokens).toBe(7);
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(sequence).toEqual(types.map((_, i) => i));
  });

  it('a streamed function call: added, its arguments, done', async () => {
    upstream.script('m', { type: 'tool_calls', calls: [{ name: 'get_weather', arguments: { city: 'Oslo' }, id: 'call_9' }] });
    const stream = client.responses.stream({ model: 'p/m', input: 'weather in Oslo?', tools: [weather] });
    const args: string[] = [];
    stream.on('response.function_call_arguments.done', (e) => args.push(e.arguments));
    const final = await stream.finalResponse();
    expect(args).toEqual(['{"city":"Oslo"}']);
    expect(final.output).toMatchObject([{ type: 'function_call', call_id: 'call_9', name: 'get_weather', arguments: '{"city":"Oslo"}', status: 'completed' }]);
  });

  it('cut at max_output_tokens: incomplete, with the reason; text.format and reasoning.effort go up as chat’s fields', async () => {
    upstream.script('m', { type: 'text', text: 'a long answer that goes on and on and on' });
    const cut = await client.responses.create({ model: 'p/m', input: 'go', max_output_tokens: 3, text: { format: { type: 'json_object' } }, reasoning: { effort: 'low' } });
    expect(cut.status).toBe('incomplete');
    expect(cut.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(upstream.log.at(-1)?.body).toMatchObject({ max_tokens: 3, response_format: { type: 'json_object' }, reasoning_effort: 'low' });
  });

  it('fallbacks and agents as for chat', async () => {
    upstream.script('m', { type: 'status', status: 503 }, { type: 'status', status: 503 });
    const { data, response } = await client.responses.create({ model: 'p/m', input: 'anyone?' }).withResponse();
    expect(response.headers.get('x-pantheon-model')).toBe('p/f');
    expect(data.model).toBe('p/f');
    const agent = await client.responses.create({ model: 'agent/helper', input: 'hi' }).withResponse();
    expect(agent.response.headers.get('x-pantheon-model')).toBe('p/f');
  });

  it('a stream that keeps breaking ends with an error event and response.failed', async () => {
    upstream.script('m', { type: 'truncated', text: 'the quick brown' }, { type: 'truncated', text: 'the quick brown' });
    const res = await post({ model: 'p/m', input: 'go', stream: true });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text();
    const events = [...text.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]);
    expect(events.slice(0, 2)).toEqual(['response.created', 'response.in_progress']);
    expect(events.slice(-2)).toEqual(['error', 'response.failed']);
    const failed = JSON.parse(text.trim().split('\n').at(-1)?.slice('data: '.length) ?? '{}') as { response: { status: string; error: { message: string } } };
    expect(failed.response.status).toBe('failed');
    expect(failed.response.error.message).toContain('cut off');
  });

  it('a client that goes away mid-stream cancels the provider’s request, and the server goes on', async () => {
    upstream.script('m', { type: 'slow', text: 'a b c d e f g h', chunks: ['a ', 'b ', 'c ', 'd ', 'e ', 'f ', 'g ', 'h'], chunkDelayMs: 200 });
    const before = upstream.log.length;
    const gone = new AbortController();
    const res = await fetch(`${s.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'p/m', input: 'long answer', stream: true }), signal: gone.signal });
    const reader = res.body?.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    let got = '';
    while (!got.includes('response.output_text.delta')) got += new TextDecoder().decode((await reader.read()).value);
    gone.abort();
    await upstream.waitFor((log) => log.length === before + 1 && log[before]?.endedAt !== null);
    expect(upstream.log[before]).toMatchObject({ clientAborted: true });
    expect((await client.responses.create({ model: 'p/m', input: 'still there?' })).output_text).toBe('echo: still there?');
  });

  it('what it cannot do, named: a 400 with the field as sent, nothing sent upstream', async () => {
    const before = upstream.log.length;
    const cases: [unknown, number, string, string | null][] = [
      [{ model: 'p/m', input: 'hi', previous_response_id: 'resp_1' }, 400, "Previous response with id 'resp_1' not found.", 'previous_response_id'],
      [{ model: 'p/m', input: 'hi', background: true, store: false }, 400, 'background: a background response must be stored; it cannot be made with store: false.', 'background'],
      [{ model: 'p/m', input: 'hi', tools: [{ type: 'web_search' }] }, 400, 'tools[0].type: only "function" tools go through the gateway, found "web_search".', 'tools[0].type'],
      [{ model: 'p/m', input: 'hi', tools: [{ type: 'function', name: 'f', parameters: { type: 'string' } }] }, 400, 'tools[0].parameters: expected a schema of "type": "object"', 'tools[0].parameters'],
      [{ model: 'p/m', input: 'hi', tools: [weather], tool_choice: { type: 'function', name: 'nope' } }, 400, 'tool_choice.name: no function tool named "nope" in tools.', 'tool_choice.name'],
      [{ model: 'p/m', input: [{ role: 'user', content: 'hi' }, { type: 'function_call_output', call_id: 'c9', output: 'x' }] }, 400, 'input[1].call_id: no earlier function_call has call_id "c9".', 'input[1].call_id'],
      [{ model: 'p/m', input: [{ type: 'function_call', call_id: 'c1', name: 'f', arguments: '{not json' }] }, 400, 'input[0].arguments: expected the call’s arguments as a JSON text.', 'input[0].arguments'],
      [{ model: 'p/m', input: [{ type: 'item_reference', id: 'msg_1' }] }, 400, "input[0].id: no stored item 'msg_1'.", 'input[0].id'],
      [{ model: 'p/m', input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file-1' }] }] }, 400, 'input[0].content[0].image_url: expected an https or data: URL.', 'input[0].content[0].image_url'],
      [{ model: 'p/m', input: [{ role: 'user', content: [{ type: 'input_file', file_data: 'x' }] }] }, 400, 'input[0].content[0].type: expected "input_text", "output_text" or "input_image", found "input_file".', 'input[0].content[0].type'],
      [{ model: 'p/m', input: [] }, 400, 'input: must not be empty.', 'input'],
      [{ model: 'p/m', input: [{ role: 'robot', content: 'x' }] }, 400, 'body field "input[0].role": expected one of', 'input[0].role'],
      [{ model: 'p/m' }, 400, 'body field "input": is required.', 'input'],
      [{ model: 'p/nope', input: 'hi' }, 404, 'model "p/nope": provider "p" has no model "nope".', null],
    ];
    for (const [body, status, message, param] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body).slice(0, 100)).toBe(status);
      const error = ((await res.json()) as { error: { message: string; type: string; param: string | null } }).error;
      expect(error.message).toContain(message);
      expect(error.param).toBe(param);
    }
    expect(upstream.log.length).toBe(before);
  });
});
