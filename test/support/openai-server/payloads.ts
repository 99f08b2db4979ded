/**
 * Wire shapes of OpenAI chat completions (and text completions): response bodies, stream chunks, error bodies, and
 * the deterministic chars/4 token estimate.
 */
import type { UsageOverride } from './types.ts';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface WireToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** What one answer consists of, before it is rendered as JSON or as SSE chunks. */
export interface Answer {
  id: string;
  model: string;
  created: number;
  chunks: string[];
  toolCalls: WireToolCall[];
  finishReason: string;
  /** Each text chunk comes with a log probability (the request asked for `logprobs`). */
  logprobs: boolean;
  usage: Usage;
  /** A text completion (`/v1/completions`): `text_completion` objects, each choice's `text`; no role chunk, no tool calls. */
  textCompletion?: boolean;
  /** Reasoning before the text (chat only): `reasoning_content`. */
  reasoning?: string;
}

/** A text completion's log probabilities for its chunks (one "token" each), in OpenAI's legacy shape. */
function legacyLogprobs(chunks: readonly string[], from = 0, offset = 0): Record<string, unknown> {
  const offsets: number[] = [];
  for (const text of chunks) {
    offsets.push(offset);
    offset += text.length;
  }
  return { tokens: [...chunks], token_logprobs: chunks.map((_, i) => -(from + i + 1) / 10), top_logprobs: chunks.map(() => null), text_offset: offsets };
}

/** The log probability the scripted server gives a chunk of text (one "token" per chunk): -(its index + 1) / 10. */
export function tokenLogprob(text: string, index: number): Record<string, unknown> {
  return { token: text, logprob: -(index + 1) / 10, bytes: [...Buffer.from(text)], top_logprobs: [] };
}

/** ~4 characters per token, rounded up. */
export function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

/** The text of a message's `content` (a string, or the text parts of an array). */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) => {
      const record = part as { type?: unknown; text?: unknown } | null;
      return record !== null && typeof record === 'object' && typeof record.text === 'string' ? record.text : '';
    })
    .join('');
}

/** Characters of a prompt: every message's text plus the names and arguments of its tool calls. */
export function promptChars(messages: readonly unknown[]): number {
  let chars = 0;
  for (const message of messages) {
    if (message === null || typeof message !== 'object') continue;
    const { content, tool_calls: toolCalls } = message as { content?: unknown; tool_calls?: unknown };
    chars += contentText(content).length;
    if (Array.isArray(toolCalls)) {
      for (const call of toolCalls as { function?: { name?: unknown; arguments?: unknown } }[]) {
        chars += String(call.function?.name ?? '').length + String(call.function?.arguments ?? '').length;
      }
    }
  }
  return chars;
}

/** The text of the last `user` message ('' when there is none). */
export function lastUserText(messages: readonly unknown[]): string {
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const message = messages[i] as { role?: unknown; content?: unknown } | null;
    if (message !== null && typeof message === 'object' && message.role === 'user') return contentText(message.content);
  }
  return '';
}

export function makeUsage(promptTokens: number, completionTokens: number, override: UsageOverride | undefined): Usage {
  const prompt = override?.prompt_tokens ?? promptTokens;
  const completion = override?.completion_tokens ?? completionTokens;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    ...(override?.cached_tokens === undefined ? {} : { prompt_tokens_details: { cached_tokens: override.cached_tokens } }),
    ...(override?.reasoning_tokens === undefined ? {} : { completion_tokens_details: { reasoning_tokens: override.reasoning_tokens } }),
  };
}

/** Splits text at word boundaries, each piece carrying the whitespace before its word. */
export function splitWords(text: string): string[] {
  if (text === '') return [];
  return text.match(/\s*\S+|\s+$/g) ?? [text];
}

/** Keeps the first `maxChars` characters of a chunked text, dropping chunks that become empty. */
export function cutChunks(chunks: readonly string[], maxChars: number): string[] {
  const kept: string[] = [];
  let left = maxChars;
  for (const chunk of chunks) {
    if (left <= 0) break;
    kept.push(chunk.slice(0, left));
    left -= chunk.length;
  }
  return kept;
}

/** Splits a string in two halves (the second may be empty), for streamed tool arguments. */
export function halves(text: string): string[] {
  if (text.length < 2) return text === '' ? [] : [text];
  const middle = Math.ceil(text.length / 2);
  return [text.slice(0, middle), text.slice(middle)];
}

export function completionBody(answer: Answer): Record<string, unknown> {
  const text = answer.chunks.join('');
  if (answer.textCompletion) {
    const logprobs = answer.logprobs ? legacyLogprobs(answer.chunks) : null;
    return { id: answer.id, object: 'text_completion', created: answer.created, model: answer.model, choices: [{ text, index: 0, logprobs, finish_reason: answer.finishReason }], usage: answer.usage };
  }
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: answer.toolCalls.length > 0 && text === '' ? null : text,
    ...(answer.reasoning ? { reasoning_content: answer.reasoning } : {}),
  };
  if (answer.toolCalls.length > 0) {
    message.tool_calls = answer.toolCalls.map((call) => ({
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    }));
  }
  return {
    id: answer.id,
    object: 'chat.completion',
    created: answer.created,
    model: answer.model,
    choices: [{ index: 0, message, logprobs: answer.logprobs ? { content: answer.chunks.map(tokenLogprob), refusal: null } : null, finish_reason: answer.finishReason }],
    usage: answer.usage,
  };
}

function chunk(answer: Answer, delta: Record<string, unknown>, finishReason: string | null, logprobs: unknown = null): string {
  return JSON.stringify({
    id: answer.id,
    object: 'chat.completion.chunk',
    created: answer.created,
    model: answer.model,
    choices: [{ index: 0, delta, logprobs, finish_reason: finishReason }],
  });
}

/** A text completion's chunk: a piece of the text, or the finish reason. */
function textChunk(answer: Answer, text: string, finishReason: string | null, logprobs: unknown = null): string {
  return JSON.stringify({ id: answer.id, object: 'text_completion', created: answer.created, model: answer.model, choices: [{ text, index: 0, logprobs, finish_reason: finishReason }] });
}

/** The role chunk (chat only) and the text chunks — what a stream sends before its tool calls and finish. */
export function openingEvents(answer: Answer): string[] {
  if (answer.textCompletion) {
    let offset = 0;
    return answer.chunks.map((text, i) => {
      const logprobs = answer.logprobs ? legacyLogprobs([text], i, offset) : null;
      offset += text.length;
      return textChunk(answer, text, null, logprobs);
    });
  }
  return [
    chunk(answer, { role: 'assistant', content: '' }, null),
    ...(answer.reasoning ? halves(answer.reasoning).map((part) => chunk(answer, { reasoning_content: part }, null)) : []),
    ...answer.chunks.map((text, i) => chunk(answer, { content: text }, null, answer.logprobs ? { content: [tokenLogprob(text, i)], refusal: null } : null)),
  ];
}

/** Tool-call deltas, the finish chunk, the usage chunk (when asked for) and [DONE]. */
export function closingEvents(answer: Answer, includeUsage: boolean): string[] {
  const events: string[] = [];
  if (answer.textCompletion) {
    events.push(textChunk(answer, '', answer.finishReason));
    if (includeUsage) events.push(JSON.stringify({ id: answer.id, object: 'text_completion', created: answer.created, model: answer.model, choices: [], usage: answer.usage }));
    events.push('[DONE]');
    return events;
  }
  answer.toolCalls.forEach((call, index) => {
    events.push(chunk(answer, { tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }, null));
    for (const piece of halves(call.arguments)) {
      events.push(chunk(answer, { tool_calls: [{ index, function: { arguments: piece } }] }, null));
    }
  });
  events.push(chunk(answer, {}, answer.finishReason));
  if (includeUsage) {
    events.push(JSON.stringify({ id: answer.id, object: 'chat.completion.chunk', created: answer.created, model: answer.model, choices: [], usage: answer.usage }));
  }
  events.push('[DONE]');
  return events;
}

export function sseFrame(data: string): string {
  return `data: ${data}\n\n`;
}

const ERRORS: Record<number, { message: string; type: string; code: string | null }> = {
  400: { message: 'Invalid request.', type: 'invalid_request_error', code: null },
  401: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' },
  403: { message: 'You are not allowed to use this model.', type: 'permission_error', code: 'permission_denied' },
  404: { message: 'The model does not exist or you do not have access to it.', type: 'invalid_request_error', code: 'model_not_found' },
  408: { message: 'Request timed out.', type: 'timeout_error', code: 'timeout' },
  409: { message: 'Conflict.', type: 'invalid_request_error', code: 'conflict' },
  413: { message: 'Request too large.', type: 'invalid_request_error', code: 'request_too_large' },
  422: { message: 'Unprocessable request.', type: 'invalid_request_error', code: null },
  429: { message: 'Rate limit reached for requests.', type: 'requests', code: 'rate_limit_exceeded' },
  503: { message: 'The engine is currently overloaded, please try again later.', type: 'server_error', code: 'overloaded' },
  529: { message: 'The engine is currently overloaded, please try again later.', type: 'server_error', code: 'overloaded' },
};

/** `{error:{message,type,param,code}}` as OpenAI sends it. */
export function errorBody(status: number, message?: string): Record<string, unknown> {
  const known = ERRORS[status] ?? { message: 'The server had an error while processing your request.', type: 'server_error', code: null };
  return { error: { message: message ?? known.message, type: known.type, param: null, code: known.code } };
}
