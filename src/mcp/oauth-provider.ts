/**
 * The MCP SDK's `OAuthClientProvider` over OpenCode's credential store (oauth-store.ts), in two
 * modes, as OpenCode has them:
 * - `connect`: a server's start. The stored tokens are sent; when the server refuses them the SDK
 *   refreshes them (the new ones saved, atomically). When the user must sign in again (no tokens,
 *   or the refresh refused) nothing is registered or opened: the start ends `needs_auth` (or
 *   `needs_client_registration` when the authorization server cannot register a client and no
 *   `oauth.clientId` is configured).
 * - `flow`: `opencode mcp auth NAME` or the server's auth routes. A client is registered when
 *   needed, the authorization URL is handed to `onRedirect`, and tokens are kept in memory until
 *   the flow ends well (`commit`), so a flow that fails leaves the store as it was.
 * The PKCE verifier and the state stay in memory. No secret is ever logged or thrown.
 */
import type { OAuthClientProvider, OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { randomBytes } from '../random-bytes.ts';
import { mcpAuthFor, mcpAuthFile, updateMcpAuth, type McpAuthClientInfo, type McpAuthTokens } from './oauth-store.ts';

export const DEFAULT_CALLBACK_PORT = 19876;
export const CALLBACK_PATH = '/mcp/oauth/callback';

/** `mcp.<name>.oauth` when it is an object (OpenCode's McpOAuthConfig). */
export interface OAuthSettings {
  clientId?: string;
  clientSecret?: string;
  scope?: string;
  callbackPort?: number;
  redirectUri?: string;
}

/** The server wants the user to sign in (again): OpenCode's `needs_auth`. */
export class McpNeedsAuthError extends Error {
  constructor(message = 'the server wants OAuth authorization') {
    super(message);
    this.name = 'McpNeedsAuthError';
  }
}

/** Why a server that answered 401 cannot be signed in to with OAuth. */
export const NO_METADATA = 'it publishes no OAuth metadata';

/** The authorization server cannot register a client and none is configured: `needs_client_registration`. */
export class McpNeedsClientRegistrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'McpNeedsClientRegistrationError';
  }
}

/** A random `state` for an authorization request (64 hex digits, as OpenCode's). */
export function newOAuthState(): string {
  return randomBytes(32).toString('hex');
}

export function registrationMessage(issuer: string | undefined): string {
  return `the authorization server${issuer ? ` ${issuer}` : ''} does not support dynamic client registration; set oauth.clientId (and oauth.clientSecret, if it has one) for the server in the config`;
}

/** OpenCode's redirect URI: `oauth.redirectUri`, else `http://127.0.0.1:<callbackPort|19876>/mcp/oauth/callback`. */
export function redirectUriOf(settings: OAuthSettings | undefined): string {
  return settings?.redirectUri ?? `http://127.0.0.1:${settings?.callbackPort ?? DEFAULT_CALLBACK_PORT}${CALLBACK_PATH}`;
}

function toStoredTokens(t: OAuthTokens): McpAuthTokens {
  const issuer = (t as { issuer?: unknown }).issuer;
  return {
    accessToken: t.access_token,
    ...(t.refresh_token ? { refreshToken: t.refresh_token } : {}),
    ...(t.expires_in ? { expiresAt: Date.now() / 1000 + t.expires_in } : {}),
    ...(t.scope ? { scope: t.scope } : {}),
    ...(typeof issuer === 'string' ? { issuer } : {}),
  };
}

function toSdkTokens(t: McpAuthTokens): OAuthTokens {
  return {
    access_token: t.accessToken,
    token_type: 'Bearer',
    ...(t.refreshToken ? { refresh_token: t.refreshToken } : {}),
    ...(t.expiresAt ? { expires_in: Math.max(0, Math.floor(t.expiresAt - Date.now() / 1000)) } : {}),
    ...(t.scope ? { scope: t.scope } : {}),
    ...(t.issuer ? { issuer: t.issuer } : {}),
  } as OAuthTokens;
}

function toStoredClient(c: OAuthClientInformationMixed): McpAuthClientInfo {
  const full = c as { client_id_issued_at?: number; client_secret_expires_at?: number; issuer?: unknown };
  return {
    clientId: c.client_id,
    ...(c.client_secret ? { clientSecret: c.client_secret } : {}),
    ...(full.client_id_issued_at ? { clientIdIssuedAt: full.client_id_issued_at } : {}),
    ...(full.client_secret_expires_at ? { clientSecretExpiresAt: full.client_secret_expires_at } : {}),
    ...(typeof full.issuer === 'string' ? { issuer: full.issuer } : {}),
  };
}

function toSdkClient(c: McpAuthClientInfo): OAuthClientInformationMixed {
  return { client_id: c.clientId, ...(c.clientSecret ? { client_secret: c.clientSecret } : {}), ...(c.issuer ? { issuer: c.issuer } : {}) } as OAuthClientInformationMixed;
}

export interface ProviderOptions {
  name: string;
  serverUrl: string;
  settings: OAuthSettings | undefined;
  mode: 'connect' | 'flow';
  /** The store (default OpenCode's, under $XDG_DATA_HOME). */
  file?: string;
  /** The state to send (flow mode; default a new random one). */
  state?: string;
}

export class McpOAuthProvider implements OAuthClientProvider {
  /** The authorization URL the SDK asked to open (flow mode), or that would be opened (connect mode). */
  authorizationUrl: URL | undefined;
  /** The random state sent with the authorization request (flow mode). */
  readonly oauthState: string;
  private verifier: string | undefined;
  private issuer: string | undefined;
  private registrationEndpoint = false;
  private metadataFound = false;
  private pendingTokens: OAuthTokens | undefined;
  private pendingClient: OAuthClientInformationMixed | undefined;
  private readonly file: string;
  private readonly options: ProviderOptions;

  constructor(options: ProviderOptions) {
    this.options = options;
    this.file = options.file ?? mcpAuthFile();
    this.oauthState = options.state ?? newOAuthState();
  }

  get redirectUrl(): string {
    return redirectUriOf(this.options.settings);
  }

  get clientMetadata(): OAuthClientMetadata {
    const s = this.options.settings;
    return {
      redirect_uris: [this.redirectUrl],
      client_name: 'OpenCode',
      client_uri: 'https://opencode.ai',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: s?.clientSecret ? 'client_secret_post' : 'none',
      ...(s?.scope ? { scope: s.scope } : {}),
    };
  }

  state(): string {
    return this.oauthState;
  }

  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.issuer = state.authorizationServerUrl;
    this.registrationEndpoint = Boolean(state.authorizationServerMetadata?.registration_endpoint);
    this.metadataFound = state.authorizationServerMetadata !== undefined;
  }

  private cached: ReturnType<typeof mcpAuthFor> | undefined;

  /** The server's stored entry, read once (every request sends the token) and again after a write. */
  private stored(): ReturnType<typeof mcpAuthFor> {
    this.cached ??= mcpAuthFor(this.options.name, this.options.serverUrl, this.file);
    return this.cached;
  }

  private async write(change: Parameters<typeof updateMcpAuth>[1]): Promise<void> {
    this.cached = undefined;
    await updateMcpAuth(this.options.name, change, this.file);
    this.cached = undefined;
  }

  async clientInformation(): Promise<OAuthClientInformationMixed | undefined> {
    const s = this.options.settings;
    if (s?.clientId) return { client_id: s.clientId, ...(s.clientSecret ? { client_secret: s.clientSecret } : {}) };
    if (this.pendingClient) return this.pendingClient;
    const info = (await this.stored())?.clientInfo;
    if (info && !(info.clientSecretExpiresAt && info.clientSecretExpiresAt < Date.now() / 1000)) {
      // Saved without the SDK's stamp (by OpenCode): it was made with this server's authorization server.
      const client = toSdkClient({ ...info, ...(info.issuer || !this.issuer ? {} : { issuer: this.issuer }) });
      // A flow keeps it, so that what it saves at the end still has it.
      if (this.options.mode === 'flow') this.pendingClient = client;
      return client;
    }
    // No client: one must be registered. Never from a start (connect mode), and not at all without a registration endpoint.
    if (!this.metadataFound) throw new McpNeedsAuthError(NO_METADATA);
    if (!this.registrationEndpoint) throw new McpNeedsClientRegistrationError(registrationMessage(this.issuer));
    if (this.options.mode === 'connect') throw new McpNeedsAuthError();
    return undefined;
  }

  async saveClientInformation(info: OAuthClientInformationMixed): Promise<void> {
    if (this.options.settings?.clientId) return;
    if (this.options.mode === 'flow') {
      this.pendingClient = info;
      return;
    }
    const { serverUrl } = this.options;
    await this.write((entry) => ({ ...entry, clientInfo: toStoredClient(info), serverUrl }));
  }

  async tokens(): Promise<OAuthTokens | undefined> {
    if (this.options.mode === 'flow') return this.pendingTokens;
    const tokens = (await this.stored())?.tokens;
    // Tokens OpenCode saved have no issuer stamp: they are this server's, from the authorization server found.
    return tokens ? toSdkTokens({ ...tokens, ...(tokens.issuer || !this.issuer ? {} : { issuer: this.issuer }) }) : undefined;
  }

  async saveTokens(tokens: OAuthTokens): Promise<void> {
    if (this.options.mode === 'flow') {
      this.pendingTokens = tokens;
      return;
    }
    const { serverUrl } = this.options;
    await this.write((entry) => ({ ...entry, tokens: toStoredTokens(tokens), serverUrl }));
  }

  redirectToAuthorization(url: URL): void {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`the authorization server gave a ${url.protocol} authorization URL; only http and https are supported`);
    }
    this.authorizationUrl = url;
  }

  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }

  codeVerifier(): string {
    if (this.verifier === undefined) throw new Error('no OAuth flow is in progress for this server');
    return this.verifier;
  }

  async invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): Promise<void> {
    if (this.options.mode === 'flow') {
      if (scope === 'all' || scope === 'client') this.pendingClient = undefined;
      if (scope === 'all' || scope === 'tokens') this.pendingTokens = undefined;
      return;
    }
    if (scope !== 'all' && scope !== 'client' && scope !== 'tokens') return;
    await this.write((entry) => {
      if (!entry || scope === 'all') return undefined;
      const { [scope === 'client' ? 'clientInfo' : 'tokens']: _gone, ...rest } = entry;
      return rest;
    });
  }

  /** Flow mode: saves what the flow got (OpenCode's commit: the entry replaced by tokens, client, URL). */
  async commit(): Promise<void> {
    const tokens = this.pendingTokens;
    if (!tokens) return;
    const client = this.pendingClient && !this.options.settings?.clientId ? toStoredClient(this.pendingClient) : undefined;
    const { serverUrl } = this.options;
    await this.write(() => ({ tokens: toStoredTokens(tokens), ...(client ? { clientInfo: client } : {}), serverUrl }));
  }
}
