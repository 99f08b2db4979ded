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

/** The config with the built-in commands under its own `command` entries (a config command of the same name with a template wins). */
export function withBuiltinCommands(config: Readonly<Config>, projectRoot: string): Readonly<Config> {
  const own = (config.command ?? {}) as Record<string, { template?: unknown } | undefined>;
  const builtins = Object.entries(builtinCommands(projectRoot)).filter(([name]) => !(Object.hasOwn(own, name) && typeof own[name]?.template === 'string'));
  return { ...config, command: { ...config.command, ...Object.fromEntries(builtins) } };
}
