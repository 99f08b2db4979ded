/**
 * The plugins' hooks inside a turn's tools: `permission.ask` (before an `ask` is put to a person,
 * a plugin may answer `allow` or `deny`) and `shell.env` (variables for the `bash` tool's command).
 * What one of them throws fails the tool call it was asked for, in one sentence naming the hook:
 * the model reads it as the call's error.
 */
import { ascendingId } from '../session/ids.ts';
import type { AskDetails } from '../permissions/authorize.ts';
import { PluginHookError, runHook } from './hook-error.ts';
import type { PluginHost } from './types.ts';

/** The turn the tools run in, as the hooks are told it. */
export interface ToolTurn {
  sessionID: string;
  messageID: string;
  /** The turn's signal: a cancelled turn does not wait for the hooks. */
  signal?: AbortSignal;
}

const STATUSES = new Set(['ask', 'allow', 'deny']);

/**
 * `permission.ask`, with OpenCode's `Permission` (of `@opencode-ai/sdk`): `type` the permission
 * (`bash`, `edit`, `external_directory`, a tool's name), `pattern` what the rules were matched
 * against (the command line, the path, the URL), `title` the question a person would be asked.
 * OpenCode 1.18.33 declares this hook but never calls it; Pantheon calls it.
 */
export function permissionAsker(host: PluginHost | undefined, turn: ToolTurn): ((details: AskDetails, question: string) => Promise<'ask' | 'allow' | 'deny'>) | undefined {
  if (!host?.has('permission.ask')) return undefined;
  return async (details, question) => {
    const input = {
      id: ascendingId('per'),
      type: details.key,
      pattern: details.subject,
      sessionID: turn.sessionID,
      messageID: turn.messageID,
      ...(details.toolCallId ? { callID: details.toolCallId } : {}),
      title: question,
      metadata: { tool: details.tool, ...(details.toolInput === undefined ? {} : { input: details.toolInput }) },
      time: { created: Date.now() },
    };
    const out = await runHook(host, 'permission.ask', input, { status: 'ask' as string }, turn.signal);
    if (!STATUSES.has(out.status)) throw new PluginHookError('permission.ask', new Error(`output.status must be "ask", "allow" or "deny", not ${JSON.stringify(String(out.status).slice(0, 20))}`));
    return out.status as 'ask' | 'allow' | 'deny';
  };
}

/** `shell.env`: the variables the hooks set for a command run in `cwd` (`callID`: the `bash` call's, when a model made it). */
export type ShellEnv = (cwd: string, callID: string | undefined) => Promise<Record<string, string>>;

export function shellEnvOf(host: PluginHost | undefined, sessionID: string | undefined, signal?: AbortSignal): ShellEnv | undefined {
  if (!host?.has('shell.env')) return undefined;
  return async (cwd, callID) => {
    const input = { cwd, ...(sessionID ? { sessionID } : {}), ...(callID ? { callID } : {}) };
    const out = await runHook(host, 'shell.env', input, { env: {} as Record<string, unknown> }, signal);
    if (out.env === null || typeof out.env !== 'object' || Array.isArray(out.env)) throw new PluginHookError('shell.env', new Error('output.env must be an object'));
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(out.env)) {
      if (value === undefined || value === null) continue;
      if (name === '' || name.includes('=') || name.includes('\0')) throw new PluginHookError('shell.env', new Error(`output.env: ${JSON.stringify(name.slice(0, 40))} is not a variable name`));
      const text = String(value);
      if (text.includes('\0')) throw new PluginHookError('shell.env', new Error(`output.env.${name.slice(0, 40)}: the value holds a NUL character`));
      env[name] = text;
    }
    return env;
  };
}
