/**
 * Pantheon's own client for OpenAI-compatible chat completions (`@ai-sdk/openai-compatible`
 * providers: NVIDIA NIM, OpenCode Zen, local servers). Every call to such a model goes through it
 * (wire-language-model.ts); the gateway (`/v1`), which already holds the request in OpenAI's
 * format, sends it as it is: the client's body goes up with the model's id and options
 * substituted, over one keep-alive `node:http(s)` request, and the answer is read into the AI SDK's
 * stream parts (openai-wire-parts.ts). The body sent is the one `@ai-sdk/openai-compatible` would
 * send for the same request; what it costs is a fraction (no fetch, web streams or schema
 * validation per chunk: bench/gateway.ts).
 */
import type http from 'node:http';
import { urlToHttpOptions } from 'node:url';
import type https from 'node:https';
import type { SharedV4ProviderOptions } from '@ai-sdk/provider';
import { urlBasicAuth } from '../basic-auth.ts';

export interface WireTarget {
  /** `<baseURL>/chat/completions` with the provider's query parameters. */
  url: URL;
  /** Authorization (from the credential), the provider's and model's configured headers. Secret: never logged. */
  headers: Record<string, string>;
  /** Body fields from the model's options and variant, as the AI SDK maps them (`reasoningEffort` → `reasoning_effort`, …). */
  fields: Record<string, unknown>;
  /** Ask for usage on streams (`stream_options.include_usage`; the provider's `includeUsage`, default true). */
  includeUsage: boolean;
  /** The provider takes `response_format: {type: "json_schema"}` (its `supportsStructuredOutputs`, default false: asked as `json_object`). */
  structuredOutputs: boolean;
}

export interface WireTargetSpec {
  providerId: string;
  baseURL: string;
  apiKey?: string;
  headers?: Record<string, string>;
  queryParams?: Record<string, string>;
  includeUsage?: boolean;
  supportsStructuredOutputs?: boolean;
  providerOptions: SharedV4ProviderOptions;
  env?: NodeJS.ProcessEnv;
}

/** Provider option keys the AI SDK maps to body fields of another name (or uses itself). */
const MAPPED: Record<string, string | undefined> = { user: 'user', reasoningEffort: 'reasoning_effort', textVerbosity: 'verbosity', strictJsonSchema: undefined };
const PROXY_VARS = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];

/**
 * How to call an OpenAI-compatible model directly, or undefined when the AI SDK must (an HTTP proxy
 * configured in the environment, a base URL that is not http(s)).
 */
export function wireTarget(spec: WireTargetSpec): WireTarget | undefined {
  const env = spec.env ?? process.env;
  if (PROXY_VARS.some((name) => env[name])) return undefined;
  let url: URL;
  try {
    url = new URL(`${spec.baseURL.replace(/\/+$/, '')}/chat/completions`);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (spec.queryParams) url.search = new URLSearchParams(spec.queryParams).toString();
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(spec.providerOptions[spec.providerId] ?? {})) {
    if (!(key in MAPPED)) fields[key] = value;
    else if (MAPPED[key] && value !== undefined) fields[MAPPED[key]] = value;
  }
  return {
    url,
    headers: { 'content-type': 'application/json', 'user-agent': 'pantheon', ...(spec.apiKey ? { authorization: `Bearer ${spec.apiKey}` } : {}), ...spec.headers },
    fields,
    includeUsage: spec.includeUsage ?? true,
    structuredOutputs: spec.supportsStructuredOutputs === true,
  };
}

type Json = Record<string, unknown>;

const endpoints = new WeakMap<WireTarget, Map<string, WireTarget>>();

/**
 * Another endpoint of the model's provider (`embeddings`, `completions`): its chat-completions
 * target with the last path segments swapped (the same base URL, query, headers and client); made
 * once per target.
 */
export function endpointTarget(chat: WireTarget, endpoint: 'embeddings' | 'completions'): WireTarget {
  let known = endpoints.get(chat);
  if (!known) endpoints.set(chat, (known = new Map()));
  let target = known.get(endpoint);
  if (!target) {
    const url = new URL(chat.url.href);
    url.pathname = url.pathname.replace(/\/chat\/completions$/, `/${endpoint}`);
    known.set(endpoint, (target = { ...chat, url }));
  }
  return target;
}

/**
 * The upstream body of a request to another endpoint than chat's (embeddings, text completions):
 * the client's fields as they are (not OpenAI's bookkeeping ones, nulls, and `skip`), with the
 * model's upstream id.
 */
export function passThroughBody(body: Json, upstreamId: string, skip: ReadonlySet<string>): Json {
  const out: Json = {};
  for (const key of Object.keys(body)) {
    const value = body[key];
    if (skip.has(key) || key === '__proto__' || value === null || value === undefined || OPENAI_PLATFORM_FIELDS.has(key)) continue;
    out[key] = value;
  }
  out.model = upstreamId;
  return out;
}

/** The model as the request body needs it. */
export interface WireModel {
  upstreamId: string;
  maxOutputTokens?: number;
  acceptsTemperature: boolean;
  wire: WireTarget;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const part of content as Json[]) if (typeof part.text === 'string') text += part.text;
  return text;
}

/** A message as the AI SDK would send it (system text, a lone text part as a string, `developer` as `system`); the same object when nothing changes. */
function wireMessage(m: Json): Json {
  switch (m.role) {
    case 'system':
    case 'developer':
      return m.role === 'system' && typeof m.content === 'string' ? m : { ...m, role: 'system', content: textOf(m.content) };
    case 'user': {
      const content = m.content as Json[] | string;
      if (Array.isArray(content) && content.length === 1 && content[0]?.type === 'text') return { ...m, content: String(content[0].text ?? '') };
      return m;
    }
    case 'assistant': {
      const calls = m.tool_calls as Json[] | undefined;
      const hasCalls = Array.isArray(calls) && calls.length > 0;
      const text = textOf(m.content);
      const content = hasCalls ? text || null : text;
      const typed = hasCalls && calls.some((c) => c.type !== 'function');
      if (content === m.content && !typed && (hasCalls || m.tool_calls === undefined)) return m;
      const { tool_calls: _calls, ...rest } = m;
      return { ...rest, content, ...(hasCalls ? { tool_calls: typed ? calls.map((c) => ({ ...c, type: 'function' })) : calls } : {}) };
    }
    case 'tool':
      return typeof m.content === 'string' ? m : { ...m, content: textOf(m.content) };
    default:
      return m;
  }
}

function wireMessages(messages: Json[]): Json[] {
  let out = messages;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as Json;
    const converted = wireMessage(m);
    if (converted === m) continue;
    if (out === messages) out = messages.slice();
    out[i] = converted;
  }
  return out;
}

function wireTools(tools: Json[] | undefined): Json[] | undefined {
  if (!tools?.length) return undefined;
  return tools.map((tool) => {
    const fn = tool.function as { name: string; description?: string; parameters?: Json; strict?: boolean | null };
    return {
      type: 'function',
      function: { name: fn.name, ...(fn.description ? { description: fn.description } : {}), parameters: fn.parameters ?? { type: 'object', properties: {} }, ...(fn.strict ? { strict: true } : {}) },
    };
  });
}

/**
 * Where a gateway call's client fields (clientFields) travel in the AI SDK's call options: under
 * this `providerOptions` key, which no provider reads; each OpenAI-compatible model of the chain gets
 * them as its own options (callProviderOptions), every other model goes without them.
 */
export const CLIENT_FIELDS = 'pantheon:clientFields';

/** The chat-completions fields Pantheon reads itself; a client's other fields go up as they are (clientFields). */
const READ_FIELDS = new Set(['model', 'messages', 'stream', 'stream_options', 'tools', 'tool_choice', 'temperature', 'top_p', 'max_tokens', 'max_completion_tokens', 'stop', 'seed', 'presence_penalty', 'frequency_penalty', 'n', 'response_format']);

/**
 * OpenAI's own bookkeeping (stored completions and their tags, its prompt-cache routing, abuse
 * monitoring ids, Codex's client metadata): no other provider has them, they do not change an
 * answer, and a strict provider refuses a request that carries one (NVIDIA NIM: 400 "Unsupported
 * parameter"). Not sent.
 */
export const OPENAI_PLATFORM_FIELDS: ReadonlySet<string> = new Set(['store', 'metadata', 'prompt_cache_key', 'prompt_cache_retention', 'safety_identifier', 'client_metadata']);

/**
 * The fields of a client's chat-completions body that Pantheon does not read itself and sends up
 * as they are (`reasoning_effort`, `parallel_tool_calls`, `user`, `logprobs`, a local server's
 * `top_k` or `chat_template_kwargs`, …); undefined when there are none. A null is a field not
 * given (as OpenAI reads it) and is left out, as are OpenAI's bookkeeping fields (`store`,
 * `metadata`, …: OPENAI_PLATFORM_FIELDS). `read`: the fields read (another endpoint's).
 */
export function clientFields(body: Json, read: ReadonlySet<string> = READ_FIELDS): Json | undefined {
  let out: Json | undefined;
  for (const key of Object.keys(body)) {
    const value = body[key];
    if (read.has(key) || value === null || value === undefined || key === '__proto__' || OPENAI_PLATFORM_FIELDS.has(key)) continue;
    (out ??= Object.create(null) as Json)[key] = value;
  }
  return out;
}

/**
 * The upstream body for an OpenAI chat-completions request `body` (already checked by the route's
 * schema and by toCallOptions) sent to `model`: its upstream id, its output limit when the client
 * gives none, no temperature when it refuses one, its options as body fields, the client's other
 * fields as they are (clientFields); streamed with usage when `stream`.
 */
export function wireBody(body: Json, model: WireModel, stream: boolean): string {
  const maxTokens = (body.max_completion_tokens ?? body.max_tokens ?? model.maxOutputTokens) as number | undefined;
  const format = body.response_format as { type?: string } | undefined;
  const stop = body.stop;
  const out: Json = {
    // The client's own fields first: what Pantheon sets (and the model's configured options) wins.
    ...clientFields(body),
    model: model.upstreamId,
    max_tokens: maxTokens,
    temperature: model.acceptsTemperature ? body.temperature : undefined,
    top_p: body.top_p,
    frequency_penalty: body.frequency_penalty,
    presence_penalty: body.presence_penalty,
    // A JSON schema goes as the client gave it to a provider that takes one (supportsStructuredOutputs);
    // to others (the openai-compatible default) it is asked as json_object.
    response_format: format?.type === 'json_schema' && model.wire.structuredOutputs ? format : format?.type === 'json_object' || format?.type === 'json_schema' ? { type: 'json_object' } : undefined,
    stop: stop === undefined ? undefined : Array.isArray(stop) ? stop : [stop],
    seed: body.seed,
    ...model.wire.fields,
    messages: wireMessages(body.messages as Json[]),
    tools: wireTools(body.tools as Json[] | undefined),
    tool_choice: body.tools === undefined ? undefined : body.tool_choice,
  };
  if (stream) {
    out.stream = true;
    if (model.wire.includeUsage) out.stream_options = { include_usage: true };
  }
  return JSON.stringify(out);
}

/** Fields of a text-completions body set here rather than copied. */
const COMPLETIONS_SET: ReadonlySet<string> = new Set(['model', 'stream', 'stream_options']);

/**
 * The upstream body of a text-completions request (`/v1/completions`, checked by the route): the
 * client's fields as they are (`prompt`, `suffix`, `max_tokens`, `stop`, `echo`, `logprobs`, a
 * local server's `top_k` or `n_probs`, …) with the model's upstream id; streamed with usage when
 * `stream`. The model's configured options are chat settings and are not added.
 */
export function completionsBody(body: Json, upstreamId: string, stream: boolean, includeUsage: boolean): string {
  const out = passThroughBody(body, upstreamId, COMPLETIONS_SET);
  if (stream) {
    out.stream = true;
    if (includeUsage) out.stream_options = { include_usage: true };
  }
  return JSON.stringify(out);
}

// Keep-alive connections per scheme, shared by every request of the process (unbounded, like fetch's).
// node:http is taken with the first request too: a process that waits before its first request
// (Scheduler.admitAhead) does not load it while others could use the cores.
let httpClient: { http: typeof http; agent: http.Agent } | undefined;
let httpsClient: { https: typeof https; agent: https.Agent } | undefined;

function plain(): NonNullable<typeof httpClient> {
  if (!httpClient) {
    const module = process.getBuiltinModule('node:http');
    httpClient = { http: module, agent: new module.Agent({ keepAlive: true }) };
  }
  return httpClient;
}

/** node:https and its agent, loaded with the first https request (TLS costs ~3 MiB and some ms a process that speaks plain http never needs). */
function secure(): NonNullable<typeof httpsClient> {
  if (!httpsClient) {
    const module = process.getBuiltinModule('node:https');
    httpsClient = { https: module, agent: new module.Agent({ keepAlive: true }) };
  }
  return httpsClient;
}

/** A target's URL as request options (what node:http makes of a URL) and its head's fields, made once per target rather than per request. */
const optionsOf = new WeakMap<WireTarget, { options: http.RequestOptions; fields: readonly string[] }>();
function requestOptions(target: WireTarget): { options: http.RequestOptions; fields: readonly string[] } {
  let made = optionsOf.get(target);
  if (!made) optionsOf.set(target, (made = { options: urlToHttpOptions(target.url), fields: headFields(target) }));
  return made;
}

/**
 * The request head's fields but its length, as the flat list node:http stores at once when a request
 * is made, instead of an object it takes field by field (`setHeader`'s checks, then the head built
 * at `end`): ~10 µs of a gateway request's way to the provider (docs/performance.md). node:http
 * checks a list's names and values as it does `setHeader`'s. What it adds to an object's fields by
 * itself is added here the same way: `Host` from the URL and, for a URL with a user, Basic
 * `Authorization`, unless a configured field of that name (in any case) is given. Names are
 * matched as node:http matches them, without regard to case: the last one given wins.
 */
function headFields(target: WireTarget): readonly string[] {
  const byName = new Map<string, [string, string]>([['host', ['Host', target.url.host]]]);
  const basic = urlBasicAuth(target.url);
  if (basic) byName.set('authorization', ['Authorization', basic]);
  for (const name of Object.keys(target.headers)) {
    const lower = name.toLowerCase();
    if (lower !== 'content-length') byName.set(lower, [name, target.headers[name] as string]);
  }
  return [...byName.values()].flat();
}

/**
 * Sends `body` to the target; resolves with the response once its head is in (its body unread).
 * Network failures reject with the socket's error (its `code`: ECONNREFUSED, ECONNRESET, …); an
 * abort rejects with the signal's reason. `onWritten` runs once the body has been written.
 */
export function postChat(target: WireTarget, body: string, signal: AbortSignal, onWritten?: () => void): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const tls = target.url.protocol === 'https:' ? secure() : undefined;
    const client = tls ? undefined : plain();
    const { options, fields } = requestOptions(target);
    const req = (tls ? tls.https : (client as NonNullable<typeof client>).http).request({
      ...options,
      method: 'POST',
      headers: [...fields, 'content-length', String(Buffer.byteLength(body))],
      agent: tls ? tls.agent : (client as NonNullable<typeof client>).agent,
    });
    // The abort destroys the request (and the answer being read) until the exchange is over: one
    // listener, not node:http's `signal` option, which watches the request with end-of-stream's
    // listeners (~20 µs of a gateway request's path). The listener reaches the request only until
    // then (see `held` in scheduler/lease.ts).
    const held: { req: http.ClientRequest | undefined } = { req };
    const abort = destroyOnAbort(held, signal);
    signal.addEventListener('abort', abort, { once: true });
    req.once('close', () => {
      signal.removeEventListener('abort', abort);
      held.req = undefined;
    });
    req.on('response', resolve);
    req.on('error', (error) => reject(signal.aborted ? (signal.reason ?? error) : error));
    req.end(body, onWritten);
  });
}

/** The abort listener of postChat: a function of its own, so that it holds nothing but `held` and the signal. */
function destroyOnAbort(held: { req: http.ClientRequest | undefined }, signal: AbortSignal): () => void {
  return () => void held.req?.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
}

/**
 * Reads a whole (small) body as text; more than `limit` bytes stops reading and returns undefined.
 * A body already all in (node:http parses a small answer's body with its head, and marks the
 * message `complete`) is taken at once, without waiting for the stream's `data` and `end`: those
 * come in `nextTick`s that run only once every pending promise continuation has (~25 µs of a
 * gateway request's path, docs/performance.md). Its `end` still follows, which hands the
 * connection back to the pool.
 */
export function readBody(res: http.IncomingMessage, limit = Number.POSITIVE_INFINITY): Promise<string | undefined> {
  if (res.complete && res.readableFlowing === null && !res.destroyed) {
    if (res.readableLength > limit) {
      res.destroy();
      return Promise.resolve(undefined);
    }
    const chunks: Buffer[] = [];
    for (let chunk = res.read() as Buffer | null; chunk !== null; chunk = res.read() as Buffer | null) chunks.push(chunk);
    return Promise.resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8'));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > limit) {
        res.destroy();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('close', () => {
      if (!res.complete) reject(Object.assign(new Error('the connection closed before the answer was complete'), { code: 'ECONNRESET' }));
    });
  });
}

/** The response's headers as single strings (repeated headers joined), for Retry-After and the rate-limit headers. */
export function headerRecord(res: http.IncomingMessage): Record<string, string> {
  const headers = res.headers;
  let single = true;
  for (const name in headers) if (typeof headers[name] !== 'string') single = false;
  // Node's own record when every header came once (most answers): read, never changed.
  if (single) return headers as Record<string, string>;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}
