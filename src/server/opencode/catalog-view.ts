/**
 * The config's providers, models and agents in OpenCode's API shapes (`/config/providers`,
 * `/provider`, `/agent`). Never a key: a provider says where its key comes from, not what it is.
 */
import { agentNames, agentSettings, defaultAgentName, resolveAgent, type ReplacedAgents } from '../../agents/resolve-agent.ts';
import { configuredModels, type OfferedModels } from '../../agents/configured-models.ts';
import { withoutCredentials } from '../../basic-auth.ts';
import { maskConfig } from '../../config/mask.ts';
import type { Config } from '../../config/schema-types.ts';
import { WELL_KNOWN_PROVIDERS, envVarsFor } from '../../providers/catalog.ts';
import { parseModelRef } from '../../providers/model-ref.ts';
import { resolveModel } from '../../providers/resolve-model.ts';
import { permissionTable, type Permission } from '../../permissions/rules.ts';

export interface OcModel {
  id: string;
  providerID: string;
  api: { id: string; url: string; npm: string };
  name: string;
  capabilities: { temperature: boolean; reasoning: boolean; attachment: boolean; toolcall: boolean; input: Record<string, boolean>; output: Record<string, boolean> };
  cost: { input: number; output: number; cache: { read: number; write: number } };
  limit: { context: number; output: number };
  status: 'active';
  options: Record<string, unknown>;
  headers: Record<string, string>;
  release_date: string;
  variants: Record<string, Record<string, unknown>>;
}

export interface OcProvider {
  id: string;
  name: string;
  source: 'env' | 'config';
  env: string[];
  options: Record<string, unknown>;
  models: Record<string, OcModel>;
}

const media = (image: boolean) => ({ text: true, audio: false, image, video: false, pdf: false });

/** One model as OpenCode's API (and `opencode models --verbose`) shows it; throws when the ref does not resolve. */
export function modelView(config: Config, provider: string, model: string, env: NodeJS.ProcessEnv): OcModel {
  const resolved = resolveModel(config, `${provider}/${model}`, { env });
  const cfg = config.provider?.[provider]?.models?.[model];
  return {
    id: model,
    providerID: provider,
    api: { id: resolved.upstreamId, url: withoutCredentials(resolved.baseURL ?? ''), npm: resolved.npm },
    name: cfg?.name ?? model,
    capabilities: { temperature: resolved.acceptsTemperature, reasoning: false, attachment: resolved.acceptsImages, toolcall: true, input: media(resolved.acceptsImages), output: media(false) },
    cost: { input: resolved.cost?.input ?? 0, output: resolved.cost?.output ?? 0, cache: { read: resolved.cost?.cache_read ?? 0, write: resolved.cost?.cache_write ?? 0 } },
    limit: { context: resolved.contextLimit ?? 0, output: resolved.maxOutputTokens ?? 0 },
    status: 'active',
    options: {},
    headers: {},
    release_date: '',
    variants: Object.fromEntries(Object.keys(cfg?.variants ?? {}).map((v) => [v, {}])),
  };
}

/** A model a login offers beyond the config (GitHub Copilot's list), with what its list says of it. */
function offeredView(view: OcModel, offered: OfferedModels[string][string]): OcModel {
  return {
    ...view,
    api: { ...view.api, id: offered.upstreamId },
    name: offered.name,
    cost: { input: offered.cost.input ?? 0, output: offered.cost.output ?? 0, cache: { read: offered.cost.cache_read ?? 0, write: offered.cost.cache_write ?? 0 } },
    limit: { context: offered.limit.context, output: offered.limit.output },
  };
}

/**
 * Every provider with a model the config can use, and the models a login offers (`offered`: GitHub
 * Copilot's list, as OpenCode's TUI lists them to pick from), and each provider's default model.
 */
export function providersView(config: Config, env: NodeJS.ProcessEnv, offered: OfferedModels = {}): { providers: OcProvider[]; default: Record<string, string> } {
  const byProvider = new Map<string, OcProvider>();
  for (const m of configuredModels(config, undefined, offered)) {
    let entry = byProvider.get(m.provider);
    if (!entry) {
      const declared = config.provider?.[m.provider];
      entry = { id: m.provider, name: declared?.name ?? WELL_KNOWN_PROVIDERS[m.provider]?.name ?? m.provider, source: declared ? 'config' : 'env', env: envVarsFor(m.provider), options: {}, models: {} };
      byProvider.set(m.provider, entry);
    }
    try {
      const view = modelView(config, m.provider, m.model, env);
      const listed = m.declared ? undefined : offered[m.provider]?.[m.model];
      entry.models[m.model] = listed ? offeredView(view, listed) : view;
    } catch {
      // A model that does not resolve (a bad ref) is left out; `config validate` reports it.
    }
  }
  const head = (() => {
    try {
      return config.model ? parseModelRef(config.model) : undefined;
    } catch {
      return undefined;
    }
  })();
  const providers = [...byProvider.values()];
  const defaults = Object.fromEntries(providers.map((p) => [p.id, head?.provider === p.id && p.models[head.model] ? head.model : (Object.keys(p.models)[0] ?? '')]));
  return { providers, default: defaults };
}

/** A Pantheon permission (`{bash: {"git *": "allow"}}`) as OpenCode's v2 rule list. */
export function permissionRules(permission: Permission): { permission: string; pattern: string; action: string }[] {
  return Object.entries(permissionTable(permission)).flatMap(([key, rule]) =>
    typeof rule === 'string' ? [{ permission: key, pattern: '*', action: rule }] : Object.entries(rule ?? {}).map(([pattern, action]) => ({ permission: key, pattern, action: String(action) })),
  );
}

/** The agents that are not disabled (nor replaced by a plugin's config hook: `replaced`), as OpenCode lists them. */
export function agentsView(config: Config, replaced?: ReplacedAgents): unknown[] {
  // As OpenCode lists them: the default agent first (the one its TUI starts with), then by name.
  const first = defaultAgentName(config, replaced);
  const names = agentNames(config, replaced);
  const ordered = first !== undefined && names.includes(first) ? [first, ...names.filter((n) => n !== first)] : names;
  return ordered.map((name) => {
    const settings = agentSettings(config, name);
    let model: { providerID: string; modelID: string } | undefined;
    let variant = settings.variant;
    try {
      const head = parseModelRef(resolveAgent(config, name).chain[0] ?? '');
      model = { providerID: head.provider, modelID: head.model };
      // The variant its model ref names (`p/m:high`) wins over the agent's own (`variant`), as in a run.
      variant = head.variant ?? variant;
    } catch {
      model = undefined;
    }
    return {
      name,
      ...(settings.description ? { description: settings.description } : {}),
      mode: settings.mode,
      native: false,
      builtIn: false,
      ...(settings.temperature === undefined ? {} : { temperature: settings.temperature }),
      ...(settings.topP === undefined ? {} : { topP: settings.topP }),
      permission: permissionRules(settings.permission),
      ...(model ? { model } : {}),
      ...(settings.prompt ? { prompt: settings.prompt } : {}),
      tools: settings.tools,
      // The agent's model options, secrets masked as in /config.
      options: maskConfig(settings.options),
      ...(variant ? { variant } : {}),
      steps: settings.steps,
    };
  });
}

export { projectId } from '../../session/project-id.ts';
