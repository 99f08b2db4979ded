/**
 * MCP servers' prompts as commands, as OpenCode 1.18 offers them: each prompt of a connected server
 * is the command `<server>:<prompt>` (names sanitised: mcp/catalog.ts) in `GET /command`, with a
 * `$1`… hint per declared argument; running one calls `prompts/get` and sends the text of the
 * messages it gives (joined by newlines) as the message.
 *
 * The arguments are split as a command's are (quotes group words) and given to the prompt's
 * declared arguments in order, the last taking the rest; a prompt that declares none gets them
 * after its text, as a template without placeholders does. Unlike OpenCode, which asks the server
 * for the prompt with `$1`, `$2`… as the values and fills them in the text it gets back, the server
 * gets the real values (a server that checks them sees them), and the text it sends is never
 * searched for placeholders, `` !`shell` `` blocks or `@file` mentions: a third party's text runs
 * nothing here and attaches nothing. A required argument left out is a usage error naming it.
 */
import type { Config } from '../../config/schema-types.ts';
import { PantheonError } from '../../errors.ts';
import type { McpPrompt } from '../../mcp/catalog.ts';
import type { McpManager } from '../../mcp/manager.ts';
import { words } from '../../run/command-template.ts';

/** The longest message a prompt may make (the rest is cut with a note). */
export const MAX_PROMPT_MESSAGE_CHARS = 256 * 1024;

export interface McpCommandView {
  name: string;
  description?: string;
  source: 'mcp';
  template: string;
  hints: string[];
}

/** `GET /command`'s entries for the prompts (OpenCode's shape; the template is only known when run). */
export function mcpCommandViews(prompts: readonly McpPrompt[]): McpCommandView[] {
  return prompts.map((p) => ({ name: p.key, ...(p.description ? { description: p.description } : {}), source: 'mcp', template: '', hints: p.arguments.map((_, i) => `$${i + 1}`) }));
}

function sanitize(name: string): string {
  return name.replace(/[^a-zA-Z0-9_-]/g, '_');
}

/**
 * The enabled MCP servers of `config` (its own or added, by `names`) a command `name` could be a
 * prompt of: those whose sanitised name is what comes before its first `:`. None for a name without one.
 */
export function promptServersFor(name: string, names: readonly string[]): string[] {
  const colon = name.indexOf(':');
  if (colon <= 0) return [];
  const prefix = name.slice(0, colon);
  return names.filter((n) => sanitize(n) === prefix);
}

/** The servers of the config that are not `enabled: false` (before any is started). */
export function configuredServers(config: Readonly<Config>): string[] {
  return Object.entries(config.mcp ?? {}).flatMap(([n, e]) => ((e as { enabled?: unknown } | undefined)?.enabled === false ? [] : [n]));
}

const STATE_WORDS: Record<string, string> = { failed: 'failed to start', needs_auth: 'needs authentication', needs_client_registration: 'needs a registered OAuth client', disabled: 'is disabled', exited: 'exited', stopped: 'was stopped' };

function ordinal(n: number): string {
  return `${n}${n % 10 === 1 && n % 100 !== 11 ? 'st' : n % 10 === 2 && n % 100 !== 12 ? 'nd' : n % 10 === 3 && n % 100 !== 13 ? 'rd' : 'th'}`;
}

/** The prompt's declared arguments given the words of `argumentsText` (the last one takes the rest). */
export function promptArguments(prompt: McpPrompt, argumentsText: string, what: string): Record<string, string> {
  const given = words(argumentsText);
  // No prototype: an argument may be named `__proto__` or `constructor`.
  const out = Object.create(null) as Record<string, string>;
  const declared = prompt.arguments;
  declared.forEach((arg, i) => {
    const value = i === declared.length - 1 ? given.slice(i).join(' ') : given[i];
    if (value !== undefined && value !== '') out[arg.name] = value;
  });
  const missing = declared.findIndex((a) => a.required === true && !Object.hasOwn(out, a.name));
  if (missing >= 0) {
    const arg = declared[missing] as McpPrompt['arguments'][number];
    const usage = declared.map((a) => (a.required ? `<${a.name}>` : `[${a.name}]`)).join(' ');
    throw new PantheonError('USAGE', `${what} ${prompt.key}: the prompt's argument "${arg.name}" (its ${ordinal(missing + 1)}) is required.`, {
      hint: `Give its arguments in order after the command's name: ${prompt.key} ${usage}${arg.description ? ` (${arg.name}: ${arg.description})` : ''}.`,
    });
  }
  return out;
}

/** The text of the messages `prompts/get` gave: text parts, and the text of embedded text resources; the rest left out. */
export function promptText(result: { messages?: unknown }): string {
  const messages = Array.isArray(result.messages) ? result.messages : [];
  const texts = messages.map((m) => {
    const content = (m as { content?: { type?: unknown; text?: unknown; resource?: { text?: unknown } } } | undefined)?.content;
    if (content?.type === 'text' && typeof content.text === 'string') return content.text;
    if (content?.type === 'resource' && typeof content.resource?.text === 'string') return content.resource.text;
    return '';
  });
  const text = texts.join('\n');
  return text.length > MAX_PROMPT_MESSAGE_CHARS ? `${text.slice(0, MAX_PROMPT_MESSAGE_CHARS)}\n[truncated: the prompt's first ${MAX_PROMPT_MESSAGE_CHARS} of ${text.length} characters]` : text;
}

/**
 * The message of the MCP prompt `name`, when it is one of a server in `servers` (started if need
 * be); undefined when none of them has a prompt of that name. `what` names where the name came
 * from in errors (`--command`, `body field "command"`).
 */
export async function mcpPromptMessage(manager: McpManager, servers: readonly string[], name: string, argumentsText: string, what: string): Promise<string | undefined> {
  if (servers.length === 0) return undefined;
  // A server that exited is started again (once), as for a tool call: the user asked for its prompt.
  const prompt = (await manager.prompts(servers, { revive: true })).find((p) => p.key === name);
  if (!prompt) {
    // Its server is down: say why, rather than that no command has the name.
    const down = manager.status(servers).filter((s) => s.state !== 'connected');
    if (down.length === servers.length && down[0]) {
      const s = down[0];
      const state = STATE_WORDS[s.state] ?? s.state;
      throw new PantheonError('MCP_START_FAILED', `${what} ${name}: MCP server "${s.name}" ${state}${s.reason ? ` (${s.reason.replace(/\.$/, '')})` : ''}, so its prompts cannot be run.`, { hint: 'Check it with `opencode mcp list`.' });
    }
    return undefined;
  }
  const args = promptArguments(prompt, argumentsText, what);
  let result;
  try {
    result = await manager.getPrompt(prompt.client, prompt.name, args);
  } catch (error) {
    throw new PantheonError('MCP_START_FAILED', `${what} ${name}: ${(error instanceof Error ? error.message : String(error)).replace(/\.$/, '')}.`, { cause: error });
  }
  let message = promptText(result);
  if (prompt.arguments.length === 0 && argumentsText.trim()) message = `${message}\n\n${argumentsText}`;
  message = message.trim();
  if (!message) throw new PantheonError('USAGE', `${what} ${name}: the MCP prompt gave no text.`, { hint: 'Its messages hold no text parts; ask its server’s maintainers, or check its arguments.' });
  return message;
}
