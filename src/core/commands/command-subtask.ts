/**
 * Whether a command runs as a sub-task, and as whose, as OpenCode decides it: one whose `subtask` is
 * true (its built-in `/review` is), or whose agent is a subagent unless its `subtask` is false. Its
 * agent is the command's, else the request's, else the session's, else the default agent; its prompt
 * is the command's expanded text (its `@file` attachments are not sent, as OpenCode sends a
 * sub-task the text alone). The turn then runs the sub-task in a child session as a `task` call and
 * asks the model to go on from its answer (run/run-task.ts).
 */
import { defaultAgentName } from '../../agents/resolve-agent.ts';
import type { Config } from '../../config/schema-types.ts';
import type { CommandSubtask } from '../../run/run-task.ts';

export function commandSubtask(config: Readonly<Config>, name: string, input: { text: string; agent?: string }, sessionAgent: string | undefined): CommandSubtask | undefined {
  const commands = (config.command ?? {}) as Record<string, { subtask?: unknown; description?: unknown } | undefined>;
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!entry) return undefined;
  const known = (agent: string | undefined): string | undefined => (agent && config.agent?.[agent] && !config.agent[agent]?.disable ? agent : undefined);
  const agent = known(input.agent) ?? known(sessionAgent) ?? defaultAgentName(config as Config);
  if (!agent) return undefined;
  const mode = config.agent?.[agent]?.mode;
  if (!(entry.subtask === true || (mode === 'subagent' && entry.subtask !== false))) return undefined;
  return { agent, prompt: input.text, description: typeof entry.description === 'string' ? entry.description : '', command: name };
}
