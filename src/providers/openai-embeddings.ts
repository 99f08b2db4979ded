/**
 * OpenAI's embeddings on the wire, for the gateway's `POST /v1/embeddings` to models of
 * OpenAI-compatible providers: the same target as their chat completions (base URL, query,
 * headers, keep-alive client: openai-wire.ts) with `/embeddings` in place of `/chat/completions`,
 * the client's body sent up with the model's upstream id, and the answer read back into vectors.
 * Vectors are always asked for as floats (the default of every OpenAI-compatible server; not all
 * of them take `encoding_format: "base64"`), and a base64 answer is read too.
 */
import { endpointTarget, passThroughBody, type WireTarget } from './openai-wire.ts';
import { BadAnswerError } from './openai-wire-parts.ts';

type Json = Record<string, unknown>;

/** What a provider answered: a vector per input, in input order, and the tokens it counted (when it says). */
export interface EmbeddingsResult {
  vectors: number[][];
  promptTokens: number | undefined;
}

/** The model's embeddings endpoint: its chat-completions target with `/embeddings` in place. */
export function embeddingsTarget(chat: WireTarget): WireTarget {
  return endpointTarget(chat, 'embeddings');
}

const NOT_SENT: ReadonlySet<string> = new Set(['encoding_format']);

/** The upstream body: the client's fields (`input`, `dimensions`, `user`, NIM's `input_type` and `truncate`, …; not OpenAI's bookkeeping ones) with the model's upstream id, floats asked for. */
export function embeddingsBody(body: Json, upstreamId: string): string {
  return JSON.stringify(passThroughBody(body, upstreamId, NOT_SENT));
}

/** A base64 embedding (little-endian float32, as OpenAI sends it) as numbers. */
export function floatsOfBase64(text: string): number[] {
  const bytes = Buffer.from(text, 'base64');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength - (bytes.byteLength % 4));
  const out = new Array<number>(view.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** Numbers as a base64 embedding (little-endian float32), as OpenAI's clients ask for by default. */
export function base64OfFloats(vector: readonly number[]): string {
  const bytes = Buffer.allocUnsafe(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i] as number, i * 4);
  return bytes.toString('base64');
}

/** Retried as `bad_response`, as a chat answer that does not parse is. */
function malformed(why: string): Error {
  return new BadAnswerError(`the embeddings answer is malformed: ${why}`);
}

/** Reads an embeddings answer for `count` inputs; throws when it is not one. */
export function parseEmbeddings(text: string, count: number): EmbeddingsResult {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw malformed('not JSON');
  }
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw malformed('no "data" list');
  if (data.length !== count) throw malformed(`${data.length} vectors for ${count} inputs`);
  const vectors = new Array<number[]>(count);
  for (let i = 0; i < data.length; i++) {
    const item = data[i] as { index?: unknown; embedding?: unknown } | null;
    const at = typeof item?.index === 'number' ? item.index : i;
    if (!Number.isInteger(at) || at < 0 || at >= count || vectors[at]) throw malformed(`a vector with index ${String(item?.index)}`);
    const embedding = item?.embedding;
    if (typeof embedding === 'string' && embedding.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(embedding)) vectors[at] = floatsOfBase64(embedding);
    else if (Array.isArray(embedding) && embedding.every((n) => typeof n === 'number')) vectors[at] = embedding as number[];
    else throw malformed(`vector ${at} is neither a list of numbers nor base64`);
  }
  const usage = (body as { usage?: { prompt_tokens?: unknown; total_tokens?: unknown } }).usage;
  const tokens = usage?.prompt_tokens ?? usage?.total_tokens;
  return { vectors, promptTokens: typeof tokens === 'number' && Number.isFinite(tokens) && tokens >= 0 ? tokens : undefined };
}
