/**
 * `POST /v1/completions` in OpenAI's format (legacy text completions: what code editors'
 * autocompletion sends, `suffix` for fill-in-the-middle): the request schema (published at /doc,
 * checked before the handler runs), the AI SDK call options the chain model keys the cache and
 * estimates tokens with (the body itself goes up as it is: providers/openai-wire.ts
 * completionsBody), and the answer — one `text_completion` object, or its chunks as SSE.
 * Fields Pantheon does not read (`suffix`, `echo`, `logprobs`, `best_of`, a local server's `top_k`
 * or `n_probs`, …) pass, and go up as they are.
 */
import type { LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { CLIENT_FIELDS, clientFields } from '../../providers/openai-wire.ts';
import type { PartsOrStream } from '../../scheduler/stream-parts.ts';
import { HttpError } from '../http-error.ts';
import type { JsonSchema } from '../route.ts';
import { chunkedSse, chunkFrames, finishReason, joinLogprobs, logprobsOf, NO_USAGE, readWhole, usage, type Completion } from './chat-response.ts';
import type { CallOptions } from './chat-request.ts';
import type { SseOutcome } from './sse-parts.ts';

type Json = Record<string, unknown>;

export interface CompletionsBody {
  model: string;
  prompt: string | string[] | number[] | number[][];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  stop?: string | string[];
  seed?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  n?: number;
  [field: string]: unknown;
}

const tokens: JsonSchema = { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 1, maxItems: 1_000_000 };

export const COMPLETIONS_SCHEMAS: Record<string, JsonSchema> = {
  CompletionRequest: {
    type: 'object',
    properties: {
      model: { type: 'string', minLength: 1, maxLength: 256, description: '`provider/model[:variant]` on an OpenAI-compatible provider (then those of the top-level fallbacks that are)' },
      prompt: {
        description: 'A text, or a token array (a list of one of either is taken too)',
        anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 2048 }, tokens, { type: 'array', items: tokens, minItems: 1, maxItems: 2048 }],
      },
      suffix: { type: ['string', 'null'], description: 'The text after the completion (fill-in-the-middle)' },
      stream: { type: ['boolean', 'null'] },
      stream_options: { type: ['object', 'null'], properties: { include_usage: { type: 'boolean' } } },
      max_tokens: { type: ['integer', 'null'], minimum: 0, maximum: 10_000_000 },
      temperature: { type: ['number', 'null'], minimum: 0, maximum: 2 },
      top_p: { type: ['number', 'null'], minimum: 0, maximum: 1 },
      stop: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, maxItems: 4 }, { type: 'null' }] },
      seed: { type: ['integer', 'null'] },
      presence_penalty: { type: ['number', 'null'], minimum: -2, maximum: 2 },
      frequency_penalty: { type: ['number', 'null'], minimum: -2, maximum: 2 },
      n: { type: ['integer', 'null'], minimum: 1, maximum: 1 },
      best_of: { type: ['integer', 'null'], minimum: 1, maximum: 20 },
      echo: { type: ['boolean', 'null'] },
      logprobs: { type: ['integer', 'null'], minimum: 0, maximum: 20 },
      logit_bias: { type: ['object', 'null'] },
      user: { type: ['string', 'null'] },
    },
    required: ['model', 'prompt'],
  },
};

/** The fields Pantheon reads itself; the others go up as they are, and key the cache (clientFields). */
const READ: ReadonlySet<string> = new Set(['model', 'prompt', 'stream', 'stream_options', 'temperature', 'top_p', 'max_tokens', 'stop', 'seed', 'presence_penalty', 'frequency_penalty', 'n']);

/** Where the call options mark a text completion: its cache key never meets a chat request's with the same text. */
const TEXT_COMPLETION = 'pantheon:textCompletion';

/** The one prompt of a request, as text (a token array as its JSON, for the cache key and the estimate). */
function promptText(prompt: CompletionsBody['prompt']): string {
  if (typeof prompt === 'string') return prompt;
  if (typeof prompt[0] === 'number') return JSON.stringify(prompt);
  if (prompt.length > 1) {
    throw new HttpError(400, 'BAD_REQUEST', `prompt: one prompt per request is supported (got ${prompt.length}).`, { hint: 'Send each prompt in a request of its own.', details: { param: 'prompt' } });
  }
  const only = prompt[0] as string | number[];
  return typeof only === 'string' ? only : JSON.stringify(only);
}

/** The AI SDK call options a text completion amounts to, for the cache key, the token estimate and the budgets. */
export function completionCallOptions(body: CompletionsBody): CallOptions {
  const text = promptText(body.prompt);
  const fields = clientFields(body, READ);
  const stop = body.stop === undefined ? undefined : [body.stop].flat();
  return {
    prompt: [{ role: 'user', content: [{ type: 'text', text }] }],
    ...(body.temperature === undefined ? {} : { temperature: body.temperature }),
    ...(body.top_p === undefined ? {} : { topP: body.top_p }),
    ...(body.max_tokens === undefined ? {} : { maxOutputTokens: body.max_tokens }),
    ...(stop ? { stopSequences: stop } : {}),
    ...(body.seed === undefined ? {} : { seed: body.seed }),
    ...(body.presence_penalty === undefined ? {} : { presencePenalty: body.presence_penalty }),
    ...(body.frequency_penalty === undefined ? {} : { frequencyPenalty: body.frequency_penalty }),
    providerOptions: { [TEXT_COMPLETION]: { endpoint: 'completions' }, ...(fields ? { [CLIENT_FIELDS]: fields } : {}) } as CallOptions['providerOptions'],
  };
}

/** A text completion's log probabilities, per token (OpenAI's legacy shape). */
const LOGPROB_LISTS = ['tokens', 'token_logprobs', 'top_logprobs', 'text_offset'];

/** Reads the whole answer into one `text_completion` object. */
export async function textCompletionJson(meta: Completion, output: PartsOrStream): Promise<object> {
  const { text, logprobs, finish } = await readWhole(output);
  return {
    id: meta.id,
    object: 'text_completion',
    created: meta.created,
    model: meta.model,
    choices: [{ text, index: 0, logprobs: joinLogprobs(logprobs, LOGPROB_LISTS), finish_reason: finish ? finishReason(finish, false) : 'stop' }],
    usage: finish ? usage(finish) : NO_USAGE,
  };
}

/**
 * The answer as `text_completion` chunks: the text as it comes, then the finish reason, a usage
 * chunk when the client asked (`stream_options.include_usage`), and `data: [DONE]`. A failure
 * after the first chunk is an `error` frame, as OpenAI sends it, and the stream ends.
 */
export function textCompletionSse(
  meta: Completion,
  stream: ReadableStream<LanguageModelV4StreamPart>,
  options: { includeUsage: boolean; renderError: (error: unknown) => object; onEnd?: (status: SseOutcome, error?: unknown) => void },
): ReadableStream<Uint8Array> {
  const frames = chunkFrames(meta, 'text_completion');
  const chunk = (text: string, logprobs: Json | undefined, finish: string | null): Uint8Array =>
    frames.choice(`{"text":${JSON.stringify(text)},"index":0,"logprobs":${logprobs ? JSON.stringify(logprobs) : 'null'},"finish_reason":${finish === null ? 'null' : JSON.stringify(finish)}}`);
  return chunkedSse(stream, frames, (part, out) => {
    if (part.type === 'text-delta') {
      if (part.delta) out.push(chunk(part.delta, part.providerMetadata && logprobsOf(part), null));
    } else if (part.type === 'finish') {
      out.push(chunk('', undefined, finishReason(part, false)));
      if (options.includeUsage) out.push(frames.usage(part));
    }
  }, options);
}
