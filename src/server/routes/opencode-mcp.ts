/**
 * OpenCode's routes that manage the project's MCP servers while the server runs, as OpenCode's TUI
 * (its MCPs dialog) and apps call them: add a server (`POST /mcp`, for this process's lifetime;
 * OpenCode does not write it to a config file either), connect and disconnect one
 * (`POST /mcp/{name}/connect`, `/disconnect`), and the OAuth routes: start a sign-in
 * (`POST /mcp/{name}/auth`), finish it with the code (`/auth/callback`) or by waiting for the browser
 * (`/auth/authenticate`), sign out (`DELETE /mcp/{name}/auth`); tokens go to OpenCode's
 * mcp-auth.json (src/mcp/oauth-store.ts). Unknown names get OpenCode's 404 (`McpServerNotFoundError`).
 */
import { mcpServersOf } from '../../core/mcp-servers.ts';
import { PantheonError } from '../../errors.ts';
import type { McpManager } from '../../mcp/manager.ts';
import { openCodeMcpStatus, openCodeMcpStatuses } from '../opencode/mcp-status.ts';
import { ref, type JsonSchema, type RouteDef, type RouteGroup, type ServerContext } from '../route.ts';
import { DIRECTORY_QUERY, requestInstance } from './opencode-app.ts';

const NAME_PARAM = { name: { description: 'The server’s name (a key of GET /mcp)' } };
const NOT_FOUND = { 404: { description: 'No server of that name (OpenCode’s McpServerNotFoundError)', schema: ref('McpServerNotFoundError') } };
const BAD = { 400: { description: 'Bad request (the field is named)', schema: ref('Error') } };
const UNSUPPORTED = { 400: { description: 'The server cannot sign in with OAuth (a local server, `oauth: false`, no OAuth metadata, no client registration) or the authorization server refused: OpenCode’s McpUnsupportedOAuthError, `error` saying why and what to do', schema: ref('McpUnsupportedOAuthError') } };
const STATUS_ONE: RouteDef['responses'] = { 200: { description: 'The server’s status once signed in and reconnected', schema: ref('MCPStatus') } };
const STATUS_MAP: JsonSchema = { type: 'object', additionalProperties: ref('MCPStatus'), description: 'Status by server name' };
const CONNECTED: RouteDef['responses'] = { 200: { description: 'Done (the server’s status is in GET /mcp)', schema: { type: 'boolean' } }, ...BAD, ...NOT_FOUND };

const SCHEMAS: Record<string, JsonSchema> = {
  MCPStatus: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['connected', 'disabled', 'failed', 'needs_auth', 'needs_client_registration'] }, error: { type: 'string', description: 'Why it failed, or what to do for one that needs authentication' } },
    description: 'A server’s status: `connected`, `disabled` (`enabled: false`, or disconnected), `failed` with `error`, `needs_auth` (a remote server that answered 401 and has no usable OAuth tokens) with `error` saying what to do (`opencode mcp auth NAME`, or a token in its `headers` when it has no OAuth; OpenCode’s has no `error`), or `needs_client_registration` with `error` (its authorization server cannot register a client: set `oauth.clientId`).',
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

/** OpenCode's 400 for an OAuth route that cannot run: `{error}`, one sentence and what to do. */
function oauthRefused(c: ServerContext, error: unknown): Response {
  if (error instanceof PantheonError && error.code !== 'INTERNAL') return c.json({ error: error.hint ? `${error.message} ${error.hint}` : error.message }, 400);
  throw error;
}

/** A route on one server: 404 for an unknown name, else `then`. */
function onServer(then: (c: ServerContext, manager: McpManager, name: string, body: unknown) => Promise<Response> | Response): NonNullable<RouteDef['handler']> {
  return async (c, { params, body }) => {
    const name = params.name as string;
    const manager = await managerOf(c);
    if (!manager?.has(name)) return notFound(c, name, manager);
    return then(c, manager, name, body);
  };
}

export const openCodeMcpRoutes: RouteGroup = {
  name: 'opencode-mcp',
  description: 'The project’s MCP servers managed while the server runs: added, connected, disconnected, signed in to with OAuth.',
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
      summary: 'Start MCP OAuth',
      description:
        'Starts signing in to a remote server with OAuth 2.1 (discovery, dynamic client registration unless `oauth.clientId` is set, PKCE) and answers the URL to open in a browser and the `state` it carries; `authorizationUrl` is empty when the server lets the client in without signing in. The browser comes back to the loopback callback (`http://127.0.0.1:19876/mcp/oauth/callback`, or `oauth.callbackPort` / `oauth.redirectUri`), which this server listens on for 5 minutes, or the code is given to POST /mcp/{name}/auth/callback. The tokens are saved to `$XDG_DATA_HOME/opencode/mcp-auth.json` (mode 0600, OpenCode’s file and shape) and the server reconnected. A local server, `oauth: false`, a server without OAuth metadata or an authorization server that cannot register a client (without `oauth.clientId`) is a 400 `{error}`.',
      params: NAME_PARAM,
      query: DIRECTORY_QUERY,
      responses: { 200: { description: 'OAuth flow started', schema: { type: 'object', required: ['authorizationUrl', 'oauthState'], properties: { authorizationUrl: { type: 'string' }, oauthState: { type: 'string' } } } }, ...UNSUPPORTED, ...NOT_FOUND },
      handler: onServer(async (c, manager, name) => {
        const { startFlow } = await import('../opencode/mcp-auth-flows.ts');
        try {
          const started = await startFlow(manager, name);
          if ('needsClientRegistration' in started) return c.json({ error: `MCP server ${JSON.stringify(shortName(name))} needs a registered OAuth client: ${started.needsClientRegistration}.` }, 400);
          return c.json(started);
        } catch (error) {
          return oauthRefused(c, error);
        }
      }),
    },
    {
      method: 'post',
      path: '/mcp/{name}/auth/authenticate',
      operationId: 'mcp.auth.authenticate',
      summary: 'Authenticate MCP OAuth',
      description: 'As POST /mcp/{name}/auth, then opens the URL in a browser when the server’s machine has a display (otherwise publishes OpenCode’s `mcp.browser.open.failed` `{mcpName, url}` on the project’s /event, for a client to show the URL), and answers once the browser has come back to the loopback callback (at most 5 minutes): the server’s status, reconnected with its new tokens. A server that needs no sign-in answers its status at once.',
      params: NAME_PARAM,
      query: DIRECTORY_QUERY,
      responses: { ...STATUS_ONE, ...UNSUPPORTED, ...NOT_FOUND },
      handler: onServer(async (c, manager, name) => {
        const { startFlow, awaitFlow } = await import('../opencode/mcp-auth-flows.ts');
        try {
          const started = await startFlow(manager, name);
          if ('needsClientRegistration' in started) return c.json({ status: 'needs_client_registration', error: started.needsClientRegistration });
          if (started.authorizationUrl) {
            const { hasDisplay, openBrowser } = await import('../../cli/open-browser.ts');
            if (hasDisplay()) openBrowser(started.authorizationUrl);
            // As OpenCode when it cannot open one: its TUI shows the URL to open.
            else c.get('state').events.publish((await requestInstance(c)).projectRoot, { type: 'mcp.browser.open.failed', properties: { mcpName: name, url: started.authorizationUrl } });
            await awaitFlow(manager, name);
          } else {
            await manager.connect(name);
          }
        } catch (error) {
          return oauthRefused(c, error);
        }
        const [status] = manager.status([name]);
        return c.json(openCodeMcpStatus(status?.state ?? 'failed', status?.reason, name));
      }),
    },
    {
      method: 'post',
      path: '/mcp/{name}/auth/callback',
      operationId: 'mcp.auth.callback',
      summary: 'Complete MCP OAuth',
      description: 'Finishes the flow POST /mcp/{name}/auth started with the authorization code the browser got: the code is exchanged, the tokens saved, the server reconnected; answers its status. Without a flow in progress for the server, or when the authorization server refuses the code, a 400 `{error}` (nothing saved).',
      params: NAME_PARAM,
      query: DIRECTORY_QUERY,
      body: { type: 'object', required: ['code'], properties: { code: { type: 'string', minLength: 1, maxLength: 4096, description: 'The authorization code' } } },
      responses: { ...STATUS_ONE, ...UNSUPPORTED, ...NOT_FOUND },
      handler: onServer(async (c, manager, name, body) => {
        const { finishFlow } = await import('../opencode/mcp-auth-flows.ts');
        try {
          if (!(await finishFlow(manager, name, (body as { code: string }).code))) {
            return c.json({ error: `No pending OAuth flow for MCP server: ${shortName(name)}. Start one with POST /mcp/${encodeURIComponent(shortName(name))}/auth.` }, 400);
          }
        } catch (error) {
          return oauthRefused(c, error);
        }
        const [status] = manager.status([name]);
        return c.json(openCodeMcpStatus(status?.state ?? 'failed', status?.reason, name));
      }),
    },
    {
      method: 'delete',
      path: '/mcp/{name}/auth',
      operationId: 'mcp.auth.remove',
      summary: 'Remove MCP OAuth',
      description: 'Removes the server’s OAuth credentials from `$XDG_DATA_HOME/opencode/mcp-auth.json` (tokens and client registration) and cancels a flow in progress; `{success: true}` whether or not any were stored (as OpenCode). A connected server stays connected until it reconnects.',
      params: NAME_PARAM,
      query: DIRECTORY_QUERY,
      responses: { 200: { description: 'OAuth credentials removed', schema: { type: 'object', required: ['success'], properties: { success: { type: 'boolean', enum: [true] } } } }, ...BAD, ...NOT_FOUND },
      handler: onServer(async (c, manager, name) => {
        const { cancelFlow } = await import('../opencode/mcp-auth-flows.ts');
        const { removeMcpAuth } = await import('../../mcp/oauth-store.ts');
        cancelFlow(manager, name);
        await removeMcpAuth(name);
        return c.json({ success: true });
      }),
    },
  ],
};
