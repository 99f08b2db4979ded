/**
 * What OpenCode 1.18.33 adds to an agent's model call for the session it belongs to (its
 * ProviderTransform.options, checked against the requests its binary sends): the session's id as
 * the prompt cache key, so the provider routes a session's calls to the same cache —
 * `promptCacheKey` for the packages that take it (OpenAI, Azure, xAI, Mistral, and any provider whose
 * `options.setCacheKey` is true), `prompt_cache_key` for DeepInfra and Cerebras; none when the
 * provider's `options.setCacheKey` is false. Beneath what the call's own options say. Added as the
 * call is sent, after the response cache's key is made (a session's id never splits the cache).
 *
 * And the session's id as the `x-session-affinity` and `X-Session-Id` headers, which OpenCode sends
 * to every provider but its own (`opencode`, `opencode-go`, …: a provider id that starts with
 * `opencode`), so a gateway keeps a session on one backend; beneath the call's own headers (the
 * plugins' `chat.headers`).
 */
import type { LanguageModelV4CallOptions } from '@ai-sdk/provider';
import { providerOptionsKey, type ResolvedModel } from './resolve-model.ts';

/**
 * The calls agents make, as sent (chain-attempt.ts marks them): OpenCode's options for an agent's
 * model (openai-responses.ts: gpt-5's reasoning effort, summary and verbosity) go with these only; a
 * gateway call sends what its client asked. Held aside, not in the call, so no provider is sent a mark.
 */
const agentCalls = new WeakSet<LanguageModelV4CallOptions>();

/** `call`, marked as an agent's. */
export function asAgentCall(call: LanguageModelV4CallOptions): LanguageModelV4CallOptions {
  agentCalls.add(call);
  return call;
}

/** Whether `call` is an agent's (asAgentCall). */
export function isAgentCall(call: LanguageModelV4CallOptions): boolean {
  return agentCalls.has(call);
}

const CAMEL = new Set(['@ai-sdk/openai', '@ai-sdk/azure', '@ai-sdk/xai', '@ai-sdk/mistral', 'venice-ai-sdk-provider']);
const SNAKE = new Set(['@ai-sdk/deepinfra', '@ai-sdk/cerebras']);

export function withSessionOptions(model: Pick<ResolvedModel, 'npm' | 'ref' | 'setCacheKey'>, given: LanguageModelV4CallOptions, sessionID: string | undefined): LanguageModelV4CallOptions {
  if (!sessionID) return given;
  const call = withSessionHeaders(model, given, sessionID);
  if (model.setCacheKey === false) return call;
  const name = SNAKE.has(model.npm) ? 'prompt_cache_key' : CAMEL.has(model.npm) || model.setCacheKey === true ? 'promptCacheKey' : undefined;
  if (!name) return call;
  const key = providerOptionsKey(model.npm, model.ref.provider);
  const own = call.providerOptions?.[key] ?? {};
  if (own[name] !== undefined) return call;
  return { ...call, providerOptions: { ...call.providerOptions, [key]: { [name]: sessionID, ...own } } };
}

/** The session headers OpenCode sends to a provider whose id does not start with `opencode`. */
export function sessionHeaders(provider: string, sessionID: string): Record<string, string> {
  return provider.startsWith('opencode') ? {} : { 'x-session-affinity': sessionID, 'X-Session-Id': sessionID };
}

function withSessionHeaders(model: Pick<ResolvedModel, 'ref'>, call: LanguageModelV4CallOptions, sessionID: string): LanguageModelV4CallOptions {
  const added = sessionHeaders(model.ref.provider, sessionID);
  if (Object.keys(added).length === 0) return call;
  // A header the call has already (in any case) stays as it is.
  const own = new Set(Object.keys(call.headers ?? {}).map((name) => name.toLowerCase()));
  const headers = Object.fromEntries(Object.entries(added).filter(([name]) => !own.has(name.toLowerCase())));
  return { ...call, headers: { ...headers, ...call.headers } };
}
