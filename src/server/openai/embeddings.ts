/**
 * `POST /v1/embeddings` in OpenAI's format: the request schema (published at /doc, checked before
 * the handler runs) and the answer. Fields Pantheon does not read (`user`, NVIDIA NIM's
 * `input_type` and `truncate`, …) pass, and go up as they are to OpenAI-compatible models.
 * Vectors are answered as floats, or as base64 float32 when the client asks (`encoding_format:
 * "base64"`, what OpenAI's own clients ask for by default).
 */
import { base64OfFloats } from '../../providers/openai-embeddings.ts';
import type { JsonSchema } from '../route.ts';

/** OpenAI's own limit on inputs a request. */
export const MAX_EMBEDDING_INPUTS = 2048;

export interface EmbeddingsBody {
  model: string;
  input: string | string[] | number[] | number[][];
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  [field: string]: unknown;
}

const tokens: JsonSchema = { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 1, maxItems: 1_000_000 };

export const EMBEDDINGS_SCHEMAS: Record<string, JsonSchema> = {
  EmbeddingsRequest: {
    type: 'object',
    properties: {
      model: { type: 'string', minLength: 1, maxLength: 256, description: '`provider/model[:variant]` (no fallbacks: vectors of different models do not compare)' },
      input: {
        description: 'A text, a list of texts, a token array or a list of token arrays (token arrays: OpenAI-compatible providers only)',
        anyOf: [
          { type: 'string', minLength: 1 },
          { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, maxItems: MAX_EMBEDDING_INPUTS },
          tokens,
          { type: 'array', items: tokens, minItems: 1, maxItems: MAX_EMBEDDING_INPUTS },
        ],
      },
      encoding_format: { type: ['string', 'null'], enum: ['float', 'base64', null] },
      dimensions: { type: ['integer', 'null'], minimum: 1, maximum: 100_000 },
      user: { type: ['string', 'null'] },
    },
    required: ['model', 'input'],
  },
};

/** The inputs as a list: one text or token array becomes a list of one. */
export function embeddingInputs(input: EmbeddingsBody['input']): string[] | number[][] {
  if (typeof input === 'string') return [input];
  if (typeof input[0] === 'number') return [input as number[]];
  return input as string[] | number[][];
}

/** OpenAI's answer: a vector per input (floats, or base64 float32), the model, the tokens. */
export function embeddingsJson(model: string, vectors: readonly number[][], promptTokens: number, base64: boolean): object {
  return {
    object: 'list',
    data: vectors.map((vector, index) => ({ object: 'embedding', index, embedding: base64 ? base64OfFloats(vector) : vector })),
    model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}
