/**
 * OpenCode's built-in commands that Pantheon runs, `init` and `review`, beside the config's own: the
 * TUI offers them as `/init` and `/review` (from `GET /command`) and runs them through
 * `POST /session/{id}/command`. A config command of the same name takes their place. `review` is a
 * sub-task, as in OpenCode (command-subtask.ts).
 */
import type { Config } from '../../config/schema-types.ts';
import { INIT_COMMAND_DESCRIPTION, INIT_COMMAND_TEMPLATE } from './init-command.ts';
import { REVIEW_COMMAND_DESCRIPTION, REVIEW_COMMAND_TEMPLATE } from './review-command.ts';

/** The built-in commands of a project: their templates with the project's folder filled in. */
export function builtinCommands(projectRoot: string): Record<string, { template: string; description: string; subtask?: boolean }> {
  return {
    init: { template: INIT_COMMAND_TEMPLATE.replace('${path}', projectRoot), description: INIT_COMMAND_DESCRIPTION },
    review: { template: REVIEW_COMMAND_TEMPLATE, description: REVIEW_COMMAND_DESCRIPTION, subtask: true },
  };
}

/**
 * The config with the built-in commands beside its own `command` entries, in OpenCode's order: the
 * built-ins first, then the config's in its order (`GET /command` lists them so). A config command
 * of a built-in's name with a template takes its place.
 */
export function withBuiltinCommands(config: Readonly<Config>, projectRoot: string): Readonly<Config> {
  const own = (config.command ?? {}) as Record<string, { template?: unknown } | undefined>;
  const command: Record<string, unknown> = { ...builtinCommands(projectRoot) };
  for (const [name, entry] of Object.entries(own)) if (!Object.hasOwn(command, name) || typeof entry?.template === 'string') command[name] = entry;
  return { ...config, command: command as Config['command'] };
}
