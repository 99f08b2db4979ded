import type { Config, ModelConfig } from '../config/schema-types.ts';
import { PantheonError } from '../errors.ts';
import { knownProvider } from '../providers/catalog.ts';
import { catalogModel } from '../providers/models-dev.ts';
import { providerOff } from '../providers/provider-filter.ts';
import { parseModelRef, type ModelSpecInput } from '../providers/model-ref.ts';
import { applicableLimits } from '../scheduler/limits.ts';
import { agentChain } from './resolve-agent.ts';
import { byCodeUnit } from '../icu-free.ts';

export type LimitScope = 'default' | 'provider' | 'model';

/** The rate limits that apply to a model (all enforced together; the tightest wins). */
export interface EffectiveLimits {
  windows: { scope: LimitScope; maxRequests: number; windowMs: number }[];
  tokens: { scope: LimitScope; maxTokens: number; windowMs: number }[];
  concurrency: { scope: LimitScope; limit: number }[];
}

export interface ConfiguredModel {
  /** `provider/model`, as model refs name it. */
  ref: string;
  provider: string;
  model: string;
  /** The id sent upstream. */
  upstreamId: string;
  name?: string;
  /** Declared under `provider.<id>.models`, or only referenced (a well-known provider). */
  declared: boolean;
  limit?: ModelConfig['limit'];
  rateLimits: EffectiveLimits;
  cost?: ModelConfig['cost'];
  variants: string[];
  /** Agents (not disabled) whose chain names it, head or fallback. */
  agents: string[];
  /** Top-level keys that name it: `model`, `small_model`, `fallbacks`. */
  topLevel: string[];
}

function scopeOf(key: string): LimitScope {
  return key.startsWith('provider:') ? 'provider' : key.startsWith('model:') ? 'model' : 'default';
}

function effectiveLimits(config: Config, provider: string, model: string): EffectiveLimits {
  const declared = config.provider?.[provider];
  const limits = applicableLimits(provider, model, { global: config.rateLimit, provider: declared?.rateLimit, model: declared?.models?.[model]?.rateLimit });
  return {
    windows: limits.windows.map((w) => ({ scope: scopeOf(w.key), maxRequests: w.maxRequests, windowMs: w.windowMs })),
    tokens: limits.tokens.map((t) => ({ scope: scopeOf(t.key), maxTokens: t.maxTokens, windowMs: t.windowMs })),
    concurrency: limits.concurrency.map((c) => ({ scope: scopeOf(c.key), limit: c.limit })),
  };
}

/** `provider/model` of a spec (variant dropped), or undefined when it is not a valid ref. */
function keyOf(spec: ModelSpecInput): { provider: string; model: string } | undefined {
  try {
    const ref = parseModelRef(spec);
    return { provider: ref.provider, model: ref.model };
  } catch (error) {
    if (error instanceof PantheonError) return undefined;
    throw error;
  }
}

/**
 * The models a config makes available: every model declared under a provider, plus the models on
 * well-known providers that agents or top-level keys name. Each with its limits, effective rate
 * limits, price and the agents that use it. `provider` keeps one provider's models only.
 */
/** Models a login offers beyond the config, by provider then model (GitHub Copilot's list: plugins/builtin/copilot-offered.ts). */
export type OfferedModels = Record<string, Record<string, { name: string; upstreamId: string; limit: { context: number; output: number }; cost: NonNullable<ModelConfig['cost']> }>>;

export function configuredModels(config: Config, provider?: string, offered: OfferedModels = {}): ConfiguredModel[] {
  const found = new Map<string, ConfiguredModel>();
  const entry = (p: string, m: string): ConfiguredModel | undefined => {
    const ref = `${p}/${m}`;
    const known = found.get(ref);
    if (known) return known;
    const declared = config.provider?.[p];
    const models = declared?.models ?? {};
    const cfg = models[m];
    const given = Object.hasOwn(offered, p) && Object.hasOwn(offered[p] ?? {}, m) ? offered[p]?.[m] : undefined;
    // A provider that lists models offers only those (and those its login offers); an undeclared,
    // unknown provider offers none; a provider switched off (disabled_providers, enabled_providers) offers nothing.
    if (providerOff(config, p) || (!cfg && !given && (Object.keys(models).length > 0 || (!declared && !knownProvider(p))))) return undefined;
    const catalogued = knownProvider(p);
    const listed = catalogued && !given && (!cfg?.limit || !cfg.cost) ? catalogModel(catalogued.catalogId ?? p, cfg?.id ?? m) : undefined;
    const limit = cfg?.limit ?? given?.limit ?? (listed?.context ? { context: listed.context, ...(listed.output ? { output: listed.output } : {}) } : undefined);
    const cost = cfg?.cost ?? given?.cost ?? listed?.cost;
    const name = cfg?.name ?? given?.name;
    const created: ConfiguredModel = {
      ref,
      provider: p,
      model: m,
      upstreamId: cfg?.id ?? given?.upstreamId ?? m,
      ...(name ? { name } : {}),
      declared: Boolean(cfg),
      ...(limit ? { limit } : {}),
      rateLimits: effectiveLimits(config, p, m),
      ...(cost ? { cost } : {}),
      variants: Object.keys(cfg?.variants ?? {}),
      agents: [],
      topLevel: [],
    };
    found.set(ref, created);
    return created;
  };
  for (const [p, declared] of Object.entries(config.provider ?? {})) {
    for (const m of Object.keys(declared.models ?? {})) entry(p, m);
  }
  for (const [p, models] of Object.entries(offered)) for (const m of Object.keys(models)) entry(p, m);
  const mark = (spec: ModelSpecInput, use: (m: ConfiguredModel) => void): void => {
    const key = keyOf(spec);
    const model = key && entry(key.provider, key.model);
    if (model) use(model);
  };
  if (config.model) mark(config.model, (m) => m.topLevel.push('model'));
  if (config.small_model) mark(config.small_model, (m) => m.topLevel.push('small_model'));
  for (const spec of config.fallbacks ?? []) mark(spec, (m) => m.topLevel.push('fallbacks'));
  for (const [name, agent] of Object.entries(config.agent ?? {})) {
    if (agent.disable) continue;
    for (const spec of agentChain(config, name).chain) mark(spec, (m) => m.agents.includes(name) || m.agents.push(name));
  }
  const all = [...found.values()].sort((a, b) => byCodeUnit(a.ref, b.ref));
  for (const m of all) m.agents.sort();
  if (provider === undefined) return all;
  if (!config.provider?.[provider] && !all.some((m) => m.provider === provider)) {
    const providers = [...new Set(all.map((m) => m.provider))];
    throw new PantheonError('UNKNOWN_PROVIDER', `models: no configured provider "${provider}".`, {
      hint: providers.length ? `Providers with models: ${providers.join(', ')}.` : 'Declare one under "provider" in opencode.json.',
    });
  }
  return all.filter((m) => m.provider === provider);
}

/** What a model can do, in the REST API's words (`GET /api/v1/models?capability=`). */
export const CAPABILITIES = ['vision', 'function_calling', 'reasoning', 'streaming'] as const;
export type Capability = (typeof CAPABILITIES)[number];

/**
 * A model's capabilities: from its config (`modalities`, `tool_call`, `reasoning`, `supports`),
 * else from the models.dev catalogue for a provider it knows; tool calls and streaming unless
 * said otherwise (as the run treats them).
 */
export function modelCapabilities(config: Config, m: ConfiguredModel): Capability[] {
  const cfg = config.provider?.[m.provider]?.models?.[m.model];
  const known = knownProvider(m.provider);
  const listed = known ? catalogModel(known.catalogId ?? m.provider, m.upstreamId) : undefined;
  const has: Record<Capability, boolean> = {
    // As the run decides whether to send images (resolve-model.ts `acceptsImages`).
    vision: Boolean(cfg?.modalities?.input?.includes('image') || cfg?.supports?.vision || (!cfg?.modalities && listed?.image)),
    function_calling: cfg?.tool_call ?? cfg?.supports?.function_calling ?? listed?.toolCall ?? true,
    reasoning: cfg?.reasoning ?? cfg?.supports?.reasoning ?? listed?.reasoning ?? false,
    streaming: cfg?.supports?.streaming !== false,
  };
  return CAPABILITIES.filter((c) => has[c]);
}
