/**
 * Connects to one MCP server and lists its tools, all within the server's `timeout`: local
 * servers over stdio (a child process), remote ones over streamable HTTP, falling back to the
 * older HTTP+SSE transport when the server does not speak streamable HTTP. Loaded lazily: this
 * is the only module (with stdio-transport.ts) that imports the MCP SDK at run time.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult, GetPromptResult, Prompt, ReadResourceResult, Resource, ResourceTemplate, Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import { ErrorCode, McpError, PromptListChangedNotificationSchema, ResourceListChangedNotificationSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { MAX_CATALOG_ITEMS, MAX_CATALOG_PAGES } from './catalog-limits.ts';
import { fetchableUrl, hasAuthorization } from '../basic-auth.ts';
import { MAX_TOOLS_PER_SERVER } from './tool-limits.ts';
import { boundedFetch, MAX_MESSAGE_BYTES, type MessageTooLargeError } from './bounded-fetch.ts';
import { serverScopedFetch } from './header-scope.ts';
import { redactUrlCredentials } from '../config/url-credentials.ts';
import type { ServerConfig } from './server-config.ts';
import { serverEnvironment } from './server-env.ts';
import { McpCallError } from './call-failure.ts';
import { McpStartError, describeStart, errorMessage } from './start-reason.ts';
import { ChildStdioTransport } from './stdio-transport.ts';
import type { ChildExit } from './stdio-transport.ts';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { McpNeedsAuthError, McpNeedsClientRegistrationError, McpOAuthProvider, NO_METADATA, type OAuthSettings } from './oauth-provider.ts';

export type TransportKind = 'stdio' | 'streamable-http' | 'sse';

export interface ConnectOptions {
  timeoutMs: number;
  /** The server's name: its key in the MCP OAuth store (remote servers). */
  name?: string;
  /** The MCP OAuth store (default OpenCode's, under $XDG_DATA_HOME). */
  authFile?: string;
  /** The user's environment, safe-listed for local servers (default process.env). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Grace before SIGTERM/SIGKILL when a local server is stopped. */
  graceMs?: number;
  clientVersion?: string;
  /** Aborts the start (shutdown while starting). */
  signal?: AbortSignal;
  /** Called with the local server's process as soon as it is spawned, so it can be killed at exit. */
  onSpawn?: (process: { killSync(): void }) => void;
}

export interface Connection {
  kind: TransportKind;
  pid: number | undefined;
  tools: McpTool[];
  /** The server had more pages of tools than were read (more than the manager takes). */
  moreTools: boolean;
  /** What the server said at initialize about using it (its `instructions`, trimmed), for the system prompt. */
  instructions: string | undefined;
  /** Called once when the connection ends without close() having been called (the server died). */
  onLost: ((exit: ChildExit | undefined, stderr: string, stopped: string | undefined) => void) | undefined;
  /** Called on each `notifications/tools/list_changed` the server sends (the manager coalesces them). */
  onToolsChanged: (() => void) | undefined;
  /** Called on each `notifications/prompts/list_changed` or `notifications/resources/list_changed` (the manager coalesces them). */
  onCatalogChanged: (() => void) | undefined;
  /** What the server said at initialize it offers besides tools. */
  offers: { prompts: boolean; resources: boolean };
  /** The server's prompts (`prompts/list`, page by page, bounded); none when it does not offer them. */
  listPrompts(timeoutMs: number): Promise<{ items: Prompt[]; more: boolean }>;
  /** The server's resources (`resources/list`, page by page, bounded); none when it does not offer them. */
  listResources(timeoutMs: number): Promise<{ items: Resource[]; more: boolean }>;
  /** The server's resource templates (`resources/templates/list`, page by page, bounded); none when it does not offer resources. */
  listResourceTemplates(timeoutMs: number): Promise<{ items: ResourceTemplate[]; more: boolean }>;
  /** `prompts/get`; errors as McpCallError. */
  getPrompt(name: string, args: Record<string, string>, timeoutMs: number): Promise<GetPromptResult>;
  /** `resources/read`; errors as McpCallError. */
  readResource(uri: string, timeoutMs: number): Promise<ReadResourceResult>;
  /** Lists the server's tools again (within `timeoutMs`), as at the start. */
  listTools(timeoutMs: number): Promise<{ tools: McpTool[]; more: boolean }>;
  call(tool: string, args: Record<string, unknown>, options: CallOptions): Promise<CallToolResult>;
  close(): Promise<void>;
  killSync(): void;
}

export interface CallOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Progress notifications from the server, for tools that send them. */
  onProgress?: (progress: { progress: number; total?: number; message?: string }) => void;
}

const MAX_TOOL_PAGES = 100;

interface Attempt {
  client: Client;
  transport: Transport;
  tools: McpTool[];
  moreTools: boolean;
}

function isTimeout(error: unknown): boolean {
  return error instanceof McpError && error.code === ErrorCode.RequestTimeout;
}

/** Classifies an error thrown by a tool call (an abort is passed through as it is). */
function callError(error: unknown, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted) return error;
  if (isTimeout(error)) return new McpCallError('timeout', 'timed out', { cause: error });
  if (error instanceof McpError && error.code === ErrorCode.ConnectionClosed) return new McpCallError('closed', 'connection closed', { cause: error });
  if (error instanceof McpError) return new McpCallError('rejected', error.message.replace(/^MCP error -?\d+: /, ''), { cause: error });
  return new McpCallError('transport', errorMessage(error), { cause: error });
}

/** The server's tools, page by page, until there are more than the manager takes (`more`: pages were left unread). */
async function listAllTools(client: Client, options: { signal: AbortSignal; timeout: number }): Promise<{ tools: McpTool[]; more: boolean }> {
  const tools: McpTool[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_TOOL_PAGES; page++) {
    const result = await client.listTools(cursor === undefined ? undefined : { cursor }, options);
    tools.push(...result.tools);
    cursor = result.nextCursor;
    if (!cursor) break;
    if (tools.length > MAX_TOOLS_PER_SERVER) return { tools, more: true };
  }
  return { tools, more: cursor !== undefined };
}

/** A list of the server's (prompts, resources) page by page, bounded in pages and items (`more`: some were left unread); errors as McpCallError. */
async function listPaged<T>(page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string | undefined }>): Promise<{ items: T[]; more: boolean }> {
  try {
    return await readPages(page);
  } catch (error) {
    throw callError(error, undefined);
  }
}

async function readPages<T>(page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string | undefined }>): Promise<{ items: T[]; more: boolean }> {
  const items: T[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let n = 0; n < MAX_CATALOG_PAGES; n++) {
    const result = await page(cursor);
    items.push(...result.items);
    cursor = result.nextCursor;
    // A server that hands back a cursor it gave before would be listed for ever.
    if (!cursor || seen.has(cursor)) return { items: items.slice(0, MAX_CATALOG_ITEMS), more: items.length > MAX_CATALOG_ITEMS };
    seen.add(cursor);
    if (items.length >= MAX_CATALOG_ITEMS) return { items: items.slice(0, MAX_CATALOG_ITEMS), more: true };
  }
  return { items: items.slice(0, MAX_CATALOG_ITEMS), more: true };
}

/** Why OAuth is not used for a server the config gives its own credentials. */
export const OWN_AUTHORIZATION = 'OAuth is not used while the config sends its own Authorization';

function remoteTransport(kind: 'streamable-http' | 'sse', url: URL, headers: Record<string, string>, onTooLarge: (error: MessageTooLargeError) => void, authProvider: McpOAuthProvider | undefined): Transport {
  // Every body read with a bound, so an endless or enormous answer cannot fill the memory.
  // The config's headers only to the server's own origin (never to an authorization server elsewhere).
  const options = { requestInit: { headers }, fetch: boundedFetch(MAX_MESSAGE_BYTES, serverScopedFetch(url, headers), onTooLarge), ...(authProvider ? { authProvider } : {}) };
  return kind === 'sse' ? new SSEClientTransport(url, options) : new StreamableHTTPClientTransport(url, options);
}

/** A 4xx other than 401/403 to the streamable-HTTP POST: the server may speak only the older SSE transport. */
function shouldTrySse(error: unknown): boolean {
  return error instanceof StreamableHTTPError && error.code !== undefined && error.code >= 400 && error.code < 500 && error.code !== 401 && error.code !== 403;
}

function httpStatus(error: unknown): number | undefined {
  if (error instanceof StreamableHTTPError && error.code !== undefined && error.code > 0) return error.code;
  const match = error instanceof Error ? /\b(?:HTTP |status code |Non-200 status code \()(\d{3})\b/.exec(error.message) : null;
  return match ? Number(match[1]) : undefined;
}

/** Why a configured header cannot be sent (a name, never a value: values are often secrets), or undefined. */
function invalidHeader(headers: Record<string, string>): string | undefined {
  for (const [name, value] of Object.entries(headers)) {
    try {
      new Headers().append(name, 'x');
    } catch {
      return `headers: ${JSON.stringify(name.length > 80 ? `${name.slice(0, 79)}…` : name)} is not a valid HTTP header name`;
    }
    try {
      new Headers().append(name, value);
    } catch {
      return `headers.${name}: the value holds a line break, a control character or a character outside Latin-1, which HTTP does not allow (the value is not shown); check where it comes from (an {env:…} or {file:…})`;
    }
  }
  return undefined;
}

/** Starts (or reaches) the server, initializes, lists its tools; throws McpStartError with a reason. */
export async function connectServer(config: ServerConfig, options: ConnectOptions): Promise<Connection> {
  // Shut down before it began (an instance let go while the SDK loaded): nothing is spawned or reached.
  if (options.signal?.aborted) throw new McpStartError('start cancelled: shutting down');
  const timeoutMs = options.timeoutMs;
  const deadline = new AbortController();
  const started = Date.now();
  const timer = setTimeout(() => deadline.abort(), timeoutMs);
  const onAbort = () => deadline.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const remaining = () => Math.max(1, timeoutMs - (Date.now() - started));
  /** Connects and lists tools; on failure `observe` runs before the transport is closed (and the child killed). */
  const attempt = async (transport: Transport, observe?: () => void): Promise<Attempt> => {
    const client = new Client({ name: 'pantheon', version: options.clientVersion ?? '0' }, { capabilities: {} });
    try {
      await client.connect(transport, { signal: deadline.signal, timeout: remaining() });
      const { tools, more } = await listAllTools(client, { signal: deadline.signal, timeout: remaining() });
      return { client, transport, tools, moreTools: more };
    } catch (error) {
      observe?.();
      await client.close();
      await transport.close();
      throw error;
    }
  };
  try {
    if (config.type === 'local') {
      const [command, ...args] = config.command ?? [];
      if (command === undefined) throw new McpStartError('no command configured (mcp.<name>.command)');
      const transport = new ChildStdioTransport({
        command,
        args,
        env: serverEnvironment(config.environment, options.env),
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
        ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
      });
      options.onSpawn?.(transport);
      // What the server did before it failed, taken before it is stopped (which adds its own noise).
      let seen: { exit: ChildExit | undefined; stderr: string; junk: readonly string[]; stopped: string | undefined } | undefined;
      const observe = () => {
        seen = { exit: transport.exit(), stderr: transport.stderrTail(), junk: [...transport.junkLines()], stopped: transport.stopped() };
      };
      try {
        const { client, tools, moreTools } = await attempt(transport, observe);
        return connection('stdio', client, transport, tools, moreTools);
      } catch (error) {
        if (options.signal?.aborted) throw new McpStartError('start cancelled: shutting down', { cause: error });
        throw new McpStartError(
          describeStart({ error, timedOut: deadline.signal.aborted || isTimeout(error), timeoutMs, command: config.command ?? [], ...seen }),
          { cause: error },
        );
      }
    }
    const given = URL.parse(config.url ?? '');
    if (!given || (given.protocol !== 'http:' && given.protocol !== 'https:')) {
      const shown = redactUrlCredentials(config.url ?? '');
      throw new McpStartError(`url: expected an http(s) URL such as "https://mcp.example.com/mcp", found ${JSON.stringify(shown.length > 80 ? `${shown.slice(0, 79)}…` : shown)}`);
    }
    // fetch would refuse a bad header quoting its value, which is a secret as often as not.
    const badHeader = invalidHeader(config.headers ?? {});
    if (badHeader) throw new McpStartError(badHeader);
    // A user and password in the URL go as Basic authorization (fetch refuses them, quoting the URL).
    const target = fetchableUrl(given, config.headers ?? {});
    const url = new URL(target.href);
    const headers = target.headers;
    // OAuth (unless `oauth: false`): the stored tokens are sent, and refreshed when refused. Not for
    // a server the config gives its own Authorization (a header, or a user in the URL): the SDK sends
    // the transport's headers with its OAuth requests too, to an authorization server on another origin.
    const ownAuthorization = hasAuthorization(headers);
    const oauth = config.oauth === false || options.name === undefined || ownAuthorization
      ? undefined
      : () =>
          new McpOAuthProvider({
            name: options.name as string,
            serverUrl: config.url as string,
            settings: typeof config.oauth === 'object' ? (config.oauth as OAuthSettings) : undefined,
            mode: 'connect',
            ...(options.authFile ? { file: options.authFile } : {}),
          });
    let kind: 'streamable-http' | 'sse' = 'streamable-http';
    // An answer cut off at the bound ends the start at once, with that as the reason.
    let tooLarge: MessageTooLargeError | undefined;
    let connected = false;
    const onTooLarge = (error: MessageTooLargeError): void => {
      if (connected) return;
      tooLarge ??= error;
      deadline.abort();
    };
    try {
      let result: Attempt;
      try {
        result = await attempt(remoteTransport(kind, url, headers, onTooLarge, oauth?.()));
      } catch (error) {
        if (!shouldTrySse(error) || deadline.signal.aborted) throw error;
        kind = 'sse';
        result = await attempt(remoteTransport(kind, url, headers, onTooLarge, oauth?.()));
      }
      connected = true;
      return connection(kind, result.client, result.transport, result.tools, result.moreTools);
    } catch (error) {
      if (error instanceof McpStartError) throw error;
      if (tooLarge) throw new McpStartError(`${tooLarge.message}, from ${url.href}`, { cause: error });
      if (options.signal?.aborted) throw new McpStartError('start cancelled: shutting down', { cause: error });
      if (error instanceof McpNeedsClientRegistrationError) throw new McpStartError(error.message, { cause: error, registration: true });
      const sent = ownAuthorization;
      if (oauth && (error instanceof UnauthorizedError || error instanceof McpNeedsAuthError)) {
        const noOAuth = error instanceof McpNeedsAuthError && error.message === NO_METADATA ? { noOAuth: NO_METADATA } : {};
        throw new McpStartError(`HTTP 401 from ${url.href}`, { cause: error, auth: { url: url.href, sentCredentials: sent, oauth: true, ...noOAuth } });
      }
      const status = httpStatus(error);
      const timedOut = deadline.signal.aborted || isTimeout(error);
      // A 401: the server wants credentials (OpenCode's `needs_auth`); the manager says what to set, naming the server.
      const auth = status === 401 && !timedOut ? { auth: { url: url.href, sentCredentials: sent, oauth: oauth !== undefined, ...(ownAuthorization && config.oauth !== false ? { noOAuth: OWN_AUTHORIZATION } : {}) } } : {};
      throw new McpStartError(describeStart({ error, timedOut, timeoutMs, url: url.href, httpStatus: status }), { cause: error, ...auth });
    }
  } catch (error) {
    if (error instanceof McpStartError) throw error;
    throw new McpStartError(error instanceof Error ? error.message : String(error), { cause: error });
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

function connection(kind: TransportKind, client: Client, transport: Transport, tools: McpTool[], moreTools: boolean): Connection {
  const child = transport instanceof ChildStdioTransport ? transport : undefined;
  child?.resetStderr();
  const capabilities = client.getServerCapabilities();
  let closing = false;
  const conn: Connection = {
    kind,
    pid: child?.pid,
    tools,
    moreTools,
    instructions: client.getInstructions()?.trim() || undefined,
    onLost: undefined,
    onToolsChanged: undefined,
    onCatalogChanged: undefined,
    offers: { prompts: capabilities?.prompts !== undefined, resources: capabilities?.resources !== undefined },
    listTools(timeoutMs) {
      return listAllTools(client, { signal: AbortSignal.timeout(timeoutMs), timeout: timeoutMs });
    },
    async listPrompts(timeoutMs) {
      if (!conn.offers.prompts) return { items: [], more: false };
      const options = { signal: AbortSignal.timeout(timeoutMs), timeout: timeoutMs };
      return listPaged(async (cursor) => {
        const r = await client.listPrompts(cursor === undefined ? undefined : { cursor }, options);
        return { items: r.prompts, nextCursor: r.nextCursor };
      });
    },
    async listResources(timeoutMs) {
      if (!conn.offers.resources) return { items: [], more: false };
      const options = { signal: AbortSignal.timeout(timeoutMs), timeout: timeoutMs };
      return listPaged(async (cursor) => {
        const r = await client.listResources(cursor === undefined ? undefined : { cursor }, options);
        return { items: r.resources, nextCursor: r.nextCursor };
      });
    },
    async listResourceTemplates(timeoutMs) {
      if (!conn.offers.resources) return { items: [], more: false };
      const options = { signal: AbortSignal.timeout(timeoutMs), timeout: timeoutMs };
      return listPaged(async (cursor) => {
        const r = await client.listResourceTemplates(cursor === undefined ? undefined : { cursor }, options);
        return { items: r.resourceTemplates, nextCursor: r.nextCursor };
      });
    },
    async getPrompt(name, args, timeoutMs) {
      try {
        return await client.getPrompt({ name, arguments: args }, { signal: AbortSignal.timeout(timeoutMs), timeout: timeoutMs });
      } catch (error) {
        throw callError(error, undefined);
      }
    },
    async readResource(uri, timeoutMs) {
      try {
        return await client.readResource({ uri }, { signal: AbortSignal.timeout(timeoutMs), timeout: timeoutMs });
      } catch (error) {
        throw callError(error, undefined);
      }
    },
    async call(tool, args, { timeoutMs, signal, onProgress }) {
      try {
        const options = { timeout: timeoutMs, ...(signal ? { signal } : {}), ...(onProgress ? { onprogress: onProgress } : {}) };
        const result = await client.callTool({ name: tool, arguments: args }, undefined, options);
        return result as CallToolResult;
      } catch (error) {
        throw callError(error, signal);
      }
    },
    async close() {
      closing = true;
      await client.close();
      await transport.close();
    },
    killSync() {
      child?.killSync();
    },
  };
  client.onclose = () => {
    if (!closing) conn.onLost?.(child?.exit(), child?.stderrTail() ?? '', child?.stopped());
  };
  // The SDK's handler for the notification (whether or not the server advertised `tools.listChanged`, as OpenCode listens).
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    if (!closing) conn.onToolsChanged?.();
  });
  // Its prompts (commands) and resources (`@` mentions), listed anew as one catalog.
  for (const schema of [PromptListChangedNotificationSchema, ResourceListChangedNotificationSchema]) {
    client.setNotificationHandler(schema, () => {
      if (!closing) conn.onCatalogChanged?.();
    });
  }
  return conn;
}
