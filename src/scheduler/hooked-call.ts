/**
 * A call as the plugins' call hooks (`chat.params`, `chat.headers`, the system transform) leave it
 * for one model: what the response cache keys an answer by, when a project's plugins have them, so
 * a hook that changes the temperature or adds a header never gets an answer made with other ones.
 * The hooks run once per model call: the cache lookup's run is the first attempt's (kept here and
 * taken by it), and a retry runs them again, as without the cache.
 */
import type { LanguageModelV4CallOptions } from '@ai-sdk/provider';
import type { PrepareCall, PreparedCall } from '../plugins/call-hooks.ts';
import { callProviderOptions, type ResolvedModel } from '../providers/resolve-model.ts';
import { samplingDefaults } from '../providers/sampling-defaults.ts';

/** The call sent to `model` before any hook: sampling defaults, the model's options and output budget. */
export function baseCall(model: ResolvedModel, options: LanguageModelV4CallOptions, defaults: boolean, abortSignal: AbortSignal | undefined): LanguageModelV4CallOptions {
  const sampling = defaults ? samplingDefaults(model.upstreamId, model.provider) : undefined;
  return {
    ...options,
    ...(sampling?.temperature !== undefined && options.temperature === undefined ? { temperature: sampling.temperature } : {}),
    ...(sampling?.topP !== undefined && options.topP === undefined ? { topP: sampling.topP } : {}),
    ...(sampling?.topK !== undefined && options.topK === undefined ? { topK: sampling.topK } : {}),
    includeRawChunks: false,
    ...(abortSignal ? { abortSignal } : {}),
    providerOptions: callProviderOptions(model, options.providerOptions),
    ...(options.maxOutputTokens ?? model.maxOutputTokens ? { maxOutputTokens: options.maxOutputTokens ?? model.maxOutputTokens } : {}),
    // `temperature: false` in the model's config: it rejects the parameter, so none is sent.
    ...(model.acceptsTemperature ? {} : { temperature: undefined }),
  };
}

/** Per model call (its options object): each model's call as the hooks left it, once made. */
const prepared = new WeakMap<LanguageModelV4CallOptions, Map<ResolvedModel, PreparedCall>>();
/** Per model call: each model's call as last sent (the one whose answer is stored). */
const sent = new WeakMap<LanguageModelV4CallOptions, Map<ResolvedModel, LanguageModelV4CallOptions>>();

function mapOf<V>(store: WeakMap<LanguageModelV4CallOptions, Map<ResolvedModel, V>>, options: LanguageModelV4CallOptions): Map<ResolvedModel, V> {
  let found = store.get(options);
  if (!found) store.set(options, (found = new Map()));
  return found;
}

/** Runs the hooks on the call for `model` (before the cache is looked up under its key); the first attempt to `model` takes it. */
export async function prepareAhead(prepare: PrepareCall, model: ResolvedModel, options: LanguageModelV4CallOptions, defaults: boolean): Promise<LanguageModelV4CallOptions> {
  const done = await prepare(model, baseCall(model, options, defaults, options.abortSignal));
  mapOf(prepared, options).set(model, done);
  return done.call;
}

/** The call the hooks made for `model` ahead of the attempt, once (a retry runs them again). */
export function takePrepared(model: ResolvedModel, options: LanguageModelV4CallOptions): PreparedCall | undefined {
  const map = prepared.get(options);
  const found = map?.get(model);
  map?.delete(model);
  return found;
}

/** Notes the call that went to `model`. */
export function noteSent(model: ResolvedModel, options: LanguageModelV4CallOptions, call: LanguageModelV4CallOptions): void {
  mapOf(sent, options).set(model, call);
}

/** The call that went to `model` last, as the hooks left it; undefined when none was noted. */
export function sentCall(model: ResolvedModel, options: LanguageModelV4CallOptions): LanguageModelV4CallOptions | undefined {
  return sent.get(options)?.get(model);
}
