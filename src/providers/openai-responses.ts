/**
 * OpenAI's Responses API (`POST {baseURL}/responses`, streamed) as an AI SDK language model: what
 * the `openai` provider (`@ai-sdk/openai`) speaks when that package is not installed beside
 * Pantheon, so `openai/*` models work out of the box, with a key or with a ChatGPT login
 * (plugins/builtin/codex-auth.ts, whose fetch sends the same requests to ChatGPT's Codex endpoint).
 *
 * The request is the package's: the system prompt as `instructions` (OpenCode sends it so to the
 * Codex endpoint, which requires it; an `instructions` option given makes the system messages
 * `developer` items instead), the conversation as input items (`input_text`/`input_image`/
 * `input_file`, `output_text`, `function_call`, `function_call_output`, and reasoning items with
 * their encrypted content when a previous answer carried it), function tools (`strict: false`, as
 * OpenCode sends them), `stream: true`, `store: false` unless the call's options say otherwise
 * (OpenCode's default for OpenAI: nothing is kept on OpenAI's side, so no item is sent by
 * reference), and the package's provider options under `openai` (`reasoningEffort`,
 * `reasoningSummary`, `include`, `textVerbosity`, `promptCacheKey`, `parallelToolCalls`, `user`,
 * `serviceTier`, `metadata`, `previousResponseId`, `maxToolCalls`, `safetyIdentifier`,
 * `truncation`).
 *
 * The answer's server-sent events become the stream parts: text, reasoning summaries (the item's
 * encrypted content kept in the part's provider metadata, for the next request), function calls
 * (arguments streamed, then the call), usage (cached and reasoning tokens), and the finish reason
 * (`tool-calls` when the model called one, `length` for `max_output_tokens`). An HTTP error is an
 * APICallError with the provider's message (`error.message`, or ChatGPT's `detail`), retryable for
 * 408, 409, 429 and 5xx; `response.failed` and `error` events are errors with their message.
 */
import {
  APICallError,
  InvalidResponseDataError,
  type LanguageModelV4,
  type LanguageModelV4CallOptions,
  type LanguageModelV4Content,
  type LanguageModelV4FinishReason,
  type LanguageModelV4GenerateResult,
  type LanguageModelV4Prompt,
  type LanguageModelV4StreamPart,
  type LanguageModelV4StreamResult,
  type LanguageModelV4Usage,
  type SharedV4FileData,
  type SharedV4Warning,
} from '@ai-sdk/provider';
import { PantheonError } from '../errors.ts';

type Json = Record<string, unknown>;

export interface ResponsesModelSpec {
  providerId: string;
  upstreamId: string;
  /** Default `https://api.openai.com/v1`. */
  baseURL?: string;
  /** Sent as `Authorization: Bearer`; none when empty (a plugin's fetch adds its own). */
  apiKey?: string;
  headers?: Record<string, string>;
  fetch?: typeof globalThis.fetch;
}

/** The most bytes of an error answer kept for its message. */
const MAX_ERROR_BODY = 256 * 1024;
const OPTION_FIELDS: Record<string, string> = {
  promptCacheKey: 'prompt_cache_key',
  parallelToolCalls: 'parallel_tool_calls',
  user: 'user',
  serviceTier: 'service_tier',
  metadata: 'metadata',
  previousResponseId: 'previous_response_id',
  maxToolCalls: 'max_tool_calls',
  safetyIdentifier: 'safety_identifier',
  truncation: 'truncation',
  include: 'include',
  instructions: 'instructions',
  store: 'store',
};

const isRecord = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

function base64Of(data: Uint8Array | string): string {
  return typeof data === 'string' ? data : Buffer.from(data).toString('base64');
}

/** A file part's data as a URL the API takes (`data:` for bytes), or its text. */
function fileUrl(data: SharedV4FileData, mediaType: string): { url: string } | { text: string } | undefined {
  if (data.type === 'url') return { url: data.url.toString() };
  if (data.type === 'data') return { url: `data:${mediaType};base64,${base64Of(data.data)}` };
  if (data.type === 'text') return { text: data.text };
  return undefined;
}

function userContent(parts: Extract<LanguageModelV4Prompt[number], { role: 'user' }>['content'], warnings: SharedV4Warning[]): Json[] {
  const out: Json[] = [];
  for (const part of parts) {
    if (part.type === 'text') {
      out.push({ type: 'input_text', text: part.text });
      continue;
    }
    const given = fileUrl(part.data, part.mediaType);
    if (!given) {
      warnings.push({ type: 'other', message: `a ${part.mediaType} file given by reference was left out` });
      continue;
    }
    if ('text' in given) out.push({ type: 'input_text', text: given.text });
    else if (part.mediaType.startsWith('image')) out.push({ type: 'input_image', image_url: given.url });
    else out.push({ type: 'input_file', filename: part.filename ?? 'file', ...(given.url.startsWith('data:') ? { file_data: given.url } : { file_url: given.url }) });
  }
  return out;
}

/** A tool result's output as the text of a `function_call_output`. */
function outputText(output: unknown): string {
  if (!isRecord(output)) return JSON.stringify(output ?? '');
  switch (output.type) {
    case 'text':
    case 'error-text':
      return String(output.value ?? '');
    case 'json':
    case 'error-json':
      return JSON.stringify(output.value);
    case 'execution-denied':
      return typeof output.reason === 'string' && output.reason ? output.reason : 'The tool call was denied.';
    case 'content':
      return Array.isArray(output.value)
        ? output.value
            .map((v) => (isRecord(v) && v.type === 'text' ? String(v.text ?? '') : ''))
            .filter(Boolean)
            .join('\n')
        : '';
    default:
      return JSON.stringify(output);
  }
}

/** The `openai` provider metadata of a part (its item id, its reasoning's encrypted content). */
function openaiOf(part: { providerOptions?: unknown }): Json {
  const options = part.providerOptions;
  return isRecord(options) && isRecord(options.openai) ? options.openai : {};
}

/** The prompt as the Responses API's `instructions` and input items. */
export function responsesInput(prompt: LanguageModelV4Prompt, instructionsGiven: boolean, warnings: SharedV4Warning[]): { instructions?: string; input: Json[] } {
  const input: Json[] = [];
  const system: string[] = [];
  let head = true;
  for (const message of prompt) {
    if (message.role === 'system') {
      if (head && !instructionsGiven) system.push(message.content);
      else input.push({ role: 'developer', content: message.content });
      continue;
    }
    head = false;
    if (message.role === 'user') {
      input.push({ role: 'user', content: userContent(message.content, warnings) });
      continue;
    }
    if (message.role === 'assistant') {
      for (const part of message.content) {
        if (part.type === 'text') {
          if (part.text) input.push({ role: 'assistant', content: [{ type: 'output_text', text: part.text }] });
        } else if (part.type === 'tool-call') {
          input.push({ type: 'function_call', call_id: part.toolCallId, name: part.toolName, arguments: typeof part.input === 'string' ? part.input : JSON.stringify(part.input ?? {}) });
        } else if (part.type === 'tool-result') {
          input.push({ type: 'function_call_output', call_id: part.toolCallId, output: outputText(part.output) });
        } else if (part.type === 'reasoning') {
          // Only a reasoning item the API can read again (its encrypted content) is sent back; a summary alone is not.
          const encrypted = openaiOf(part).reasoningEncryptedContent;
          if (typeof encrypted === 'string' && encrypted) input.push({ type: 'reasoning', summary: part.text ? [{ type: 'summary_text', text: part.text }] : [], encrypted_content: encrypted });
        }
      }
      continue;
    }
    for (const part of message.content) {
      if (part.type === 'tool-result') input.push({ type: 'function_call_output', call_id: part.toolCallId, output: outputText(part.output) });
    }
  }
  return { ...(system.length ? { instructions: system.join('\n') } : {}), input };
}

function toolsOf(options: LanguageModelV4CallOptions, warnings: SharedV4Warning[]): { tools?: Json[]; tool_choice?: unknown } {
  const tools: Json[] = [];
  for (const tool of options.tools ?? []) {
    if (tool.type === 'function') tools.push({ type: 'function', name: tool.name, ...(tool.description ? { description: tool.description } : {}), parameters: tool.inputSchema, strict: false });
    else warnings.push({ type: 'unsupported', feature: `provider-defined tool ${tool.id}` });
  }
  if (!tools.length) return {};
  const choice = options.toolChoice;
  const tool_choice = !choice ? undefined : choice.type === 'tool' ? { type: 'function', name: choice.toolName } : choice.type;
  return { tools, ...(tool_choice === undefined ? {} : { tool_choice }) };
}

/** The request body for a call, and what was left out. */
export function responsesBody(options: LanguageModelV4CallOptions, spec: ResponsesModelSpec): { body: Json; warnings: SharedV4Warning[] } {
  const warnings: SharedV4Warning[] = [];
  const own = (options.providerOptions?.openai ?? {}) as Json;
  const given = typeof own.instructions === 'string' && own.instructions !== '';
  const { instructions, input } = responsesInput(options.prompt, given, warnings);
  const body: Json = { model: spec.upstreamId, ...(instructions === undefined ? {} : { instructions }), input };
  for (const [name, field] of Object.entries(OPTION_FIELDS)) if (own[name] !== undefined && own[name] !== null) body[field] = own[name];
  body.store ??= false;
  if (options.maxOutputTokens !== undefined) body.max_output_tokens = options.maxOutputTokens;
  if (options.temperature !== undefined) body.temperature = options.temperature;
  if (options.topP !== undefined) body.top_p = options.topP;
  if (options.topK !== undefined) warnings.push({ type: 'unsupported', feature: 'topK' });
  if (options.stopSequences?.length) warnings.push({ type: 'unsupported', feature: 'stopSequences' });
  const effort = own.reasoningEffort;
  const summary = own.reasoningSummary;
  if (typeof effort === 'string' || typeof summary === 'string') body.reasoning = { ...(typeof effort === 'string' ? { effort } : {}), ...(typeof summary === 'string' ? { summary } : {}) };
  const text: Json = {};
  if (typeof own.textVerbosity === 'string') text.verbosity = own.textVerbosity;
  const format = options.responseFormat;
  if (format?.type === 'json') {
    text.format = format.schema ? { type: 'json_schema', name: format.name ?? 'response', ...(format.description ? { description: format.description } : {}), schema: format.schema, strict: own.strictJsonSchema ?? false } : { type: 'json_object' };
  }
  if (Object.keys(text).length) body.text = text;
  Object.assign(body, toolsOf(options, warnings));
  body.stream = true;
  return { body, warnings };
}

function emptyUsage(): LanguageModelV4Usage {
  return { inputTokens: { total: undefined, noCache: undefined, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: undefined, text: undefined, reasoning: undefined } };
}

function usageOf(usage: unknown): LanguageModelV4Usage {
  if (!isRecord(usage)) return emptyUsage();
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const input = num(usage.input_tokens);
  const cached = num(isRecord(usage.input_tokens_details) ? usage.input_tokens_details.cached_tokens : undefined);
  const output = num(usage.output_tokens);
  const reasoning = num(isRecord(usage.output_tokens_details) ? usage.output_tokens_details.reasoning_tokens : undefined);
  return {
    inputTokens: { total: input, noCache: input === undefined ? undefined : input - (cached ?? 0), cacheRead: cached, cacheWrite: undefined },
    outputTokens: { total: output, text: output === undefined ? undefined : output - (reasoning ?? 0), reasoning },
    raw: usage as never,
  };
}

/** The provider's message in an error answer: OpenAI's `error.message`, ChatGPT's `detail`, else the status. */
function errorMessage(text: string | undefined, status: number, statusText: string): string {
  if (text) {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (isRecord(parsed)) {
        if (isRecord(parsed.error) && typeof parsed.error.message === 'string') return parsed.error.message;
        if (typeof parsed.detail === 'string') return parsed.detail;
        if (isRecord(parsed.detail) && typeof parsed.detail.message === 'string') return parsed.detail.message;
      }
    } catch {
      // Not JSON: the status says it.
    }
  }
  return statusText || `HTTP ${status}`;
}

async function boundedText(res: Response): Promise<string | undefined> {
  if (!res.body) return undefined;
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_ERROR_BODY) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // What arrived is enough for the message.
  } finally {
    void reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, MAX_ERROR_BODY);
}

/** The data of each server-sent event of `body`, parsed as JSON (other lines and `[DONE]` skipped). */
async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<Json> {
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  const flush = function* (): Generator<Json> {
    if (!data.length) return;
    const text = data.join('\n');
    data = [];
    if (text === '[DONE]') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new InvalidResponseDataError({ data: text.slice(0, 200), message: 'The provider sent an event that is not JSON.' });
    }
    if (isRecord(parsed)) yield parsed;
  };
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, '');
      buffer = buffer.slice(newline + 1);
      if (line === '') yield* flush();
      else if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
    }
  }
  if (buffer.startsWith('data:')) data.push(buffer.slice(buffer.startsWith('data: ') ? 6 : 5));
  yield* flush();
}

function finishOf(response: Json, calledTool: boolean): LanguageModelV4FinishReason {
  const reason = isRecord(response.incomplete_details) ? response.incomplete_details.reason : undefined;
  if (reason === 'max_output_tokens') return { unified: 'length', raw: reason };
  if (reason === 'content_filter') return { unified: 'content-filter', raw: reason };
  if (calledTool) return { unified: 'tool-calls', raw: typeof reason === 'string' ? reason : undefined };
  return { unified: typeof reason === 'string' ? 'other' : 'stop', raw: typeof reason === 'string' ? reason : undefined };
}

/** The stream parts of one answer's events. */
async function pump(events: AsyncGenerator<Json>, emit: (part: LanguageModelV4StreamPart) => void): Promise<void> {
  const calls = new Map<string, { callId: string; name: string; args: string }>();
  const open = new Set<string>();
  let calledTool = false;
  let finished = false;
  for await (const event of events) {
    const type = event.type;
    const item = isRecord(event.item) ? event.item : undefined;
    const itemId = typeof event.item_id === 'string' ? event.item_id : typeof item?.id === 'string' ? item.id : '';
    if (type === 'response.created' && isRecord(event.response)) {
      const r = event.response;
      emit({ type: 'response-metadata', ...(typeof r.id === 'string' ? { id: r.id } : {}), ...(typeof r.model === 'string' ? { modelId: r.model } : {}), ...(typeof r.created_at === 'number' ? { timestamp: new Date(r.created_at * 1000) } : {}) });
    } else if (type === 'response.output_item.added' && item) {
      if (item.type === 'message') {
        open.add(itemId);
        emit({ type: 'text-start', id: itemId });
      } else if (item.type === 'function_call') {
        const callId = typeof item.call_id === 'string' ? item.call_id : itemId;
        const name = typeof item.name === 'string' ? item.name : '';
        calls.set(itemId, { callId, name, args: '' });
        emit({ type: 'tool-input-start', id: callId, toolName: name });
      } else if (item.type === 'reasoning') {
        open.add(itemId);
        emit({ type: 'reasoning-start', id: itemId, providerMetadata: { openai: { itemId } } });
      }
    } else if (type === 'response.output_text.delta' && typeof event.delta === 'string') {
      if (!open.has(itemId)) {
        open.add(itemId);
        emit({ type: 'text-start', id: itemId });
      }
      emit({ type: 'text-delta', id: itemId, delta: event.delta });
    } else if ((type === 'response.reasoning_summary_text.delta' || type === 'response.reasoning_text.delta') && typeof event.delta === 'string') {
      if (!open.has(itemId)) {
        open.add(itemId);
        emit({ type: 'reasoning-start', id: itemId, providerMetadata: { openai: { itemId } } });
      }
      emit({ type: 'reasoning-delta', id: itemId, delta: event.delta });
    } else if (type === 'response.reasoning_summary_part.done' && open.has(itemId)) {
      emit({ type: 'reasoning-delta', id: itemId, delta: '\n\n' });
    } else if (type === 'response.function_call_arguments.delta' && typeof event.delta === 'string') {
      const call = calls.get(itemId);
      if (call) {
        call.args += event.delta;
        emit({ type: 'tool-input-delta', id: call.callId, delta: event.delta });
      }
    } else if (type === 'response.output_item.done' && item) {
      if (item.type === 'function_call') {
        const known = calls.get(itemId);
        const callId = typeof item.call_id === 'string' ? item.call_id : (known?.callId ?? itemId);
        const name = typeof item.name === 'string' ? item.name : (known?.name ?? '');
        const args = typeof item.arguments === 'string' ? item.arguments : (known?.args ?? '');
        if (!known) emit({ type: 'tool-input-start', id: callId, toolName: name });
        emit({ type: 'tool-input-end', id: callId });
        emit({ type: 'tool-call', toolCallId: callId, toolName: name, input: args || '{}', providerMetadata: { openai: { itemId } } });
        calledTool = true;
      } else if (item.type === 'message' && open.delete(itemId)) {
        emit({ type: 'text-end', id: itemId, providerMetadata: { openai: { itemId } } });
      } else if (item.type === 'reasoning') {
        const encrypted = typeof item.encrypted_content === 'string' ? item.encrypted_content : undefined;
        if (!open.has(itemId) && encrypted) emit({ type: 'reasoning-start', id: itemId });
        if (open.delete(itemId) || encrypted) emit({ type: 'reasoning-end', id: itemId, providerMetadata: { openai: { itemId, ...(encrypted ? { reasoningEncryptedContent: encrypted } : {}) } } });
      }
    } else if ((type === 'response.completed' || type === 'response.incomplete' || type === 'response.done') && isRecord(event.response)) {
      for (const id of open) emit({ type: 'text-end', id });
      open.clear();
      const r = event.response;
      emit({ type: 'finish', usage: usageOf(r.usage), finishReason: finishOf(r, calledTool), providerMetadata: { openai: { ...(typeof r.id === 'string' ? { responseId: r.id } : {}) } } });
      finished = true;
    } else if (type === 'response.failed' || type === 'error') {
      const failure = isRecord(event.response) && isRecord(event.response.error) ? event.response.error : isRecord(event.error) ? event.error : event;
      const message = typeof failure.message === 'string' && failure.message ? failure.message : 'The provider reported a failure.';
      emit({ type: 'error', error: Object.assign(new Error(message), { ...(typeof failure.code === 'string' ? { code: failure.code } : {}) }) });
      finished = true;
    }
  }
  if (!finished) throw new InvalidResponseDataError({ data: '', message: 'The answer ended before the response was completed.' });
}

class ResponsesLanguageModel implements LanguageModelV4 {
  readonly specificationVersion = 'v4';
  readonly provider: string;
  readonly modelId: string;
  readonly supportedUrls = { 'image/*': [/^https?:\/\/.*$/] };
  readonly #spec: ResponsesModelSpec;

  constructor(spec: ResponsesModelSpec) {
    this.#spec = spec;
    this.provider = `${spec.providerId}.responses`;
    this.modelId = spec.upstreamId;
  }

  async doStream(options: LanguageModelV4CallOptions): Promise<LanguageModelV4StreamResult> {
    const { body, warnings } = responsesBody(options, this.#spec);
    const url = `${(this.#spec.baseURL ?? 'https://api.openai.com/v1').replace(/\/+$/, '')}/responses`;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      ...(this.#spec.apiKey ? { authorization: `Bearer ${this.#spec.apiKey}` } : {}),
      ...this.#spec.headers,
      ...(Object.fromEntries(Object.entries(options.headers ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string')) as Record<string, string>),
    };
    const fetcher = this.#spec.fetch ?? globalThis.fetch;
    let res: Response;
    try {
      res = await fetcher(url, { method: 'POST', headers, body: JSON.stringify(body), ...(options.abortSignal ? { signal: options.abortSignal } : {}) });
    } catch (error) {
      // An abort, or a login's own sentence (a ChatGPT login to renew), is thrown as it is.
      if (options.abortSignal?.aborted || error instanceof PantheonError) throw error;
      throw new APICallError({ message: `Cannot connect to API: ${error instanceof Error ? error.message : String(error)}`, url, requestBodyValues: body, isRetryable: true, cause: error });
    }
    const responseHeaders = Object.fromEntries(res.headers);
    if (!res.ok) {
      const text = await boundedText(res);
      const status = res.status;
      throw new APICallError({
        message: errorMessage(text, status, res.statusText),
        url,
        requestBodyValues: body,
        statusCode: status,
        responseHeaders,
        ...(text === undefined ? {} : { responseBody: text }),
        isRetryable: status === 408 || status === 409 || status === 429 || status >= 500,
      });
    }
    if (!res.body) throw new APICallError({ message: 'The provider answered without a body.', url, requestBodyValues: body, statusCode: res.status, responseHeaders, isRetryable: true });
    const source = res.body;
    const stream = new ReadableStream<LanguageModelV4StreamPart>({
      start(controller) {
        controller.enqueue({ type: 'stream-start', warnings });
        pump(sseEvents(source), (part) => controller.enqueue(part)).then(
          () => controller.close(),
          (error: unknown) => controller.error(error),
        );
      },
      cancel() {
        void source.cancel().catch(() => undefined);
      },
    });
    return { stream, request: { body }, response: { headers: responseHeaders } };
  }

  async doGenerate(options: LanguageModelV4CallOptions): Promise<LanguageModelV4GenerateResult> {
    const { stream, request, response } = await this.doStream(options);
    const content: LanguageModelV4Content[] = [];
    const texts = new Map<string, { type: 'text'; text: string }>();
    const reasonings = new Map<string, { type: 'reasoning'; text: string; providerMetadata?: LanguageModelV4Content['providerMetadata'] }>();
    let finish: Extract<LanguageModelV4StreamPart, { type: 'finish' }> | undefined;
    let warnings: SharedV4Warning[] = [];
    for await (const part of stream as unknown as AsyncIterable<LanguageModelV4StreamPart>) {
      if (part.type === 'stream-start') warnings = part.warnings;
      else if (part.type === 'text-start') content.push(texts.set(part.id, { type: 'text', text: '' }).get(part.id)!);
      else if (part.type === 'text-delta') texts.get(part.id)!.text += part.delta;
      else if (part.type === 'reasoning-start') content.push(reasonings.set(part.id, { type: 'reasoning', text: '' }).get(part.id)!);
      else if (part.type === 'reasoning-delta') reasonings.get(part.id)!.text += part.delta;
      else if (part.type === 'reasoning-end' && part.providerMetadata) reasonings.get(part.id)!.providerMetadata = part.providerMetadata;
      else if (part.type === 'tool-call') content.push(part);
      else if (part.type === 'error') throw part.error;
      else if (part.type === 'finish') finish = part;
    }
    return {
      content,
      finishReason: finish?.finishReason ?? { unified: 'other', raw: undefined },
      usage: finish?.usage ?? emptyUsage(),
      warnings,
      ...(request ? { request } : {}),
      ...(response?.headers ? { response: { headers: response.headers } } : {}),
    };
  }
}

/** Pantheon's own Responses API model (see the file's comment). */
export function responsesLanguageModel(spec: ResponsesModelSpec): LanguageModelV4 {
  return new ResponsesLanguageModel(spec);
}
