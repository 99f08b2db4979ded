/**
 * A command (the config's `command`, `.opencode/command/*.md`, OpenCode's built-in `init` and
 * `review`, a skill: core/commands/resolve-command.ts) as a server turn's input, for `POST
 * /pantheon/run` (`run --attach --command`) and OpenCode's `POST /session/{id}/command`: resolved
 * and expanded in the session's project as a local `run --command` does it (run/command-template.ts),
 * the files its `@path` mentions read and attached (checked inside the project again as they are
 * read, symlinks followed; one that left it since is not sent), and the sub-task it is when it is one
 * (core/commands/command-subtask.ts). An unknown command or one without a template is the client's
 * 400 naming the `command` field.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ReplacedAgents } from '../agents/resolve-agent.ts';
import type { Config } from '../config/schema-types.ts';
import { commandSubtask } from '../core/commands/command-subtask.ts';
import { resolveCommand } from '../core/commands/resolve-command.ts';
import { isPantheonError } from '../errors.ts';
import type { CommandSubtask } from '../run/run-task.ts';
import { expandCommand, realFileInProject } from '../run/command-template.ts';
import type { InlineFile } from '../run/user-content.ts';
import { HttpError } from './http-error.ts';
import { mcpServersOfConfig } from '../core/mcp-servers.ts';
import { LIST_WAIT_MS } from '../mcp/catalog-limits.ts';
import { mcpPromptMessage, promptServersFor } from '../core/commands/mcp-prompt-command.ts';
import type { PluginHost } from '../plugins/types.ts';

export interface CommandRequest {
  command: string;
  /** The command's arguments (may be empty). */
  arguments: string;
  /** The request's own agent and model, beneath the command's. */
  agent?: string | undefined;
  model?: string | undefined;
  /** The session's agent, whose sub-task a command may be (commandSubtask). */
  sessionAgent?: string | undefined;
  /** What the name is called in an error (default `body field "command"`; `run --attach`'s is `--command`). */
  what?: string;
  /** The built-ins a plugin's config hook replaced (the instance's `loaded.leftByPlugins`): a command running as one is refused. */
  replaced?: ReplacedAgents;
}

export interface CommandInput {
  text: string;
  agent?: string;
  model?: string;
  attachments: InlineFile[];
  /** The command runs as this sub-task: `text` goes to it (the turn is the request's agent's). */
  subtask?: CommandSubtask;
}

/**
 * The command as its turn's input. `hooks`: the project's plugins and the session, when the plugins'
 * `command.execute.before` is to see (and may change) the command's parts first.
 */
export async function commandInput(given: Readonly<Config>, request: CommandRequest, projectRoot: string, env: NodeJS.ProcessEnv, hooks?: { plugins: PluginHost | undefined; sessionID: string }): Promise<CommandInput> {
  const prompt = await mcpPromptInput(given, request);
  if (prompt) return hooks ? withCommandHook(prompt, request, hooks) : prompt;
  let expanded;
  let config;
  try {
    // An unknown name's "did you mean" weighs the project's MCP prompts too (as GET /command lists them).
    const mcp = mcpServersOfConfig(given);
    const prompts = mcp ? async () => (await mcp.manager.prompts(undefined, { waitMs: LIST_WAIT_MS })).map((p) => p.key) : undefined;
    config = await resolveCommand(given, projectRoot, env, request.command, request.what ?? 'body field "command"', prompts);
    expanded = await expandCommand(config, request.command, request.arguments, projectRoot);
  } catch (error) {
    if (isPantheonError(error)) throw new HttpError(400, 'BAD_REQUEST', error.message, { ...(error.hint ? { hint: error.hint } : {}), details: { kind: 'Body', field: 'command' } });
    throw error;
  }
  const read = await Promise.all(
    expanded.files.map(async (file): Promise<InlineFile | undefined> => {
      const real = await realFileInProject(file, projectRoot);
      const data = real === undefined ? undefined : await fs.readFile(real).catch(() => undefined);
      const name = path.relative(projectRoot, file);
      return data === undefined ? undefined : { name, label: `@${name}`, data };
    }),
  );
  const attachments = read.filter((file) => file !== undefined);
  const agent = expanded.agent ?? request.agent;
  const model = expanded.model ?? request.model;
  let named;
  try {
    named = commandSubtask(config, request.command, { text: expanded.message, ...(agent ? { agent } : {}) }, request.sessionAgent, request.replaced);
  } catch (error) {
    // Its agent a plugin's config hook replaced: OpenCode has no such agent, and refuses the command.
    if (isPantheonError(error) && error.code === 'UNKNOWN_AGENT') throw new HttpError(400, 'UNKNOWN_AGENT', error.message, { ...(error.hint ? { hint: error.hint } : {}), details: { kind: 'Body', field: 'command' } });
    throw error;
  }
  // The sub-task's model, as OpenCode picks it: the command's, else its agent's own chain, else the model the request names (the TUI's current one).
  const own = named && (expanded.model ?? (config.agent?.[named.agent]?.model ? undefined : request.model));
  const subtask = named && own ? { ...named, model: own } : named;
  const input: CommandInput = { text: expanded.message, ...(agent ? { agent } : {}), ...(model ? { model } : {}), attachments, ...(subtask ? { subtask } : {}) };
  return hooks ? withCommandHook(input, request, hooks) : input;
}

/**
 * The command as an MCP prompt of the project's servers (`<server>:<prompt>`, OpenCode's `mcp`
 * commands: core/commands/mcp-prompt-command.ts), when it is one; a prompt shadows a config
 * command of the same name, as in OpenCode. A required argument left out is the client's 400; a
 * server that fails to give it, a 502.
 */
async function mcpPromptInput(given: Readonly<Config>, request: CommandRequest): Promise<CommandInput | undefined> {
  const mcp = mcpServersOfConfig(given);
  const servers = mcp ? promptServersFor(request.command, mcp.manager.enabledNames()) : [];
  if (!mcp || servers.length === 0) return undefined;
  let text;
  try {
    text = await mcpPromptMessage(mcp.manager, servers, request.command, request.arguments, request.what ?? 'body field "command"');
  } catch (error) {
    if (isPantheonError(error)) {
      const hint = error.hint ? { hint: error.hint } : {};
      if (error.code === 'USAGE') throw new HttpError(400, 'BAD_REQUEST', error.message, { ...hint, details: { kind: 'Body', field: 'arguments' } });
      throw new HttpError(502, error.code, error.message, hint);
    }
    throw error;
  }
  if (text === undefined) return undefined;
  return { text, ...(request.agent ? { agent: request.agent } : {}), ...(request.model ? { model: request.model } : {}), attachments: [] };
}

/** The command's input as the plugins' `command.execute.before` hooks leave it (unchanged when none has one). */
export async function withCommandHook(input: CommandInput, request: Pick<CommandRequest, 'command' | 'arguments'>, hooks: { plugins: PluginHost | undefined; sessionID: string }): Promise<CommandInput> {
  if (!hooks.plugins?.has('command.execute.before')) return input;
  const { commandHook } = await import('../plugins/command-hook.ts');
  return commandHook(hooks.plugins, { command: request.command, sessionID: hooks.sessionID, arguments: request.arguments }, input);
}
