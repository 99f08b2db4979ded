/**
 * An MCP server's OAuth sign-in, as OpenCode's `mcp auth` and its auth routes run it, with the MCP
 * SDK's client auth (discovery, dynamic client registration, PKCE, code exchange): `startAuth`
 * reaches the server without tokens and gets the authorization URL; `finish` exchanges the code
 * the browser brought back and saves the tokens (oauth-store.ts). Nothing is saved before that.
 * Loaded lazily (it imports the SDK).
 */
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { fetchableUrl, hasAuthorization } from '../basic-auth.ts';
import { PantheonError } from '../errors.ts';
import { boundedFetch, MAX_MESSAGE_BYTES } from './bounded-fetch.ts';
import { serverScopedFetch } from './header-scope.ts';
import { McpNeedsAuthError, McpNeedsClientRegistrationError, McpOAuthProvider, NO_METADATA, type OAuthSettings } from './oauth-provider.ts';
import type { ServerConfig } from './server-config.ts';
import { errorMessage } from './start-reason.ts';

export type AuthStart =
  | { kind: 'redirect'; authorizationUrl: string; oauthState: string; redirectUri: string; finish(code: string): Promise<void>; cancel(): Promise<void> }
  /** The server let the client in without signing in: nothing to do. */
  | { kind: 'authorized' }
  | { kind: 'needs_client_registration'; error: string };

/** The server's OAuth settings, or a usage error saying why it has none (local, `oauth: false`, bad URL). */
export function oauthTarget(name: string, config: ServerConfig): { url: URL; settings: OAuthSettings | undefined } {
  const shown = JSON.stringify(name);
  if (config.type !== 'remote') {
    throw new PantheonError('USAGE', `MCP server ${shown} is a local server: OAuth is for remote servers.`, {
      hint: `A local server gets secrets through mcp.${name}.environment, e.g. "environment": {"GITHUB_TOKEN": "{env:GITHUB_TOKEN}"}.`,
    });
  }
  if (config.oauth === false) {
    throw new PantheonError('USAGE', `MCP server ${shown} has OAuth turned off (mcp.${name}.oauth is false).`, {
      hint: `Remove "oauth": false from mcp.${name} to sign in with OAuth, or give it a token in mcp.${name}.headers.`,
    });
  }
  const url = URL.parse(config.url ?? '');
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new PantheonError('USAGE', `mcp.${name}.url is not an http(s) URL, so the server cannot be signed in to.`, { hint: 'Set it to the server\u2019s URL, e.g. "https://mcp.example.com/mcp".' });
  }
  if (hasAuthorization(fetchableUrl(url, config.headers ?? {}).headers)) {
    throw new PantheonError('USAGE', `MCP server ${shown} gets its own credentials from the config (an Authorization in mcp.${name}.headers, or a user in its URL), so OAuth is not used for it.`, {
      hint: `Remove them to sign in with OAuth: the sign-in would send them to the authorization server too.`,
    });
  }
  const settings = typeof config.oauth === 'object' && config.oauth !== null ? (config.oauth as OAuthSettings) : undefined;
  return { url, settings };
}

/**
 * Reaches the server with no tokens, the SDK registering a client when needed, and answers the
 * URL to open (or that none is needed). `timeoutMs` bounds this step.
 */
export async function startAuth(name: string, config: ServerConfig, options: { timeoutMs: number; file?: string; state?: string }): Promise<AuthStart> {
  const { url, settings } = oauthTarget(name, config);
  const provider = new McpOAuthProvider({ name, serverUrl: config.url as string, settings, mode: 'flow', ...(options.file ? { file: options.file } : {}), ...(options.state ? { state: options.state } : {}) });
  const target = fetchableUrl(url, config.headers ?? {});
  const serverUrl = new URL(target.href);
  const transport = new StreamableHTTPClientTransport(serverUrl, {
    authProvider: provider,
    requestInit: { headers: target.headers },
    // The config's headers only to the server's own origin (never to an authorization server elsewhere).
    fetch: boundedFetch(MAX_MESSAGE_BYTES, serverScopedFetch(serverUrl, target.headers), () => undefined),
  });
  const client = new Client({ name: 'pantheon', version: '0' }, { capabilities: {} });
  try {
    await client.connect(transport, { timeout: options.timeoutMs, signal: AbortSignal.timeout(options.timeoutMs) });
    await client.close();
    return { kind: 'authorized' };
  } catch (error) {
    if (error instanceof McpNeedsClientRegistrationError) {
      await transport.close().catch(() => undefined);
      return { kind: 'needs_client_registration', error: error.message };
    }
    if (error instanceof McpNeedsAuthError && error.message === NO_METADATA) {
      await transport.close().catch(() => undefined);
      throw new PantheonError('MCP_START_FAILED', `MCP server ${JSON.stringify(name)} wants authentication but publishes no OAuth metadata, so it cannot be signed in to with OAuth.`, {
        hint: `Give it its token in mcp.${name}.headers instead, e.g. "headers": {"Authorization": "Bearer {env:TOKEN}"}, in opencode.json.`,
      });
    }
    const authorizationUrl = provider.authorizationUrl;
    if (!(error instanceof UnauthorizedError) || !authorizationUrl) {
      await transport.close().catch(() => undefined);
      throw new PantheonError('MCP_START_FAILED', `Could not start signing in to MCP server ${JSON.stringify(name)}: ${errorMessage(error)}.`, {
        hint: `Check mcp.${name}.url; \`opencode mcp debug ${name}\` shows what the server answers.`,
        cause: error,
      });
    }
    return {
      kind: 'redirect',
      authorizationUrl: authorizationUrl.href,
      oauthState: provider.oauthState,
      redirectUri: provider.redirectUrl,
      async finish(code: string) {
        try {
          await transport.finishAuth(code);
        } catch (failure) {
          throw new PantheonError('MCP_START_FAILED', `Signing in to MCP server ${JSON.stringify(name)} failed: the authorization server did not exchange the code (${errorMessage(failure)}); nothing was saved.`, {
            hint: `Run \`opencode mcp auth ${name}\` again.`,
            cause: failure,
          });
        } finally {
          await transport.close().catch(() => undefined);
        }
        await provider.commit();
      },
      async cancel() {
        await transport.close().catch(() => undefined);
      },
    };
  }
}
