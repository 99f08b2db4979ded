/**
 * The gateway's own client for OpenAI-compatible providers (providers/openai-wire.ts: no AI SDK on
 * the way) keeps every guarantee of a scheduled request, driven over real HTTP with the official
 * `openai` client against the scripted provider: a rate limit shared with `opencode run`s beside
 * the server holds; usage reaches the usage log; 5xx and 429 are retried and fall back; a stream
 * cut off mid-answer is asked again without repeating text; tools go up and tool calls come back;
 * the body sent upstream is the one the AI SDK would send; the cache answers repeats; an upstream
 * error that echoes the key never shows it.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { v2Calls } from './sdk-clients.ts';
import { collect } from './sdk-helper.ts';
import { getJson, serve, type Served } from './serve-helper.ts';

const LIMIT = { maxRequests: 2, windowMs: 1000 };

let sb: Sandbox;
let model: ScriptedServer;
let s: Served;
let client: OpenAI;

beforeAll(async () => {
  model = await startScriptedServer({ apiKey: SECRET, models: { m: {}, f: {}, b: {}, lim: { rateLimit: LIMIT }, tuned: {}, cached: {}, x: {}, 'moonshotai/kimi-k2-instruct': {} } });
  sb = await sandbox();
  const { provider } = providerConfig(model, {
    m: {},
    f: {},
    b: {},
    lim: { rateLimit: LIMIT },
    tuned: { id: 'tuned-upstream', limit: { context: 8000, output: 321 }, temperature: false, options: { reasoningEffort: 'high', top_k: 7 } },
    cached: {},
    // The fields, logprobs and cache-key tests' own model (p/m's usage is counted by another test).
    x: {},
    // A family OpenCode samples at 0.6 in agent runs (sampling-defaults.ts).
    k2: { id: 'moonshotai/kimi-k2-instruct' },
  }) as { provider: Record<string, object> };
  sb.write('opencode.json', {
    // The same server as a provider that takes JSON schemas (OpenCode hands `supportsStructuredOutputs` to the package).
    provider: { ...provider, ps: { npm: '@ai-sdk/openai-compatible', options: { baseURL: model.url, apiKey: SECRET, supportsStructuredOutputs: true }, models: { x: {} } } },
    model: 'p/m',
    fallbacks: ['p/f'],
    agent: { cachey: { model: 'p/cached' }, limited: { model: 'p/lim', fallbacks: [] }, thinker: { model: 'p/x', fallbacks: [], reasoningEffort: 'low', options: { top_k: 2 } } },
    cache: { enabled: true, store: 'memory' },
    retry: { maxRetries: 1, baseDelay: 10, maxDelay: 20 },
    // Failures scripted in one test do not put p/m in cooldown for the next.
    cooldown: { afterFailures: 100, ms: 1000 },
  });
  s = await serve(sb);
  client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'unused-open-server', maxRetries: 0 });
});

afterAll(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
});

interface Usage {
  requests: number;
  inputTokens: number;
  outputTokens: number;
}

/**
 * `model`'s usage today as `opencode stats` (another process) reads it from the usage log. The
 * server writes a call's usage row with its next write or within 100 ms (docs/state.md), so, when
 * `requests` are expected, the log is read again until it holds them (at most 10 s).
 */
async function usageOf(model: string, requests = 0): Promise<Usage> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await sb.run(['stats', '--days', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const usage = (JSON.parse(r.stdout) as { byModel: Record<string, Usage> }).byModel[model] ?? { requests: 0, inputTokens: 0, outputTokens: 0 };
    if (usage.requests >= requests || Date.now() > deadline) return usage;
  }
}

/** A prompt the cache has never seen. */
let n = 0;
const fresh = (text = 'hi') => `${text} #${++n}`;

describe('/v1 on an OpenAI-compatible provider (Pantheon’s own client)', () => {
  it('sends the body the AI SDK would: upstream id, key, output limit, no refused temperature, the model’s options, developer as system, usage asked on streams', async () => {
    const prompt = fresh('tuned');
    await client.chat.completions.create({ model: 'p/tuned', temperature: 0.3, messages: [{ role: 'developer', content: 'be brief' }, { role: 'user', content: [{ type: 'text', text: prompt }] }] });
    const sent = model.log.at(-1);
    expect(sent?.model).toBe('tuned-upstream');
    expect(sent?.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(sent?.body).toMatchObject({ model: 'tuned-upstream', max_tokens: 321, reasoning_effort: 'high', top_k: 7, messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: prompt }] });
    expect((sent?.body as Record<string, unknown>).temperature).toBeUndefined();
    expect((sent?.body as Record<string, unknown>).stream).toBeUndefined();
    const stream = await client.chat.completions.create({ model: 'p/tuned', max_tokens: 50, messages: [{ role: 'user', content: fresh() }], stream: true });
    for await (const _ of stream) void _;
    expect(model.log.at(-1)?.body).toMatchObject({ stream: true, stream_options: { include_usage: true }, max_tokens: 50 });
  });

  it('sends the client’s sampling as it is: none of the model family defaults an agent run sends (OpenCode’s)', async () => {
    await client.chat.completions.create({ model: 'p/k2', messages: [{ role: 'user', content: fresh('k2') }] });
    const sent = model.log.at(-1)?.body as Record<string, unknown>;
    expect(sent.model).toBe('moonshotai/kimi-k2-instruct');
    expect(sent).not.toHaveProperty('temperature');
    await client.chat.completions.create({ model: 'p/k2', temperature: 0.9, messages: [{ role: 'user', content: fresh('k2') }] });
    expect(model.log.at(-1)?.body).toMatchObject({ temperature: 0.9 });
  });

  it('the client’s other fields go up as they are, beneath the model’s own options; a null is a field not given; OpenAI’s bookkeeping fields are not sent; the legacy `functions` are a 400', async () => {
    const platform = { store: false, metadata: { team: 'a' }, prompt_cache_key: 'k', prompt_cache_retention: '24h', safety_identifier: 'u', client_metadata: { x: 1 } };
    const fields = { reasoning_effort: 'low', parallel_tool_calls: false, user: 'u-1', logit_bias: { '50256': -100 }, top_k: 3, chat_template_kwargs: { thinking: true }, service_tier: null, ...platform };
    const sent = async (name: string) => {
      await client.chat.completions.create({ model: name, messages: [{ role: 'user', content: fresh() }], ...fields } as OpenAI.ChatCompletionCreateParamsNonStreaming);
      return model.log.at(-1)?.body as Record<string, unknown>;
    };
    const plain = await sent('p/x');
    expect(plain).toMatchObject({ model: 'x', reasoning_effort: 'low', parallel_tool_calls: false, user: 'u-1', logit_bias: { '50256': -100 }, top_k: 3, chat_template_kwargs: { thinking: true } });
    expect(plain).not.toHaveProperty('service_tier');
    for (const name of Object.keys(platform)) expect(plain).not.toHaveProperty(name);
    // p/tuned's config sets reasoningEffort "high" and top_k 7: the model's own options win.
    expect(await sent('p/tuned')).toMatchObject({ model: 'tuned-upstream', reasoning_effort: 'high', top_k: 7, user: 'u-1', parallel_tool_calls: false });
    // Streamed, the same fields go up.
    const stream = await client.chat.completions.create({ model: 'p/x', messages: [{ role: 'user', content: fresh() }], stream: true, ...fields } as OpenAI.ChatCompletionCreateParamsStreaming);
    for await (const _ of stream) void _;
    expect(model.log.at(-1)?.body).toMatchObject({ stream: true, reasoning_effort: 'low', user: 'u-1', top_k: 3 });
    const count = model.log.length;
    const legacy = await fetch(`${s.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'p/x', messages: [{ role: 'user', content: fresh() }], functions: [{ name: 'f', parameters: { type: 'object' } }] }),
    });
    expect(legacy.status).toBe(400);
    expect(await legacy.json()).toMatchObject({ error: { type: 'invalid_request_error', param: 'functions', message: expect.stringContaining('legacy form of tools') } });
    expect(model.log.length).toBe(count);
  });

  it('agent/<name> calls the agent’s models with its model options, which win over the client’s fields as a model’s own do', async () => {
    await client.chat.completions.create({ model: 'agent/thinker', messages: [{ role: 'user', content: fresh() }], user: 'u-2', reasoning_effort: 'high' });
    expect(model.log.at(-1)?.body).toMatchObject({ model: 'x', reasoning_effort: 'low', top_k: 2, user: 'u-2' });
  });

  it('logprobs asked for come back as the provider gave them, JSON and streamed, and are never answered from the cache', async () => {
    const prompt = fresh('probabilities');
    model.script('x', { type: 'text', chunks: ['one ', 'two'] }, { type: 'text', chunks: ['one ', 'two'] });
    const json = await client.chat.completions.create({ model: 'p/x', logprobs: true, messages: [{ role: 'user', content: prompt }] });
    expect(json.choices[0]?.logprobs?.content?.map((t) => [t.token, t.logprob])).toEqual([
      ['one ', -0.1],
      ['two', -0.2],
    ]);
    const count = model.log.length;
    const chunks = [];
    for await (const chunk of await client.chat.completions.create({ model: 'p/x', logprobs: true, messages: [{ role: 'user', content: prompt }], stream: true })) chunks.push(chunk);
    // Asked again: the provider is, since the cache keeps no log probabilities.
    expect(model.log.length).toBe(count + 1);
    expect(chunks.flatMap((c) => c.choices[0]?.logprobs?.content ?? []).map((t) => [t.token, t.logprob])).toEqual([
      ['one ', -0.1],
      ['two', -0.2],
    ]);
    // Without logprobs, none come back.
    const without = await client.chat.completions.create({ model: 'p/x', messages: [{ role: 'user', content: fresh() }] });
    expect(without.choices[0]?.logprobs).toBeNull();
  });

  it('a JSON schema goes up as given to a provider with supportsStructuredOutputs, as json_object to one without', async () => {
    const format = { type: 'json_schema' as const, json_schema: { name: 'verdict', strict: true, schema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'], additionalProperties: false } } };
    for (const [name, expected] of [
      ['ps/x', format],
      ['p/x', { type: 'json_object' }],
    ] as const) {
      model.script('x', { type: 'text', text: '{"ok":true}' });
      const answer = await client.chat.completions.create({ model: name, response_format: format, messages: [{ role: 'user', content: fresh('json') }] });
      expect(answer.choices[0]?.message.content).toBe('{"ok":true}');
      expect(model.log.at(-1)?.body, name).toMatchObject({ response_format: expected });
    }
  });

  it('usage carries the prompt-cache reads and reasoning tokens the provider reported, JSON and streamed', async () => {
    const reported = { prompt_tokens: 20, completion_tokens: 8, cached_tokens: 12, reasoning_tokens: 5 };
    model.script('x', { type: 'text', text: 'thought it over', usage: reported }, { type: 'text', text: 'thought it over', usage: reported });
    const details = { prompt_tokens: 20, completion_tokens: 8, total_tokens: 28, prompt_tokens_details: { cached_tokens: 12 }, completion_tokens_details: { reasoning_tokens: 5 } };
    const json = await client.chat.completions.create({ model: 'p/x', messages: [{ role: 'user', content: fresh() }] });
    expect(json.usage).toEqual(details);
    const chunks = [];
    for await (const chunk of await client.chat.completions.create({ model: 'p/x', messages: [{ role: 'user', content: fresh() }], stream: true, stream_options: { include_usage: true } })) chunks.push(chunk);
    expect(chunks.at(-1)?.usage).toEqual(details);
  });

  it('the response cache tells requests apart by every field that changes the answer', async () => {
    const prompt = fresh('cache key');
    const ask = (extra: Record<string, unknown>) =>
      client.chat.completions.create({ model: 'p/x', messages: [{ role: 'user', content: prompt }], ...extra } as OpenAI.ChatCompletionCreateParamsNonStreaming).withResponse();
    const variants = [{}, { seed: 1 }, { seed: 2 }, { stop: ['x'] }, { presence_penalty: 0.5 }, { frequency_penalty: 0.5 }, { response_format: { type: 'json_object' } }, { user: 'other' }, { top_k: 5 }];
    for (const extra of variants) {
      const count = model.log.length;
      const { response } = await ask(extra);
      expect(response.headers.get('x-pantheon-cache'), JSON.stringify(extra)).toBeNull();
      expect(model.log.length, JSON.stringify(extra)).toBe(count + 1);
    }
    // Each asked again is a hit.
    for (const extra of variants) {
      const { response } = await ask(extra);
      expect(response.headers.get('x-pantheon-cache'), JSON.stringify(extra)).toBe('hit');
    }
  });

  it('JSON and streamed answers: text, finish reason, usage, x-pantheon-model; the usage reaches the usage log', async () => {
    const before = await usageOf('p/m');
    model.script('m', { type: 'text', text: 'plain answer', usage: { prompt_tokens: 11, completion_tokens: 4 } });
    const { data, response } = await client.chat.completions.create({ model: 'p/m', messages: [{ role: 'user', content: fresh() }] }).withResponse();
    expect(data.choices[0]?.message.content).toBe('plain answer');
    expect(data.choices[0]?.finish_reason).toBe('stop');
    expect(data.usage).toEqual({ prompt_tokens: 11, completion_tokens: 4, total_tokens: 15, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } });
    expect(data.model).toBe('p/m');
    expect(response.headers.get('x-pantheon-model')).toBe('p/m');
    model.script('m', { type: 'text', chunks: ['al', 'pha ', 'beta'], usage: { prompt_tokens: 9, completion_tokens: 3 } });
    const chunks = [];
    for await (const chunk of await client.chat.completions.create({ model: 'p/m', messages: [{ role: 'user', content: fresh() }], stream: true, stream_options: { include_usage: true } })) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('alpha beta');
    expect(chunks.at(-1)?.usage).toEqual({ prompt_tokens: 9, completion_tokens: 3, total_tokens: 12, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } });
    // Without include_usage the client gets no usage chunk (the provider was asked for one all the same).
    model.script('m', { type: 'text', text: 'quiet', usage: { prompt_tokens: 5, completion_tokens: 2 } });
    const quiet = [];
    for await (const chunk of await client.chat.completions.create({ model: 'p/m', messages: [{ role: 'user', content: fresh() }], stream: true })) quiet.push(chunk);
    expect(quiet.every((c) => c.choices.length === 1 && !c.usage)).toBe(true);
    const after = await usageOf('p/m', before.requests + 3);
    expect(after.requests - before.requests).toBe(3);
    expect(after.inputTokens - before.inputTokens).toBe(11 + 9 + 5);
    expect(after.outputTokens - before.outputTokens).toBe(4 + 3 + 2);
  });

  it('what a call leaves until after its answer is sent all happens, once and in order: step_finish with its usage, done, the lane freed', async () => {
    const abort = new AbortController();
    const events = collect(await v2Calls(s.url, sb.project).events(abort.signal));
    try {
      await events.until((e) => e.type === 'server.connected');
      const calls = [
        { usage: { prompt_tokens: 7, completion_tokens: 2 }, stream: false },
        { usage: { prompt_tokens: 8, completion_tokens: 3 }, stream: true },
      ];
      for (const call of calls) {
        const before = events.events.length;
        model.script('m', { type: 'text', text: 'booked', usage: call.usage });
        if (call.stream) for await (const chunk of await client.chat.completions.create({ model: 'p/m', messages: [{ role: 'user', content: fresh() }], stream: true })) void chunk;
        else await client.chat.completions.create({ model: 'p/m', messages: [{ role: 'user', content: fresh() }] });
        const isDone = (e: (typeof events.events)[number]) => events.events.indexOf(e) >= before && e.type === 'pantheon.done';
        await expect.poll(() => events.events.some(isDone), { message: 'the call’s done event', timeout: 10_000 }).toBe(true);
        const done = events.events.find(isDone) as (typeof events.events)[number];
        const session = done.properties.sessionID as string;
        expect(session).toMatch(/^gw_/);
        const own = events.events.filter((e) => e.properties.sessionID === session && e.type.startsWith('pantheon.')).map((e) => e.type);
        expect(own).toEqual(['pantheon.step_start', 'pantheon.step_finish', 'pantheon.done']);
        const usage = { inputTokens: call.usage.prompt_tokens, outputTokens: call.usage.completion_tokens };
        expect(events.events.find((e) => e.properties.sessionID === session && e.type === 'pantheon.step_finish')?.properties.usage).toEqual(usage);
        expect(done.properties).toMatchObject({ status: 'success', usage });
        const state = (await getJson(`${s.url}/api/state`)).body as { lanes: { model: string; inFlight: number }[] };
        expect(state.lanes.find((l) => l.model === 'p/m')).toMatchObject({ inFlight: 0 });
      }
    } finally {
      abort.abort();
    }
  });

  it('a 500 is retried, then the chain falls back; a 429 with a long Retry-After falls back at once', async () => {
    const from = model.log.length;
    model.script('m', { type: 'status', status: 500, repeat: 2 });
    const { data, response } = await client.chat.completions.create({ model: 'p/m', messages: [{ role: 'user', content: fresh('five hundred') }] }).withResponse();
    expect(response.headers.get('x-pantheon-model')).toBe('p/f');
    expect(data.choices[0]?.message.content).toMatch(/^echo: five hundred/);
    expect(model.log.slice(from).map((e) => [e.model, e.status])).toEqual([
      ['m', 500],
      ['m', 500],
      ['f', 200],
    ]);
    const next = model.log.length;
    // (on a model of its own: what the 429 announces keeps its lane closed for 30 s)
    model.script('b', { type: 'status', status: 429, retryAfter: 30 });
    const chunks = [];
    const stream = await client.chat.completions.create({ model: 'p/b', messages: [{ role: 'user', content: fresh('busy') }], stream: true }).withResponse();
    for await (const chunk of stream.data) chunks.push(chunk);
    expect(stream.response.headers.get('x-pantheon-model')).toBe('p/f');
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toMatch(/^echo: busy/);
    expect(model.log.slice(next).map((e) => [e.model, e.status])).toEqual([
      ['b', 429],
      ['f', 200],
    ]);
  });

  it('a stream cut off mid-answer is asked again, and the client gets its text once', async () => {
    model.script('m', { type: 'truncated', text: 'the quick brown' }, { type: 'text', chunks: ['the quick ', 'brown fox'] });
    const chunks = [];
    for await (const chunk of await client.chat.completions.create({ model: 'p/m', messages: [{ role: 'user', content: fresh() }], stream: true })) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('the quick brown fox');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('tools go up as given; tool calls come back, JSON and streamed', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'lookup', description: 'Look a word up', parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } } }];
    model.script('m', { type: 'tool_calls', calls: [{ name: 'lookup', arguments: { q: 'wire' }, id: 'call_w1' }] });
    const first = await client.chat.completions.create({ model: 'p/m', tools, tool_choice: { type: 'function', function: { name: 'lookup' } }, messages: [{ role: 'user', content: fresh('look up wire') }] });
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    expect(first.choices[0]?.message.tool_calls?.[0]).toMatchObject({ id: 'call_w1', type: 'function', function: { name: 'lookup', arguments: '{"q":"wire"}' } });
    expect(model.log.at(-1)?.body).toMatchObject({ tools, tool_choice: { type: 'function', function: { name: 'lookup' } } });
    model.script('m', { type: 'tool_calls', calls: [{ name: 'lookup', arguments: { q: 'stream' }, id: 'call_w2' }, { name: 'lookup', arguments: { q: 'two' }, id: 'call_w3' }] });
    const final = await client.chat.completions.stream({ model: 'p/m', tools, messages: [{ role: 'user', content: fresh('look up two') }] }).finalChatCompletion();
    expect(final.choices[0]?.message.tool_calls?.map((c) => [c.id, (c as { function: { arguments: string } }).function.arguments])).toEqual([
      ['call_w2', '{"q":"stream"}'],
      ['call_w3', '{"q":"two"}'],
    ]);
    const answer = await client.chat.completions.create({
      model: 'p/m',
      tools,
      messages: [{ role: 'user', content: 'look up wire' }, first.choices[0]?.message as OpenAI.ChatCompletionMessageParam, { role: 'tool', tool_call_id: 'call_w1', content: [{ type: 'text', text: '{"found":true}' }] }],
    });
    expect(answer.choices[0]?.message.content).toBe('echo: look up wire');
    expect((model.log.at(-1)?.messages as object[]).slice(1)).toMatchObject([
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_w1', type: 'function', function: { name: 'lookup' } }] },
      { role: 'tool', tool_call_id: 'call_w1', content: '{"found":true}' },
    ]);
  });

  it('the response cache answers a repeat, JSON and streamed, without a request upstream', async () => {
    const prompt = fresh('cache me');
    const first = await client.chat.completions.create({ model: 'agent/cachey', messages: [{ role: 'user', content: prompt }] });
    const count = model.log.length;
    const { data, response } = await client.chat.completions.create({ model: 'agent/cachey', messages: [{ role: 'user', content: prompt }] }).withResponse();
    expect(response.headers.get('x-pantheon-cache')).toBe('hit');
    expect(data.choices[0]?.message.content).toBe(first.choices[0]?.message.content);
    const chunks = [];
    for await (const chunk of await client.chat.completions.create({ model: 'agent/cachey', messages: [{ role: 'user', content: prompt }], stream: true })) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(first.choices[0]?.message.content);
    expect(model.log.length).toBe(count);
  });

  it('Cache-Control: no-cache asks the provider again (and keeps the fresh answer); no-store neither reads nor keeps', async () => {
    const ask = (content: string, control?: string) =>
      client.chat.completions.create({ model: 'agent/cachey', messages: [{ role: 'user', content }] }, control ? { headers: { 'cache-control': control } } : {}).withResponse();
    const prompt = fresh('fresh please');
    await ask(prompt);
    const count = model.log.length;
    model.script('cached', { type: 'text', text: 'a newer answer' });
    const fresher = await ask(prompt, 'no-cache');
    expect(fresher.response.headers.get('x-pantheon-cache')).toBeNull();
    expect(fresher.data.choices[0]?.message.content).toBe('a newer answer');
    expect(model.log.length).toBe(count + 1);
    // The fresh answer is what the cache holds now (kept once the answer is sent).
    let again = await ask(prompt);
    for (let i = 0; i < 50 && again.data.choices[0]?.message.content !== 'a newer answer'; i++) again = await ask(prompt);
    expect(again.response.headers.get('x-pantheon-cache')).toBe('hit');
    expect(again.data.choices[0]?.message.content).toBe('a newer answer');
    const unkept = fresh('never kept');
    expect((await ask(unkept, 'max-age=0, No-Store')).response.headers.get('x-pantheon-cache')).toBeNull();
    const after = model.log.length;
    expect((await ask(unkept)).response.headers.get('x-pantheon-cache')).toBeNull();
    expect(model.log.length).toBe(after + 1);
  });

  it('a provider’s refusal keeps its own code and param (context_length_exceeded), unless they are not short tokens or hold the key', async () => {
    const refusal = (code: unknown, param: unknown) => ({ type: 'status' as const, status: 400 as const, body: { error: { message: 'This model’s maximum context length is 8192 tokens.', type: 'invalid_request_error', param, code } } });
    const ask = () => client.chat.completions.create({ model: 'p/x', messages: [{ role: 'user', content: fresh() }] }).then(() => undefined, (error: unknown) => error as InstanceType<typeof OpenAI.BadRequestError>);
    model.script('x', refusal('context_length_exceeded', 'messages'));
    const error = await ask();
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect([error?.status, error?.code, error?.param, error?.type]).toEqual([400, 'context_length_exceeded', 'messages', 'invalid_request_error']);
    expect(error?.message).toContain('maximum context length is 8192 tokens');
    for (const [code, param] of [
      ['not a token, with spaces', `key ${SECRET}`],
      [42, SECRET],
    ]) {
      model.script('x', refusal(code, param));
      const other = await ask();
      expect([other?.status, other?.code, other?.param], String(code)).toEqual([400, 'provider_bad_request', null]);
      expect(JSON.stringify(other?.error)).not.toContain(SECRET);
    }
  });

  it('an upstream error that echoes the key: a 400 for the client, the key masked', async () => {
    model.script('m', { type: 'status', status: 400, message: `invalid request (key ${SECRET})` });
    const res = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'p/m', messages: [{ role: 'user', content: fresh() }] }) });
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(JSON.parse(text)).toMatchObject({ error: { type: 'invalid_request_error', message: expect.stringContaining('invalid request') } });
    expect(text).not.toContain(SECRET);
  });

  it('a rate limit shared with `opencode run`s beside the server holds: none refused upstream, never more than the window allows', async () => {
    const runs = [sb.run(['run', '--agent', 'limited', 'cli one']), sb.run(['run', '--agent', 'limited', 'cli two'])];
    const requests = Array.from({ length: 4 }, (_, i) =>
      i % 2 === 0
        ? client.chat.completions.create({ model: 'agent/limited', messages: [{ role: 'user', content: fresh('gateway') }] }, { headers: { 'x-pantheon-max-wait': '20000' } })
        : client.chat.completions.create({ model: 'agent/limited', messages: [{ role: 'user', content: fresh('gateway') }], stream: true }, { headers: { 'x-pantheon-max-wait': '20000' } }).then(async (stream) => {
            for await (const _ of stream) void _;
          }),
    );
    await Promise.all(requests);
    for (const r of await Promise.all(runs)) expect(r.code, r.stderr).toBe(0);
    const stats = model.stats();
    expect(stats.models.lim?.requests).toBe(6);
    expect(stats.models.lim?.overLimit).toBe(0);
    expect(stats.maxStartsInWindow('lim', LIMIT.windowMs)).toBeLessThanOrEqual(LIMIT.maxRequests);
  });
});
