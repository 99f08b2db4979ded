/**
 * `opencode mcp add [name] (--url URL [--header K=V …] | [--env K=V …] -- command args…)`,
 * OpenCode's command: one `mcp.<name>` entry written into a config file, OpenCode's entry shape
 * (`{type: "remote", url, headers}` or `{type: "local", command, environment}`). As OpenCode does,
 * the entry goes to the global config (`~/.config/opencode/opencode.json[c]`), or with `--project`
 * to the project's; on a terminal with no name given, where, what and how are asked. Unlike
 * OpenCode, a name already configured is refused rather than replaced. The file is edited in place
 * (comments and layout kept), checked as the whole config it would make, then written atomically
 * (src/server/opencode/config-edit.ts).
 */
import path from 'node:path';
import { globalConfigFolder } from '../config/home.ts';
import { loadConfig, type LoadedConfig } from '../config/load.ts';
import { isSecretHeader, maskSecret } from '../config/secrets.ts';
import { PantheonError } from '../errors.ts';
import type { McpAddArgs } from './commands/mcp.ts';
import { oneValue } from './one-value.ts';
import { printErr, printOut } from './print.ts';
import { askLine, cancelledWith, promptTerminal, type PromptTerminal } from './terminal-prompt.ts';

type Entry = { type: 'remote'; url: string; headers?: Record<string, string> } | { type: 'local'; command: string[]; environment?: Record<string, string> };

type Terminal = PromptTerminal;

const HINT = 'For example `opencode mcp add docs --url https://example.com/mcp --header "Authorization=Bearer {env:DOCS_TOKEN}"` or `opencode mcp add files -- npx -y @modelcontextprotocol/server-filesystem .`.';

function list(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** `K=V` flags as a map; one without a key or `=` is a usage error naming the flag. */
function pairs(values: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const value of values) {
    const at = value.indexOf('=');
    // What was given may be a pasted secret: shown masked when it is shaped like one.
    if (at < 1) throw new PantheonError('USAGE', `${flag}: expected KEY=VALUE, found "${isSecretHeader('', value) ? maskSecret(value) : value}".`, { hint: `For example ${flag} ${flag === '--header' ? 'Authorization=Bearer {env:TOKEN}' : 'API_KEY={env:API_KEY}'} (a {env:…} reference keeps the secret out of the file).` });
    out[value.slice(0, at)] = value.slice(at + 1);
  }
  return out;
}

function validUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

function checkName(name: string): void {
  if (!name.trim() || CONTROL.test(name)) throw new PantheonError('USAGE', 'mcp add: expected a server name, found nothing usable.', { hint: 'Name it as its tools will be prefixed: `opencode mcp add docs --url …`.' });
}

/** The entry the flags describe (OpenCode's checks, in its order). */
function entryOf(args: McpAddArgs, command: readonly string[]): Entry {
  const url = oneValue(args.url, '--url', 'URL', 'Give --url once; add another server under another name.');
  const env = list(args.env);
  const header = list(args.header);
  if ((url !== undefined) === (command.length > 0)) throw new PantheonError('USAGE', 'mcp add: give either --url URL (a remote server) or the command after -- (a local one).', { hint: HINT });
  if (command.length > 0 && !command[0]?.trim()) throw new PantheonError('USAGE', 'mcp add: expected a program after --, found an empty word.', { hint: HINT });
  if (url !== undefined && !validUrl(url)) throw new PantheonError('USAGE', `--url: expected an http:// or https:// URL, found "${url}".`, { hint: HINT });
  if (url !== undefined && env.length > 0) throw new PantheonError('USAGE', '--env is only for a local server (a command after --); a remote one takes --header.', { hint: HINT });
  if (command.length > 0 && header.length > 0) throw new PantheonError('USAGE', '--header is only for a remote server (--url); a local one takes --env.', { hint: HINT });
  if (url !== undefined) {
    const headers = pairs(header, '--header');
    return { type: 'remote', url, ...(Object.keys(headers).length ? { headers: { ...headers } } : {}) };
  }
  const environment = pairs(env, '--env');
  return { type: 'local', command: [...command], ...(Object.keys(environment).length ? { environment: { ...environment } } : {}) };
}

/** The global config file OpenCode's `mcp add` writes: `opencode.json`, else `opencode.jsonc`, else a new `opencode.json`. */
async function globalFile(env: NodeJS.ProcessEnv): Promise<string> {
  const { existsSync } = await import('node:fs');
  const dir = globalConfigFolder(env);
  return ['opencode.json', 'opencode.jsonc'].map((n) => path.join(dir, n)).find((f) => existsSync(f)) ?? path.join(dir, 'opencode.json');
}

/** Where a name is configured already: the file (or layer) that sets it. */
function configuredIn(loaded: LoadedConfig, name: string): string | undefined {
  if (!loaded.config.mcp || !Object.hasOwn(loaded.config.mcp, name)) return undefined;
  const layer = [...loaded.layers].reverse().find((l) => {
    const mcp = l.data.mcp as Record<string, unknown> | undefined;
    return mcp !== null && typeof mcp === 'object' && Object.hasOwn(mcp, name);
  });
  return layer?.file ?? layer?.label ?? 'the config';
}

async function asked(tty: Terminal, loaded: LoadedConfig, env: NodeJS.ProcessEnv): Promise<{ name: string; entry: Entry; project: boolean }> {
  const { default: select } = await import('@inquirer/select');
  const cancelled = cancelledWith('Cancelled; nothing was written.');
  const text = (question: string): Promise<string> => askLine(tty, question, cancelled);
  try {
    const project = await select({ message: 'Location', choices: [{ value: true, name: 'Current project', description: loaded.projectRoot }, { value: false, name: 'Global', description: globalConfigFolder(env) }] }, tty);
    const name = await text('MCP server name: ');
    checkName(name);
    const type = await select({ message: 'Server type', choices: [{ value: 'local', name: 'Local', description: 'Run a local command' }, { value: 'remote', name: 'Remote', description: 'Connect to a remote URL' }] }, tty);
    if (type === 'local') {
      const command = (await text('Command to run (e.g. npx -y @modelcontextprotocol/server-filesystem .): ')).split(/\s+/).filter(Boolean);
      if (command.length === 0) throw new PantheonError('USAGE', 'mcp add: expected a command to run, found nothing.', { hint: HINT });
      return { name, project, entry: { type: 'local', command } };
    }
    const url = await text('Server URL (e.g. https://example.com/mcp): ');
    if (!validUrl(url)) throw new PantheonError('USAGE', `mcp add: expected an http:// or https:// URL, found "${url}".`, { hint: HINT });
    return { name, project, entry: { type: 'remote', url } };
  } catch (error) {
    return cancelled(error);
  }
}

export async function mcpAdd(args: McpAddArgs, command: readonly string[]): Promise<void> {
  const env = process.env;
  const nameFlag = oneValue(args.name, 'name', 'server name', 'Add one server at a time.');
  const flagged = args.url !== undefined || list(args.env).length > 0 || list(args.header).length > 0 || command.length > 0;
  if (nameFlag === undefined && flagged) throw new PantheonError('USAGE', 'mcp add: a server name is required with --url, --header, --env or a command.', { hint: HINT });
  const tty = promptTerminal();
  if (nameFlag === undefined && !tty) throw new PantheonError('USAGE', 'mcp add: name the server and give --url or a command after -- (there is no terminal to ask on).', { hint: HINT });
  if (nameFlag !== undefined) checkName(nameFlag);
  const fromFlags = nameFlag === undefined ? undefined : { name: nameFlag, entry: entryOf(args, command), project: Boolean(args.project) };
  const loaded = await loadConfig({ ...(args.config ? { configPath: args.config } : {}) });
  const { name, entry, project } = fromFlags ?? (await asked(tty as Terminal, loaded, env));
  const where = configuredIn(loaded, name);
  if (where) {
    throw new PantheonError('USAGE', `mcp add: a server named "${name}" is configured already (in ${where}); it was left as it is.`, { hint: 'Pick another name, or edit or remove that entry by hand (OpenCode\'s `mcp add` would replace it).' });
  }
  const { editConfigFile, projectConfigFile } = await import('../server/opencode/config-edit.ts');
  const file = project ? projectConfigFile(loaded, loaded.projectRoot) : await globalFile(env);
  try {
    await editConfigFile({ file, kind: project ? 'project' : 'global', loaded, cwd: process.cwd(), env }, { mcp: { [name]: entry } });
  } catch (error) {
    const { HttpError } = await import('../server/http-error.ts');
    if (error instanceof HttpError) {
      throw new PantheonError(error.code === 'CONFIG_PARSE' ? 'CONFIG_PARSE' : 'CONFIG_INVALID', error.message.replace(/GET \/config and \/doc/g, '`opencode config show`'), { hint: error.code === 'CONFIG_PARSE' ? (error.hint ?? 'Fix the file by hand.') : 'Fix the flags named above; nothing was written.' });
    }
    throw error;
  }
  printOut(`MCP server "${name}" added to ${file}\n`);
  printErr(`next: \`opencode mcp list\` starts it and shows its state; \`opencode mcp tools ${name}\` lists its tools.\n`);
}
