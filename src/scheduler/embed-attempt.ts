/**
 * One attempt of a gateway embeddings request (`POST /v1/embeddings`) on a model: to an
 * OpenAI-compatible provider's `/embeddings` over Pantheon's own client (the client's body as it
 * is, the model's upstream id put in), else through the model's AI SDK embedding model. It fails
 * the way a chat attempt does (APICallError with the status and headers, a malformed answer as a
 * bad response), so the scheduler retries, cools down and learns limits the same way.
 */
import { embeddingsBody, embeddingsTarget, parseEmbeddings, type EmbeddingsResult } from '../providers/openai-embeddings.ts';
import { BadAnswerError, MAX_ANSWER_BYTES, readAnswer } from '../providers/openai-wire-parts.ts';
import type { ResolvedModel } from '../providers/resolve-model.ts';
import { ARRIVAL_MARGIN_MS, type Lease } from './lease.ts';
import { answerHead, sendThenTell } from './wire-attempt.ts';

/** A gateway embeddings request, checked by the route. */
export interface EmbedRequest {
  /** The client's body: sent up as it is to OpenAI-compatible models (floats asked for). */
  body: Record<string, unknown>;
  /** The inputs as texts; undefined when they are token arrays, which only OpenAI-compatible models take. */
  texts: string[] | undefined;
  /** How many inputs (vectors expected). */
  count: number;
  /** The client's `dimensions`. */
  dimensions?: number;
  /** Time spent waiting on providers, summed over the attempts (the gateway's overhead is the rest: /metrics). */
  timing: { providerMs: number };
}

/**
 * Answers larger than this are refused: 256 MiB, four times a chat answer's MAX_ANSWER_BYTES, as
 * 2,048 inputs × 3,072 dimensions as JSON take ~130 MB.
 */
const MAX_EMBEDDINGS_BYTES = 4 * MAX_ANSWER_BYTES;

export async function embedAttempt(model: ResolvedModel, lease: Lease, request: EmbedRequest, onSend: (model: ResolvedModel) => void): Promise<EmbeddingsResult> {
  if (!model.wire) return sdkAttempt(model, lease, request, onSend);
  lease.handOver();
  const target = embeddingsTarget(model.wire);
  const body = embeddingsBody(request.body, model.upstreamId);
  lease.markSentWithin(ARRIVAL_MARGIN_MS);
  const sentAt = performance.now();
  const res = await sendThenTell(target, body, lease.signal, () => onSend(model));
  lease.touch();
  try {
    await answerHead(res, lease, target.url);
    return parseEmbeddings(await readAnswer(res, 'the embeddings answer', MAX_EMBEDDINGS_BYTES), request.count);
  } catch (error) {
    res.destroy();
    throw error;
  } finally {
    request.timing.providerMs += performance.now() - sentAt;
  }
}

/** Through the AI SDK (a provider package other than OpenAI-compatible, or an HTTP proxy in the environment): texts only. */
async function sdkAttempt(model: ResolvedModel, lease: Lease, request: EmbedRequest, onSend: (model: ResolvedModel) => void): Promise<EmbeddingsResult> {
  const embedder = await model.embeddingModel();
  onSend(model);
  const sentAt = performance.now();
  try {
    const result = await embedder.doEmbed({ values: request.texts ?? [], abortSignal: lease.signal, ...(request.dimensions === undefined ? {} : { dimensions: request.dimensions }) });
    if (result.embeddings.length !== request.count) throw new BadAnswerError(`the embeddings answer has ${result.embeddings.length} vectors for ${request.count} inputs`);
    const tokens = result.usage?.tokens;
    return { vectors: result.embeddings, promptTokens: typeof tokens === 'number' && Number.isFinite(tokens) ? tokens : undefined };
  } finally {
    request.timing.providerMs += performance.now() - sentAt;
  }
}
