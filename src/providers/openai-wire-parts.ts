/**
 * An OpenAI chat-completions answer (one JSON body, or SSE chunks) read into the AI SDK's stream
 * parts, as `@ai-sdk/openai-compatible` reads it (a text completion's too: its choices' `text`): reasoning (`reasoning_content`/`reasoning`), text,
 * refusals, tool calls (streamed ones put together by index), the finish reason and usage (with
 * prompt-cache reads and reasoning tokens). Lenient with what providers send: only the fields used
 * are read, nothing is validated beyond that. A stream that ends without a finish reason, or a chunk
 * that is an error, ends with an `error` part, as the SDK's does.
 */
import type { IncomingMessage } from 'node:http';
import type { JSONObject, LanguageModelV4FinishReason, LanguageModelV4StreamPart, LanguageModelV4Usage } from '@ai-sdk/provider';
import type { PartRead, PartReader } from '../scheduler/stream-parts.ts';
import { readBody } from './openai-wire.ts';

type Json = Record<string, unknown>;
type Part = LanguageModelV4StreamPart;

interface WireUsage {
  prompt_tokens?: number | null;
  completion_tokens?: number | null;
  prompt_tokens_details?: { cached_tokens?: number | null } | null;
  completion_tokens_details?: { reasoning_tokens?: number | null } | null;
}

export function usageOf(usage: WireUsage | null | undefined): LanguageModelV4Usage {
  if (usage == null) {
    return { inputTokens: { total: undefined, noCache: undefined, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: undefined, text: undefined, reasoning: undefined } };
  }
  const input = usage.prompt_tokens ?? 0;
  const output = usage.completion_tokens ?? 0;
  const cached = usage.prompt_tokens_details?.cached_tokens ?? 0;
  const reasoning = usage.completion_tokens_details?.reasoning_tokens ?? 0;
  return {
    inputTokens: { total: input, noCache: input - cached, cacheRead: cached, cacheWrite: undefined },
    outputTokens: { total: output, text: Math.max(0, output - reasoning), reasoning },
  };
}

function finishOf(raw: unknown, refusal: boolean): LanguageModelV4FinishReason {
  const unified = raw === 'stop' ? (refusal ? 'content-filter' : 'stop') : raw === 'length' ? 'length' : raw === 'content_filter' ? 'content-filter' : raw === 'tool_calls' || raw === 'function_call' ? 'tool-calls' : 'other';
  return { unified, raw: typeof raw === 'string' ? raw : undefined };
}

/**
 * Where a text part carries the token log probabilities its answer gave (the client sent
 * `logprobs`): `providerMetadata[LOGPROBS].logprobs`, the choice's (or chunk's) `logprobs` as the
 * provider sent it, handed back to the client by the gateway (server/openai/chat-response.ts).
 */
export const LOGPROBS = 'pantheonLogprobs';

/** The provider metadata carrying `logprobs`, or undefined when the answer gave none. */
function logprobsMetadata(logprobs: unknown): { [LOGPROBS]: { logprobs: JSONObject } } | undefined {
  return logprobs !== null && typeof logprobs === 'object' && !Array.isArray(logprobs) ? { [LOGPROBS]: { logprobs: logprobs as JSONObject } } : undefined;
}

let generated = 0;
function callId(id: unknown): string {
  return typeof id === 'string' && id ? id : `call_pantheon_${(++generated).toString(36)}`;
}

/** Text and reasoning pieces of a message's (or delta's) `content`: a string, or parts (`text`, `thinking`). */
function contentPieces(content: unknown, onText: (t: string) => void, onReasoning: (t: string) => void): void {
  if (typeof content === 'string') {
    if (content) onText(content);
    return;
  }
  if (!Array.isArray(content)) return;
  for (const part of content as Json[]) {
    if (part.type === 'text' && typeof part.text === 'string' && part.text) onText(part.text);
    else if (part.type === 'thinking' && Array.isArray(part.thinking)) {
      const text = (part.thinking as Json[]).map((c) => (c?.type === 'text' && typeof c.text === 'string' ? c.text : '')).join('');
      if (text) onReasoning(text);
    }
  }
}

/** The error a provider put in its answer, as an Error with its message. */
function providerError(error: unknown): Error {
  const message = typeof error === 'string' ? error : typeof (error as Json | null)?.message === 'string' ? ((error as Json).message as string) : JSON.stringify(error);
  return Object.assign(new Error(message), { name: 'ProviderStreamError' });
}

/** Thrown for an answer that is not what the protocol says (bad JSON, no choices): retried as `bad_response`. */
export class BadAnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidResponseDataError';
  }
}

/**
 * The most of one answer Pantheon reads from a provider: a whole (JSON) answer's body, and a
 * streamed answer's body and the text kept of it (the chain model's, scheduler/chain-model.ts).
 * 64 MiB is far beyond any real answer (a model's longest output is a few hundred KB) and four
 * times the largest event of a stream (MAX_EVENT_CHARS); past it, an upstream that never ends its
 * answer would grow the process until it dies. PANTHEON_MAX_ANSWER_BYTES may only lower it: an
 * internal setting, for tests that reach it without sending 64 MiB.
 */
export const MAX_ANSWER_BYTES = answerLimit(process.env.PANTHEON_MAX_ANSWER_BYTES, 64 * 2 ** 20);

function answerLimit(given: string | undefined, limit: number): number {
  const asked = Number(given);
  return given !== undefined && Number.isSafeInteger(asked) && asked > 0 ? Math.min(asked, limit) : limit;
}

/** `64 MiB`, `1.5 MiB`. */
function mib(bytes: number): string {
  return `${+(bytes / 2 ** 20).toFixed(2)} MiB`;
}

/**
 * A provider's answer went past what is read of one (`what`: "the answer", "the streamed answer",
 * …): a bad answer (retried, then the next model), as an event of a stream over its own limit is.
 */
export class AnswerTooLargeError extends BadAnswerError {
  constructor(what: string, limit: number) {
    super(`${what} went past ${mib(limit)}`);
  }
}

/** `error`, or the error it was caused by, when it is an AnswerTooLargeError (the AI SDK's path wraps it). */
export function answerTooLarge(error: unknown): AnswerTooLargeError | undefined {
  for (let link = error, depth = 0; link instanceof Error && depth < 8; link = link.cause, depth++) if (link instanceof AnswerTooLargeError) return link;
  return undefined;
}

/**
 * A provider's whole answer as text, read to at most `limit` bytes: a body that goes past it is
 * let go (its connection destroyed) and an AnswerTooLargeError is thrown, naming `what`.
 */
export async function readAnswer(res: IncomingMessage, what = 'the answer', limit = MAX_ANSWER_BYTES): Promise<string> {
  const text = await readBody(res, limit);
  if (text === undefined) throw new AnswerTooLargeError(what, limit);
  return text;
}

/** A whole (non-streamed) answer as parts. */
export function partsFromJson(text: string): Part[] {
  let body: Json;
  try {
    body = JSON.parse(text) as Json;
  } catch {
    throw new BadAnswerError(`the answer is not JSON: ${text.slice(0, 100)}`);
  }
  const choice = (body?.choices as Json[] | undefined)?.[0];
  if (!choice) throw new BadAnswerError('the answer has no choices');
  const message = (choice.message ?? {}) as Json;
  const parts: Part[] = [{ type: 'stream-start', warnings: [] }];
  const reasoning = message.reasoning_content ?? message.reasoning;
  const reasonings: string[] = typeof reasoning === 'string' && reasoning ? [reasoning] : [];
  const texts: string[] = [];
  contentPieces(message.content, (t) => texts.push(t), (t) => reasonings.push(t));
  // A text completion's choice (`/completions`) has its text, not a message.
  if (typeof choice.text === 'string' && choice.text) texts.push(choice.text);
  const refusal = typeof message.refusal === 'string' && message.refusal.length > 0;
  if (refusal) texts.push(message.refusal as string);
  if (reasonings.length) parts.push({ type: 'reasoning-start', id: 'reasoning-0' }, { type: 'reasoning-delta', id: 'reasoning-0', delta: reasonings.join('') }, { type: 'reasoning-end', id: 'reasoning-0' });
  if (texts.length) {
    const providerMetadata = logprobsMetadata(choice.logprobs);
    parts.push({ type: 'text-start', id: 'txt-0' }, { type: 'text-delta', id: 'txt-0', delta: texts.join(''), ...(providerMetadata ? { providerMetadata } : {}) }, { type: 'text-end', id: 'txt-0' });
  }
  for (const call of (message.tool_calls as Json[] | undefined) ?? []) {
    const fn = (call.function ?? {}) as Json;
    parts.push({ type: 'tool-call', toolCallId: callId(call.id), toolName: String(fn.name ?? ''), input: typeof fn.arguments === 'string' ? fn.arguments : JSON.stringify(fn.arguments ?? {}) });
  }
  parts.push({ type: 'finish', finishReason: finishOf(choice.finish_reason, refusal), usage: usageOf(body.usage as WireUsage | undefined) });
  return parts;
}

interface PendingCall {
  id: string | undefined;
  name: string | undefined;
  args: string;
  started: boolean;
  /** Gemini's `extra_content.google.thought_signature`, to be sent back with the call. */
  signature?: string;
}

/** The thought signature Gemini's OpenAI-compatible endpoint puts on a tool call (`extra_content.google`). */
function thoughtSignature(call: Json): string | undefined {
  const signature = ((call.extra_content as Json | undefined)?.google as Json | undefined)?.thought_signature;
  return typeof signature === 'string' && signature ? signature : undefined;
}

/** The message of the error that ends a stream without a finish reason. */
export const NO_FINISH_REASON = 'the answer ended without a finish reason';

/** The longest event (or line) of a streamed answer, in characters: 16 MiB of text is far beyond any real chunk. */
const MAX_EVENT_CHARS = 16 * 2 ** 20;

/** How many parts may wait unread before the socket is paused. */
const HIGH_WATER = 256;

/**
 * A streamed answer's parts, read from the response as it arrives: an SSE parser (`data:` lines,
 * events ended by a blank line, `[DONE]`) over the body, each chunk turned into parts at once. Reads
 * are served from a queue; the socket pauses while too many parts wait. `onProgress` runs for every
 * piece of the body (the lease's idle timer). A body longer than MAX_ANSWER_BYTES fails the read
 * (AnswerTooLargeError) and lets the connection go.
 */
export class WireStream implements PartReader {
  readonly #res: IncomingMessage;
  readonly #queue: Part[] = [{ type: 'stream-start', warnings: [] }];
  #waiter: { resolve: (r: PartRead) => void; reject: (e: unknown) => void } | undefined;
  #failure: unknown;
  #closed = false;
  #buffer = '';
  /** The body's characters so far (MAX_ANSWER_BYTES bounds them). */
  #received = 0;
  #data: string[] = [];
  #dataLength = 0;
  #usage: WireUsage | undefined;
  #rawFinish: unknown;
  #errored = false;
  #refusal = false;
  #text = false;
  #reasoning = false;
  readonly #calls: PendingCall[] = [];
  readonly #metadataKey: string | undefined;

  /**
   * `metadataKey`: the provider options key a tool call's thought signature is reported under
   * (`providerMetadata[key].thoughtSignature`, as `@ai-sdk/openai-compatible` does); without it,
   * signatures are not read.
   */
  constructor(res: IncomingMessage, onProgress: () => void, metadataKey?: string) {
    this.#res = res;
    this.#metadataKey = metadataKey;
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      onProgress();
      this.#feed(chunk);
    });
    res.on('end', () => this.#end());
    res.on('error', (error) => this.#fail(error));
    res.on('close', () => {
      if (!this.#closed) this.#fail(Object.assign(new Error('the connection closed in the middle of the answer'), { code: 'ECONNRESET' }));
    });
  }

  read(): Promise<PartRead> {
    const part = this.#queue.shift();
    if (part) {
      if (this.#res.isPaused() && this.#queue.length < HIGH_WATER / 2 && !this.#closed) this.#res.resume();
      return Promise.resolve({ done: false, value: part });
    }
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
  }

  async cancel(): Promise<void> {
    this.#closed = true;
    this.#queue.length = 0;
    this.#res.destroy();
  }

  #push(part: Part): void {
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter.resolve({ done: false, value: part });
      return;
    }
    this.#queue.push(part);
    if (this.#queue.length >= HIGH_WATER) this.#res.pause();
  }

  #fail(error: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#failure = error;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(error);
  }

  #feed(chunk: string): void {
    if (this.#closed) return;
    this.#received += chunk.length;
    if (this.#received > MAX_ANSWER_BYTES) return this.#tooLarge();
    // Only the new chunk is searched for line ends: a long line arriving in many pieces costs its
    // length once, not once per piece.
    let nl = chunk.indexOf('\n');
    if (nl < 0) {
      this.#buffer += chunk;
      this.#bound();
      return;
    }
    let text = this.#buffer + chunk;
    let start = 0;
    for (nl += this.#buffer.length; nl >= 0; nl = text.indexOf('\n', start)) {
      const line = text.charCodeAt(nl - 1) === 13 ? text.slice(start, nl - 1) : text.slice(start, nl);
      start = nl + 1;
      this.#line(line);
      if (this.#closed) return;
    }
    text = text.slice(start);
    this.#buffer = text;
    this.#bound();
  }

  /** A provider that never ends its line or event cannot make the answer grow without bound. */
  #bound(): void {
    if (this.#buffer.length + this.#dataLength <= MAX_EVENT_CHARS) return;
    this.#fail(new BadAnswerError(`an event of the streamed answer went past ${MAX_EVENT_CHARS / 2 ** 20} MiB without ending`));
    this.#res.destroy();
  }

  /** A provider that never ends its answer cannot make it grow without bound either. */
  #tooLarge(): void {
    this.#fail(new AnswerTooLargeError('the streamed answer', MAX_ANSWER_BYTES));
    this.#res.destroy();
  }

  #line(line: string): void {
    if (line === '') {
      if (this.#data.length) {
        const data = this.#data.length === 1 ? (this.#data[0] as string) : this.#data.join('\n');
        this.#data = [];
        this.#dataLength = 0;
        this.#event(data);
      }
      return;
    }
    if (line.startsWith('data:')) {
      const data = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
      this.#data.push(data);
      this.#dataLength += data.length;
    }
    // `event:`, `id:`, `retry:` and `:` comments carry nothing used here.
  }

  #event(data: string): void {
    if (data === '[DONE]') return;
    let value: Json;
    try {
      value = JSON.parse(data) as Json;
    } catch {
      this.#errored = true;
      this.#push({ type: 'error', error: new BadAnswerError(`a chunk of the answer is not JSON: ${data.slice(0, 100)}`) });
      return;
    }
    if (value.error !== undefined && value.error !== null) {
      this.#errored = true;
      this.#push({ type: 'error', error: providerError(value.error) });
      return;
    }
    if (value.usage != null) this.#usage = value.usage as WireUsage;
    const choice = (value.choices as Json[] | undefined)?.[0];
    if (!choice) return;
    if (choice.finish_reason != null) this.#rawFinish = choice.finish_reason;
    const delta = choice.delta as Json | undefined;
    if (!delta) {
      // A text completion's chunk (`/completions`): its text, and its log probabilities with it.
      if (typeof choice.text === 'string' && choice.text) this.#textDelta(choice.text, logprobsMetadata(choice.logprobs));
      return;
    }
    const reasoning = delta.reasoning_content ?? delta.reasoning;
    if (typeof reasoning === 'string' && reasoning) this.#reasoningDelta(reasoning);
    if (delta.content != null) {
      // The chunk's log probabilities go with its first text piece.
      let metadata = logprobsMetadata(choice.logprobs);
      const onText = (t: string): void => {
        this.#textDelta(t, metadata);
        metadata = undefined;
      };
      contentPieces(delta.content, onText, (t) => this.#reasoningDelta(t));
    }
    if (typeof delta.refusal === 'string' && delta.refusal) {
      this.#refusal = true;
      this.#textDelta(delta.refusal);
    }
    const calls = delta.tool_calls as Json[] | undefined;
    if (calls?.length) {
      this.#endReasoning();
      for (const call of calls) this.#callDelta(call);
    }
  }

  #endReasoning(): void {
    if (!this.#reasoning) return;
    this.#reasoning = false;
    this.#push({ type: 'reasoning-end', id: 'reasoning-0' });
  }

  #endText(): void {
    if (!this.#text) return;
    this.#text = false;
    this.#push({ type: 'text-end', id: 'txt-0' });
  }

  #reasoningDelta(delta: string): void {
    this.#endText();
    if (!this.#reasoning) {
      this.#reasoning = true;
      this.#push({ type: 'reasoning-start', id: 'reasoning-0' });
    }
    this.#push({ type: 'reasoning-delta', id: 'reasoning-0', delta });
  }

  #textDelta(delta: string, providerMetadata?: ReturnType<typeof logprobsMetadata>): void {
    this.#endReasoning();
    if (!this.#text) {
      this.#text = true;
      this.#push({ type: 'text-start', id: 'txt-0' });
    }
    this.#push(providerMetadata ? { type: 'text-delta', id: 'txt-0', delta, providerMetadata } : { type: 'text-delta', id: 'txt-0', delta });
  }

  #callDelta(delta: Json): void {
    const index = typeof delta.index === 'number' ? delta.index : this.#calls.length;
    let call = this.#calls[index];
    if (!call) this.#calls[index] = call = { id: undefined, name: undefined, args: '', started: false };
    if (call.id === undefined && typeof delta.id === 'string' && delta.id) call.id = delta.id;
    const fn = delta.function as Json | undefined;
    if (call.name === undefined && typeof fn?.name === 'string' && fn.name) call.name = fn.name;
    if (typeof fn?.arguments === 'string') call.args += fn.arguments;
    if (this.#metadataKey !== undefined) call.signature ??= thoughtSignature(delta);
    if (!call.started && call.name !== undefined) {
      call.started = true;
      call.id = callId(call.id);
      this.#push({ type: 'tool-input-start', id: call.id, toolName: call.name });
    }
  }

  #end(): void {
    if (this.#closed) return;
    // An event the body did not end with a blank line.
    if (this.#buffer) this.#line(this.#buffer);
    this.#buffer = '';
    this.#line('');
    this.#endReasoning();
    this.#endText();
    for (const call of this.#calls) {
      if (!call) continue;
      const id = callId(call.id);
      if (call.started) this.#push({ type: 'tool-input-end', id });
      const providerMetadata = call.signature === undefined ? undefined : { [this.#metadataKey as string]: { thoughtSignature: call.signature } };
      this.#push({ type: 'tool-call', toolCallId: id, toolName: call.name ?? '', input: call.args || '{}', ...(providerMetadata ? { providerMetadata } : {}) });
    }
    let finishReason: LanguageModelV4FinishReason;
    if (this.#rawFinish != null) finishReason = finishOf(this.#rawFinish, this.#refusal);
    else {
      finishReason = { unified: 'error', raw: undefined };
      if (!this.#errored) this.#push({ type: 'error', error: new BadAnswerError(NO_FINISH_REASON) });
    }
    this.#push({ type: 'finish', finishReason, usage: usageOf(this.#usage) });
    this.#closed = true;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.resolve({ done: true, value: undefined });
  }
}
