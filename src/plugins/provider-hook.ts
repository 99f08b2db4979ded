/**
 * The plugins' `provider` hooks (OpenCode's `ProviderHook`: `{id, models(provider, {auth})}`), as
 * OpenCode 1.18.33 uses them when it builds its provider list: each hook's `models` is asked once,
 * with the provider (its catalogue entry, OpenCode's `Provider` shape, no key) and its auth.json
 * entry, and what it answers (OpenCode's `Model`s by id) are the provider's models, the config's own
 * `provider.<id>.models` laid over them. Pantheon writes them into the config as a layer of their
 * own, named for the plugin, so that `opencode models`, `/provider`, `/config/providers`, the
 * gateway's `/v1/models` and a run's model refs all find them.
 */
import type { ConfigLayer } from '../config/layer.ts';
import { deepMerge } from '../config/merge.ts';
import type { LoadedConfig } from '../config/load.ts';
import { replacedConfig } from '../config/replaced-config.ts';
import { WELL_KNOWN_PROVIDERS, envVarsFor, knownProvider } from '../providers/catalog.ts';
import { storedEntry } from './auth-loader.ts';
import type { PluginHost, PluginProviderHook } from './types.ts';

/** How long a hook's `models` may take (OpenCode waits for it; a plugin that never answers should not hang a run). */
const MODELS_MS = 30_000;

export async function withPluginProviders(loaded: LoadedConfig, plugins: PluginHost | undefined, env: NodeJS.ProcessEnv, warn: (text: string) => void): Promise<LoadedConfig> {
  const hooks = (plugins?.providerHooks?.() ?? []).filter((hook): hook is PluginProviderHook & { id: string } => typeof hook.id === 'string' && hook.id !== '' && typeof hook.models === 'function');
  if (hooks.length === 0) return loaded;
  const config = loaded.config as Record<string, unknown>;
  const declared = asRecord(config.provider);
  const disabled = new Set(Array.isArray(config.disabled_providers) ? config.disabled_providers : []);
  const added: Record<string, Record<string, unknown>> = {};
  for (const hook of hooks) {
    const id = hook.id;
    // OpenCode asks a hook about a provider its catalogue knows; Pantheon also about one the config declares.
    if (disabled.has(id) || (!knownProvider(id) && !Object.hasOwn(declared, id))) continue;
    const auth = storedEntry(id, env);
    let answer: unknown;
    try {
      answer = await within((hook.models as (provider: unknown, ctx: unknown) => unknown)(providerShape(id, asRecord(declared[id]), added[id]), auth ? { auth } : {}), MODELS_MS);
    } catch (error) {
      warn(`The plugin hook provider.models for ${id} failed: ${error instanceof Error ? error.message : String(error)}; its models are left out.`);
      continue;
    }
    if (!isRecord(answer)) {
      warn(`The plugin hook provider.models for ${id} answered ${answer === null ? 'null' : typeof answer}, not models by id; its models are left out.`);
      continue;
    }
    // A later hook for the same provider answers for it (OpenCode replaces the list each time).
    added[id] = Object.fromEntries(Object.entries(answer).flatMap(([key, model]) => (isRecord(model) ? [[key, configModel(key, model)]] : [])));
  }
  if (Object.keys(added).length === 0) return loaded;
  const data = { provider: Object.fromEntries(Object.entries(added).map(([id, models]) => [id, { models }])) };
  // The config's own entries for the same models win, as in OpenCode.
  const next = deepMerge(data, config);
  const result = replacedConfig(loaded, next);
  if ('problems' in result) {
    warn(`The models the plugins' provider hooks gave are not valid as config: ${result.problems[0]}; they are left out.`);
    return loaded;
  }
  const layer: ConfigLayer = { kind: 'plugin-hook', label: "plugins' provider hooks", data };
  // Beneath every file's layer: a value the config sets is the config's.
  const [first, ...rest] = result.loaded.layers;
  return { ...result.loaded, layers: first ? [first, layer, ...rest] : [layer] };
}

/** The provider as OpenCode's `Provider` (its catalogue entry and the config's options, never a key). */
function providerShape(id: string, declared: Record<string, unknown>, models: Record<string, unknown> | undefined): Record<string, unknown> {
  const known = knownProvider(id);
  const { apiKey: _key, ...options } = asRecord(declared.options);
  return {
    id,
    name: typeof declared.name === 'string' ? declared.name : (WELL_KNOWN_PROVIDERS[id]?.name ?? known?.name ?? id),
    source: Object.keys(declared).length ? 'config' : 'custom',
    env: envVarsFor(id),
    options,
    models: models ?? {},
  };
}

const MEDIA = ['text', 'audio', 'image', 'video', 'pdf'] as const;

/** OpenCode's `Model` (a plugin's answer) as a `provider.<id>.models` entry: the fields the config reads, where they have its types. */
export function configModel(key: string, model: Record<string, unknown>): Record<string, unknown> {
  const api = asRecord(model.api);
  const caps = asRecord(model.capabilities);
  const cost = asRecord(model.cost);
  const cache = asRecord(cost.cache);
  const limit = asRecord(model.limit);
  const out: Record<string, unknown> = {};
  const upstream = typeof api.id === 'string' && api.id !== '' ? api.id : typeof model.id === 'string' ? model.id : key;
  if (upstream !== key) out.id = upstream;
  for (const field of ['name', 'family', 'release_date'] as const) if (typeof model[field] === 'string' && model[field] !== '') out[field] = model[field];
  if (model.status === 'alpha' || model.status === 'beta' || model.status === 'deprecated' || model.status === 'active') out.status = model.status;
  if (typeof caps.temperature === 'boolean') out.temperature = caps.temperature;
  if (typeof caps.reasoning === 'boolean') out.reasoning = caps.reasoning;
  if (typeof caps.attachment === 'boolean') out.attachment = caps.attachment;
  if (typeof caps.toolcall === 'boolean') out.tool_call = caps.toolcall;
  const modalities = (side: unknown): string[] => MEDIA.filter((m) => asRecord(side)[m] === true);
  if (isRecord(caps.input) || isRecord(caps.output)) out.modalities = { input: modalities(caps.input), output: modalities(caps.output) };
  if (typeof cost.input === 'number' && typeof cost.output === 'number') {
    out.cost = { input: cost.input, output: cost.output, ...(typeof cache.read === 'number' ? { cache_read: cache.read } : {}), ...(typeof cache.write === 'number' ? { cache_write: cache.write } : {}) };
  }
  if (typeof limit.context === 'number' && typeof limit.output === 'number' && limit.context > 0) {
    out.limit = { context: limit.context, output: limit.output, ...(typeof limit.input === 'number' ? { input: limit.input } : {}) };
  }
  if (isRecord(model.options) && Object.keys(model.options).length) out.options = model.options;
  if (isRecord(model.headers) && Object.values(model.headers).every((v) => typeof v === 'string') && Object.keys(model.headers).length) out.headers = model.headers;
  const provider = { ...(typeof api.npm === 'string' && api.npm !== '' ? { npm: api.npm } : {}), ...(typeof api.url === 'string' && api.url !== '' ? { api: api.url } : {}) };
  if (Object.keys(provider).length) out.provider = provider;
  return out;
}

function within<T>(value: T | Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`it did not answer within ${ms / 1000} s`)), ms);
    timer.unref();
  });
  return Promise.race([Promise.resolve(value), late]).finally(() => clearTimeout(timer));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asRecord(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}
