/**
 * The `client` and `serverUrl` of a plugin's input, as OpenCode makes them: an `@opencode-ai/sdk`
 * client of OpenCode's HTTP API, for the plugin's project (`x-opencode-directory`), with the server's
 * credentials when it has a password (OPENCODE_SERVER_PASSWORD, as OpenCode's plugin client sends
 * them), whose requests are answered in-process by the process's own server (in-process-server.ts).
 *
 * Cheap to make: neither the SDK nor the server is loaded until a plugin first calls the client
 * (a run with plugins that never call it pays nothing for it). Until then `client` is a stand-in
 * whose methods load the SDK and call the real one; each call answers a promise, as the SDK's do.
 */
import type { createOpencodeClient, OpencodeClient } from '@opencode-ai/sdk/client';
import type { InProcessServer } from './in-process-server.ts';

/** What a plugin's `serverUrl` is when no server listens (OpenCode's default). */
export const DEFAULT_SERVER_URL = 'http://localhost:4096';

export interface PluginClientOptions {
  /** The plugin's project folder: every request is about it. */
  directory: string;
  /** Who answers the client's requests. */
  server: InProcessServer;
  /** The server's Basic credentials (OPENCODE_SERVER_PASSWORD, OPENCODE_SERVER_USERNAME or "opencode"), sent as any client sends them. */
  auth?: { username: string; password: string };
  /** Loads the SDK's client (tests count its calls); default: `@opencode-ai/sdk/client`. */
  load?: () => Promise<{ createOpencodeClient: typeof createOpencodeClient }>;
}

export interface PluginClient {
  client: OpencodeClient;
  /** The listening server's URL, or OpenCode's default when none listens (read when asked, as OpenCode's getter). */
  readonly serverUrl: URL;
}

/** The server's credentials from the environment, as OpenCode's plugin client takes them. */
export function serverAuth(env: NodeJS.ProcessEnv): { username: string; password: string } | undefined {
  const password = env.OPENCODE_SERVER_PASSWORD;
  return password ? { username: env.OPENCODE_SERVER_USERNAME || 'opencode', password } : undefined;
}

/**
 * A stand-in for the object at `path` of the client: reading a property gives the stand-in one
 * step further, calling it loads the real client (once) and calls the method there, on its owner.
 */
function standIn(path: readonly string[], real: () => Promise<OpencodeClient>, loaded: () => OpencodeClient | undefined): unknown {
  // A function, so that the proxy can be called; never a thenable (`await client` gives the client).
  return new Proxy(function client() {}, {
    get(_target, key) {
      if (typeof key === 'symbol' || key === 'then') return undefined;
      const done = loaded();
      // Loaded already: the real object (a plain property, a sync method such as `_client.getConfig`, works as in OpenCode).
      if (done) {
        const owner = path.reduce<unknown>((at, k) => (at as Record<string, unknown> | undefined)?.[k], done) as Record<string, unknown> | undefined;
        const value = owner?.[key];
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(owner) : value;
      }
      return standIn([...path, key], real, loaded);
    },
    apply(_target, _this, args: unknown[]) {
      const name = `client.${path.join('.')}`;
      return real().then((client) => {
        const owner = path.slice(0, -1).reduce<unknown>((at, k) => (at as Record<string, unknown> | undefined)?.[k], client) as Record<string, unknown> | undefined;
        const method = owner?.[path[path.length - 1] as string];
        if (typeof method !== 'function') throw new TypeError(`${name} is not a function of OpenCode's SDK client.`);
        return (method as (...a: unknown[]) => unknown).apply(owner, args);
      });
    },
  });
}

/** A plugin's `client` and `serverUrl` for `options.directory`. */
export function pluginClient(options: PluginClientOptions): PluginClient {
  const { server } = options;
  let made: OpencodeClient | undefined;
  let making: Promise<OpencodeClient> | undefined;
  const serverUrl = (): URL => server.url ?? new URL(DEFAULT_SERVER_URL);
  const baseUrl = (): string => serverUrl().href.replace(/\/$/, '');
  let base = '';
  /** The client made, its base URL the server's once it listens (a client first called while plugins loaded, before it listened, has OpenCode's default: event streams go to the base URL over HTTP). */
  const current = (): OpencodeClient | undefined => {
    if (made && base !== baseUrl()) {
      base = baseUrl();
      // The SDK's own client (protected in its types; OpenCode's plugins reach it as `client._client` too).
      (made as unknown as { _client: { setConfig(config: { baseUrl: string }): void } })._client.setConfig({ baseUrl: base });
    }
    return made;
  };
  const real = (): Promise<OpencodeClient> =>
    (making ??= (options.load ?? (() => import('@opencode-ai/sdk/client')))().then((sdk) => {
      const auth = options.auth;
      base = baseUrl();
      made = sdk.createOpencodeClient({
        baseUrl: base,
        directory: options.directory,
        ...(auth ? { headers: { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` } } : {}),
        fetch: (request: Request) => server.fetch(request),
      });
      return made;
    }, (error: unknown) => {
      making = undefined;
      throw error;
    }));
  return {
    client: standIn([], () => real().then(() => current() as OpencodeClient), current) as OpencodeClient,
    get serverUrl() {
      return serverUrl();
    },
  };
}
