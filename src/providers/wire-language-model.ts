/**
 * The language model of an OpenAI-compatible provider's model (`@ai-sdk/openai-compatible`) as
 * `run`, `serve`'s sessions and workflows call it: the requests and the answers of that package's
 * chat model, sent over Pantheon's own client (openai-wire.ts: one keep-alive `node:http(s)`
 * request) instead of `fetch`. A process that uses it loads neither undici (Node's `fetch`) nor the
 * provider package's model and response schemas (bench/run-vs-fetch.ts; docs/performance.md).
 *
 * - The body is built by the package's own functions (`@ai-sdk/openai-compatible/internal`:
 *   messages with files and images, tool results, reasoning, tools and tool choice), with its
 *   fields in its order and its warnings, so the provider receives what it received before.
 * - Answers are read by openai-wire-parts.ts into the same stream parts (text, reasoning, tool
 *   calls with Gemini's thought signatures, finish reason, usage); a non-streaming model's answer
 *   into the same content.
 * - Failures are the package's: an HTTP error is an APICallError with the provider's message
 *   (`error.message` of its JSON body, else the status text), status, headers and body, retryable
 *   as the SDK decides; a request that cannot be sent is "Cannot connect to API: …"; a stream cut
 *   off is "Failed to process successful response" caused by the socket's error (an answer longer
 *   than MAX_ANSWER_BYTES, whole or streamed, too: caused by an AnswerTooLargeError); a stream without a
 *   finish reason ends with the SDK's InvalidResponseDataError; an abort rejects with the signal's
 *   reason. The scheduler classifies them as before (retry-policy.ts).
 * - The request's lease (found by the abort signal the attempt passes) is marked sent and told what
 *   the answer announces, as `markingSends` does for fetch (scheduler/lease.ts).
 *
 * What it hands to the package's own model instead (built on first need, fetch and all): a call with
 * provider options under `openaiCompatible`/`openai-compatible` or a camel-cased provider key, a
 * top-level `reasoning` setting, or option values of types the package refuses (it reports them).
 * Left out on purpose (lenient with what providers send): chunks are not schema-checked (a chunk
 * without choices is skipped, not an error), no `response-metadata` part and no raw usage on a
 * stream, and an `{error}` chunk is an Error with the provider's message (the package passes the
 * object itself). Tool-call deltas are put together by index, as OpenAI's protocol numbers them.
 */
import type { IncomingMessage } from 'node:http';
import {
  APICallError,
  InvalidResponseDataError,
  type LanguageModelV4,
  type LanguageModelV4CallOptions,
  type LanguageModelV4Content,
  type LanguageModelV4GenerateResult,
  type LanguageModelV4StreamPart,
  type LanguageModelV4StreamResult,
  type SharedV4Warning,
} from '@ai-sdk/provider';
import {
  convertOpenAICompatibleChatUsage,
  convertToOpenAICompatibleChatMessages,
  getResponseMetadata,
  mapOpenAICompatibleFinishReason,
  prepareTools,
} from '@ai-sdk/openai-compatible/internal';
import { pushStream } from '../push-stream.ts';
import { ARRIVAL_MARGIN_MS, leaseOf, settledOrAfter } from '../scheduler/lease.ts';
import { answerArrived, requestWritten } from './first-wait.ts';
import { headerRecord, postChat, readBody, type WireTarget } from './openai-wire.ts';
import { NO_FINISH_REASON, readAnswer, WireStream } from './openai-wire-parts.ts';

type Json = Record<string, unknown>;

export interface WireModelSpec {
  /** The provider's id: the package's provider name and provider options key. */
  providerId: string;
  upstreamId: string;
  wire: WireTarget;
  /** The AI SDK's own model for the same settings, for the calls this one hands over. */
  sdkModel: () => Promise<LanguageModelV4>;
}

/** The option keys `@ai-sdk/openai-compatible` reads itself (and does not pass on as body fields), with the types it accepts. */
const OWN_OPTIONS: Record<string, (value: unknown) => boolean> = {
  user: (v) => v === undefined || typeof v === 'string',
  reasoningEffort: (v) => v === undefined || v === null || typeof v === 'string',
  textVerbosity: (v) => v === undefined || typeof v === 'string',
  strictJsonSchema: (v) => v === undefined || typeof v === 'boolean',
};

/** Error bodies longer than this are not kept (the status text is the message then). */
const MAX_ERROR_BODY = 1024 * 1024;

/** What broke a successful answer, in a line (an event over the size limit, a connection reset). */
function causeText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split('\n')[0] ?? '').slice(0, 200);
}

/** An answer's media type (`text/html`), without its parameters; '' when it names none. */
function shownType(headers: Record<string, string>): string {
  return (headers['content-type'] ?? '').split(';')[0]!.trim().slice(0, 80);
}

/** Why an answer of media type `type` is not the one asked for; an HTML page most often means a base URL that is a site, not its API. */
function notTheAnswer(type: string, expected: string): string {
  const html = /html/i.test(type);
  return `the answer is ${type}, not ${expected}${html ? ' (is the base URL the API’s own, e.g. http://host:port/v1, rather than a web page?)' : ''}`;
}

/**
 * Throws (retryable, as any broken answer) when a successful answer names a media type other than
 * `expected`: an HTML page or a whole JSON answer to a streamed request would otherwise read as a
 * stream that ended without a finish reason. An answer that names none is read as it comes.
 */
async function refuseOtherThan(expected: RegExp, what: string, res: IncomingMessage, headers: Record<string, string>, url: string, body: Json): Promise<void> {
  const type = shownType(headers);
  if (type === '' || expected.test(type)) return;
  const text = await readBody(res, MAX_ERROR_BODY).catch(() => undefined);
  throw new APICallError({ message: notTheAnswer(type, what), statusCode: res.statusCode, url, responseHeaders: headers, ...(text === undefined ? {} : { responseBody: text }), requestBodyValues: body, isRetryable: true });
}

const toCamelCase = (name: string): string => name.replace(/[_-]([a-z])/g, (g) => (g[1] as string).toUpperCase());

interface Request {
  args: Json;
  warnings: SharedV4Warning[];
}

/**
 * The body `@ai-sdk/openai-compatible`'s chat model sends for `options` (without the stream fields),
 * with its warnings; undefined for a call it reads differently (see the file's comment).
 */
function requestOf(options: LanguageModelV4CallOptions, spec: WireModelSpec): Request | undefined {
  const key = spec.providerId;
  const camel = toCamelCase(key);
  const all = (options.providerOptions ?? {}) as Record<string, Json | undefined>;
  if (all['openai-compatible'] != null || all.openaiCompatible != null || (camel !== key && all[camel] != null)) return undefined;
  if (options.reasoning !== undefined && options.reasoning !== 'provider-default') return undefined;
  const own = all[key] ?? {};
  for (const [name, accepts] of Object.entries(OWN_OPTIONS)) if (!accepts(own[name])) return undefined;
  const warnings: SharedV4Warning[] = [];
  if (camel !== key && all[key] != null) warnings.push({ type: 'deprecated', setting: `providerOptions key '${key}'`, message: `Use '${camel}' instead.` });
  if (options.topK != null) warnings.push({ type: 'unsupported', feature: 'topK' });
  const format = options.responseFormat;
  const schema = format?.type === 'json' && format.schema != null && spec.wire.structuredOutputs ? format : undefined;
  if (format?.type === 'json' && format.schema != null && !schema) {
    warnings.push({ type: 'unsupported', feature: 'responseFormat', details: 'JSON response format schema is only supported with structuredOutputs' });
  }
  const tools = prepareTools({ tools: options.tools, toolChoice: options.toolChoice });
  const extras = Object.fromEntries(Object.entries(own).filter(([name]) => !(name in OWN_OPTIONS)));
  const args: Json = {
    model: spec.upstreamId,
    user: own.user,
    max_tokens: options.maxOutputTokens,
    temperature: options.temperature,
    top_p: options.topP,
    frequency_penalty: options.frequencyPenalty,
    presence_penalty: options.presencePenalty,
    // A JSON schema as json_schema to a provider that takes one (supportsStructuredOutputs); otherwise (the
    // package's default) it is asked as json_object.
    response_format: schema
      ? { type: 'json_schema', json_schema: { schema: schema.schema, strict: own.strictJsonSchema ?? true, name: schema.name ?? 'response', description: schema.description } }
      : format?.type === 'json'
        ? { type: 'json_object' }
        : undefined,
    stop: options.stopSequences,
    seed: options.seed,
    ...extras,
    ...(own.reasoningEffort !== undefined ? { reasoning_effort: own.reasoningEffort } : {}),
    ...(own.textVerbosity !== undefined ? { verbosity: own.textVerbosity } : {}),
    messages: convertToOpenAICompatibleChatMessages(options.prompt, { provider: key, providerOptionsKey: key }),
    tools: tools.tools,
    tool_choice: tools.toolChoice,
  };
  return { args, warnings: [...warnings, ...tools.toolWarnings] };
}

/** Node's own argument errors (a bad header value) are the caller's, not the network's. */
const isArgumentError = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_') && !/^ERR_(TLS|SSL)/.test(code);
};

/** The provider's message from an OpenAI-style error body (`{error:{message}}`), as the package reads it, with the fields it keeps. */
function errorData(text: string): { message: string; data: Json } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const error = (parsed as { error?: unknown } | null)?.error as Json | undefined;
  if (!error || typeof error !== 'object' || typeof error.message !== 'string') return undefined;
  const nullish = (v: unknown, ok: (v: unknown) => boolean) => v === undefined || v === null || ok(v);
  if (!nullish(error.type, (v) => typeof v === 'string') || !nullish(error.code, (v) => typeof v === 'string' || typeof v === 'number')) return undefined;
  const kept: Json = { message: error.message };
  for (const name of ['type', 'param', 'code']) if (name in error) kept[name] = error[name];
  return { message: error.message, data: { error: kept } };
}

class WireLanguageModel implements LanguageModelV4 {
  readonly specificationVersion = 'v4';
  readonly provider: string;
  readonly modelId: string;
  readonly supportedUrls = {};
  readonly #spec: WireModelSpec;

  constructor(spec: WireModelSpec) {
    this.#spec = spec;
    this.provider = `${spec.providerId}.chat`;
    this.modelId = spec.upstreamId;
  }

  /** Sends the body; resolves with the answer's head once in, its lease marked sent and told what it announces; an HTTP error is thrown. */
  async #send(body: Json, options: LanguageModelV4CallOptions): Promise<{ res: IncomingMessage; headers: Record<string, string> }> {
    const { wire } = this.#spec;
    const url = wire.url.href;
    const signal = options.abortSignal ?? new AbortController().signal;
    const target = options.headers ? { ...wire, headers: withHeaders(wire.headers, options.headers) } : wire;
    const lease = leaseOf(options.abortSignal);
    lease?.handOver();
    const pending = postChat(target, JSON.stringify(body), signal, requestWritten);
    pending.then(answerArrived, answerArrived);
    let res: IncomingMessage;
    try {
      if (lease) {
        await settledOrAfter(pending, ARRIVAL_MARGIN_MS);
        await lease.markSent();
      }
      res = await pending;
    } catch (error) {
      if (signal.aborted || isArgumentError(error)) throw error;
      throw new APICallError({ message: `Cannot connect to API: ${(error as Error).message}`, cause: error, url, requestBodyValues: body, isRetryable: true });
    }
    const status = res.statusCode ?? 0;
    const headers = headerRecord(res);
    if (status >= 200 && status < 300) {
      await lease?.answered(status, headers);
      return { res, headers };
    }
    const text = await readBody(res, MAX_ERROR_BODY).catch(() => undefined);
    await lease?.answered(status, headers, status === 429 && /json/i.test(headers['content-type'] ?? '') ? text : undefined);
    const parsed = text && text.trim() !== '' ? errorData(text) : undefined;
    throw new APICallError({
      message: parsed?.message ?? res.statusMessage ?? '',
      url,
      requestBodyValues: body,
      statusCode: status,
      responseHeaders: headers,
      ...(text === undefined ? {} : { responseBody: text }),
      ...(parsed ? { data: parsed.data } : {}),
    });
  }

  async doStream(options: LanguageModelV4CallOptions): Promise<LanguageModelV4StreamResult> {
    const request = requestOf(options, this.#spec);
    if (!request) return (await this.#spec.sdkModel()).doStream(options);
    const { wire, providerId } = this.#spec;
    const body: Json = { ...request.args, stream: true, stream_options: wire.includeUsage ? { include_usage: true } : undefined };
    const { res, headers } = await this.#send(body, options);
    await refuseOtherThan(/^text\/event-stream\b/i, 'an event stream', res, headers, wire.url.href, body);
    const reader = new WireStream(res, () => undefined, providerId);
    const failed = (error: unknown): unknown =>
      options.abortSignal?.aborted
        ? error
        : new APICallError({ message: `Failed to process successful response: ${causeText(error)}`, cause: error, statusCode: res.statusCode, url: wire.url.href, responseHeaders: headers, requestBodyValues: body, isRetryable: true });
    const stream = pushStream<LanguageModelV4StreamPart>(
      async (controller, room) => {
        for (;;) {
          let read;
          try {
            read = await reader.read();
          } catch (error) {
            controller.error(failed(error));
            return;
          }
          if (read.done) return controller.close();
          const part = read.value;
          // A broken answer's end goes out after what came before it has gone all the way down (the
          // reader's own queue answers at once, fetch's stream took a few turns): a cut-off answer's
          // text is shown before the retry that follows it.
          if (part.type === 'error' || (part.type === 'finish' && part.finishReason.unified === 'error')) await new Promise(setImmediate);
          controller.enqueue(partFor(part, request.warnings, providerId));
          const wait = room();
          if (wait) await wait;
        }
      },
      () => reader.cancel(),
    );
    return { stream, request: { body }, response: { headers } };
  }

  async doGenerate(options: LanguageModelV4CallOptions): Promise<LanguageModelV4GenerateResult> {
    const request = requestOf(options, this.#spec);
    if (!request) return (await this.#spec.sdkModel()).doGenerate(options);
    const body = request.args;
    const { res, headers } = await this.#send(body, options);
    let text: string;
    try {
      text = await readAnswer(res);
    } catch (error) {
      if (options.abortSignal?.aborted) throw error;
      throw new APICallError({ message: `Failed to process successful response: ${causeText(error)}`, cause: error, statusCode: res.statusCode, url: this.#spec.wire.url.href, responseHeaders: headers, requestBodyValues: body, isRetryable: true });
    }
    const answer = answerOf(text);
    if (!answer) {
      const type = shownType(headers);
      throw new APICallError({ message: type && !/json/i.test(type) ? notTheAnswer(type, 'JSON') : 'Invalid JSON response', statusCode: res.statusCode, responseHeaders: headers, responseBody: text, url: this.#spec.wire.url.href, requestBodyValues: body });
    }
    return { ...generated(answer, this.#spec.providerId), request: { body: JSON.stringify(body) }, response: { ...responseMetadata(answer), headers, body: JSON.parse(text) as unknown }, warnings: request.warnings };
  }
}

/** The call's headers over the provider's (a header set to undefined in the call is left out). */
function withHeaders(base: Record<string, string>, extra: Record<string, string | undefined>): Record<string, string> {
  const out = { ...base };
  for (const [name, value] of Object.entries(extra)) {
    const existing = Object.keys(out).find((k) => k.toLowerCase() === name.toLowerCase());
    if (existing !== undefined) delete out[existing];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** A part as the package's stream has it: the call's warnings on `stream-start`, its provider's key in `finish`'s metadata, the SDK's error for a stream without a finish reason. */
function partFor(part: LanguageModelV4StreamPart, warnings: SharedV4Warning[], key: string): LanguageModelV4StreamPart {
  switch (part.type) {
    case 'stream-start':
      return { type: 'stream-start', warnings };
    case 'finish':
      return { ...part, providerMetadata: { [key]: {} } };
    case 'error':
      return (part.error as Error | undefined)?.message === NO_FINISH_REASON
        ? { type: 'error', error: new InvalidResponseDataError({ data: undefined, message: 'Response stream ended without a finish reason.' }) }
        : part;
    default:
      return part;
  }
}

/** The answer's id, model and time, where they have the types the package accepts. */
function responseMetadata(answer: Answer): ReturnType<typeof getResponseMetadata> {
  const typed = (value: unknown, type: string) => (typeof value === type ? value : undefined);
  return getResponseMetadata({ id: typed(answer.id, 'string'), model: typed(answer.model, 'string'), created: typed(answer.created, 'number') } as never);
}

interface Answer {
  id?: unknown;
  model?: unknown;
  created?: unknown;
  choices: { message: Json; finish_reason?: unknown }[];
  usage?: Json | null;
}

/** A whole answer with the shape the package checks (choices, each with a message), or undefined. */
function answerOf(text: string): Answer | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  const choices = (body as Json | null)?.choices;
  if (!Array.isArray(choices) || !choices.every((c) => c && typeof c === 'object' && (c as Json).message && typeof (c as Json).message === 'object')) return undefined;
  return body as Answer;
}

/** Text and reasoning of a message's `content` (a string, or `text` and `thinking` parts), in order. */
function contentOf(content: unknown): LanguageModelV4Content[] {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  if (!Array.isArray(content)) return [];
  const out: LanguageModelV4Content[] = [];
  for (const part of content as Json[]) {
    if (part?.type === 'text' && typeof part.text === 'string') {
      if (part.text) out.push({ type: 'text', text: part.text });
    } else if (part?.type === 'thinking' && Array.isArray(part.thinking)) {
      const text = (part.thinking as Json[]).map((c) => (c?.type === 'text' && typeof c.text === 'string' ? c.text : '')).join('');
      if (text) out.push({ type: 'reasoning', text });
    }
  }
  return out;
}

let generatedIds = 0;

/** A whole answer as the package's generate result (content, finish reason, usage, provider metadata). */
function generated(answer: Answer, key: string): Pick<LanguageModelV4GenerateResult, 'content' | 'finishReason' | 'usage' | 'providerMetadata'> {
  const choice = answer.choices[0];
  if (!choice) throw new InvalidResponseDataError({ data: answer, message: 'Response did not contain any choices.' });
  const message = choice.message;
  const content: LanguageModelV4Content[] = [];
  const reasoning = message.reasoning_content ?? message.reasoning;
  if (typeof reasoning === 'string' && reasoning) content.push({ type: 'reasoning', text: reasoning });
  content.push(...contentOf(message.content));
  const refusal = typeof message.refusal === 'string' && message.refusal.length > 0 ? message.refusal : undefined;
  if (refusal) content.push({ type: 'text', text: refusal });
  for (const call of (message.tool_calls as Json[] | null | undefined) ?? []) {
    const fn = (call.function ?? {}) as Json;
    const signature = ((call.extra_content as Json | undefined)?.google as Json | undefined)?.thought_signature;
    content.push({
      type: 'tool-call',
      toolCallId: typeof call.id === 'string' && call.id ? call.id : `call_pantheon_g${(++generatedIds).toString(36)}`,
      toolName: String(fn.name ?? ''),
      input: typeof fn.arguments === 'string' ? fn.arguments : JSON.stringify(fn.arguments ?? {}),
      ...(typeof signature === 'string' && signature ? { providerMetadata: { [key]: { thoughtSignature: signature } } } : {}),
    });
  }
  const details = (answer.usage?.completion_tokens_details ?? undefined) as Json | undefined;
  const metadata: Json = {};
  if (details?.accepted_prediction_tokens != null) metadata.acceptedPredictionTokens = details.accepted_prediction_tokens;
  if (details?.rejected_prediction_tokens != null) metadata.rejectedPredictionTokens = details.rejected_prediction_tokens;
  const raw = typeof choice.finish_reason === 'string' ? choice.finish_reason : undefined;
  return {
    content,
    finishReason: { unified: mapOpenAICompatibleFinishReason(raw, { hasRefusal: refusal !== undefined }), raw },
    usage: convertOpenAICompatibleChatUsage((answer.usage ?? undefined) as never),
    providerMetadata: { [key]: metadata } as never,
  };
}

/** The model of an OpenAI-compatible provider on Pantheon's own client (see the file's comment). */
export function wireLanguageModel(spec: WireModelSpec): LanguageModelV4 {
  return new WireLanguageModel(spec);
}
