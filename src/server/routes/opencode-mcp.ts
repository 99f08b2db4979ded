/**
 * OpenCode's routes that manage the project's MCP servers while the server runs, as OpenCode's TUI
 * (its MCPs dialog) and apps call them: add a server (`POST /mcp`, for this process's lifetime;
 * OpenCode does not write it to a config file either), connect and disconnect one
 * (`POST /mcp/{name}/connect`, `/disconnect`), and the OAuth routes, which Pantheon answers with
 * OpenCode's "unsupported OAuth" error: it has no OAuth flow for MCP servers (a remote server's
 * token goes in its `headers`). Unknown names get OpenCode's 404 (`McpServerNotFoundError`).
 */
import { mcpServersOf } from '../../core/mcp-servers.ts';
import type { McpManager } from '../../mcp/manager.ts';
import { openCodeMcpStatuses } from '../opencode/mcp-status.ts';
import { ref, type JsonSchema, type RouteDef, type RouteGroup, type ServerContext } from '../route.ts';
import { DIRECTORY_QUERY, requestInstance } from './opencode-app.ts';

const NAME_PARAM = { name: { description: 'The server’s name (a key of GET /mcp)' } };
const NOT_FOUND = { 404: { description: 'No server of that name (OpenCode’s McpServerNotFoundError)', schema: ref('McpServerNotFoundError') } };
const BAD = { 400: { description: 'Bad request (the field is named)', schema: ref('Error') } };
const UNSUPPORTED = { 400: { description: 'Pantheon has no OAuth flow for MCP servers (OpenCode’s McpUnsupportedOAuthError)', schema: ref('McpUnsupportedOAuthError') } };
const STATUS_MAP: JsonSchema = { type: 'object', additionalProperties: ref('MCPStatus'), description: 'Status by server name' };
const CONNECTED: RouteDef['responses'] = { 200: { description: 'Done (the server’s status is in GET /mcp)', schema: { type: 'boolean' } }, ...BAD, ...NOT_FOUND };

const SCHEMAS: Record<string, JsonSchema> = {
  MCPStatus: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['connected', 'disabled', 'failed', 'needs_auth'] }, error: { type: 'string', description: 'Why it failed, or what to set for one that needs authentication' } },
    description: 'A server’s status: `connected`, `disabled` (`enabled: false`, or disconnected), `failed` with `error`, or `needs_auth` (a remote server that answered 401) with `error` naming the server and what to set in its `headers` (Pantheon has no OAuth for MCP servers; OpenCode’s `needs_auth` has no `error`).',
  },
  McpServerNotFoundError: {
    type: 'object',
    required: ['_tag', 'name', 'message'],
    properties: { _tag: { type: 'string', enum: ['McpServerNotFoundError'] }, name: { type: 'string' }, message: { type: 'string' }, hint: { type: 'string' } },
  },
  McpUnsupportedOAuthError: { type: 'object', required: ['error'], properties: { error: { type: 'string' } } },
};

const CONFIG: JsonSchema = {
  type: 'object',
  description: 'The server, as an `mcp.<name>` entry of the config: `{type: "local", command: [...], environment?, enabled?, timeout?}` or `{type: "remote", url, headers?, enabled?, timeout?}`',
  properties: {
    type: { type: 'string', enum: ['local', 'remote'] },
    command: { type: 'array', items: { type: 'string' }, description: '(local) The command and its arguments' },
    environment: { type: 'object', additionalProperties: { type: 'string' } },
    url: { type: 'string', description: '(remote) An http(s) URL' },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    enabled: { type: 'boolean', description: '`false`: added, not started (connect it later)' },
    timeout: { type: 'integer', description: 'Milliseconds for the start and for each tool call (default 5000)' },
  },
};

/** The project's MCP manager, if it has any server. */
async function managerOf(c: ServerContext): Promise<McpManager | undefined> {
  return (await requestInstance(c)).mcp?.manager;
}

function shortName(name: string): string {
  return name.length > 200 ? `${name.slice(0, 200)}…` : name;
}

/** OpenCode's 404 for a server name nobody configured or added. */
function notFound(c: ServerContext, name: string, manager: McpManager | undefined): Response {
  const known = manager?.names() ?? [];
  const hint = known.length ? `Name one of GET /mcp (${known.slice(0, 20).join(', ')}), or add it with POST /mcp.` : 'The project has no MCP servers: add one with POST /mcp or under "mcp" in its config.';
  return c.json({ _tag: 'McpServerNotFoundError', name, message: `MCP server not found: ${shortName(name)}`, hint }, 404);
}

/** OpenCode's 400 for an OAuth route: Pantheon has no OAuth flow for MCP servers, and says what to do instead. */
function noOAuth(c: ServerContext, manager: McpManager, name: string): Response {
  const [status] = manager.status([name]);
  const shown = JSON.stringify(shortName(name));
  const error =
    status?.type === 'local'
      ? `MCP server ${shown} is a local server: OAuth is for remote servers, and Pantheon does not support OAuth for MCP servers.`
      : `Pantheon does not support OAuth for MCP servers, so it cannot authenticate ${shown}: give it a token in its headers instead ("mcp": {${shown}: {…, "headers": {"Authorization": "Bearer {env:TOKEN}"}}} in the config, or those headers in the config of POST /mcp), then connect it.`;
  return c.json({ error }, 400);
}

/** A route on one server: 404 for an unknown name, else `then`. */
function onServer(then: (c: ServerContext, manager: McpManager, name: string) => Promise<Response> | Response): NonNullable<RouteDef['handler']> {
  return async (c, { params }) => {
    const name = params.name as string;
    const manager = await managerOf(c);
    if (!manager?.has(name)) return notFound(c, name, manager);
    return then(c, manager, name);
  };
}

export const openCodeMcpRoutes: RouteGroup = {
  name: 'opencode-mcp',
  description: 'The project’s MCP servers managed while the server runs: added, connected, disconnected; OAuth answered as unsupported.',
  schemas: SCHEMAS,
  routes: [
    {
      method: 'post',
      path: '/mcp',
      operationId: 'mcp.add',
      summary: 'Add an MCP server',
      description:
        'Adds the server for this server process’s lifetime (nothing is written to a config file, as in OpenCode) and starts it unless `enabled` is `false`; a server of that name is replaced (its connection closed first). The `config` is checked as the config’s `mcp.<name>` entry, with `type` required and unknown keys refused: a bad one is a 400 naming the field. Answers every server’s status once this one has connected or failed (a server that fails to start is `failed` with why, still a 200, as in OpenCode).',
      query: DIRECTORY_QUERY,
      body: { type: 'object', required: ['name', 'config'], properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, config: CONFIG } },
      responses: { 200: { description: 'Status by server name', schema: STATUS_MAP }, ...BAD },
      handler: async (c, { body }) => {
        const b = body as { name: string; config: Record<string, unknown> };
        const { checkMcpEntry, checkServerName } = await import('../opencode/mcp-config-check.ts');
        const name = checkServerName(b.name);
        const entry = checkMcpEntry(b.config);
        const mcp = await mcpServersOf(await requestInstance(c));
        await mcp.manager.add(name, entry);
        // As GET /mcp: the project's other servers are started too, so each status says how it is.
        return c.json(openCodeMcpStatuses(await mcp.manager.start().then(() => mcp.manager.status())));
      },
    },
    {
      method: 'post',
      path: '/mcp/{name}/connect',
      operationId: 'mcp.connect',
      summary: 'Connect an MCP server',
      description: 'Starts the server (one disabled by `enabled: false` or disconnected too; one that failed is tried again) and answers `true` once it has connected or failed: its status is in GET /mcp. Its tools are offered from the next turn on. Calls at the same time share one start; a server connected already is left as it is.',
      params: NAME_PARAM,
      query: DIRECTORY_QUERY,
      responses: CONNECTED,
      handler: onServer(async (c, manager, name) => c.json(await manager.connect(name))),
    },
    {
      method: 'post',
      path: '/mcp/{name}/disconnect',
      operationId: 'mcp.disconnect',
      summary: 'Disconnect an MCP server',
      description: 'Closes the server’s client (a local server’s process is stopped; a start in flight is cancelled) and answers `true` once it is gone. It is `disabled` until connected again: its tools are not offered from the next turn on, and a call in flight ends with a tool error that says it was disconnected.',
      params: NAME_PARAM,
      query: DIRECTORY_QUERY,
      responses: CONNECTED,
      handler: onServer(async (c, manager, name) => c.json(await manager.disconnect(name))),
    },
    {
      method: 'post',
      path: '/mcp/{name}/auth',
      operationId: 'mcp.auth.start',
      summary: 'Start an MCP server’s OAuth flow (not supported)',
      description: 'Pantheon has no OAuth flow for MCP servers: a known server gets OpenCode’s 400 `{error}` saying so and what to do instead (a token in the server’s `headers`).',
      params: NAME_PARAM,
      query: DIRECTORY_QUERY,
      responses: { ...UNSUPPORTED, ...NOT_FOUND },
      handler: onServer(noOAuth),
    },
    {
      method: 'post',
      path: '/mcp/{name}/auth/authenticate',
      operationId: 'mcp.auth.authenticate',
      summary: 'Authenticate an MCP server with OAuth (not supported)',
      description: 'As POST /mcp/{name}/auth: a 400 `{error}` saying Pantheon has no OAuth flow for MCP servers.',
      params: NAME_PARAM,
      query: DIRECTORY_QUERY,
      responses: { ...UNSUPPORTED, ...NOT_FOUND },
      handler: onServer(noOAuth),
    },
    {
      method: 'post',
      path: '/mcp/{name}/auth/callback',
      operationId: 'mcp.auth.callback',
      summary: 'Finish an MCP server’s OAuth flow (not supported)',
      description: 'As POST /mcp/{name}/auth: no flow was started, so the code is refused with a 400 `{error}`.',
      params: NAME_PARAM,
      query: DIRECTORY_QUERY,
      body: { type: 'object', required: ['code'], properties: { code: { type: 'string', maxLength: 4096, description: 'The authorization code' } } },
      responses: { ...UNSUPPORTED, ...NOT_FOUND },
      handler: onServer(noOAuth),
    },
    {
      method: 'delete',
      path: '/mcp/{name}/auth',
      operationId: 'mcp.auth.remove',
      summary: 'Remove an MCP server’s OAuth credentials',
      description: 'Pantheon stores no OAuth credentials for MCP servers, so there is nothing to remove: `{success: true}` for a known server (as OpenCode answers when it has none).',
      params: NAME_PARAM,
      query: DIRECTORY_QUERY,
      responses: { 200: { description: 'Nothing stored', schema: { type: 'object', required: ['success'], properties: { success: { type: 'boolean', enum: [true] } } } }, ...BAD, ...NOT_FOUND },
      handler: onServer((c) => c.json({ success: true })),
    },
  ],
};
