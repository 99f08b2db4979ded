/**
 * Property-based tests of what clients send the server (fast-check), against the real `opencode serve`
 * and the scripted provider: request bodies (arbitrary JSON, text that is not JSON, valid bodies with
 * one field replaced by anything, arbitrary messages, input items, parts, tools and text) for the
 * OpenAI gateway's chat completions, Responses API, text completions and embeddings, OpenCode's prompt route and the
 * REST API's prompt; any path segment or query
 * value on the GET routes; any value of the headers the gateway reads. Every answer must be a 2xx or
 * a 4xx (never a 5xx: nothing a client sends makes the server fail), an error in its API's own JSON
 * shape with a message, and the server must stay healthy; only what is passed on reaches the provider.
 * `npm test` uses a fixed seed and a modest count; PANTHEON_FUZZ_RUNS and PANTHEON_FUZZ_SEED=random
 * (as `npm run fuzz:config` sets them) run more.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasStack, providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { getJson, serve, type Served } from './serve-helper.ts';

const RUNS = Number(process.env.PANTHEON_FUZZ_RUNS ?? 150);
const SEED = process.env.PANTHEON_FUZZ_SEED === 'random' ? Date.now() % 2 ** 31 : Number(process.env.PANTHEON_FUZZ_SEED ?? 20261204);
const TIMEOUT = Math.max(90_000, RUNS * 600);

let model: ScriptedServer;
let sb: Sandbox;
let s: Served;
let headers: Record<string, string>;

beforeAll(async () => {
  model = await startScriptedServer({ apiKey: SECRET, models: { m: {} } });
  sb = await sandbox();
  sb.write('opencode.json', { ...providerConfig(model, { m: {} }), model: 'p/m', cache: { enabled: false }, retry: { maxRetries: 0 } });
  s = await serve(sb);
  headers = { 'content-type': 'application/json', 'x-opencode-directory': encodeURIComponent(sb.project) };
});

afterAll(async () => {
  const stopped = await s?.stop();
  await model?.close();
  await sb?.remove();
  // Nothing a client sent made the server log a failure or a stack.
  expect(stopped?.stderr ?? '').not.toMatch(/^error:/m);
  expect(hasStack(stopped?.stderr ?? '')).toBe(false);
});

const FIELDS = ['model', 'messages', 'stream', 'stream_options', 'tools', 'tool_choice', 'temperature', 'top_p', 'max_tokens', 'max_completion_tokens', 'stop', 'seed', 'n', 'response_format', 'user', 'parts', 'agent', 'system', 'text', 'callback_url', 'callback_secret', 'input', 'instructions', 'max_output_tokens', 'previous_response_id', 'reasoning', 'encoding_format', 'dimensions', 'input_type', '__proto__', 'constructor'];
const anything = fc.jsonValue({ maxDepth: 4 });
const part = fc.record({ type: fc.oneof(fc.constantFrom('text', 'image_url', 'file'), fc.string()), text: anything, image_url: anything, url: anything }, { requiredKeys: [] });
const message = fc.record(
  {
    role: fc.oneof(fc.constantFrom('system', 'developer', 'user', 'assistant', 'tool'), fc.string()),
    content: fc.oneof(fc.string(), anything, fc.array(part, { maxLength: 3 })),
    tool_call_id: fc.oneof(fc.string(), anything),
    tool_calls: fc.oneof(anything, fc.array(fc.record({ id: fc.string(), type: fc.constant('function'), function: fc.record({ name: fc.string(), arguments: fc.oneof(fc.string(), anything) }) }, { requiredKeys: [] }), { maxLength: 2 })),
  },
  { requiredKeys: ['role'] },
);
/** A Responses API input item: a message, a function call or its output, or anything of the kind. */
const inputItem = fc.record(
  {
    type: fc.oneof(fc.constantFrom('message', 'function_call', 'function_call_output', 'reasoning', 'item_reference'), fc.string()),
    role: fc.oneof(fc.constantFrom('user', 'assistant', 'system', 'developer'), fc.string()),
    content: fc.oneof(fc.string(), anything, fc.array(fc.record({ type: fc.oneof(fc.constantFrom('input_text', 'output_text', 'input_image', 'input_file'), fc.string()), text: anything, image_url: anything }, { requiredKeys: [] }), { maxLength: 3 })),
    call_id: fc.oneof(fc.constantFrom('c1', 'c2'), anything),
    name: fc.oneof(fc.string(), anything),
    arguments: fc.oneof(fc.constantFrom('{}', '{"a":1}', '{not json'), anything),
    output: fc.oneof(fc.string(), anything),
  },
  { requiredKeys: [] },
);
const tool = fc.record({ type: fc.oneof(fc.constant('function'), fc.string()), function: fc.record({ name: fc.string(), description: anything, parameters: anything }, { requiredKeys: [] }) }, { requiredKeys: [] });

/** Bodies for a route whose valid body is `base`: anything, not JSON at all, or `base` with one part replaced. */
function bodies(base: Record<string, unknown>): fc.Arbitrary<string> {
  return fc.oneof(
    anything.map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 200 }),
    fc.tuple(fc.constantFrom(...FIELDS), anything).map(([k, v]) => JSON.stringify({ ...base, [k]: v })),
    fc.array(message, { maxLength: 4 }).map((messages) => JSON.stringify({ ...base, messages })),
    fc.array(part, { maxLength: 4 }).map((parts) => JSON.stringify({ ...base, parts })),
    fc.array(tool, { maxLength: 3 }).map((tools) => JSON.stringify({ ...base, tools })),
    fc.array(inputItem, { maxLength: 4 }).map((input) => JSON.stringify({ ...base, input })),
    // Any text at all where text goes (control characters, lone surrogates, escapes).
    fc.string({ unit: 'binary', maxLength: 80 }).map((t) => JSON.stringify({ ...base, ...('messages' in base ? { messages: [{ role: 'user', content: t }] } : {}), ...('parts' in base ? { parts: [{ type: 'text', text: t }] } : {}), ...('text' in base ? { text: t } : {}), ...('input' in base ? { input: t } : {}) })),
  );
}

/** Sends one body; checks the answer is a 2xx or a 4xx in the API's error shape. Returns the status and the error's code. */
async function send(path: string, body: string, errorMessage: (b: unknown) => unknown): Promise<{ status: number; code?: unknown }> {
  const res = await fetch(`${s.url}${path}`, { method: 'POST', headers, body });
  const text = await res.text();
  const where = `POST ${path} ${JSON.stringify(body.slice(0, 300))} → ${res.status} ${text.slice(0, 300)}`;
  expect(res.status, where).toBeLessThan(500);
  if (res.status >= 400) {
    expect(res.headers.get('content-type') ?? '', where).toContain('application/json');
    const message = errorMessage(JSON.parse(text));
    expect(typeof message === 'string' && message.length > 0, where).toBe(true);
    expect(hasStack(String(message)), where).toBe(false);
    return { status: res.status, code: (JSON.parse(text) as { error?: { code?: unknown } }).error?.code };
  }
  return { status: res.status };
}

async function newSession(path: string): Promise<string> {
  const made = await getJson(`${s.url}${path}`, { method: 'POST', headers, body: '{}' });
  return (made.body as { id: string }).id;
}

/** Text for a header value: anything a client can put on the wire there (fetch refuses control characters but tab). */
const headerText = fc.oneof(fc.string({ unit: 'binary-ascii', maxLength: 60 }).map((t) => [...t].filter((c) => c === '\t' || (c >= ' ' && c !== '\x7f')).join('').trim()), fc.constantFrom('-1', '0', '1e999', 'NaN', 'Infinity', '', 'Bearer', 'Bearer ', 'Basic ::::', 'a'.repeat(4000)));
/** Text for a path segment or a query value, as a client would encode it. */
const urlText = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('..', '.', '%', '%00', '-1', '0', '1e999', 'NaN', 'null', '__proto__', 'a'.repeat(3000)));

describe('the server under arbitrary query strings, path segments and headers', () => {
  it(
    'GET routes with any path segment or query: a 2xx or a 4xx in the API’s error shape',
    async () => {
      const routes: [string, (x: string) => string][] = [
        ['/api/v1/sessions', (x) => `/api/v1/sessions?limit=${encodeURIComponent(x)}&before=${encodeURIComponent(x)}`],
        ['/api/v1/tasks/{id}', (x) => `/api/v1/tasks/${encodeURIComponent(x)}`],
        ['/api/v1/sessions/{id}', (x) => `/api/v1/sessions/${encodeURIComponent(x)}`],
        ['/api/v1/models/{p}/{m}', (x) => `/api/v1/models/${encodeURIComponent(x)}/${encodeURIComponent(x)}`],
        ['/v1/models/{model}', (x) => `/v1/models/${encodeURIComponent(x)}`],
        ['/session/{id}', (x) => `/session/${encodeURIComponent(x)}`],
        ['/session/{id}/message', (x) => `/session/${encodeURIComponent(x)}/message?limit=${encodeURIComponent(x)}`],
        ['/session?directory=', (x) => `/session?directory=${encodeURIComponent(x)}`],
      ];
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...routes), urlText, async ([, path], x) => {
          const url = path(x);
          const res = await fetch(`${s.url}${url}`, { headers: { 'x-opencode-directory': encodeURIComponent(sb.project) } });
          const text = await res.text();
          const where = `GET ${url.slice(0, 200)} → ${res.status} ${text.slice(0, 300)}`;
          expect(res.status, where).toBeLessThan(500);
          if (res.status >= 400) {
            expect(res.headers.get('content-type') ?? '', where).toContain('application/json');
            // The shape of the API the path ends up in (a client resolves `..` before sending).
            const gateway = /^\/(api\/)?v1(\/|$)/.test(new URL(res.url).pathname);
            const body = JSON.parse(text) as { error?: { message?: unknown }; data?: { message?: unknown } };
            const m = gateway ? body.error?.message : body.data?.message;
            expect(typeof m === 'string' && m.length > 0, where).toBe(true);
          }
        }),
        { numRuns: RUNS, seed: SEED },
      );
    },
    TIMEOUT,
  );

  it(
    'POST /v1/chat/completions with any value of the headers it reads: answered, and only a sane request id echoed',
    async () => {
      const body = JSON.stringify({ model: 'p/m', messages: [{ role: 'user', content: 'hi' }] });
      const names = ['x-pantheon-max-wait', 'x-stainless-timeout', 'x-request-id', 'x-opencode-directory', 'authorization', 'content-type'];
      await fc.assert(
        fc.asyncProperty(fc.dictionary(fc.constantFrom(...names), headerText, { maxKeys: 4 }), async (extra) => {
          const res = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...extra }, body });
          const text = await res.text();
          const where = `headers ${JSON.stringify(extra)} → ${res.status} ${text.slice(0, 300)}`;
          expect(res.status, where).toBeLessThan(500);
          if (res.status >= 400) expect((JSON.parse(text) as { error?: { message?: unknown } }).error?.message, where).toEqual(expect.any(String));
          // The client's id when it is a sane one, else one of the server's: never a hostile one echoed.
          const id = res.headers.get('x-request-id') ?? '';
          expect(id, where).toMatch(/^[\w.:-]{1,128}$/);
          if (/^[\w.:-]{1,128}$/.test(extra['x-request-id'] ?? '')) expect(id, where).toBe(extra['x-request-id']);
        }),
        { numRuns: RUNS, seed: SEED },
      );
    },
    TIMEOUT,
  );
});

describe('the server under arbitrary request bodies', () => {
  // The gateway's model routes: chat completions, the Responses API, text completions, embeddings.
  const gateway: [string, Record<string, unknown>][] = [
    ['/v1/chat/completions', { model: 'p/m', messages: [{ role: 'user', content: 'hi' }] }],
    ['/v1/responses', { model: 'p/m', input: 'hi' }],
    ['/v1/completions', { model: 'p/m', prompt: 'hi' }],
    ['/v1/embeddings', { model: 'p/m', input: 'hi' }],
  ];
  for (const [path, base] of gateway) {
    it(
      `POST ${path}: a 2xx or an OpenAI-shaped 4xx, and only accepted bodies reach the provider`,
      async () => {
        let accepted = 0;
        let forwarded = 0;
        const sentBefore = model.log.length;
        await fc.assert(
          fc.asyncProperty(bodies(base), async (body) => {
            const { status, code } = await send(path, body, (b) => (b as { error?: { message?: unknown } }).error?.message);
            if (status === 200) accepted += 1;
            // Fields the gateway passes on untouched; the provider refuses what it does not take, and the client gets its 400.
            if (status === 200 || code === 'provider_bad_request') forwarded += 1;
          }),
          { numRuns: RUNS, seed: SEED },
        );
        // The gateway's own 4xx are answered before anything is sent: the provider saw exactly the bodies passed on.
        expect(model.log.length - sentBefore).toBe(forwarded);
        expect(accepted).toBeGreaterThan(0);
        expect((await getJson(`${s.url}/global/health`)).status).toBe(200);
      },
      TIMEOUT,
    );
  }

  // A session's prompt in OpenCode's API and in the guide's REST API: a session made first, then the bodies.
  const prompts: [string, string, string, Record<string, unknown>, (b: unknown) => unknown][] = [
    ['POST /session/{id}/message (OpenCode’s API): a 2xx or an OpenCode-shaped 4xx', '/session', '/message', { parts: [{ type: 'text', text: 'hi' }] }, (b) => (b as { data?: { message?: unknown } }).data?.message],
    ['POST /api/v1/sessions/{id}/prompt (the guide’s REST API): a 2xx or a 4xx in its error shape', '/api/v1/sessions', '/prompt', { text: 'hi' }, (b) => (b as { error?: { message?: unknown } }).error?.message],
    // The task's callback: anything at all where its URL and secret go (a URL that is not http(s), or points back at the server, is a 400).
    ['POST /api/v1/sessions/{id}/prompt_async: a 202 or a 4xx in its error shape', '/api/v1/sessions', '/prompt_async', { text: 'hi', callback_url: 'http://127.0.0.1:9/hook' }, (b) => (b as { error?: { message?: unknown } }).error?.message],
  ];
  for (const [name, sessions, prompt, base, message] of prompts) {
    it(
      name,
      async () => {
        const id = await newSession(sessions);
        await fc.assert(
          fc.asyncProperty(bodies(base), async (body) => {
            await send(`${sessions}/${id}${prompt}`, body, message);
          }),
          { numRuns: RUNS, seed: SEED },
        );
        expect((await getJson(`${s.url}/global/health`)).status).toBe(200);
      },
      TIMEOUT,
    );
  }
});
