import type { ConfigLayer } from '../config/layer.ts';
import { maskConfig } from '../config/mask.ts';
import type { Config, PermissionRule } from '../config/schema-types.ts';
import { DEFAULT_PERMISSION, evaluatePermission, permissionTable } from '../permissions/rules.ts';
import { formatModelRef, parseModelRef, type ModelSpecInput } from '../providers/model-ref.ts';
import { BUILT_IN_VALUE, definedIn, originOf } from './provenance.ts';
import { agentChain, agentSettings, type AgentMode, type ReplacedAgents } from './resolve-agent.ts';
import { deniedOutright, toolEnabled } from './tool-filter.ts';

/** One agent as `agent list` shows it. */
export interface AgentSummary {
  name: string;
  mode: AgentMode;
  description?: string;
  disabled: boolean;
  /** The model chain, head first ([] when no model is configured anywhere). */
  chain: string[];
  /** `agent`: its own model; `top-level`: the top-level model and fallbacks. */
  chainSource: 'agent' | 'top-level';
  /** Where the agent is defined: the label of the first layer that names it (a file, a markdown agent file, "built-in defaults"). */
  source: string;
  /** A built-in a plugin's config hook replaced (oh-my-opencode's `sisyphus`): only the built-in workflows run it. Absent otherwise. */
  replaced?: true;
}

export interface PermissionEntry {
  rule: PermissionRule;
  from: string;
}

/** One agent as `agent show` shows it: every resolved value and where it came from. */
export interface AgentDetails extends AgentSummary {
  temperature?: number;
  top_p?: number;
  steps: number;
  /** Options for every model call of the agent (its `options` and the keys OpenCode passes on). */
  options: Record<string, unknown>;
  /** The variant its models take when their ref names none. */
  variant?: string;
  prompt?: string;
  /** Every permission key the agent's rules or the defaults name, with the rule and its origin. */
  permission: Record<string, PermissionEntry>;
  /** The tools it is offered: built-ins, `task`, `todowrite` and `todoread` (in a session's turn, not when delegated to), and `<server>_*` for its MCP servers. */
  tools: string[];
  mcp: string[];
  /** Key (`model`, `fallbacks`, `temperature`, `permission.bash`, …) → config layer label, or "default". */
  origins: Record<string, string>;
}

function label(spec: ModelSpecInput): string {
  return typeof spec === 'string' ? spec : formatModelRef(parseModelRef(spec));
}

export function summarizeAgent(config: Config, name: string, layers: readonly ConfigLayer[] = [], replaced?: ReplacedAgents): AgentSummary {
  const agent = config.agent?.[name] ?? {};
  const { chain, chainSource } = agentChain(config, name);
  return {
    name,
    mode: agent.mode ?? 'all',
    ...(agent.description ? { description: agent.description } : {}),
    disabled: agent.disable === true,
    chain: chain.map(label),
    chainSource,
    source: definedIn(layers, ['agent', name]) ?? BUILT_IN_VALUE,
    ...(replaced?.includes(name) ? { replaced: true as const } : {}),
  };
}

/** Every agent in the config, sorted by name; disabled ones, and built-ins a plugin replaced (as OpenCode lists none of them), only with `all`. */
export function listAgents(config: Config, all = false, layers: readonly ConfigLayer[] = [], replaced?: ReplacedAgents): AgentSummary[] {
  return Object.keys(config.agent ?? {})
    .sort()
    .map((name) => summarizeAgent(config, name, layers, replaced))
    .filter((a) => all || (!a.disabled && !a.replaced));
}

function origin(layers: readonly ConfigLayer[], ...paths: string[][]): string {
  for (const path of paths) {
    const found = originOf(layers, path);
    if (found) return found;
  }
  return BUILT_IN_VALUE;
}

function permissionsOf(config: Config, name: string, layers: readonly ConfigLayer[]): Record<string, PermissionEntry> {
  const own = permissionTable(config.agent?.[name]?.permission);
  const top = permissionTable(config.permission);
  const keys = [...new Set([...Object.keys(DEFAULT_PERMISSION), ...Object.keys(top), ...Object.keys(own)])];
  const table: Record<string, PermissionEntry> = {};
  for (const key of keys) {
    const rule = own[key] ?? top[key];
    if (rule !== undefined) {
      table[key] = { rule, from: own[key] !== undefined ? origin(layers, ['agent', name, 'permission', key]) : origin(layers, ['permission', key]) };
    } else {
      table[key] = { rule: evaluatePermission({}, key).action, from: BUILT_IN_VALUE };
    }
  }
  return table;
}

/** The agent's resolved settings with the origin of each; `builtinTools` are the built-in tool names. */
export function describeAgent(config: Config, name: string, layers: readonly ConfigLayer[], builtinTools: readonly string[], replaced?: ReplacedAgents): AgentDetails {
  const summary = summarizeAgent(config, name, layers, replaced);
  const resolved = agentSettings(config, name);
  const mcp = resolved.mcp;
  const offered = [...builtinTools, 'task', 'todowrite', 'todoread'].filter((t) => toolEnabled(resolved.tools, t) && !deniedOutright(resolved.permission, t));
  const at = (key: string): string[] => ['agent', name, key];
  const origins: Record<string, string> = {
    model: summary.chainSource === 'agent' ? origin(layers, at('model')) : origin(layers, ['model']),
    fallbacks: origin(layers, at('fallbacks'), ['fallbacks']),
    prompt: origin(layers, at('prompt'), at('systemPrompt')),
    description: origin(layers, at('description')),
    mode: origin(layers, at('mode')),
    temperature: origin(layers, at('temperature')),
    top_p: origin(layers, at('top_p')),
    steps: origin(layers, at('steps'), at('maxSteps')),
    variant: origin(layers, at('variant')),
    // Each option from the highest layer that set it, as an agent key or under its `options`.
    options: [...new Set(Object.keys(resolved.options).map((key) => origin(layers, [...at('options'), key], at(key))))].join(', '),
    tools: origin(layers, at('tools'), ['tools']),
    mcp: origin(layers, at('mcp')),
    disable: origin(layers, at('disable')),
  };
  const permission = permissionsOf(config, name, layers);
  for (const [key, entry] of Object.entries(permission)) origins[`permission.${key}`] = entry.from;
  return {
    ...summary,
    ...(resolved.temperature === undefined ? {} : { temperature: resolved.temperature }),
    ...(resolved.topP === undefined ? {} : { top_p: resolved.topP }),
    steps: resolved.steps,
    // Shown by `agent show`: a key among them (`apiKey`, `token`, a header's) is masked as `config show` masks it.
    options: maskConfig(resolved.options),
    ...(resolved.variant ? { variant: resolved.variant } : {}),
    ...(resolved.prompt ? { prompt: resolved.prompt } : {}),
    permission,
    tools: [...offered, ...mcp.filter((s) => toolEnabled(resolved.tools, `${s}_*`)).map((s) => `${s}_*`)],
    mcp,
    origins,
  };
}
