/**
 * The body of OpenCode's `POST /mcp` (`{name, config}`) checked as a config file's `mcp.<name>`
 * entry is (schema/config.json's `mcpConfig`, the validator config loading uses), and stricter
 * where a request names a server outright: `type` is required, unknown keys are refused (a file
 * may carry keys OpenCode ignores; a request that misspells one would start the wrong server),
 * a local server needs a command and a remote one an http(s) URL. Every refusal is a 400 naming
 * the body field. Loaded on first use: the config validator is large.
 */
import type { McpConfig } from '../../config/schema-types.ts';
import { configWarningsOf, validateConfigObject } from '../../config/validate.ts';
import { HttpError } from '../http-error.ts';

/** The longest server name taken (tool names are `<server>_<tool>`). */
export const MAX_SERVER_NAME_CHARS = 100;
/** A JSON path under the placeholder entry that validation is run on. */
const PREFIX = 'mcp.server';
const HINT = 'Send {"name": "…", "config": {"type": "local", "command": ["npx", "-y", "@modelcontextprotocol/server-memory"]}} or {"type": "remote", "url": "https://…"}; see the `mcp` entry of the config docs.';
/** Keys of schema/config.json's entry that the validator warns about as ones OpenCode ignores, which Pantheon takes. */
const TAKEN_KEYS = new Set(['keepAlive']);
// Control characters (C0, DEL, C1) and the line and paragraph separators.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

function refuse(field: string, message: string): HttpError {
  const end = /[.?!]$/.test(message) ? '' : '.';
  return new HttpError(400, 'BAD_REQUEST', `body field "${field}": ${message}${end}`, { hint: HINT, details: { kind: 'Body', field } });
}

/** `mcp.server.command: missing; required` → the field `config.command` and what is wrong. */
function located(line: string): { field: string; message: string } {
  const rest = line.startsWith(PREFIX) ? line.slice(PREFIX.length) : line;
  const colon = rest.indexOf(': ');
  const sub = colon < 0 ? '' : rest.slice(0, colon);
  return { field: `config${sub}`, message: colon < 0 ? rest : rest.slice(colon + 2) };
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** The server's name, checked: one line of printable text, at most MAX_SERVER_NAME_CHARS. */
export function checkServerName(name: string): string {
  if (name.trim() === '') throw refuse('name', 'expected a server name, found an empty one');
  if (CONTROL.test(name)) throw refuse('name', 'expected a name without control characters');
  if (name.length > MAX_SERVER_NAME_CHARS) throw refuse('name', `expected at most ${MAX_SERVER_NAME_CHARS} characters, found ${name.length}`);
  return name;
}

/** The `config` of a `POST /mcp` body as an `mcp.<name>` entry, or a 400 naming the field at fault. */
export function checkMcpEntry(config: Record<string, unknown>): McpConfig {
  const type = config.type;
  if (type !== 'local' && type !== 'remote') {
    throw refuse('config.type', type === undefined ? 'missing; expected "local" (a command speaking stdio) or "remote" (a URL)' : `expected "local" or "remote", found ${shown(type)}`);
  }
  const errors = validateConfigObject({ mcp: { server: config } });
  if (errors.length > 0) {
    const { field, message } = located(errors[0] as string);
    throw refuse(field, message);
  }
  for (const warning of configWarningsOf({ mcp: { server: config } })) {
    const { field, message } = located(warning);
    if (!message.startsWith('unknown key') || TAKEN_KEYS.has(field.slice('config.'.length))) continue;
    throw refuse(field, message.replace(/^unknown key, ignored \(OpenCode ignores it too\)/, 'unknown key'));
  }
  if (type === 'local') {
    const command = config.command as string[];
    if (command.length === 0 || command[0] === '') throw refuse('config.command', 'expected the command and its arguments, found an empty list');
  } else {
    let url: URL | undefined;
    try {
      url = new URL(config.url as string);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw refuse('config.url', `expected an http:// or https:// URL, found ${shown(config.url)}`);
  }
  return config as McpConfig;
}
