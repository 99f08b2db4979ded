/**
 * What OpenCode 1.18.33 adds to an agent's model call for the session it belongs to (its
 * ProviderTransform.options, checked against the requests its binary sends): the session's id as
 * the prompt cache key, so the provider routes a session's calls to the same cache —
 * `promptCacheKey` for the packages that take it (OpenAI, Azure, xAI, Mistral, and any provider whose
 * `options.setCacheKey` is true), `prompt_cache_key` for DeepInfra and Cerebras; none when the
 * provider's `options.setCacheKey` is false. Beneath what the call's own options say. Added as the
 * call is sent, after the response cache's key is made (a session's id never splits the cache).
 */
import type { LanguageModelV4CallOptions } from '@ai-sdk/provider';
import { providerOptionsKey, type ResolvedModel } from './resolve-model.ts';

const CAMEL = new Set(['@ai-sdk/openai', '@ai-sdk/azure', '@ai-sdk/xai', '@ai-sdk/mistral', 'venice-ai-sdk-provider']);
const SNAKE = new Set(['@ai-sdk/deepinfra', '@ai-sdk/cerebras']);

export function withSessionOptions(model: Pick<ResolvedModel, 'npm' | 'ref' | 'setCacheKey'>, call: LanguageModelV4CallOptions, sessionID: string | undefined): LanguageModelV4CallOptions {
  if (!sessionID || model.setCacheKey === false) return call;
  const name = SNAKE.has(model.npm) ? 'prompt_cache_key' : CAMEL.has(model.npm) || model.setCacheKey === true ? 'promptCacheKey' : undefined;
  if (!name) return call;
  const key = providerOptionsKey(model.npm, model.ref.provider);
  const own = call.providerOptions?.[key] ?? {};
  if (own[name] !== undefined) return call;
  return { ...call, providerOptions: { ...call.providerOptions, [key]: { [name]: sessionID, ...own } } };
}
