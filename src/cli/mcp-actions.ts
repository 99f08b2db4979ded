import { parse, printParseErrorCode } from 'jsonc-parser';
import type { ParseError } from 'jsonc-parser';
import { closestMatch } from '../config/did-you-mean.ts';
import { offsetToPosition } from '../config/json-path.ts';
import { loadConfig } from '../config/load.ts';
import { PantheonError } from '../errors.ts';
import type { McpManager } from '../mcp/manager.ts';
import { mcpManagerFor, shutdownAllMcp } from '../mcp/process-servers.ts';
import type { ExposedTool, McpWarning, ServerStatus } from '../mcp/types.ts';
import type { McpArgs } from './commands/mcp.ts';
import { oneValue } from './one-value.ts';
import { printErr, printJson, printOut, printWarnings } from './print.ts';
import { version } from './version.ts';

/**
 * Loads the config, runs `fn` with the process's MCP manager, and always stops every server
 * started, on success, failure, or Ctrl-C/SIGTERM (which ends the command with exit 130).
 */
async function withServers<T>(args: McpArgs, warn: (w: McpWarning) => boolean, fn: (manager: McpManager) => Promise<T>): Promise<T> {
  const loaded = await loadConfig({ ...(args.config ? { configPath: args.config } : {}) });
  if (!args.json) printWarnings(loaded.warnings);
  const manager = mcpManagerFor(loaded.config, {
    clientVersion: version,
    onWarning: (w) => {
      if (warn(w)) printErr(`warning: ${w.message}\n`);
    },
  });
  let onSignal: () => void = () => undefined;
  const interrupted = new Promise<never>((_, reject) => {
    onSignal = () => reject(new PantheonError('CANCELLED', 'Interrupted; MCP servers stopped.'));
  });
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await Promise.race([fn(manager), interrupted]);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await shutdownAllMcp();
  }
}

/** A configured, enabled server named `name`, or a usage error (exit 2) naming the known ones. */
function requireServer(manager: McpManager, name: string): void {
  const names = manager.names();
  if (!names.includes(name)) {
    const match = closestMatch(name, names);
    throw new PantheonError('USAGE', `No MCP server named "${name}"${match ? `; did you mean "${match}"?` : '.'}`, {
      hint: names.length ? `Configured MCP servers: ${names.join(', ')}.` : 'Add one under "mcp" in opencode.json.',
    });
  }
  if (!manager.enabledNames().includes(name)) {
    throw new PantheonError('USAGE', `MCP server "${name}" is disabled (enabled: false).`, { hint: `Set "enabled": true under mcp.${name} to use it.` });
  }
}

function startFailure(status: ServerStatus | undefined, name: string): PantheonError {
  const what = status?.state === 'needs_auth' ? 'needs authentication' : 'failed to start';
  return new PantheonError('MCP_START_FAILED', `MCP server "${name}" ${what}: ${status?.reason ?? status?.state ?? 'unknown reason'}.`, {
    hint: `Check mcp.${name} in your config; \`opencode mcp list\` shows every server.`,
  });
}

function statusLine(s: ServerStatus, width: number): string {
  const name = s.name.padEnd(width);
  switch (s.state) {
    case 'connected':
      return `${name}  connected  ${s.toolCount} tool${s.toolCount === 1 ? '' : 's'} · ${s.transport ?? s.type} · started in ${s.startMs ?? 0} ms`;
    case 'failed':
      return `${name}  failed     ${s.reason ?? ''}${s.startMs === undefined ? '' : ` (after ${s.startMs} ms)`}`;
    case 'needs_auth':
      return `${name}  needs_auth ${s.reason ?? ''}`;
    default:
      return `${name}  ${s.state.padEnd(9)}  ${s.reason ?? ''}`.trimEnd();
  }
}

function publicStatus(s: ServerStatus): Omit<ServerStatus, 'pid'> {
  const { pid: _pid, ...rest } = s;
  return rest;
}

export async function mcpList(args: McpArgs): Promise<void> {
  // Start-up failures are the listing's content, not warnings.
  const statuses = await withServers(args, (w) => w.code !== 'MCP_START_FAILED', async (manager) => {
    await manager.start();
    return manager.status();
  });
  if (args.json) {
    printJson({ servers: statuses.map(publicStatus) });
    return;
  }
  if (statuses.length === 0) {
    printOut('No MCP servers configured.\n');
    printErr('hint: add one under "mcp" in opencode.json, e.g. {"mcp": {"memory": {"type": "local", "command": ["npx", "-y", "@modelcontextprotocol/server-memory"]}}}\n');
    return;
  }
  const width = Math.max(...statuses.map((s) => s.name.length));
  printOut(statuses.map((s) => statusLine(s, width)).join('\n') + '\n');
}

/** `(message: string, count?: number)`: the arguments a tool takes, from its JSON Schema. */
export function argumentSummary(schema: Record<string, unknown>): string {
  const props = (typeof schema.properties === 'object' && schema.properties !== null ? schema.properties : {}) as Record<string, Record<string, unknown>>;
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const typeOf = (p: Record<string, unknown>): string => {
    if (Array.isArray(p.enum)) return p.enum.map((v) => JSON.stringify(v)).join('|');
    if (p.type === 'array') return `${typeof p.items === 'object' && p.items !== null ? typeOf(p.items as Record<string, unknown>) : 'any'}[]`;
    if (Array.isArray(p.type)) return p.type.join('|');
    return typeof p.type === 'string' ? p.type : 'any';
  };
  const text = `(${Object.entries(props).map(([k, p]) => `${k}${required.has(k) ? '' : '?'}: ${typeOf(p ?? {})}`).join(', ')})`;
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}

function firstLine(text: string | undefined): string {
  const line = (text ?? '').split('\n').map((l) => l.trim()).find(Boolean) ?? '';
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}

export async function mcpTools(args: McpArgs): Promise<void> {
  const { tools, statuses } = await withServers(args, (w) => !(args.name && w.code === 'MCP_START_FAILED'), async (manager) => {
    if (args.name) requireServer(manager, args.name);
    const names = args.name ? [args.name] : manager.enabledNames();
    const exposed = await manager.exposedTools(names);
    const status = manager.status(names);
    if (args.name && status[0]?.state !== 'connected') throw startFailure(status[0], args.name);
    return { tools: exposed, statuses: status };
  });
  if (args.json) {
    printJson({ servers: statuses.map(publicStatus), tools });
    return;
  }
  const lines: string[] = [];
  for (const s of statuses.filter((x) => x.state === 'connected')) {
    const own = tools.filter((t: ExposedTool) => t.server === s.name);
    lines.push(`${s.name} (${own.length} tool${own.length === 1 ? '' : 's'})`);
    for (const t of own) {
      lines.push(`  ${t.name}${argumentSummary(t.inputSchema)}`);
      const description = firstLine(t.description);
      if (description) lines.push(`      ${description}`);
    }
  }
  if (lines.length === 0) lines.push('No MCP tools available.');
  printOut(lines.join('\n') + '\n');
}

/** `--args`: a JSON object; anything else is a usage error with the position of the problem. */
export function parseToolArgs(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  if (text.trim() === '') {
    throw new PantheonError('USAGE', '--args needs a value: a JSON object.', { hint: `For example --args '{"message": "hi"}'; leave --args out for no arguments.` });
  }
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  if (first) {
    const { line, col } = offsetToPosition(text, first.offset);
    const what = printParseErrorCode(first.error).replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
    throw new PantheonError('USAGE', `--args is not valid JSON: ${what} at position ${first.offset} (line ${line}, column ${col}).`, {
      hint: `Quote the object for your shell, e.g. --args '{"message": "hi"}'.`,
    });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new PantheonError('USAGE', `--args must be a JSON object, found ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}.`, {
      hint: `For example --args '{"message": "hi"}'.`,
    });
  }
  return value as Record<string, unknown>;
}

export async function mcpCall(args: McpArgs): Promise<void> {
  const toolArgs = parseToolArgs(oneValue(args.args, '--args', 'JSON object', 'Give --args once, with every argument in one object.'));
  const server = args.name as string;
  const wanted = args.tool as string;
  const result = await withServers(args, (w) => w.code !== 'MCP_START_FAILED', async (manager) => {
    requireServer(manager, server);
    const exposed = await manager.exposedTools([server]);
    const [status] = manager.status([server]);
    if (status?.state !== 'connected') throw startFailure(status, server);
    const match = exposed.find((t) => t.tool === wanted) ?? exposed.find((t) => t.name === wanted);
    if (!match) {
      const suggestion = closestMatch(wanted, exposed.map((t) => t.tool));
      throw new PantheonError('USAGE', `MCP server "${server}" has no tool "${wanted}"${suggestion ? `; did you mean "${suggestion}"?` : '.'}`, {
        hint: `\`opencode mcp tools ${server}\` lists its tools.`,
      });
    }
    return { tool: match.tool, ...(await manager.callTool(server, match.tool, toolArgs)) };
  });
  if (args.json) {
    const raw = (result.raw ?? {}) as { content?: unknown; structuredContent?: unknown };
    const body = { server, tool: result.tool, isError: result.isError, text: result.text, truncated: result.truncated, content: raw.content ?? [], ...(raw.structuredContent === undefined ? {} : { structuredContent: raw.structuredContent }) };
    printJson(body);
  } else if (result.isError) {
    printErr(`${result.text}\n`);
  } else {
    printOut(result.text.endsWith('\n') ? result.text : `${result.text}\n`);
  }
  // The tool answered with an error (rejected arguments, a timeout, a server that died): exit 1.
  if (result.isError) process.exitCode = 1;
}
