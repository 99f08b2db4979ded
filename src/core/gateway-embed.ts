/**
 * One embeddings call for a gateway front-end (the server's `POST /v1/embeddings`): ONE scheduled
 * request on the model the caller names, through the instance's scheduler — the shared ledger's
 * limits (an embeddings request counts in its provider's windows like a chat request), budgets,
 * retries and cooldowns, its usage recorded and its events on the host's stream like a chat
 * call's. No fallback to another model: vectors of different models do not compare, and a client
 * that stores them (a vector index) would be mixing them without knowing. With the response cache
 * on, an answer of up to MAX_CACHED_FLOATS numbers is kept (as float32, what OpenAI's base64 gives)
 * and the same request is answered from it.
 */
import { cacheKey } from '../cache/key.ts';
import { cacheFor, type CacheControl } from '../cache/response-cache.ts';
import type { Config } from '../config/schema-types.ts';
import { isPantheonError, PantheonError } from '../errors.ts';
import type { EventInput } from '../events.ts';
import { base64OfFloats, floatsOfBase64 } from '../providers/openai-embeddings.ts';
import type { ResolvedModel } from '../providers/resolve-model.ts';
import { BudgetExceededError, budgetGate, expectedSpend, type Reservation } from '../run/budget.ts';
import { costOf } from '../run/usage-tally.ts';
import { counting, logUsage, newCounts, waitEnded } from '../scheduler/chain-usage.ts';
import { embedAttempt, type EmbedRequest } from '../scheduler/embed-attempt.ts';
import type { GatewayAnswer, GatewayCall } from './gateway.ts';
import { gatewayChain, type GatewayProject } from './gateway.ts';
import { CallEvents, gatewaySessionId } from './gateway-events.ts';
import type { TurnServices } from './session-turn.ts';

export interface EmbedCall {
  /** `provider/model[:variant]`. */
  model: string;
  /** The client's body (checked by the route): sent as it is to OpenAI-compatible models. */
  body: Record<string, unknown>;
  /** The inputs: texts, or token arrays (OpenAI-compatible models only). */
  inputs: string[] | number[][];
  dimensions?: number;
  signal?: AbortSignal;
  /** The call's id (the server's `gw_…` session id): its `perRun` budget and its run in the usage log. */
  runId?: string;
  /** Longest wait for a rate limit before the call fails with RATE_LIMITED (RateLimitWaitError). */
  maxWaitMs?: number;
  /** The call's events, unstamped (`hubEmitter(…)` on a server). */
  emit?: (event: EventInput) => void;
  /** The request's `Cache-Control`: `no-cache` asks fresh vectors (kept), `no-store` leaves the cache alone. */
  cacheControl?: CacheControl;
  /** Told when the call starts waiting on a rate limit and when it is sent (GatewayCall.waits). */
  waits?: GatewayCall['waits'];
}

export interface EmbedAnswer {
  model: ResolvedModel;
  /** Whether the answer came from the response cache. */
  cached: boolean;
  /** A vector per input, in input order. */
  vectors: number[][];
  /** The tokens the provider counted (estimated when it did not say). */
  promptTokens: number;
  timing: GatewayAnswer['timing'];
  /**
   * The call's bookkeeping once its answer is sent: the lease's release (with the tokens), the
   * budget's settlement, the usage record, `step_finish` and `done`. Must be called once.
   */
  finish(): Promise<void>;
}

/** The inputs' tokens as the ledger estimates a prompt's (4 characters a token), or their count as token arrays. */
function estimatedTokens(inputs: string[] | number[][]): number {
  let tokens = 0;
  for (const input of inputs) tokens += typeof input === 'string' ? Math.ceil(input.length / 4) : input.length;
  return tokens;
}

/** The largest answer kept in the response cache (numbers in all its vectors: 1 MiB as float32). */
export const MAX_CACHED_FLOATS = 256 * 1024;

/** The cache key of an embeddings request: the model, its endpoint, the inputs and every field that goes up. */
function embeddingsKey(model: ResolvedModel, call: EmbedCall): string {
  const { model: _model, input: _input, encoding_format: _format, ...params } = call.body;
  return cacheKey({ upstreamModel: model.upstreamId, baseURL: model.baseURL ?? '', messages: { embeddings: call.inputs }, params: { ...params, endpoint: 'embeddings' } });
}

/** The model a gateway embeddings call names (the head of its chain: fallbacks are not used). */
export function embeddingsModel(project: GatewayProject, model: string): ResolvedModel {
  return gatewayChain(project, model)[0] as ResolvedModel;
}

export async function gatewayEmbed(services: TurnServices, call: EmbedCall): Promise<EmbedAnswer> {
  const model = embeddingsModel(services, call.model);
  const texts = call.inputs.every((input) => typeof input === 'string') ? (call.inputs as string[]) : undefined;
  // Problems of the model itself are the client's, answered before anything is counted.
  if (!model.wire) {
    if (!texts) {
      throw new PantheonError('PROVIDER_BAD_REQUEST', `model "${call.model}": token arrays as input go only to OpenAI-compatible providers.`, { hint: 'Send the inputs as text.' });
    }
    await model.embeddingModel();
  }
  const { ledger, scheduler } = services.runtime;
  const cache = cacheFor(services.runtime.cache, call.cacheControl);
  const runId = call.runId ?? gatewaySessionId();
  const gate = budgetGate(services.config as Config, ledger, runId);
  const events = new CallEvents(call.emit, {}, gate ? () => gate.status([]) : undefined);
  const emit = (event: EventInput): void => call.emit?.(event);
  const estimate = estimatedTokens(call.inputs);
  const key = cache ? embeddingsKey(model, call) : undefined;
  const hit = cache && key ? await cache.get(key).catch(() => undefined) : undefined;
  if (hit?.embeddings && hit.embeddings.length === call.inputs.length) {
    const usage = { inputTokens: hit.usage?.inputTokens ?? estimate, outputTokens: 0 };
    emit({ provider: model.provider, model: model.label, type: 'step_start' });
    emit({ provider: model.provider, model: model.label, type: 'cache_hit' });
    events.served(model, usage, true);
    await logUsage({ ledger, runId, agent: 'default', model, usage, cached: true });
    const timing: GatewayAnswer['timing'] = { sentAt: undefined, waitedMs: 0, retryMs: 0 };
    return { model, cached: true, vectors: hit.embeddings.map(floatsOfBase64), promptTokens: usage.inputTokens, timing, finish: async () => events.end('success') };
  }
  let spend: Reservation | undefined;
  try {
    if (gate) {
      const result = await gate.reserve('', expectedSpend([model], estimate, 0), emit);
      if ('exceeded' in result) {
        // No downgrade: another model's vectors would not compare with this one's.
        emit({ type: 'budget_exceeded', action: 'fail', ...result.exceeded });
        throw new BudgetExceededError(result.exceeded, false);
      }
      spend = result;
    }
  } catch (error) {
    events.end('failed', error);
    throw error;
  }
  const timing: GatewayAnswer['timing'] = { sentAt: undefined, waitedMs: 0, retryMs: 0 };
  const request: EmbedRequest = { body: call.body, texts, count: call.inputs.length, ...(call.dimensions === undefined ? {} : { dimensions: call.dimensions }), timing: { providerMs: 0 } };
  const counts = newCounts();
  let sent = false;
  const onSend = (m: ResolvedModel): void => {
    waitEnded(counts);
    timing.sentAt ??= performance.now();
    call.waits?.waiting(false);
    if (sent) return;
    sent = true;
    emit({ provider: m.provider, model: m.label, type: 'step_start' });
  };
  let executed;
  try {
    executed = await scheduler.execute([model], (m, lease) => embedAttempt(m as ResolvedModel, lease, request, onSend), {
      emit: counting(counts, (event) => {
        if (event.type === 'rate_limited') {
          timing.waitedMs += event.waitMs;
          call.waits?.waiting(true);
        } else if (event.type === 'retry') timing.retryMs += event.delayMs;
        emit(event);
      }),
      tags: {},
      estimatedTokens: estimate,
      ...(call.signal ? { signal: call.signal } : {}),
      ...(call.maxWaitMs === undefined ? {} : { maxWaitMs: call.maxWaitMs }),
    });
  } catch (error) {
    if (spend && gate) await gate.settle(spend, { usd: 0, tokens: 0 }).catch(() => undefined);
    events.end(call.signal?.aborted || (isPantheonError(error) && error.code === 'CANCELLED') ? 'cancelled' : 'failed', error);
    throw error;
  }
  const { value, lease } = executed;
  const promptTokens = value.promptTokens ?? estimate;
  timing.provider = request.timing;
  const usage = { inputTokens: promptTokens, outputTokens: 0 };
  const floats = value.vectors.reduce((n, v) => n + v.length, 0);
  const keep = cache && key && floats <= MAX_CACHED_FLOATS ? { cache, key } : undefined;
  return {
    model,
    cached: false,
    vectors: value.vectors,
    promptTokens,
    timing,
    async finish() {
      await Promise.all([
        lease.release({ actualTokens: promptTokens }),
        spend && gate ? gate.settle(spend, { usd: costOf(model.cost, usage) ?? 0, tokens: promptTokens }).catch(() => undefined) : undefined,
        logUsage({ ledger, runId, agent: 'default', model, usage, cached: false, counts }),
        keep?.cache.set(keep.key, { text: '', finishReason: 'stop', usage, embeddings: value.vectors.map(base64OfFloats), model: model.label, createdAt: Date.now() }).catch((error: unknown) => {
          emit({ type: 'error', code: 'STORE_ERROR', message: `cache write failed: ${(error as Error).message}` });
        }),
      ]);
      events.served(model, usage, false);
      events.end('success');
    },
  };
}
