import type { Config } from '../config/schema-types.ts';
import { deepMerge } from '../config/merge.ts';
import { PantheonError } from '../errors.ts';
import { mcpServersForAgent } from '../mcp/agent-tools.ts';
import { mergePermission, type PermissionTable } from '../permissions/rules.ts';
import { formatModelRef, parseModelRef, type ModelSpecInput } from '../providers/model-ref.ts';

/** Tool-loop steps for an agent that sets no `steps`. */
export const DEFAULT_STEPS = 25;

export type AgentMode = 'primary' | 'subagent' | 'all';

/** An agent ready to run: its prompt, sampling settings, model chain (head first), tools and permissions. */
export interface ResolvedAgent {
  name: string;
  description?: string;
  prompt?: string;
  temperature?: number;
  topP?: number;
  steps: number;
  /** `primary` runs from the CLI, `subagent` is delegated to, `all` (the default) is both. */
  mode: AgentMode;
  chain: ModelSpecInput[];
  /** Where the chain came from: the agent's own model, or the top-level default. */
  chainSource: 'agent' | 'top-level';
  /** The agent's `permission` over the top-level one (per tool, the agent's entry wins). */
  permission: PermissionTable;
  /** The top-level `tools` with the agent's over them: name or glob → enabled. */
  tools: Record<string, boolean>;
  /** MCP servers the agent may use: its `mcp` list (unknown and disabled ones left out), else every enabled server. */
  mcp: string[];
  /** Options for every model call of the agent (agentModelOptions). */
  options: Record<string, unknown>;
  /** The variant the agent's models take when its model ref names none (OpenCode's agent `variant`). */
  variant?: string;
}

/** Keys of an agent that OpenCode or Pantheon read themselves; every other key is a model option. */
const AGENT_KEYS = new Set(['model', 'variant', 'temperature', 'top_p', 'prompt', 'tools', 'disable', 'description', 'mode', 'hidden', 'options', 'color', 'steps', 'maxSteps', 'permission', 'fallbacks', 'systemPrompt', 'prompt_append', 'mcp']);

/**
 * An agent's model options, as OpenCode passes them on to every call of the agent: its keys that
 * are not agent settings (`reasoningEffort`, `thinking`, …) with its `options` over them.
 */
export function agentModelOptions(config: Config, name: string): Record<string, unknown> {
  const agent = config.agent?.[name] as Record<string, unknown> | undefined;
  if (!agent) return {};
  const loose: Record<string, unknown> = {};
  for (const key of Object.keys(agent)) if (!AGENT_KEYS.has(key)) loose[key] = agent[key];
  const own = agent.options;
  return deepMerge(loose, own !== null && typeof own === 'object' && !Array.isArray(own) ? (own as Record<string, unknown>) : {});
}

/**
 * Pantheon's built-in agents a plugin's `config` hook replaced (`LoadedConfig.leftByPlugins`:
 * oh-my-opencode's `sisyphus`, now its "Sisyphus - ultraworker"): still in the config for the
 * built-in workflows, but no agent anyone names or is offered, as OpenCode has no such agent then.
 */
export type ReplacedAgents = readonly string[] | undefined;

/** Names of agents that are not disabled (nor replaced by a plugin), sorted. */
export function agentNames(config: Config, replaced?: ReplacedAgents): string[] {
  return Object.entries(config.agent ?? {})
    .filter(([name, a]) => !a.disable && !replaced?.includes(name))
    .map(([name]) => name)
    .sort();
}

/** The agent a run without `--agent` takes (resolveAgent's), or `default_agent` as given when that does not resolve. */
export function defaultAgentName(config: Config, replaced?: ReplacedAgents): string | undefined {
  try {
    return resolveAgent(config, undefined, undefined, undefined, '--agent', replaced).name;
  } catch {
    return config.default_agent;
  }
}

/**
 * UNKNOWN_AGENT for a name that is not an enabled agent (`field` says who named it: `--agent`, a
 * request's `agent`, `default_agent`), or one a plugin replaced, with the agents there are;
 * undefined for one that is.
 */
export function unknownAgent(config: Config, name: string, field: string, replaced?: ReplacedAgents): PantheonError | undefined {
  const agent = config.agent?.[name];
  const gone = replaced?.includes(name) === true;
  if (agent && !agent.disable && !gone) return undefined;
  const names = agentNames(config, replaced);
  const shown = JSON.stringify(name.length > 60 ? `${name.slice(0, 59)}…` : name);
  const why = gone ? " (a plugin's config hook replaced it)" : agent?.disable ? ' (it is disabled)' : '';
  return new PantheonError('UNKNOWN_AGENT', `${field}: no agent named ${shown}${why}.`, {
    hint: names.length ? `Available agents: ${names.join(', ')}.` : 'Define one under "agent" in opencode.json.',
  });
}

/**
 * Resolves an agent by name (default: `default_agent`, else the first primary agent; never one
 * `replaced` names: a plugin's config hook replaced it). Its chain is
 * its `model` then its `fallbacks`; with no `model`, the top-level `model` and `fallbacks`;
 * `modelOverride` (`--model`) replaces the head.
 */
export function resolveAgent(config: Config, name: string | undefined, modelOverride?: string, variant?: string, field = '--agent', replaced?: ReplacedAgents): ResolvedAgent {
  const wanted = name ?? config.default_agent;
  const names = agentNames(config, replaced);
  // With no name and no default_agent: the first agent that may run on its own (not a subagent).
  const agentName = wanted ?? names.find((n) => config.agent?.[n]?.mode !== 'subagent') ?? names[0];
  if (wanted) {
    const unknown = unknownAgent(config, wanted, name ? field : 'default_agent', replaced);
    if (unknown) throw unknown;
  }
  const { chain: configured, chainSource } = agentChain(config, agentName ?? 'default');
  const chain = modelOverride ? [modelOverride, ...configured.slice(1)] : configured;
  if (chain.length === 0) {
    throw new PantheonError('USAGE', `No model configured for agent "${agentName ?? '(none)'}".`, {
      hint: 'Pass --model provider/model, or set "model" at the top level or on the agent in opencode.json.',
    });
  }
  if (variant !== undefined) chain[0] = withVariant(config, chain[0] as ModelSpecInput, variant, modelOverride ? '--model' : `agent.${agentName ?? 'default'}.model`);
  return { ...agentSettings(config, agentName ?? 'default'), chain, chainSource };
}

/**
 * `--variant` (OpenCode's) on the head of a chain: the model with that variant, as
 * `provider/model:variant` names it (replacing one it names; a declared model whose id holds a
 * colon, `llama3.1:8b`, keeps it).
 */
function withVariant(config: Config, spec: ModelSpecInput, variant: string, where: string): string {
  const ref = parseModelRef(spec, where);
  const whole = ref.variant === undefined ? ref.model : `${ref.model}:${ref.variant}`;
  const declared = config.provider?.[ref.provider]?.models ?? {};
  const model = ref.variant !== undefined && declared[whole] && !declared[ref.model]?.variants?.[ref.variant] ? whole : ref.model;
  return formatModelRef({ provider: ref.provider, model, variant });
}

/** An agent's model chain (possibly empty: nothing configured) and where it came from; never throws. */
export function agentChain(config: Config, name: string): Pick<ResolvedAgent, 'chain' | 'chainSource'> {
  const agent = config.agent?.[name];
  if (agent?.model) return { chain: [agent.model, ...(agent.fallbacks ?? config.fallbacks ?? [])], chainSource: 'agent' };
  return { chain: [...(config.model ? [config.model] : []), ...(agent?.fallbacks ?? config.fallbacks ?? [])], chainSource: 'top-level' };
}

/** An agent's settings apart from its model chain (never throws; an unknown name gets the defaults). */
export function agentSettings(config: Config, name: string): Omit<ResolvedAgent, 'chain' | 'chainSource'> {
  const agent = config.agent?.[name];
  const basePrompt = agent?.prompt ?? agent?.systemPrompt;
  const prompt = agent?.prompt_append ? [basePrompt, agent.prompt_append].filter(Boolean).join('\n\n') : basePrompt;
  return {
    name,
    ...(agent?.description ? { description: agent.description } : {}),
    ...(prompt ? { prompt } : {}),
    ...(agent?.temperature === undefined ? {} : { temperature: agent.temperature }),
    ...(agent?.top_p === undefined ? {} : { topP: agent.top_p }),
    steps: agent?.steps ?? agent?.maxSteps ?? DEFAULT_STEPS,
    mode: agent?.mode ?? 'all',
    permission: mergePermission(config.permission, agent?.permission),
    tools: { ...(config.tools ?? {}), ...(agent?.tools ?? {}) },
    mcp: mcpServersForAgent(config, name).servers,
    options: agentModelOptions(config, name),
    ...(agent?.variant ? { variant: agent.variant } : {}),
  };
}
