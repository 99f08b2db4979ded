/**
 * OpenCode's MCP OAuth commands: `opencode mcp auth NAME` (sign in: the authorization URL printed,
 * a browser opened when there is a display, the code taken at the loopback callback, the tokens
 * saved to OpenCode's mcp-auth.json), `mcp auth list`, `mcp logout NAME`. Tokens are never printed.
 */
import { closestMatch } from '../config/did-you-mean.ts';
import type { McpConfig } from '../config/schema-types.ts';
import { loadConfig } from '../config/load.ts';
import { PantheonError } from '../errors.ts';
import { mcpAuthFile, readMcpAuth, removeMcpAuth, tokensExpired, type McpAuthEntry } from '../mcp/oauth-store.ts';
import { serverConfig, type ServerConfig } from '../mcp/server-config.ts';
import type { McpArgs } from './commands/mcp.ts';
import { hasDisplay, openBrowser } from './open-browser.ts';
import { printErr, printJson, printOut, printWarnings } from './print.ts';
import { safeLine } from './terminal-text.ts';
import { version } from './version.ts';

export type AuthState = 'authenticated' | 'expired' | 'not_authenticated';

const DEFAULT_WAIT_S = 300;
const START_TIMEOUT_MS = 30_000;

async function configured(args: McpArgs): Promise<Record<string, McpConfig>> {
  const loaded = await loadConfig({ ...(args.config ? { configPath: args.config } : {}) });
  if (!args.json) printWarnings(loaded.warnings);
  return loaded.config.mcp ?? {};
}

/** Remote servers with OAuth on (not `oauth: false`), by name: the ones `mcp auth` can sign in to. */
function oauthServers(servers: Record<string, McpConfig>): [string, ServerConfig][] {
  return Object.entries(servers)
    .map(([name, entry]) => [name, serverConfig(entry)] as [string, ServerConfig])
    .filter(([, c]) => c.type === 'remote' && c.oauth !== false);
}

export function authState(entry: McpAuthEntry | undefined, url: string | undefined): AuthState {
  if (!entry?.tokens || entry.serverUrl !== url) return 'not_authenticated';
  return tokensExpired(entry.tokens) ? 'expired' : 'authenticated';
}

const MARK: Record<AuthState, string> = { authenticated: '\u2713', expired: '\u26a0', not_authenticated: '\u2717' };
const WORDS: Record<AuthState, string> = { authenticated: 'authenticated', expired: 'expired', not_authenticated: 'not authenticated' };

function unknownServer(name: string, names: string[]): PantheonError {
  const match = closestMatch(name, names);
  return new PantheonError('USAGE', `No MCP server named ${JSON.stringify(safeLine(name, 100))}${match ? `; did you mean "${match}"?` : '.'}`, {
    hint: names.length ? `Configured MCP servers: ${names.join(', ')}.` : 'Add one under "mcp" in opencode.json, e.g. "mcp": {"linear": {"type": "remote", "url": "https://mcp.linear.app/mcp"}}.',
  });
}

/** `mcp auth list`: each OAuth-capable server and whether it is signed in (OpenCode's words and marks). */
export async function mcpAuthList(args: McpArgs): Promise<void> {
  const servers = oauthServers(await configured(args));
  const stored = await readMcpAuth();
  const rows = servers.map(([name, c]) => ({ name, url: c.url ?? '', status: authState(stored[name], c.url) }));
  if (args.json) {
    printJson({ servers: rows });
    return;
  }
  if (rows.length === 0) {
    printOut('No OAuth-capable MCP servers configured.\n');
    printErr('hint: remote MCP servers sign in with OAuth by default: add one under "mcp" in opencode.json, e.g. {"mcp": {"linear": {"type": "remote", "url": "https://mcp.linear.app/mcp"}}}\n');
    return;
  }
  const width = Math.max(...rows.map((r) => r.name.length));
  printOut(rows.map((r) => `${MARK[r.status]} ${r.name.padEnd(width)}  ${WORDS[r.status].padEnd(17)}  ${safeLine(r.url)}`).join('\n') + '\n');
}

function waitSeconds(value: unknown): number {
  if (value === undefined) return DEFAULT_WAIT_S;
  const n = Array.isArray(value) ? Number(value.at(-1)) : Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 3600) {
    throw new PantheonError('USAGE', `--timeout: expected the seconds to wait for the browser, 1 to 3600, found ${JSON.stringify(safeLine(String(value), 40))}.`, { hint: `For example --timeout 600; the default is ${DEFAULT_WAIT_S}.` });
  }
  return n;
}

/** `mcp auth NAME`: signs in to the server with OAuth and saves its tokens where OpenCode keeps them. */
export async function mcpAuthLogin(args: McpArgs): Promise<void> {
  const waitMs = waitSeconds(args.timeout) * 1000;
  const all = await configured(args);
  const capable = oauthServers(all);
  let name = args.name;
  if (name === undefined) {
    if (capable.length !== 1) {
      throw new PantheonError('USAGE', capable.length ? 'Name the MCP server to sign in to: `opencode mcp auth NAME`.' : 'No OAuth-capable MCP servers are configured.', {
        hint: capable.length ? `OAuth-capable servers: ${capable.map(([n]) => n).join(', ')} (\`opencode mcp auth list\` shows which are signed in).` : 'Remote MCP servers sign in with OAuth by default: add one under "mcp" in opencode.json, e.g. "linear": {"type": "remote", "url": "https://mcp.linear.app/mcp"}.',
      });
    }
    name = (capable[0] as [string, ServerConfig])[0];
  }
  const entry = all[name];
  if (!entry) throw unknownServer(name, Object.keys(all));
  const config = serverConfig(entry);
  const { oauthTarget, startAuth } = await import('../mcp/oauth-flow.ts');
  const { newOAuthState, redirectUriOf } = await import('../mcp/oauth-provider.ts');
  const { settings } = oauthTarget(name, config);
  const { waitForCallback } = await import('../mcp/oauth-callback.ts');
  const { connectServer } = await import('../mcp/connect.ts');
  const shown = JSON.stringify(name);

  // Listening first: a port in use is said before anything is registered with the authorization server.
  const state = newOAuthState();
  const wait = await waitForCallback(redirectUriOf(settings), state, waitMs);
  // Handled where it is awaited; this keeps a rejection before then (or when nothing waits) from being unhandled.
  wait.code.catch(() => undefined);
  let started;
  try {
    started = await startAuth(name, config, { timeoutMs: START_TIMEOUT_MS, state });
  } catch (error) {
    wait.cancel(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
  if (started.kind !== 'redirect') wait.cancel(new Error('no sign-in needed'));
  if (started.kind === 'needs_client_registration') {
    throw new PantheonError('MCP_START_FAILED', `MCP server ${shown} needs a registered OAuth client: ${started.error}.`, {
      hint: `Add "oauth": {"clientId": "your-client-id", "clientSecret": "{env:CLIENT_SECRET}"} to mcp.${name} in opencode.json (the client's redirect URI: ${redirectUriOf(settings)}).`,
    });
  }
  if (started.kind === 'redirect') {
    let stop: () => void = () => undefined;
    const interrupted = new Promise<never>((_, reject) => {
      stop = () => reject(new PantheonError('CANCELLED', 'Interrupted; nothing was saved.'));
    });
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    printErr(`Open this URL in a browser to sign in to MCP server ${shown}:\n\n  ${safeLine(started.authorizationUrl, 8000)}\n\n`);
    if (process.stderr.isTTY && hasDisplay()) openBrowser(started.authorizationUrl);
    printErr(`Waiting for the authorization (at most ${Math.round(waitMs / 1000)} s; Ctrl-C stops)\u2026\n`);
    try {
      const code = await Promise.race([wait.code, interrupted]);
      await started.finish(code);
    } catch (error) {
      wait.cancel(error instanceof Error ? error : new Error(String(error)));
      await started.cancel();
      throw error;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  }
  // Signed in (or the server wants no sign-in): connect once with what is stored, to say so.
  const said = started.kind === 'authorized' ? `MCP server ${shown} let Pantheon in without signing in; nothing was saved` : `Signed in to MCP server ${shown}; its tokens are in ${mcpAuthFile()}`;
  try {
    const conn = await connectServer(config, { timeoutMs: config.timeout ?? 5000, name, clientVersion: version });
    const count = conn.tools.length;
    await conn.close();
    printOut(`${said}. It connects: ${count} tool${count === 1 ? '' : 's'}.\n`);
  } catch (error) {
    printOut(`${said}.\n`);
    printErr(`warning: it does not connect yet: ${(error as { reason?: string }).reason ?? (error instanceof Error ? error.message : String(error))}\n`);
    process.exitCode = 1;
  }
}

/** `mcp logout NAME`: removes the server's OAuth credentials (OpenCode's `mcp logout`). */
export async function mcpLogout(args: McpArgs): Promise<void> {
  const stored = await readMcpAuth();
  const names = Object.keys(stored);
  const name = args.name;
  if (name === undefined) {
    throw new PantheonError('USAGE', names.length ? 'Name the MCP server to sign out of: `opencode mcp logout NAME`.' : 'No MCP OAuth credentials are stored.', {
      hint: names.length ? `Servers with stored credentials: ${names.join(', ')}.` : '`opencode mcp auth NAME` signs in to a remote MCP server.',
    });
  }
  if (!(await removeMcpAuth(name))) {
    const match = closestMatch(name, names);
    throw new PantheonError('USAGE', `No MCP OAuth credentials are stored for ${JSON.stringify(safeLine(name, 100))}${match ? `; did you mean "${match}"?` : '.'}`, {
      hint: names.length ? `Servers with stored credentials: ${names.join(', ')}.` : 'None are stored.',
    });
  }
  printOut(`Removed the OAuth credentials of MCP server ${JSON.stringify(name)}.\n`);
}

/**
 * `mcp debug NAME` (OpenCode's): the server's URL, its stored OAuth state (never a token: whether
 * there is one, its expiry, the client id), what the server answers an initialize without an OAuth
 * token (status, WWW-Authenticate; the config's headers are sent, as OpenCode sends them, and the
 * line says so), and whether it connects with what is stored.
 */
export async function mcpDebug(args: McpArgs): Promise<void> {
  const all = await configured(args);
  const name = args.name as string;
  const entry = all[name];
  if (!entry) throw unknownServer(name, Object.keys(all));
  const config = serverConfig(entry);
  const { oauthTarget } = await import('../mcp/oauth-flow.ts');
  const { url } = oauthTarget(name, config);
  const lines: string[] = [`Server: ${name}`, `URL: ${safeLine(config.url ?? '')}`];
  const stored = (await readMcpAuth())[name];
  const state = authState(stored, config.url);
  lines.push(`Auth status: ${MARK[state]} ${WORDS[state]}`);
  if (stored && stored.serverUrl !== config.url) lines.push(`  (credentials are stored for another URL: ${safeLine(stored.serverUrl ?? 'none')})`);
  const tokens = stored?.serverUrl === config.url ? stored?.tokens : undefined;
  if (tokens) {
    lines.push('  Access token: present (not shown)');
    if (tokens.expiresAt) lines.push(`  Expires: ${new Date(tokens.expiresAt * 1000).toISOString()}${tokensExpired(tokens) ? ' (EXPIRED)' : ''}`);
    lines.push(`  Refresh token: ${tokens.refreshToken ? 'present' : 'none'}`);
  }
  const clientId = (typeof config.oauth === 'object' ? config.oauth.clientId : undefined) ?? (stored?.serverUrl === config.url ? stored?.clientInfo?.clientId : undefined);
  lines.push(`  Client ID: ${clientId ? `${safeLine(clientId, 200)}${typeof config.oauth === 'object' && config.oauth.clientId ? ' (from the config)' : ''}` : 'none (dynamic client registration will be tried)'}`);
  const { fetchableUrl } = await import('../basic-auth.ts');
  const target = fetchableUrl(url, config.headers ?? {});
  try {
    const res = await fetch(target.href, {
      method: 'POST',
      headers: { ...target.headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'opencode-debug', version } } }),
      signal: AbortSignal.timeout(10_000),
    });
    await res.body?.cancel();
    // Sent as OpenCode sends it, with the config's headers (never an Authorization: oauthTarget refused that), so said.
    const sent = Object.keys(target.headers).length > 0 ? ` (sent with mcp.${name}.headers)` : '';
    lines.push(`HTTP response to an initialize without an OAuth token${safeLine(sent, 200)}: ${res.status} ${safeLine(res.statusText, 100)}`);
    const challenge = res.headers.get('www-authenticate');
    if (challenge) lines.push(`WWW-Authenticate: ${safeLine(challenge, 500)}`);
  } catch (error) {
    lines.push(`HTTP request failed: ${error instanceof Error && error.name === 'TimeoutError' ? 'no answer within 10 s' : safeLine(error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error), 300)}`);
  }
  const { connectServer } = await import('../mcp/connect.ts');
  try {
    const conn = await connectServer(config, { timeoutMs: config.timeout ?? 5000, name, clientVersion: version });
    lines.push(`Connection with the stored credentials: connected, ${conn.tools.length} tool${conn.tools.length === 1 ? '' : 's'}`);
    await conn.close();
  } catch (error) {
    const e = error as { reason?: string; auth?: unknown; registration?: boolean };
    const what = e.auth ? 'needs_auth' : e.registration ? 'needs_client_registration' : 'failed';
    lines.push(`Connection with the stored credentials: ${what}: ${safeLine(e.reason ?? (error instanceof Error ? error.message : String(error)), 500)}`);
  }
  printOut(lines.join('\n') + '\n');
}
