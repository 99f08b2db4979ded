/**
 * `POST /v1/embeddings` of the scripted server: the same model queues, keys, limits and log as
 * chat completions. A text or echo step (the default) answers a vector per input, the same for the
 * same input and length; `status`, `hang`, `reset` and `bad_json` steps fail as they do for chat, and
 * `truncated` sends half of the JSON. `dimensions` sets the length (default 8), `encoding_format:
 * "base64"` answers little-endian float32 in base64 as OpenAI does.
 */
import type { IncomingMessage } from 'node:http';
import { estimateTokens } from './payloads.ts';
import { logEntry, parseRequestBody } from './request.ts';
import { respond, wait, type Exchange } from './respond.ts';
import type { RequestLogEntry, Step } from './types.ts';

const DEFAULT_DIMENSIONS = 8;
const MAX_DIMENSIONS = 4096;

export interface EmbeddingsRequest {
  entry: RequestLogEntry;
  invalid: string | undefined;
  inputs: (string | number[])[];
  dimensions: number;
  base64: boolean;
}

function inputsOf(input: unknown): (string | number[])[] | undefined {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input) || input.length === 0) return undefined;
  if (input.every((v) => typeof v === 'string')) return input as string[];
  if (input.every((v) => typeof v === 'number')) return [input as number[]];
  if (input.every((v) => Array.isArray(v) && v.every((n) => typeof n === 'number'))) return input as number[][];
  return undefined;
}

/** Parses an embeddings body into a fresh log entry (endpoint `embeddings`). */
export function readEmbeddingsRequest(req: IncomingMessage, raw: string, seq: number, startedAt: number): EmbeddingsRequest {
  const parsed = parseRequestBody(raw);
  const { body, record, model } = parsed;
  let invalid = parsed.invalid;
  const inputs = inputsOf(record.input);
  const dimensions = record.dimensions === undefined ? DEFAULT_DIMENSIONS : Number(record.dimensions);
  if (invalid === undefined && !inputs) invalid = "'input' must be a string, an array of strings, or token arrays, and not empty.";
  if (invalid === undefined && !(Number.isInteger(dimensions) && dimensions >= 1 && dimensions <= MAX_DIMENSIONS)) invalid = "'dimensions' must be a positive integer.";
  const entry = logEntry(req, seq, startedAt, { model, endpoint: 'embeddings', stream: false, messages: [], tools: undefined, temperature: undefined, top_p: undefined, max_tokens: undefined, body });
  return { entry, invalid, inputs: inputs ?? [], dimensions, base64: record.encoding_format === 'base64' };
}

/** A vector for one input: values in [-1, 1) from an FNV-1a hash of the input and the position. */
export function scriptedVector(input: string | number[], dimensions: number): number[] {
  const text = typeof input === 'string' ? input : input.join(',');
  let seed = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) seed = Math.imul(seed ^ text.charCodeAt(i), 0x01000193) >>> 0;
  const out: number[] = [];
  for (let j = 0; j < dimensions; j++) {
    const h = Math.imul(seed ^ (j + 1), 0x01000193) >>> 0;
    // Values a float32 holds exactly, so a base64 answer decodes to the same numbers.
    out.push(Math.fround((h % 2000) / 1000 - 1));
  }
  return out;
}

function base64Of(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString('base64');
}

function answerBody(ex: Exchange, request: EmbeddingsRequest): Record<string, unknown> {
  const tokens = request.inputs.reduce((sum, input) => sum + (typeof input === 'string' ? estimateTokens(input.length) : input.length), 0);
  ex.entry.usage = { prompt_tokens: tokens, completion_tokens: 0, total_tokens: tokens };
  return {
    object: 'list',
    data: request.inputs.map((input, index) => {
      const vector = scriptedVector(input, request.dimensions);
      return { object: 'embedding', index, embedding: request.base64 ? base64Of(vector) : vector };
    }),
    model: ex.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

/** Plays `step` for an embeddings request. */
export async function respondEmbeddings(ex: Exchange, request: EmbeddingsRequest, step: Step): Promise<void> {
  if (step.type === 'status' || step.type === 'hang' || step.type === 'reset' || step.type === 'bad_json') return respond(ex, step);
  ex.entry.step = step.type;
  ex.entry.outcome = step.type === 'truncated' ? 'truncated' : 'ok';
  if (!(await wait(step.delayMs, ex.signal))) return;
  const text = JSON.stringify(answerBody(ex, request));
  ex.entry.status = 200;
  if (step.type !== 'truncated') {
    ex.res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
    ex.res.end(text);
    return;
  }
  ex.markCut();
  ex.res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  ex.res.write(text.slice(0, Math.ceil(text.length / 2)), () => ex.res.socket?.destroy());
}
