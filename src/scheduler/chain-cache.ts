/**
 * The response cache seen from a chain model: a call whose answer any model of the chain gave
 * before is replayed (a `cache_hit`), and a finished answer is stored under its model's key.
 * A store that fails is reported as an error event and otherwise ignored.
 */
import type { LanguageModelV4CallOptions, LanguageModelV4StreamPart } from '@ai-sdk/provider';
import type { ResponseCache } from '../cache/response-cache.ts';
import { finishWord } from '../providers/finish-reason.ts';
import type { ResolvedModel } from '../providers/resolve-model.ts';
import type { PrepareCall } from '../plugins/call-hooks.ts';
import { cacheKeyFor, hookedCacheKey } from './chain-request.ts';
import { prepareAhead, sentCall } from './hooked-call.ts';
import type { ExecuteContext } from './scheduler.ts';
import { partsFromResponse, type CollectedResponse } from './stream-parts.ts';

/** The plugins' call hooks of a chain model's calls: the cache keys a call as they leave it. */
export interface CallHooks {
  prepare: PrepareCall;
  samplingDefaults: boolean;
}

export interface CacheHit {
  model: ResolvedModel;
  usage: { inputTokens: number; outputTokens: number };
  parts: LanguageModelV4StreamPart[];
  /** Why the cached answer ended, as it was stored. */
  finishReason: string;
}

/** The first model of the chain with a cached answer to this call, its parts to replay and its usage. */
export async function lookupCache(cache: ResponseCache, chain: readonly ResolvedModel[], options: LanguageModelV4CallOptions, ctx: ExecuteContext, hooks?: CallHooks): Promise<CacheHit | undefined> {
  for (const model of chain) {
    // With the plugins' call hooks, the key is the call's as they leave it for this model (they run now, for the attempt too).
    const key = hooks ? hookedCacheKey(model, options, await prepareAhead(hooks.prepare, model, options, hooks.samplingDefaults)) : cacheKeyFor(model, options);
    if (key === undefined) return undefined;
    const hit = await cache.get(key).catch((error: unknown) => {
      ctx.emit({ ...ctx.tags, type: 'error', code: 'STORE_ERROR', message: `cache read failed, asking the model: ${(error as Error).message}` });
      return undefined;
    });
    if (!hit) continue;
    const usage = { inputTokens: hit.usage?.inputTokens ?? 0, outputTokens: hit.usage?.outputTokens ?? 0 };
    const parts = partsFromResponse({
      text: hit.text,
      ...(hit.reasoning ? { reasoning: hit.reasoning } : {}),
      toolCalls: (hit.toolCalls ?? []).map((c) => ({ toolCallId: c.toolCallId, toolName: c.toolName, input: typeof c.input === 'string' ? c.input : JSON.stringify(c.input) })),
      finishReason: finishWord(hit.finishReason),
      usage,
    });
    return { model, usage, parts, finishReason: finishWord(hit.finishReason) };
  }
  return undefined;
}

/** Stores a finished answer under the key of the model that gave it. */
export async function storeInCache(cache: ResponseCache, model: ResolvedModel, options: LanguageModelV4CallOptions, r: CollectedResponse, ctx: ExecuteContext, hooked = false): Promise<void> {
  // A call the hooks changed is stored under the key of the call as sent; one whose sent call was not noted (the gateway's wire path) is not stored.
  const sent = hooked ? sentCall(model, options) : undefined;
  const key = hooked ? sent && hookedCacheKey(model, options, sent) : cacheKeyFor(model, options);
  if (key === undefined) return;
  await cache
    .set(key, {
      text: r.text,
      ...(r.reasoning ? { reasoning: r.reasoning } : {}),
      toolCalls: r.toolCalls,
      finishReason: r.finishReason,
      usage: r.usage,
      model: model.label,
      createdAt: Date.now(),
    })
    .catch((error: unknown) => {
      ctx.emit({ ...ctx.tags, type: 'error', code: 'STORE_ERROR', message: `cache write failed: ${(error as Error).message}` });
    });
}
