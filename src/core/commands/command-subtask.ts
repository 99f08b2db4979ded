/**
 * Whether a command runs as a sub-task, and as whose, as OpenCode decides it: one whose `subtask` is
 * true (its built-in `/review` is), or whose agent is a subagent unless its `subtask` is false. Its
 * agent is the command's, else the request's, else the session's, else the default agent; its prompt
 * is the command's expanded text (its `@file` attachments are not sent, as OpenCode sends a
 * sub-task the text alone). The turn then runs the sub-task in a child session as a `task` call and
 * asks the model to go on from its answer (run/run-task.ts).
 *
 * A command whose agent (its own, else the request's) is a built-in a plugin's `config` hook replaced
 * (oh-my-opencode's `sisyphus`: `replaced`) is refused, as OpenCode 1.18.33 refuses a command whose
 * agent it does not have ("Agent not found"), sub-task or not: commandAgentRefusal.
 */
import { defaultAgentName, unknownAgent, type ReplacedAgents } from '../../agents/resolve-agent.ts';
import type { Config } from '../../config/schema-types.ts';
import type { PantheonError } from '../../errors.ts';
import type { CommandSubtask } from '../../run/run-task.ts';

/** UNKNOWN_AGENT when the agent command `name` runs as is one a plugin's config hook replaced; undefined otherwise. */
export function commandAgentRefusal(config: Readonly<Config>, name: string, agent: string | undefined, replaced: ReplacedAgents): PantheonError | undefined {
  if (agent === undefined || !replaced?.includes(agent)) return undefined;
  return unknownAgent(config as Config, agent, `the agent of command "${name}"`, replaced);
}

export function commandSubtask(config: Readonly<Config>, name: string, input: { text: string; agent?: string }, sessionAgent: string | undefined, replaced?: ReplacedAgents): CommandSubtask | undefined {
  const refused = commandAgentRefusal(config, name, input.agent, replaced);
  if (refused) throw refused;
  const commands = (config.command ?? {}) as Record<string, { subtask?: unknown; description?: unknown } | undefined>;
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!entry) return undefined;
  const known = (agent: string | undefined): string | undefined => (agent && config.agent?.[agent] && !config.agent[agent]?.disable && !replaced?.includes(agent) ? agent : undefined);
  const agent = known(input.agent) ?? known(sessionAgent) ?? defaultAgentName(config as Config, replaced);
  if (!agent) return undefined;
  const mode = config.agent?.[agent]?.mode;
  if (!(entry.subtask === true || (mode === 'subagent' && entry.subtask !== false))) return undefined;
  return { agent, prompt: input.text, description: typeof entry.description === 'string' ? entry.description : '', command: name };
}
