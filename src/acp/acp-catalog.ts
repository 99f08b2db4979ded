/**
 * What an ACP editor is offered for a project, as OpenCode's `acp` offers it: the agents a person
 * picks from (not sub-agents, not hidden) as modes, the models the config can use as a `model`
 * select (`provider/model`) with each one's variants (OpenCode's `effort`), and the project's
 * commands (OpenCode's built-in `init` and `review`, the config's and `command/` folders', skills)
 * as slash commands — plus `compact`, which OpenCode's `acp` also runs. All read from the project
 * instance's config, as `opencode serve` lists them.
 */
import { agentNames, agentSettings, defaultAgentName, resolveAgent, type ReplacedAgents } from '../agents/resolve-agent.ts';
import type { Config } from '../config/schema-types.ts';
import { withBuiltinCommands } from '../core/commands/builtin-commands.ts';
import { parseModelRef } from '../providers/model-ref.ts';
import { offeredProvidersView } from '../server/opencode/offered-view.ts';
import { skillCommands } from '../server/opencode/skill-commands.ts';

export interface AcpMode {
  id: string;
  name: string;
  description?: string;
}

export interface AcpModel {
  /** `provider/model`. */
  modelId: string;
  name: string;
  contextLimit?: number;
  /** The model's variants (the config's `variants`), OpenCode's effort levels; empty when it has none. */
  variants: string[];
}

export interface AcpCommand {
  name: string;
  description: string;
  /** What the command takes, for the editor's hint (OpenCode's `$ARGUMENTS`). */
  hint?: string;
}

export interface AcpCatalog {
  modes: AcpMode[];
  defaultMode: string;
  models: AcpModel[];
  /** The head of the default agent's chain (`provider/model`), else the first model; '' when the config has none. */
  defaultModel: string;
  commands: AcpCommand[];
}

/** The built-in that OpenCode's `acp` runs though no command list names it. */
const COMPACT: AcpCommand = { name: 'compact', description: 'Summarize the session to free its context (OpenCode\u2019s compaction)' };

/** The agents of the config a person may switch to (OpenCode: not `subagent`, not hidden; none a plugin's config hook replaced), the default first. */
function modesOf(config: Config, replaced: ReplacedAgents): { modes: AcpMode[]; defaultMode: string } {
  const first = defaultAgentName(config, replaced);
  const modes = agentNames(config, replaced)
    .filter((name) => agentSettings(config, name).mode !== 'subagent' && (config.agent?.[name] as { hidden?: boolean } | undefined)?.hidden !== true)
    .map((name) => {
      const description = agentSettings(config, name).description;
      return { id: name, name, ...(description ? { description } : {}) };
    });
  const ordered = first !== undefined && modes.some((m) => m.id === first) ? [...modes.filter((m) => m.id === first), ...modes.filter((m) => m.id !== first)] : modes;
  return { modes: ordered, defaultMode: ordered[0]?.id ?? first ?? '' };
}

/** The head model of `agent`'s chain as `provider/model`, or undefined when it does not resolve. */
export function agentHeadModel(config: Config, agent: string | undefined): string | undefined {
  return agentHead(config, agent)?.model;
}

/** The head of `agent`'s chain: `provider/model`, and the variant its ref names (`p/m:high`) or the agent's `variant`. */
export function agentHead(config: Config, agent: string | undefined): { model: string; variant?: string } | undefined {
  try {
    const resolved = resolveAgent(config, agent);
    const head = parseModelRef(resolved.chain[0] ?? '');
    const variant = head.variant ?? resolved.variant;
    return { model: `${head.provider}/${head.model}`, ...(variant ? { variant } : {}) };
  } catch {
    return undefined;
  }
}

export async function acpCatalog(config: Config, projectRoot: string, env: NodeJS.ProcessEnv, replaced?: ReplacedAgents): Promise<AcpCatalog> {
  const { modes, defaultMode } = modesOf(config, replaced);
  const view = await offeredProvidersView(config, env);
  const models = view.providers.flatMap((p) =>
    Object.values(p.models).map((m) => ({ modelId: `${p.id}/${m.id}`, name: `${p.name}/${m.name}`, ...(m.limit.context ? { contextLimit: m.limit.context } : {}), variants: Object.keys(m.variants) })),
  );
  const head = agentHeadModel(config, defaultMode || undefined);
  const defaultModel = head ?? models[0]?.modelId ?? '';
  const withBuiltins = withBuiltinCommands(config, projectRoot);
  const commands: AcpCommand[] = [];
  for (const [name, entry] of Object.entries(withBuiltins.command ?? {})) {
    const c = (entry ?? {}) as { template?: unknown; description?: unknown };
    if (typeof c.template !== 'string') continue;
    commands.push({ name, description: typeof c.description === 'string' ? c.description : '', ...(c.template.includes('$ARGUMENTS') || /\$\d/.test(c.template) ? { hint: 'arguments' } : {}) });
  }
  for (const skill of await skillCommands(withBuiltins, projectRoot, env).catch(() => [])) {
    if (!commands.some((c) => c.name === skill.name)) commands.push({ name: skill.name, description: skill.description ?? '' });
  }
  if (!commands.some((c) => c.name === COMPACT.name)) commands.push(COMPACT);
  commands.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { modes, defaultMode, models, defaultModel, commands };
}
