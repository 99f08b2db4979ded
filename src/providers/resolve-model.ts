import type { EmbeddingModelV4, LanguageModelV4, SharedV4ProviderOptions } from '@ai-sdk/provider';
import { headerSecrets, secretMasker } from '../config/secrets.ts';
import { deepMerge } from '../config/merge.ts';
import type { Config, ModelConfig } from '../config/schema-types.ts';
import { PantheonError } from '../errors.ts';
import { keyCooldownKey } from '../scheduler/key-cooldown.ts';
import { markingSends } from '../scheduler/lease.ts';
import type { ScheduledModel } from '../scheduler/scheduler.ts';
import { applicableLimits, learnEnabled, learnKeyOf } from '../scheduler/limits.ts';
import { buildEmbeddingModel, languageModelFor, OPENAI, OPENAI_COMPATIBLE, type ModelBuildSpec } from './build-model.ts';
import { byCodeUnit } from '../icu-free.ts';
import { LOGIN_LISTED_PROVIDERS } from '../plugins/builtin/index.ts';
import { CLIENT_FIELDS, wireTarget, type WireTarget } from './openai-wire.ts';
import { envVarsFor, knownProvider } from './catalog.ts';
import { catalogModel } from './models-dev.ts';
import { checkBaseURL } from './base-url.ts';
import { checkHeaders, checkKey } from './header-check.ts';
import { findCredential, readAuthStore, type Credential } from './credentials.ts';
import { formatModelRef, parseModelRef, type ModelRef, type ModelSpecInput } from './model-ref.ts';
import { loaderProvider, withLoaderOptions } from './loader-options.ts';
import type { ProviderAuth } from '../plugins/auth-loader.ts';
import { pluginModel } from '../plugins/hook-shapes.ts';

export interface ModelCost {
  input?: number;
  output?: number;
  cache_read?: number;
  cache_write?: number;
}

/** Everything needed to call one model: where, how, its limits, its price. */
export interface ResolvedModel extends ScheduledModel {
  ref: ModelRef;
  modelKey: string;
  upstreamId: string;
  npm: string;
  baseURL?: string;
  credential: Credential;
  /** Provider options for the call (model `options` + the variant's), keyed by the SDK's provider name. */
  providerOptions: SharedV4ProviderOptions;
  maxOutputTokens?: number;
  contextLimit?: number;
  cost?: ModelCost;
  /** False when the model is configured as not streaming (`supports.streaming: false`). */
  streaming: boolean;
  /** False when the model's config says `temperature: false`: no temperature is sent to it. */
  acceptsTemperature: boolean;
  /** The model takes images (`modalities.input` lists "image", or `supports.vision`). */
  acceptsImages: boolean;
  /** The model takes PDFs (`modalities.input` lists "pdf"): a PDF an MCP resource read attaches is sent to it. */
  acceptsPdf?: boolean;
  /**
   * How Pantheon's own OpenAI client (providers/openai-wire.ts) calls it: set for models of
   * OpenAI-compatible providers (no custom fetch, no proxy in the environment). The gateway sends
   * its OpenAI-format requests there as they are; `languageModel()` is then wire-language-model.ts.
   */
  wire?: WireTarget;
  /** A plugin's `auth` loader makes its requests (plugins/auth-loader.ts): through its package with the loader's fetch, never `wire`. */
  pluginAuth?: true;
  /** The provider's `options.setCacheKey` (OpenCode's): false sends no session prompt cache key, true sends one whatever the package (session-options.ts). */
  setCacheKey?: boolean;
  languageModel(): Promise<LanguageModelV4>;
  /** The model as an AI SDK embedding model (the gateway's `/v1/embeddings` when it has no `wire`); PROVIDER_BAD_REQUEST when its package has none. */
  embeddingModel(): Promise<EmbeddingModelV4>;
}

export interface ResolveContext {
  env?: NodeJS.ProcessEnv;
  fetch?: typeof globalThis.fetch;
  /** `--timeout`: per-attempt timeout that overrides the provider's. */
  timeoutMs?: number;
  /** The agent's model options (agentModelOptions): merged over the model's `options`, beneath its variant's. */
  agentOptions?: Record<string, unknown>;
  /** The agent's `variant`: taken by a model that declares it when the model ref names none. */
  agentVariant?: string;
  /** The project's plugins' `auth` loaders (plugins/auth-loader.ts): a provider they serve gets their options (their `fetch`) for its calls. */
  providerAuth?: ProviderAuth;
}

const DEFAULT_TIMEOUT_MS = 300_000;

/** OpenCode's cap on the output a call asks for by default (its `OUTPUT_TOKEN_MAX`). */
const OUTPUT_TOKEN_MAX = 32_000;

/**
 * The most output tokens a call asks for when the caller names no number, as OpenCode caps it: a
 * model's `limit.output` above it (131,072 in many catalogue entries) would ask for more than the
 * context leaves, which servers refuse. `OPENCODE_EXPERIMENTAL_OUTPUT_TOKEN_MAX` sets it, as for OpenCode.
 */
function outputTokenMax(env: NodeJS.ProcessEnv): number {
  const given = Number(env.OPENCODE_EXPERIMENTAL_OUTPUT_TOKEN_MAX);
  return Number.isSafeInteger(given) && given > 0 ? given : OUTPUT_TOKEN_MAX;
}

/** The key of a model's options in a call's `providerOptions`: the provider's own id for an OpenAI-compatible one, else the SDK package's name. */
export function providerOptionsKey(npm: string, providerId: string): string {
  if (npm === OPENAI_COMPATIBLE) return providerId;
  const match = /^@ai-sdk\/([a-z0-9-]+)$/.exec(npm);
  return match ? (match[1] as string) : providerId;
}

/**
 * The provider options a call to `model` is sent with: the call's, then the model's configured ones
 * (which win). A gateway call's client fields (CLIENT_FIELDS) become an OpenAI-compatible model's
 * own options, sent as body fields beneath what the model's config sets; other providers do not
 * take OpenAI's fields, and get none.
 */
export function callProviderOptions(model: Pick<ResolvedModel, 'npm' | 'ref' | 'providerOptions'>, given: SharedV4ProviderOptions | undefined): SharedV4ProviderOptions {
  const fields = given?.[CLIENT_FIELDS];
  if (fields === undefined) return { ...given, ...model.providerOptions };
  const { [CLIENT_FIELDS]: _fields, ...rest } = given as SharedV4ProviderOptions;
  if (model.npm !== OPENAI_COMPATIBLE) return { ...rest, ...model.providerOptions };
  const key = model.ref.provider;
  return { ...rest, ...model.providerOptions, [key]: { ...fields, ...model.providerOptions[key] } };
}

/** How many of the models a login offers an error names. */
const OFFERED_SHOWN = 8;

/** A model the provider's login in auth.json does not serve (a plugin's `provider.models` leaves it out, naming the `offered` ones). */
function notServed(provider: string, model: string, offered: readonly string[]): PantheonError {
  const names = [...offered].sort(byCodeUnit);
  const few = names.length > OFFERED_SHOWN ? `${names.slice(0, OFFERED_SHOWN).join(', ')}, … (${names.length} in all: opencode models ${provider})` : names.join(', ');
  return new PantheonError('UNKNOWN_MODEL', `model "${provider}/${model}" is not available with the ${provider} login in auth.json (its plugin serves other models only).`, {
    hint:
      provider === 'openai'
        ? `A ChatGPT login serves gpt-5.4, gpt-5.4-mini, gpt-5.5, gpt-5.3-codex-spark and later models; for the others log in with an API key: opencode auth login openai --method "Manually enter API Key"`
        : names.length
          ? `It offers ${few}.`
          : `Use another of its models, or log in again with another method: opencode auth login ${provider}`,
  });
}

/**
 * What a plugin's model list says of a model (GitHub Copilot's: limits, images), where the config
 * says nothing: its context and output limits, and whether it takes images.
 */
function applyListing(resolved: ResolvedModel, listed: Record<string, unknown>, modelCfg: ModelConfig | undefined, env: NodeJS.ProcessEnv): void {
  const limit = listed.limit as { context?: unknown; output?: unknown } | undefined;
  if (!modelCfg?.limit?.context && typeof limit?.context === 'number' && limit.context > 0) resolved.contextLimit = limit.context;
  if (!modelCfg?.limit?.output && typeof limit?.output === 'number' && limit.output > 0) resolved.maxOutputTokens = Math.min(limit.output, outputTokenMax(env));
  const input = (listed.capabilities as { input?: { image?: unknown } } | undefined)?.input;
  if (!modelCfg?.modalities && !modelCfg?.supports?.vision && typeof input?.image === 'boolean') resolved.acceptsImages = input.image;
}

/** Resolves a model spec against the config (declared providers first, then well-known ones). */
export function resolveModel(config: Config, spec: ModelSpecInput, ctx: ResolveContext = {}, where = 'model'): ResolvedModel {
  const ref = parseModelRef(spec, where);
  const declared = config.provider?.[ref.provider];
  const known = knownProvider(ref.provider);
  if (!declared && !known) {
    const names = Object.keys(config.provider ?? {});
    throw new PantheonError('UNKNOWN_PROVIDER', `${where}: unknown provider "${ref.provider}" in "${formatModelRef(ref)}".`, {
      hint: names.length ? `Declared providers: ${names.join(', ')}.` : 'Declare it under "provider" in opencode.json.',
    });
  }
  const models = declared?.models ?? {};
  let modelKey = ref.model;
  let variant = ref.variant;
  // A model id may itself contain a colon (llama3.1:8b): prefer a declared model of that full name.
  if (variant && models[`${ref.model}:${variant}`] && !models[ref.model]?.variants?.[variant]) {
    modelKey = `${ref.model}:${variant}`;
    variant = undefined;
  }
  const modelCfg = models[modelKey];
  // A login that lists its own models (GitHub Copilot's) decides for the models the config does not declare.
  const loginLists = LOGIN_LISTED_PROVIDERS.includes(ref.provider) && ctx.providerAuth?.serves(ref.provider) === true;
  if (!modelCfg && Object.keys(models).length > 0 && !loginLists) {
    throw new PantheonError('UNKNOWN_MODEL', `${where}: provider "${ref.provider}" has no model "${modelKey}".`, {
      hint: `Its models: ${Object.keys(models).join(', ')}.`,
    });
  }
  // The agent's variant, as OpenCode takes it: for a model that declares it, when the ref names none.
  if (variant === undefined && ctx.agentVariant !== undefined && modelCfg?.variants?.[ctx.agentVariant]) variant = ctx.agentVariant;
  // A variant of a model the config does not declare (`github-copilot/gpt-4.1:high`, as
  // oh-my-opencode writes them) is a reasoning effort, as OpenCode reads it.
  const variantOptions = variant ? (modelCfg ? modelCfg.variants?.[variant] : { reasoningEffort: variant }) : undefined;
  if (variant && !variantOptions) {
    const names = Object.keys(modelCfg?.variants ?? {});
    throw new PantheonError('UNKNOWN_MODEL', `${where}: model "${ref.provider}/${modelKey}" has no variant "${variant}".`, {
      hint: names.length ? `Its variants: ${names.join(', ')}.` : 'It declares no variants.',
    });
  }
  // The catalogue's model table is read only for a catalogued provider whose model leaves its limit or price out.
  const needsListing = known !== undefined && (!modelCfg?.cost || !modelCfg.limit?.context || !modelCfg.modalities);
  const listed = needsListing ? catalogModel(known.catalogId ?? ref.provider, modelCfg?.id ?? modelKey) : undefined;
  const npm = declared?.npm ?? listed?.npm ?? known?.npm ?? OPENAI_COMPATIBLE;
  const options = declared?.options ?? {};
  const baseURL = options.baseURL ?? declared?.api ?? listed?.api ?? known?.baseURL;
  const credential = findCredential(ref.provider, {
    ...(options.apiKey ? { configKey: options.apiKey } : {}),
    envNames: declared?.env ?? [],
    ...(ctx.env ? { env: ctx.env } : {}),
  });
  checkBaseURL(config, ref.provider);
  checkKey(credential, ref.provider);
  checkHeaders(options.headers ?? {}, `provider.${ref.provider}.options`);
  checkHeaders(modelCfg?.headers ?? {}, `provider.${ref.provider}.models.${modelKey}`);
  const headers = { ...(options.headers ?? {}), ...(modelCfg?.headers ?? {}) };
  const upstreamId = modelCfg?.id ?? modelKey;
  // The idle timeout of an attempt: `--timeout`, else the provider's `timeout` (false: none), else
  // 5 minutes; OpenCode's `headerTimeout` (until the answer begins) and `chunkTimeout` (between its
  // parts) replace it for their phase, `false` turning that phase's off.
  const idleMs = ctx.timeoutMs ?? (options.timeout === false ? undefined : (options.timeout ?? DEFAULT_TIMEOUT_MS));
  const phaseMs = (given: number | false | undefined): number | undefined => (ctx.timeoutMs !== undefined || given === undefined ? idleMs : given === false ? undefined : given);
  const timeoutMs = phaseMs(options.headerTimeout);
  const chunkTimeoutMs = phaseMs(options.chunkTimeout);
  const specs = { global: config.rateLimit, provider: declared?.rateLimit, model: modelCfg?.rateLimit };
  const limits = applicableLimits(ref.provider, modelKey, specs);
  const optionsKey = providerOptionsKey(npm, ref.provider);
  // OpenCode hands a provider's options to its package: `supportsStructuredOutputs` among them (not in its schema's named keys).
  const structured = (options as Record<string, unknown>).supportsStructuredOutputs;
  const structuredOutputs = typeof structured === 'boolean' ? structured : undefined;
  // As OpenCode merges them (deeply): the model's options, the agent's, the variant's.
  const callOptions = deepMerge(modelCfg?.options ?? {}, ctx.agentOptions ?? {}, variantOptions ?? {});
  // A provider a plugin's auth loader serves is called through the AI SDK with the loader's fetch.
  const pluginAuth = ctx.providerAuth?.serves(ref.provider) ? ctx.providerAuth : undefined;
  const wire =
    npm === OPENAI_COMPATIBLE && baseURL && !ctx.fetch && !pluginAuth
      ? wireTarget({
          providerId: ref.provider,
          baseURL,
          ...(credential.key ? { apiKey: credential.key } : {}),
          ...(Object.keys(headers).length ? { headers } : {}),
          ...(options.queryParams ? { queryParams: options.queryParams } : {}),
          ...(options.includeUsage === undefined ? {} : { includeUsage: options.includeUsage }),
          ...(structuredOutputs === undefined ? {} : { supportsStructuredOutputs: structuredOutputs }),
          providerOptions: (Object.keys(callOptions).length ? { [optionsKey]: callOptions } : {}) as SharedV4ProviderOptions,
          ...(ctx.env ? { env: ctx.env } : {}),
        })
      : undefined;
  let built: Promise<LanguageModelV4> | undefined;
  let embedding: Promise<EmbeddingModelV4> | undefined;
  const buildSpec = (): ModelBuildSpec => ({
    providerId: ref.provider,
    npm,
    upstreamId,
    ...(baseURL ? { baseURL } : {}),
    ...(credential.key ? { apiKey: credential.key } : {}),
    ...(Object.keys(headers).length ? { headers } : {}),
    ...(options.queryParams ? { queryParams: options.queryParams } : {}),
    ...(options.includeUsage === undefined ? {} : { includeUsage: options.includeUsage }),
    ...(structuredOutputs === undefined ? {} : { supportsStructuredOutputs: structuredOutputs }),
    fetch: markingSends(ctx.fetch),
  });
  // The spec with the plugins' loaders' options, when they serve the provider (once per project; PLUGIN_FAILED when one fails).
  const specOf = async (): Promise<ModelBuildSpec> => {
    if (!pluginAuth) return buildSpec();
    const envNames = [...(declared?.env ?? []), ...envVarsFor(ref.provider)];
    const provider = () => loaderProvider(ref.provider, declared, known, npm, baseURL, envNames);
    const answer = await pluginAuth.listed(ref.provider, modelKey, pluginModel(resolved), provider);
    const listed = answer.model;
    if (!listed) throw notServed(ref.provider, modelKey, answer.offered);
    applyListing(resolved, listed, modelCfg, ctx.env ?? process.env);
    // What the login costs per token (a subscription: nothing), when the plugin says.
    const cost = listed.cost as { input?: unknown; output?: unknown; cache?: { read?: unknown; write?: unknown } } | undefined;
    if (cost && typeof cost.input === 'number' && typeof cost.output === 'number') {
      resolved.cost = { input: cost.input, output: cost.output, cache_read: Number(cost.cache?.read ?? 0), cache_write: Number(cost.cache?.write ?? 0) };
    }
    const given = await pluginAuth.options(ref.provider, provider);
    // OpenAI under the ChatGPT login (an OAuth entry in auth.json, as OpenCode tells it): the system prompt as `instructions`.
    const login = ref.provider === 'openai' && readAuthStore(ctx.env ?? process.env)[ref.provider]?.type === 'oauth';
    const spec = withLoaderOptions({ ...buildSpec(), ...(login ? { systemAsInstructions: true as const } : {}) }, given, options);
    // A model the plugin says is served over OpenAI's Responses API (GitHub Copilot's `-codex` and gpt-5 ones): OpenAI's package.
    const api = listed.api as { endpoint?: unknown } | undefined;
    return api?.endpoint === 'responses' && npm === OPENAI_COMPATIBLE ? { ...spec, npm: OPENAI } : spec;
  };
  const resolved: ResolvedModel = {
    label: formatModelRef({ provider: ref.provider, model: modelKey, ...(variant ? { variant } : {}) }),
    provider: ref.provider,
    key: `model:${ref.provider}/${modelKey}`,
    // A plugin's login (GitHub Copilot's) is the credential its requests carry, not the key found (none, often).
    keyCooldown: keyCooldownKey(`model:${ref.provider}/${modelKey}`, ref.provider, pluginAuth && !options.apiKey ? (pluginAuth.credential(ref.provider) ?? credential.key) : credential.key),
    ...limits,
    ...(learnEnabled(specs) ? { learnKey: learnKeyOf(ref.provider, modelKey) } : {}),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(chunkTimeoutMs === timeoutMs ? {} : { chunkTimeoutMs }),
    redact: secretMasker([credential.key, ...headerSecrets(headers)]),
    ref,
    modelKey,
    upstreamId,
    npm,
    ...(baseURL ? { baseURL } : {}),
    credential,
    providerOptions: (Object.keys(callOptions).length ? { [optionsKey]: callOptions } : {}) as SharedV4ProviderOptions,
    ...(modelCfg?.limit?.output ? { maxOutputTokens: Math.min(modelCfg.limit.output, outputTokenMax(ctx.env ?? process.env)) } : {}),
    ...((modelCfg?.limit?.context ?? listed?.context) ? { contextLimit: modelCfg?.limit?.context ?? listed?.context } : {}),
    ...((modelCfg?.cost ?? listed?.cost) ? { cost: modelCfg?.cost ?? listed?.cost } : {}),
    streaming: modelCfg?.supports?.streaming !== false,
    // As OpenCode reads `capabilities.temperature`: the config's, else the catalogue's (OpenAI's
    // reasoning models refuse any temperature but their default).
    acceptsTemperature: modelCfg?.temperature ?? listed?.temperature ?? true,
    ...(typeof (options as Record<string, unknown>).setCacheKey === 'boolean' ? { setCacheKey: (options as Record<string, unknown>).setCacheKey as boolean } : {}),
    acceptsImages: Boolean(modelCfg?.modalities?.input?.includes('image') || modelCfg?.supports?.vision || (!modelCfg?.modalities && listed?.image)),
    ...(modelCfg?.modalities?.input?.includes('pdf') ? { acceptsPdf: true } : {}),
    ...(wire ? { wire } : {}),
    ...(pluginAuth ? { pluginAuth: true as const } : {}),
    languageModel() {
      const sdkModel = () => specOf().then(languageModelFor);
      // OpenAI-compatible models go over Pantheon's own client (no fetch, no provider package loaded),
      // whose code (with the SDK's body conversion) loads here, not with the model's resolution: a
      // process that waits before its first request (Scheduler.admitAhead) loads it once it may send.
      built ??= wire ? import('./wire-language-model.ts').then((m) => m.wireLanguageModel({ providerId: ref.provider, upstreamId, wire, sdkModel })) : sdkModel();
      return built;
    },
    embeddingModel() {
      embedding ??= specOf().then(buildEmbeddingModel);
      // A build that failed (a package missing) is tried again next time.
      embedding.catch(() => (embedding = undefined));
      return embedding;
    },
  };
  return resolved;
}
