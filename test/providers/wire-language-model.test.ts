/**
 * The model `run` uses for OpenAI-compatible providers (providers/wire-language-model.ts: Pantheon's
 * own client) against `@ai-sdk/openai-compatible`'s chat model, the one it replaces, on the same
 * calls to the scripted provider over real HTTP: the same request bodies, byte for byte (files,
 * images, reasoning, tool calls and results, tools, options); the same stream parts and generate
 * results; the same errors (message, status, body, retryable) and the scheduler's same reading of
 * them (retry-policy.ts) for HTTP errors, broken and cut-off answers, resets, refused connections
 * and aborts. Differences the model makes on purpose (see its file) are left out of the comparison.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { JSONSchema7, LanguageModelV4, LanguageModelV4CallOptions, LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wireTarget } from '../../src/providers/openai-wire.ts';
import { wireLanguageModel } from '../../src/providers/wire-language-model.ts';
import { classifyFailure, DEFAULT_RETRY } from '../../src/scheduler/retry-policy.ts';
import { startScriptedServer, type ScriptedServer, type Step } from '../support/openai-server.ts';

const KEY = 'sk-wire-model-test';
let server: ScriptedServer;

beforeAll(async () => {
  server = await startScriptedServer({ apiKey: KEY, models: { m: {} } });
});
afterAll(async () => {
  await server?.close();
});

/** Both models of provider `p` for upstream model `m` at `baseURL`, with the provider options given. */
function models(baseURL = server.url, providerId = 'p', supportsStructuredOutputs?: boolean): { sdk: LanguageModelV4; wire: LanguageModelV4 } {
  const structured = supportsStructuredOutputs === undefined ? {} : { supportsStructuredOutputs };
  const sdk = createOpenAICompatible({ name: providerId, baseURL, apiKey: KEY, includeUsage: true, ...structured }).chatModel('m') as unknown as LanguageModelV4;
  const target = wireTarget({ providerId, baseURL, apiKey: KEY, providerOptions: {}, env: {}, ...structured });
  if (!target) throw new Error('no wire target');
  return { sdk, wire: wireLanguageModel({ providerId, upstreamId: 'm', wire: target, sdkModel: async () => sdk }) };
}

const user = (text: string): LanguageModelV4CallOptions['prompt'][number] => ({ role: 'user', content: [{ type: 'text', text }] });

/** What the scheduler makes of an error (kind, status, message), or the error's own name and message. */
function reading(error: unknown) {
  const f = classifyFailure(error, DEFAULT_RETRY, undefined, 0);
  const e = error as { name?: string; message?: string; statusCode?: number; isRetryable?: boolean; responseBody?: string; data?: unknown };
  return { kind: f.kind, status: f.status, message: f.message, name: e?.name, statusCode: e?.statusCode, isRetryable: e?.isRetryable, responseBody: e?.responseBody, data: e?.data };
}

/** A stream's parts as compared: no response metadata or input deltas (the wire model sends neither), no raw usage or finish metadata; errors read as the scheduler reads them. */
function comparable(parts: LanguageModelV4StreamPart[]) {
  return parts
    .filter((p) => p.type !== 'response-metadata' && p.type !== 'tool-input-delta')
    .map((p) => {
      if (p.type === 'finish') return { type: p.type, finishReason: p.finishReason, usage: { inputTokens: p.usage.inputTokens, outputTokens: p.usage.outputTokens } };
      if (p.type === 'error') return { type: p.type, error: reading(p.error) };
      return p;
    });
}

/** A streamed call: its parts (compared), or what it threw (read as the scheduler reads it). */
async function streamed(model: LanguageModelV4, options: LanguageModelV4CallOptions) {
  try {
    const { stream } = await model.doStream(options);
    const parts: LanguageModelV4StreamPart[] = [];
    const reader = stream.getReader();
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      parts.push(r.value);
    }
    return { parts: comparable(parts) };
  } catch (error) {
    return { thrown: reading(error) };
  }
}

async function generated(model: LanguageModelV4, options: LanguageModelV4CallOptions) {
  try {
    const r = await model.doGenerate(options);
    return { content: r.content.map((c) => (c.type === 'tool-call' ? { ...c, toolCallId: c.toolCallId.length > 0 } : c)), finishReason: r.finishReason, usage: r.usage, providerMetadata: r.providerMetadata, warnings: r.warnings };
  } catch (error) {
    return { thrown: reading(error) };
  }
}

/** The same call through both models, each answered by `steps`: [sdk result, wire result, sdk body, wire body]. */
async function both<T>(call: (model: LanguageModelV4) => Promise<T>, steps: Step[], baseURL?: string, supportsStructuredOutputs?: boolean) {
  const { sdk, wire } = models(baseURL, 'p', supportsStructuredOutputs);
  server.script('m', ...steps);
  const before = server.log.length;
  const a = await call(sdk);
  server.script('m', ...steps);
  const b = await call(wire);
  const bodies = server.log.slice(before).map((e) => JSON.stringify((e as { body?: unknown }).body));
  return { sdk: a, wire: b, bodies };
}

describe('the wire model against @ai-sdk/openai-compatible', () => {
  it('sends the same body, byte for byte: system, files, images, reasoning, tool calls and results, tools, tool choice, options; streamed with usage', async () => {
    const options: LanguageModelV4CallOptions = {
      prompt: [
        { role: 'system', content: 'be brief' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'file', mediaType: 'image/png', data: { type: 'data', data: new Uint8Array([137, 80, 78, 71, 1, 2, 3]) } },
            { type: 'file', mediaType: 'image/jpeg', data: { type: 'url', url: new URL('https://example.com/cat.jpg') } },
            { type: 'file', mediaType: 'text/plain', data: { type: 'data', data: new TextEncoder().encode('notes') } },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'reasoning', text: 'thinking' },
            { type: 'text', text: 'reading' },
            { type: 'tool-call', toolCallId: 'c1', toolName: 'read', input: { path: 'a.txt' } },
          ],
        },
        { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'c1', toolName: 'read', output: { type: 'json', value: { text: 'hi' } } }] },
        user('and now?'),
      ] as LanguageModelV4CallOptions['prompt'],
      tools: [{ type: 'function', name: 'read', description: 'Read a file', inputSchema: { type: 'object', properties: { path: { type: 'string' } } } }],
      toolChoice: { type: 'auto' },
      maxOutputTokens: 99,
      temperature: 0.2,
      topP: 0.9,
      stopSequences: ['END'],
      seed: 7,
      providerOptions: { p: { reasoningEffort: 'high', user: 'u1', top_k: 3 } },
    };
    const s = await both((m) => streamed(m, options), [{ type: 'text', text: 'ok' }]);
    expect(s.bodies).toHaveLength(2);
    expect(s.bodies[1]).toBe(s.bodies[0]);
    expect(s.wire).toEqual(s.sdk);
    const g = await both((m) => generated(m, options), [{ type: 'text', text: 'ok' }]);
    expect(g.bodies[1]).toBe(g.bodies[0]);
    expect(g.wire).toEqual(g.sdk);
  });

  it('a JSON schema: asked as json_schema (strict or not, named or not) where the provider supports structured outputs, as json_object with a warning elsewhere', async () => {
    const schema: JSONSchema7 = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };
    const calls: [LanguageModelV4CallOptions, boolean | undefined][] = [
      [{ prompt: [user('json')], responseFormat: { type: 'json', schema, name: 'verdict', description: 'yes or no' } }, true],
      [{ prompt: [user('json')], responseFormat: { type: 'json', schema }, providerOptions: { p: { strictJsonSchema: false } } }, true],
      [{ prompt: [user('json')], responseFormat: { type: 'json', schema } }, false],
      [{ prompt: [user('json')], responseFormat: { type: 'json', schema } }, undefined],
      [{ prompt: [user('json')], responseFormat: { type: 'json' } }, true],
    ];
    for (const [options, structured] of calls) {
      const g = await both((m) => generated(m, options), [{ type: 'text', text: '{"ok":true}' }], undefined, structured);
      expect(g.bodies[1], JSON.stringify([options.responseFormat, structured])).toBe(g.bodies[0]);
      expect(g.wire).toEqual(g.sdk);
      const format = (JSON.parse(g.bodies[1] as string) as { response_format: { type: string } }).response_format;
      expect(format.type).toBe(structured && 'schema' in (options.responseFormat ?? {}) ? 'json_schema' : 'json_object');
    }
  });

  it('the same parts and results: text with usage, tool calls with text, a length finish', async () => {
    const plain: LanguageModelV4CallOptions = { prompt: [user('hi')] };
    for (const step of [
      { type: 'text', text: 'Hello there, how are you?', usage: { prompt_tokens: 12, completion_tokens: 6 } },
      { type: 'tool_calls', text: 'Let me look.', calls: [{ name: 'read', arguments: { path: 'a' }, id: 'c1' }, { name: 'glob', arguments: '{"pattern":"*.ts"}', id: 'c2' }] },
      { type: 'text', text: 'cut short', finishReason: 'length' },
    ] as Step[]) {
      const s = await both((m) => streamed(m, plain), [step]);
      expect(s.wire, step.type).toEqual(s.sdk);
      const g = await both((m) => generated(m, plain), [step]);
      expect(g.wire, step.type).toEqual(g.sdk);
    }
  });

  it('the same parts for reasoning (both fields and thinking parts), a refusal and Gemini’s thought signatures on tool calls', async () => {
    const chunk = (delta: object, finish: string | null = null) => `data: ${JSON.stringify({ id: 'r1', model: 'm', created: 1700000000, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const bodies = [
      chunk({ reasoning_content: 'think ' }) + chunk({ reasoning: 'more' }) + chunk({ content: [{ type: 'thinking', thinking: [{ type: 'text', text: ' deep' }] }, { type: 'text', text: 'Answer' }] }) + chunk({}, 'stop'),
      chunk({ refusal: 'I cannot' }) + chunk({}, 'stop'),
      chunk({ tool_calls: [{ index: 0, id: 'g1', type: 'function', function: { name: 'read', arguments: '' }, extra_content: { google: { thought_signature: 'sig==' } } }] }) +
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"path":"a"}' } }] }) +
        chunk({}, 'tool_calls'),
    ];
    let body = '';
    const raw = http.createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`${body}data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":4,"completion_tokens_details":{"reasoning_tokens":2}}}\n\ndata: [DONE]\n\n`);
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    try {
      const { sdk, wire } = models(`http://127.0.0.1:${(raw.address() as AddressInfo).port}/v1`);
      for (const b of bodies) {
        body = b;
        const a = await streamed(sdk, { prompt: [user('hi')] });
        const w = await streamed(wire, { prompt: [user('hi')] });
        expect(w, b).toEqual(a);
      }
      expect(JSON.stringify((await streamed(wire, { prompt: [user('hi')] })).parts)).toContain('"providerMetadata":{"p":{"thoughtSignature":"sig=="}}');
    } finally {
      raw.closeAllConnections();
      await new Promise((resolve) => raw.close(resolve));
    }
  });

  it('the same errors, read the same way: 400, 401, 429 with Retry-After, 500, a text body, an empty body', async () => {
    const plain: LanguageModelV4CallOptions = { prompt: [user('hi')] };
    for (const step of [
      { type: 'status', status: 400, message: 'bad request here' },
      { type: 'status', status: 401 },
      { type: 'status', status: 429, retryAfter: 3 },
      { type: 'status', status: 500 },
      { type: 'status', status: 503, body: 'upstream busy' },
      { type: 'status', status: 502, body: '' },
    ] as Step[]) {
      const s = await both((m) => streamed(m, plain), [step]);
      expect(s.wire, JSON.stringify(step)).toEqual(s.sdk);
      expect(s.wire.thrown?.statusCode).toBe(step.type === 'status' ? step.status : undefined);
      const g = await both((m) => generated(m, plain), [step]);
      expect(g.wire, JSON.stringify(step)).toEqual(g.sdk);
    }
  });

  it('broken answers are read the same way: a body that is not JSON, one cut short, a reset connection', async () => {
    const plain: LanguageModelV4CallOptions = { prompt: [user('hi')] };
    const steps: Step[] = [{ type: 'bad_json' }, { type: 'truncated', text: 'half an answer' }, { type: 'truncated', text: 'half', abrupt: true }, { type: 'reset' }];
    let said = 0;
    for (const step of steps) {
      const s = await both((m) => streamed(m, plain), [step]);
      const kinds = (r: typeof s.sdk) => ('thrown' in r ? [r.thrown?.kind, r.thrown?.status] : (r.parts ?? []).filter((p) => p.type === 'error' || p.type === 'finish').map((p) => ('error' in p ? [p.error?.kind, p.error?.status] : p.finishReason)));
      expect(kinds(s.wire), JSON.stringify(step)).toEqual(kinds(s.sdk));
      const g = await both((m) => generated(m, plain), [step]);
      const gk = (r: typeof g.sdk) => ('thrown' in r ? [r.thrown?.kind, r.thrown?.status, r.thrown?.name] : r.finishReason);
      expect(gk(g.wire), JSON.stringify(step)).toEqual(gk(g.sdk));
      // What broke the answer is said, not only that it broke.
      const failures = [...('thrown' in s.wire ? [s.wire.thrown] : (s.wire.parts ?? []).flatMap((p) => ('error' in p ? [p.error] : []))), ...('thrown' in g.wire ? [g.wire.thrown] : [])];
      for (const f of failures) {
        if (!/^Failed to process/.test(f?.message ?? '')) continue;
        expect(f?.message, JSON.stringify(step)).toMatch(/^Failed to process successful response: \S/);
        said += 1;
      }
    }
    expect(said).toBeGreaterThan(0);
  });

  it('a web page where the API should be (200 text/html): named as such, streamed or not, instead of a stream cut short', async () => {
    const page = http.createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><html><body>Open WebUI</body></html>');
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    try {
      const { wire } = models(`http://127.0.0.1:${(page.address() as AddressInfo).port}`);
      const hint = 'the answer is text/html, not an event stream (is the base URL the API’s own, e.g. http://host:port/v1, rather than a web page?)';
      expect((await streamed(wire, { prompt: [user('hi')] })).thrown).toMatchObject({ kind: 'retryable', status: 'bad_response', message: hint });
      expect((await generated(wire, { prompt: [user('hi')] })).thrown).toMatchObject({ kind: 'retryable', status: 'bad_response', message: hint.replace('an event stream', 'JSON') });
    } finally {
      page.closeAllConnections();
      await new Promise((resolve) => page.close(resolve));
    }
  });

  it('a refused connection is "Cannot connect to API" and retried; an abort rejects with the signal’s reason', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const { sdk, wire } = models(`http://127.0.0.1:${port}/v1`);
    const plain: LanguageModelV4CallOptions = { prompt: [user('hi')] };
    const a = await streamed(sdk, plain);
    const b = await streamed(wire, plain);
    expect(b).toEqual(a);
    expect(b.thrown).toMatchObject({ kind: 'retryable', status: 'network', isRetryable: true });
    expect(b.thrown?.message).toMatch(/^Cannot connect to API: connect ECONNREFUSED/);

    const hung = models();
    for (const model of [hung.sdk, hung.wire]) {
      server.script('m', { type: 'hang' });
      const controller = new AbortController();
      const reason = new Error('stop now');
      const pending = model.doStream({ prompt: [user('hi')], abortSignal: controller.signal });
      await server.waitFor((log) => log.some((e) => e.endedAt === null));
      controller.abort(reason);
      await expect(pending).rejects.toBe(reason);
      await server.waitFor((log) => log.every((e) => e.endedAt !== null));
    }
  });

  it('hands a call it does not read itself to the package’s model: options under openaiCompatible', async () => {
    const { wire } = models();
    const sdkCalls: string[] = [];
    const target = wireTarget({ providerId: 'p', baseURL: server.url, apiKey: KEY, providerOptions: {}, env: {} });
    const spy = wireLanguageModel({
      providerId: 'p',
      upstreamId: 'm',
      wire: target as NonNullable<typeof target>,
      sdkModel: async () => {
        sdkCalls.push('built');
        return models().sdk;
      },
    });
    server.script('m', { type: 'text', text: 'via the SDK' });
    const r = await streamed(spy, { prompt: [user('hi')], providerOptions: { openaiCompatible: { user: 'x' } } });
    expect(sdkCalls).toEqual(['built']);
    expect((r.parts ?? []).flatMap((p) => (p.type === 'text-delta' ? [p.delta] : [])).join('')).toBe('via the SDK');
    expect((server.log.at(-1) as { body?: { user?: string } }).body?.user).toBe('x');
    expect(wire.provider).toBe('p.chat');
  });
});
