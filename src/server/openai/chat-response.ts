/**
 * The AI SDK's stream parts as OpenAI chat-completions output: one `chat.completion` object, or
 * `chat.completion.chunk` SSE frames ending with `data: [DONE]` (a usage chunk first when the
 * client asked for `stream_options.include_usage`). Tool calls pass through as OpenAI tool calls;
 * the token log probabilities a provider gave (the client sent `logprobs`) as its `logprobs`.
 */
import { randomBytes } from '../../random-bytes.ts';
import type { LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { LOGPROBS } from '../../providers/openai-wire-parts.ts';
import { eachPart, usageOf, type PartsOrStream } from '../../scheduler/stream-parts.ts';
import { sseOfParts, type SseFormat, type SseOutcome } from './sse-parts.ts';

export interface Completion {
  id: string;
  created: number;
  /** The model as the client names it in responses (the model that served). */
  model: string;
}

/** Completion ids: a random part per process and a counter (random bytes per request cost a system call every few requests). */
const ID_RANDOM = randomBytes(9).toString('base64url');
let idSeq = 0;

/** A new answer's id (`chatcmpl-…`, or a text completion's `cmpl-…`), time and model. */
export function newCompletion(model: string, prefix: 'chatcmpl' | 'cmpl' = 'chatcmpl'): Completion {
  idSeq += 1;
  return { id: `${prefix}-${ID_RANDOM}${idSeq.toString(36)}`, created: Math.floor(Date.now() / 1000), model };
}

const FINISH: Record<string, string> = { stop: 'stop', length: 'length', 'tool-calls': 'tool_calls', 'content-filter': 'content_filter' };

export function finishReason(part: Extract<LanguageModelV4StreamPart, { type: 'finish' }>, sawToolCall: boolean): string {
  return FINISH[part.finishReason.unified] ?? (sawToolCall ? 'tool_calls' : 'stop');
}

/** OpenAI's usage object; the prompt-cache reads and reasoning tokens when the provider reported them. */
export function usage(part: Extract<LanguageModelV4StreamPart, { type: 'finish' }>): Record<string, unknown> {
  const u = usageOf(part.usage);
  const cached = part.usage.inputTokens.cacheRead;
  const reasoning = part.usage.outputTokens.reasoning;
  return {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
    ...(cached === undefined ? {} : { prompt_tokens_details: { cached_tokens: cached } }),
    ...(reasoning === undefined ? {} : { completion_tokens_details: { reasoning_tokens: reasoning } }),
  };
}

interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

function toolCall(part: Extract<LanguageModelV4StreamPart, { type: 'tool-call' }>): ToolCall {
  return { id: part.toolCallId, type: 'function', function: { name: part.toolName, arguments: typeof part.input === 'string' ? part.input : JSON.stringify(part.input) } };
}

type TextDelta = Extract<LanguageModelV4StreamPart, { type: 'text-delta' }>;

/** The token log probabilities a text part carries (the client asked `logprobs`, the provider gave them), or undefined. */
export function logprobsOf(part: TextDelta): Record<string, unknown> | undefined {
  return part.providerMetadata?.[LOGPROBS]?.logprobs as Record<string, unknown> | undefined;
}

/**
 * The answer's log probabilities from its text parts': one part's as given, several parts' lists
 * (`names`: chat's `content` and `refusal`; a text completion's `tokens`, `token_logprobs`, …) joined.
 */
export function joinLogprobs(all: Record<string, unknown>[], names: readonly string[] = ['content', 'refusal']): Record<string, unknown> | null {
  if (all.length <= 1) return all[0] ?? null;
  const joined: Record<string, unknown> = {};
  for (const name of names) {
    const lists = all.map((l) => l[name]).filter(Array.isArray);
    joined[name] = lists.length ? lists.flat() : null;
  }
  return joined;
}

type Finish = Extract<LanguageModelV4StreamPart, { type: 'finish' }>;

/** A whole answer read from its parts: the text, the reasoning, the tool calls, the log probabilities of the text parts, the finish. */
export interface WholeAnswer {
  text: string;
  reasoning: string;
  calls: ToolCall[];
  logprobs: Record<string, unknown>[];
  finish: Finish | undefined;
}

export async function readWhole(output: PartsOrStream): Promise<WholeAnswer> {
  const answer: WholeAnswer = { text: '', reasoning: '', calls: [], logprobs: [], finish: undefined };
  await eachPart(output, (part) => {
    if (part.type === 'text-delta') {
      answer.text += part.delta;
      const given = part.providerMetadata && logprobsOf(part);
      if (given) answer.logprobs.push(given);
    } else if (part.type === 'reasoning-delta') answer.reasoning += part.delta;
    else if (part.type === 'tool-call') answer.calls.push(toolCall(part));
    else if (part.type === 'finish') answer.finish = part;
  });
  return answer;
}

/** Reads the whole answer into one `chat.completion` object. */
export async function completionJson(meta: Completion, output: PartsOrStream): Promise<object> {
  const { text, reasoning, calls, logprobs, finish } = await readWhole(output);
  const message = { role: 'assistant', content: text || (calls.length ? null : ''), ...(reasoning ? { reasoning_content: reasoning } : {}), ...(calls.length ? { tool_calls: calls } : {}) };
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, message, logprobs: joinLogprobs(logprobs), finish_reason: finish ? finishReason(finish, calls.length > 0) : 'stop' }],
    usage: finish ? usage(finish) : NO_USAGE,
  };
}

/** OpenAI's usage of an answer that never finished: none. */
export const NO_USAGE = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };

/** What the SSE writers of OpenAI's chunked answers (chat completions, text completions) write: a chunk of choices, the usage chunk, an error, `[DONE]`. */
export interface ChunkFrames {
  choice(choiceJson: string): Uint8Array;
  usage(part: Extract<LanguageModelV4StreamPart, { type: 'finish' }>): Uint8Array;
  error(body: object): Uint8Array;
  done: Uint8Array;
}

export function chunkFrames(meta: Completion, object: 'chat.completion.chunk' | 'text_completion'): ChunkFrames {
  const encoder = new TextEncoder();
  const head = `{"id":${JSON.stringify(meta.id)},"object":"${object}","created":${meta.created},"model":${JSON.stringify(meta.model)}`;
  return {
    choice: (choiceJson) => encoder.encode(`data: ${head},"choices":[${choiceJson}]}\n\n`),
    usage: (part) => encoder.encode(`data: ${head},"choices":[],"usage":${JSON.stringify(usage(part))}}\n\n`),
    error: (body) => encoder.encode(`data: ${JSON.stringify(body)}\n\n`),
    done: encoder.encode('data: [DONE]\n\n'),
  };
}

/** OpenAI's chunked answer as SSE: `part` writes each part's chunks; the end is `[DONE]`, a failure its error chunk, then `[DONE]`. */
export function chunkedSse(
  stream: ReadableStream<LanguageModelV4StreamPart>,
  frames: ChunkFrames,
  part: SseFormat['part'],
  options: { renderError: (error: unknown) => object; onEnd?: (status: SseOutcome, error?: unknown) => void },
): ReadableStream<Uint8Array> {
  return sseOfParts(
    stream,
    {
      part,
      closing: (out) => void out.push(frames.done),
      failed: (error, out) => void out.push(frames.error(options.renderError(error)), frames.done),
    },
    options.onEnd,
  );
}

/**
 * The answer as SSE frames. A failure after the first frame (the stream broke and could not be
 * resumed) becomes an `error` frame, as OpenAI sends it, and the stream ends.
 */
export function completionSse(
  meta: Completion,
  stream: ReadableStream<LanguageModelV4StreamPart>,
  options: { includeUsage: boolean; renderError: (error: unknown) => object; onEnd?: (status: SseOutcome, error?: unknown) => void },
): ReadableStream<Uint8Array> {
  const frames = chunkFrames(meta, 'chat.completion.chunk');
  const delta = (d: object, finish: string | null = null, logprobs: string = 'null'): Uint8Array =>
    frames.choice(`{"index":0,"delta":${JSON.stringify(d)},"logprobs":${logprobs},"finish_reason":${finish === null ? 'null' : JSON.stringify(finish)}}`);
  let started = false;
  let calls = 0;
  return chunkedSse(stream, frames, (part, out) => {
    if (!started && (part.type === 'text-delta' || part.type === 'reasoning-delta' || part.type === 'tool-call' || part.type === 'finish')) {
      started = true;
      out.push(delta({ role: 'assistant', content: '' }));
    }
    if (part.type === 'text-delta') {
      const logprobs = part.providerMetadata && logprobsOf(part);
      if (part.delta) out.push(delta({ content: part.delta }, null, logprobs ? JSON.stringify(logprobs) : 'null'));
    } else if (part.type === 'reasoning-delta') {
      if (part.delta) out.push(delta({ reasoning_content: part.delta }));
    } else if (part.type === 'tool-call') {
      out.push(delta({ tool_calls: [{ index: calls++, ...toolCall(part) }] }));
    } else if (part.type === 'finish') {
      out.push(delta({}, finishReason(part, calls > 0)));
      if (options.includeUsage) out.push(frames.usage(part));
    }
  }, options);
}
