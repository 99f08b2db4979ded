/**
 * The config's `mcp.<name>.headers` are for the MCP server: the SDK sends a transport's
 * `requestInit.headers` with every request it makes, its OAuth requests too (discovery, client
 * registration, code exchange, refresh), so a key such as `X-API-Key` would reach an authorization
 * server on another origin. This fetch drops them from every request whose origin is not the
 * server's; a header of the same name the SDK set itself (another value) is kept.
 */
import type { FetchLike } from './bounded-fetch.ts';

export function serverScopedFetch(serverUrl: URL, configured: Record<string, string>, inner: FetchLike = fetch): FetchLike {
  const origin = serverUrl.origin;
  const entries = Object.entries(configured).map(([name, value]) => [name.toLowerCase(), value.trim()] as const);
  if (entries.length === 0) return inner;
  return (url, init) => {
    const target = URL.parse(url instanceof URL ? url.href : String(url));
    if (target?.origin === origin || init?.headers === undefined) return inner(url, init);
    const headers = new Headers(init.headers);
    for (const [name, value] of entries) if (headers.get(name) === value) headers.delete(name);
    return inner(url, { ...init, headers });
  };
}
