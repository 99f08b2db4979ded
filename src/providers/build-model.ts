import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { EmbeddingModelV4, LanguageModelV4 } from '@ai-sdk/provider';
import { fetchableUrl } from '../basic-auth.ts';
import { PantheonError } from '../errors.ts';

export const OPENAI_COMPATIBLE = '@ai-sdk/openai-compatible';
/** OpenAI's package (a dependency of Pantheon's): its Responses API models (openai-responses.ts). */
export const OPENAI = '@ai-sdk/openai';

export interface ModelBuildSpec {
  providerId: string;
  npm: string;
  upstreamId: string;
  baseURL?: string;
  apiKey?: string;
  headers?: Record<string, string>;
  queryParams?: Record<string, string>;
  includeUsage?: boolean;
  /** The provider's `supportsStructuredOutputs` (OpenAI-compatible providers): a JSON schema is asked as `json_schema`. */
  supportsStructuredOutputs?: boolean;
  fetch?: typeof globalThis.fetch;
  /** More of the factory's settings, beneath the fields above (a plugin's auth loader's: `apiKey: ""`, a project id). */
  settings?: Record<string, unknown>;  /** `openai` under the ChatGPT (Codex) login: the system prompt goes as the request's `instructions` (openai-responses.ts). */
  systemAsInstructions?: true;
}

type Factory = (settings: Record<string, unknown>) => ((id: string) => LanguageModelV4) & {
  languageModel?: (id: string) => LanguageModelV4;
  chatModel?: (id: string) => LanguageModelV4;
  embeddingModel?: (id: string) => EmbeddingModelV4;
  textEmbeddingModel?: (id: string) => EmbeddingModelV4;
};

/** Imports a provider package from Pantheon's own install, else from the project in the working directory. */
async function importProvider(npm: string, providerId: string): Promise<Record<string, unknown>> {
  try {
    return (await import(npm)) as Record<string, unknown>;
  } catch (first) {
    if ((first as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw first;
  }
  try {
    const resolved = createRequire(path.join(process.cwd(), 'package.json')).resolve(npm);
    return (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
  } catch {
    throw new PantheonError('PROVIDER_PACKAGE_MISSING', `provider.${providerId}.npm: the package "${npm}" is not installed.`, {
      hint: `Install it next to Pantheon: npm install ${npm}`,
    });
  }
}

/** Models built, by the fetch they use and their settings: a model is a stateless description, so turns share one. */
const built = new WeakMap<object, Map<string, Promise<LanguageModelV4>>>();
const GLOBAL_FETCH = {};
/** Settings kept per fetch; beyond this the oldest is dropped (keys rotated by `auth login` are not kept forever). */
const MAX_PER_FETCH = 256;

/**
 * The language model for `spec`, built once per process for the same settings and fetch. Building one
 * costs about a millisecond (the SDK compiles its response schemas), which a server pays per turn otherwise.
 */
export function languageModelFor(spec: ModelBuildSpec): Promise<LanguageModelV4> {
  const owner = spec.fetch ?? GLOBAL_FETCH;
  let models = built.get(owner);
  if (!models) built.set(owner, (models = new Map()));
  const { fetch: _fetch, ...settings } = spec;
  const key = JSON.stringify(settings);
  const found = models.get(key);
  if (found) return found;
  if (models.size >= MAX_PER_FETCH) models.delete(models.keys().next().value as string);
  const model = buildLanguageModel(spec);
  models.set(key, model);
  const entries = models;
  // A build that failed (a package missing) is tried again next time.
  model.catch(() => entries.get(key) === model && entries.delete(key));
  return model;
}

/**
 * The settings a provider factory takes for `spec`. A base URL's user and password (`https://user:token@host/v1`,
 * which fetch refuses) become Basic `Authorization`, as Pantheon's own client sends them: unless a
 * key or a configured `Authorization` header says otherwise.
 */
function providerSettings(spec: ModelBuildSpec): Record<string, unknown> {
  const settings: Record<string, unknown> = { ...spec.settings, name: spec.providerId };
  const base = spec.baseURL ? URL.parse(spec.baseURL) : null;
  const target = base?.username || base?.password ? fetchableUrl(base, spec.headers, Boolean(spec.apiKey)) : undefined;
  if (spec.baseURL) settings.baseURL = target?.href ?? spec.baseURL;
  if (spec.apiKey) settings.apiKey = spec.apiKey;
  const headers = target?.headers ?? spec.headers;
  if (headers) settings.headers = headers;
  if (spec.queryParams) settings.queryParams = spec.queryParams;
  if (spec.fetch) settings.fetch = spec.fetch;
  return settings;
}

/** Builds an AI SDK language model for one provider + model. The SDK's own retries are off: the scheduler owns them. */
export async function buildLanguageModel(spec: ModelBuildSpec): Promise<LanguageModelV4> {
  const settings = providerSettings(spec);
  if (spec.npm === OPENAI_COMPATIBLE) {
    const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
    if (!spec.baseURL) {
      throw new PantheonError('CONFIG_INVALID', `provider.${spec.providerId}.options.baseURL is required for ${OPENAI_COMPATIBLE}.`, {
        hint: 'Set the API base URL, e.g. "https://integrate.api.nvidia.com/v1".',
      });
    }
    const provider = createOpenAICompatible({
      ...settings,
      includeUsage: spec.includeUsage ?? true,
      ...(spec.supportsStructuredOutputs === undefined ? {} : { supportsStructuredOutputs: spec.supportsStructuredOutputs }),
    } as Parameters<typeof createOpenAICompatible>[0]);
    return provider.chatModel(spec.upstreamId) as unknown as LanguageModelV4;
  }
  if (spec.npm === OPENAI) {
    // OpenAI's package, over its Responses API with OpenCode's defaults (openai-responses.ts).
    const { openaiResponsesModel } = await import('./openai-responses.ts');
    const { name: _name, ...rest } = settings;
    return openaiResponsesModel(rest, spec.upstreamId, spec.systemAsInstructions === true, spec.providerId);
  }
  const provider = await packageProvider(spec, settings);
  const model = provider.languageModel ? provider.languageModel(spec.upstreamId) : provider(spec.upstreamId);
  return model;
}

/** The provider a package's factory makes (`create…`), for a package other than OpenAI-compatible. */
async function packageProvider(spec: ModelBuildSpec, settings: Record<string, unknown>): Promise<ReturnType<Factory>> {
  const mod = await importProvider(spec.npm, spec.providerId);
  const factoryName = Object.keys(mod).find((k) => k.startsWith('create') && typeof mod[k] === 'function');
  if (!factoryName) {
    throw new PantheonError('PROVIDER_PACKAGE_MISSING', `provider.${spec.providerId}.npm: "${spec.npm}" exports no provider factory (create…).`, {
      hint: 'Use an AI SDK provider package such as @ai-sdk/openai, @ai-sdk/anthropic or @ai-sdk/google.',
    });
  }
  const { name: _name, ...rest } = settings;
  return (mod[factoryName] as Factory)(rest);
}

/**
 * The AI SDK embedding model for `spec` (the gateway's `/v1/embeddings` to a model Pantheon's own
 * client does not call). A package without embedding models is PROVIDER_BAD_REQUEST.
 */
export async function buildEmbeddingModel(spec: ModelBuildSpec): Promise<EmbeddingModelV4> {
  const settings = providerSettings(spec);
  if (spec.npm === OPENAI_COMPATIBLE) {
    const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
    if (!spec.baseURL) throw new PantheonError('CONFIG_INVALID', `provider.${spec.providerId}.options.baseURL is required for ${OPENAI_COMPATIBLE}.`);
    return createOpenAICompatible(settings as unknown as Parameters<typeof createOpenAICompatible>[0]).embeddingModel(spec.upstreamId);
  }
  const provider = await packageProvider(spec, settings);
  const make = provider.embeddingModel ?? provider.textEmbeddingModel;
  if (!make) {
    throw new PantheonError('PROVIDER_BAD_REQUEST', `provider "${spec.providerId}" (${spec.npm}) has no embedding models.`, { hint: 'Ask a model of a provider that offers embeddings (OpenAI-compatible ones, @ai-sdk/openai, @ai-sdk/google, …).' });
  }
  return make.call(provider, spec.upstreamId);
}
