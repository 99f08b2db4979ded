/**
 * What a chain model works out about a call before sending it: its token estimate (chars ÷ 4 plus
 * the output budget, corrected per model by how the reported input tokens compared with it), and
 * its response-cache key.
 */
import type { LanguageModelV4CallOptions } from '@ai-sdk/provider';
import { cacheKeyWith, canonicalOrUndefined } from '../cache/key.ts';
import { isSecretHeader } from '../config/secrets.ts';
import { callProviderOptions, type ResolvedModel } from '../providers/resolve-model.ts';

/**
 * What a call's prompt weighs, worked out once per call (the same options object goes to every
 * attempt, the budget check, the cache lookup of each model of the chain and the cache store): the
 * prompt is the large part of a request, and serialising it was done up to five times a call.
 */
interface PromptFacts {
  tokens?: number;
  messagesJson?: string;
  toolsJson?: string;
}
const facts = new WeakMap<LanguageModelV4CallOptions, PromptFacts>();

function factsOf(options: LanguageModelV4CallOptions): PromptFacts {
  let found = facts.get(options);
  if (!found) facts.set(options, (found = {}));
  return found;
}

export function promptTokens(options: LanguageModelV4CallOptions): number {
  const f = factsOf(options);
  if (f.tokens === undefined) {
    const promptChars = JSON.stringify(options.prompt).length + (options.tools ? JSON.stringify(options.tools).length : 0);
    f.tokens = Math.ceil(promptChars / 4);
  }
  return f.tokens;
}

export function outputBudget(options: LanguageModelV4CallOptions, model: ResolvedModel | undefined): number {
  return options.maxOutputTokens ?? model?.maxOutputTokens ?? 1024;
}

export function estimateTokens(options: LanguageModelV4CallOptions, model: ResolvedModel | undefined): number {
  return promptTokens(options) + outputBudget(options, model);
}

/**
 * The call's cache key on `model`; undefined for a call nested too deeply to be written out key by
 * key (a client's field thousands of levels deep): such a call is neither looked up nor stored.
 */
export function cacheKeyFor(model: ResolvedModel, options: LanguageModelV4CallOptions): string | undefined {
  try {
    return keyOfCall(model, options);
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

function keyOfCall(model: ResolvedModel, options: LanguageModelV4CallOptions): string {
  const f = factsOf(options);
  if (!('messagesJson' in f)) {
    f.messagesJson = canonicalOrUndefined(options.prompt);
    f.toolsJson = canonicalOrUndefined(options.tools);
  }
  const parts = {
    upstreamModel: model.upstreamId,
    baseURL: model.baseURL ?? model.npm,
    params: {
      temperature: model.acceptsTemperature ? options.temperature : undefined,
      topP: options.topP,
      maxOutputTokens: options.maxOutputTokens ?? model.maxOutputTokens,
      toolChoice: options.toolChoice,
      stopSequences: options.stopSequences,
      seed: options.seed,
      presencePenalty: options.presencePenalty,
      frequencyPenalty: options.frequencyPenalty,
      topK: options.topK,
      responseFormat: options.responseFormat,
      providerOptions: callProviderOptions(model, options.providerOptions),
    },
  };
  return cacheKeyWith(parts, f.messagesJson, f.toolsJson);
}

/**
 * The key of a call as the plugins' call hooks left it for `model` (hooked-call.ts): the values it
 * sends (the hooks' temperature, options, system prompt) and the headers the hooks added, but never
 * one that looks like a secret (a token a hook adds would split the cache by user, and the key holds
 * no credentials). Undefined as for cacheKeyFor.
 */
export function hookedCacheKey(model: ResolvedModel, options: LanguageModelV4CallOptions, call: LanguageModelV4CallOptions): string | undefined {
  try {
    const f = factsOf(options);
    if (!('messagesJson' in f)) {
      f.messagesJson = canonicalOrUndefined(options.prompt);
      f.toolsJson = canonicalOrUndefined(options.tools);
    }
    const given = options.headers ?? {};
    const headers = Object.entries(call.headers ?? {}).filter(([name, value]) => typeof value === 'string' && given[name] !== value && !isSecretHeader(name, value));
    const parts = {
      upstreamModel: model.upstreamId,
      baseURL: model.baseURL ?? model.npm,
      params: {
        hooked: true,
        temperature: call.temperature,
        topP: call.topP,
        maxOutputTokens: call.maxOutputTokens,
        toolChoice: call.toolChoice,
        stopSequences: call.stopSequences,
        seed: call.seed,
        presencePenalty: call.presencePenalty,
        frequencyPenalty: call.frequencyPenalty,
        topK: call.topK,
        responseFormat: call.responseFormat,
        providerOptions: call.providerOptions,
        ...(headers.length ? { headers: Object.fromEntries(headers.map(([name, value]) => [name.toLowerCase(), value])) } : {}),
      },
    };
    const messagesJson = call.prompt === options.prompt ? f.messagesJson : canonicalOrUndefined(call.prompt);
    const toolsJson = call.tools === options.tools ? f.toolsJson : canonicalOrUndefined(call.tools);
    return cacheKeyWith(parts, messagesJson, toolsJson);
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

/**
 * Per model, how the reported input tokens compared with our estimate (chars ÷ 4) on its last
 * answers: budgets check the next request's expected cost with the estimate corrected by it.
 * Kept per ledger (per process and store).
 */
const inputRatios = new WeakMap<object, Map<string, number>>();

function ratiosOf(ledger: object): Map<string, number> {
  const found = inputRatios.get(ledger) ?? new Map<string, number>();
  inputRatios.set(ledger, found);
  return found;
}

/** The model's input-token ratio (1 until it has answered). */
export function inputRatio(ledger: object, label: string): number {
  return ratiosOf(ledger).get(label) ?? 1;
}

/** Folds one answer's reported input tokens into the model's ratio (bounded to 0.05–10). */
export function learnInputRatio(ledger: object, label: string, options: LanguageModelV4CallOptions, reportedInput: number): void {
  const estimate = promptTokens(options);
  if (estimate <= 0 || reportedInput <= 0) return;
  const ratios = ratiosOf(ledger);
  const ratio = Math.min(10, Math.max(0.05, reportedInput / estimate));
  const prev = ratios.get(label);
  ratios.set(label, prev === undefined ? ratio : (prev + ratio) / 2);
}
