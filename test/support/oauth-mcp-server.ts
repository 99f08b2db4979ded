/**
 * A real OAuth-protected remote MCP server for tests, on 127.0.0.1: the MCP SDK's authorization
 * server (`mcpAuthRouter`: metadata, dynamic client registration, /authorize, /token with PKCE
 * and refresh) over an in-memory provider, and an MCP server at /mcp behind `requireBearerAuth`
 * (stateless Streamable HTTP, one tool `echo`). /authorize redirects straight to the redirect URI
 * with a code (the user "consented"): a test plays the browser by fetching that URL.
 *
 * The test can refuse registration (`registration: false`: no registration endpoint), refuse
 * refresh tokens, expire every access token, and read what was issued (to check none leaks).
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import { createOAuthMetadata, mcpAuthMetadataRouter, mcpAuthRouter, getOAuthProtectedResourceMetadataUrl } from '@modelcontextprotocol/sdk/server/auth/router.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { InvalidGrantError, InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { OAuthRegisteredClientsStore } from '@modelcontextprotocol/sdk/server/auth/clients.js';
import type { AuthorizationParams, OAuthServerProvider } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { OAuthClientInformationFull, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

type Handler = (req: unknown, res: unknown, next?: unknown) => unknown;
interface App {
  use(path: string | Handler, ...handlers: Handler[]): void;
  all(path: string, ...handlers: Handler[]): void;
  listen(port: number, host: string, cb: () => void): HttpServer;
}
const express = createRequire(import.meta.url)('express') as () => App;

export interface OAuthMcpServer {
  /** `http://127.0.0.1:PORT/mcp` */
  url: string;
  issuer: string;
  registrations(): number;
  refreshes(): number;
  /** Every access and refresh token issued, and every client secret (none may show up in output). */
  secrets(): string[];
  /** Access tokens the server accepts right now. */
  validAccessTokens(): string[];
  /** Makes every access token issued so far expired (the server refuses them; refresh tokens still work). */
  expireAccessTokens(): void;
  /** While set, a refresh is refused (`invalid_grant`). */
  refuseRefresh(on: boolean): void;
  /** Requests to /mcp answered (200 or 401). */
  mcpRequests(): number;
  /** The headers of every request the server got (the MCP server's listener and, when separate, the authorization server's). */
  requestsSeen(): { origin: 'mcp' | 'as'; path: string; headers: Record<string, string | string[] | undefined> }[];
  close(): Promise<void>;
}

export interface OAuthMcpOptions {
  /** Offer dynamic client registration (default true). */
  registration?: boolean;
  /** Clients known beforehand (id → secret). */
  clients?: Record<string, string | undefined>;
  /** Seconds an access token lives (default 3600). */
  ttl?: number;
  /** Serve the authorization server on a listener of its own (another origin), as `issuer`. */
  separateAuthorizationServer?: boolean;
}

export async function startOAuthMcpServer(options: OAuthMcpOptions = {}): Promise<OAuthMcpServer> {
  const clients = new Map<string, OAuthClientInformationFull>();
  const codes = new Map<string, { client: OAuthClientInformationFull; params: AuthorizationParams }>();
  const access = new Map<string, { clientId: string; expiresAt: number; scopes: string[] }>();
  const refresh = new Map<string, string>();
  const secrets: string[] = [];
  let registrations = 0;
  let refreshes = 0;
  let refusing = false;
  let mcpRequests = 0;
  const ttl = options.ttl ?? 3600;

  const issue = (clientId: string, scopes: string[]): OAuthTokens => {
    const accessToken = `at-${randomUUID()}`;
    const refreshToken = `rt-${randomUUID()}`;
    access.set(accessToken, { clientId, expiresAt: Math.floor(Date.now() / 1000) + ttl, scopes });
    refresh.set(refreshToken, clientId);
    secrets.push(accessToken, refreshToken);
    return { access_token: accessToken, token_type: 'Bearer', expires_in: ttl, refresh_token: refreshToken, ...(scopes.length ? { scope: scopes.join(' ') } : {}) };
  };

  for (const [id, secret] of Object.entries(options.clients ?? {})) {
    clients.set(id, { client_id: id, ...(secret ? { client_secret: secret } : {}), redirect_uris: ['http://127.0.0.1/mcp/oauth/callback'], token_endpoint_auth_method: secret ? 'client_secret_post' : 'none' });
    if (secret) secrets.push(secret);
  }

  const clientsStore: OAuthRegisteredClientsStore = {
    getClient: (id) => clients.get(id),
    ...(options.registration === false
      ? {}
      : {
          registerClient: (client: Omit<OAuthClientInformationFull, 'client_id' | 'client_id_issued_at'>) => {
            registrations += 1;
            const full = { ...client, client_id: `client-${randomUUID()}`, client_id_issued_at: Math.floor(Date.now() / 1000) } as OAuthClientInformationFull;
            clients.set(full.client_id, full);
            if (full.client_secret) secrets.push(full.client_secret);
            return full;
          },
        }),
  };

  const provider: OAuthServerProvider = {
    clientsStore,
    async authorize(client, params, res) {
      // The SDK's handler checked the redirect URI (any loopback port matches).
      const code = randomUUID();
      codes.set(code, { client, params });
      const target = new URL(params.redirectUri);
      target.searchParams.set('code', code);
      if (params.state !== undefined) target.searchParams.set('state', params.state);
      (res as unknown as { redirect(url: string): void }).redirect(target.href);
    },
    async challengeForAuthorizationCode(_client, code) {
      const found = codes.get(code);
      if (!found) throw new InvalidGrantError('unknown code');
      return found.params.codeChallenge;
    },
    async exchangeAuthorizationCode(client, code) {
      const found = codes.get(code);
      if (!found || found.client.client_id !== client.client_id) throw new InvalidGrantError('unknown code');
      codes.delete(code);
      return issue(client.client_id, found.params.scopes ?? []);
    },
    async exchangeRefreshToken(client, refreshToken) {
      if (refusing || refresh.get(refreshToken) !== client.client_id) throw new InvalidGrantError('the refresh token was revoked');
      refresh.delete(refreshToken);
      refreshes += 1;
      return issue(client.client_id, []);
    },
    async verifyAccessToken(token) {
      const found = access.get(token);
      if (!found) throw new InvalidTokenError('unknown token');
      return { token, clientId: found.clientId, scopes: found.scopes, expiresAt: found.expiresAt };
    },
  };

  const seen: { origin: 'mcp' | 'as'; path: string; headers: Record<string, string | string[] | undefined> }[] = [];
  const listen = async (origin: 'mcp' | 'as') => {
    const app = express();
    app.use((req, _res, next) => {
      const r = req as { url: string; headers: Record<string, string | string[] | undefined> };
      seen.push({ origin, path: r.url, headers: { ...r.headers } });
      (next as () => void)();
    });
    const server = await new Promise<HttpServer>((resolve) => {
      const s: HttpServer = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    return { app, server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  };
  const main = await listen('mcp');
  const { app, server, base } = main;
  const as = options.separateAuthorizationServer ? await listen('as') : main;
  const mcpUrl = new URL('/mcp', base);
  const noLimit = { rateLimit: false as const };
  const authOptions = {
    provider,
    issuerUrl: new URL(as.base),
    resourceServerUrl: mcpUrl,
    authorizationOptions: noLimit,
    tokenOptions: noLimit,
    clientRegistrationOptions: noLimit,
    revocationOptions: noLimit,
  };
  as.app.use(mcpAuthRouter(authOptions) as Handler);
  // The MCP server's own origin names the authorization server in its resource metadata.
  if (as !== main) app.use(mcpAuthMetadataRouter({ oauthMetadata: createOAuthMetadata(authOptions), resourceServerUrl: mcpUrl }) as Handler);
  const count: Handler = (_req, _res, next) => {
    mcpRequests += 1;
    (next as () => void)();
  };
  const bearer = requireBearerAuth({ verifier: provider, resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(mcpUrl) }) as Handler;
  app.all('/mcp', count, bearer, async (req, res) => {
    const mcp = new Server({ name: 'oauth-test-server', version: '1.0.0' }, { capabilities: { tools: {} } });
    mcp.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [{ name: 'echo', description: 'Echoes.', inputSchema: { type: 'object' as const, properties: {} } }] }));
    mcp.setRequestHandler(CallToolRequestSchema, async (r) => ({ content: [{ type: 'text', text: `echo: ${JSON.stringify(r.params.arguments ?? {})}` }] }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await mcp.connect(transport);
    await transport.handleRequest(req as never, res as never);
  });

  return {
    url: mcpUrl.href,
    issuer: as.base,
    registrations: () => registrations,
    refreshes: () => refreshes,
    secrets: () => [...secrets],
    validAccessTokens: () => [...access.entries()].filter(([, v]) => v.expiresAt >= Date.now() / 1000).map(([k]) => k),
    expireAccessTokens() {
      for (const v of access.values()) v.expiresAt = Math.floor(Date.now() / 1000) - 10;
    },
    refuseRefresh(on) {
      refusing = on;
    },
    mcpRequests: () => mcpRequests,
    requestsSeen: () => [...seen],
    close: async () => {
      for (const s of as === main ? [server] : [server, as.server]) {
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        });
      }
    },
  };
}

/** Plays the browser: follows the authorization URL to the redirect (no cookies, no consent page) and calls the callback it names. */
export async function followAuthorization(authorizationUrl: string, options: { state?: string } = {}): Promise<Response> {
  const answer = await fetch(authorizationUrl, { redirect: 'manual' });
  const location = answer.headers.get('location');
  await answer.body?.cancel();
  if (!location) throw new Error(`the authorization server answered ${answer.status} without a redirect`);
  const callback = new URL(location);
  if (options.state !== undefined) callback.searchParams.set('state', options.state);
  return fetch(callback);
}
