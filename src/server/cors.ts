import type { MiddlewareHandler } from 'hono';
import { HttpError } from './http-error.ts';
import type { ServerContext, ServerEnv } from './route.ts';

const LOCAL = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

/** Whether a browser page at `origin` may call the server: localhost pages, and the origins given with --cors (`*`: any). */
export function allowedOrigin(origin: string, allowed: readonly string[]): boolean {
  return LOCAL.test(origin) || allowed.includes('*') || allowed.includes(origin.replace(/\/$/, ''));
}

/** Methods that change nothing, so any page may send them (it still reads the answer only where CORS lets it). */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
/** A Host header naming this machine by address (an IPv4 or IPv6 literal, or localhost), with or without its port. */
const ADDRESS_HOST = /^(?:localhost|\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\])(?::\d{1,5})?$/;

/**
 * Whether a request may change anything (run a turn or a command, write a file or a key): one with
 * no Origin (a program: the SDK, curl, an OpenAI client), or from a page whose origin is allowed
 * (localhost, --cors), or that is this server itself reached by address (the dashboard on a LAN
 * IP). A page of any other site is refused, whether it posts across sites (a form, a `text/plain`
 * fetch that needs no preflight) or reaches this server under its own name through DNS rebinding:
 * the server acts for whoever it answers, and on a loopback bind without a password that is anyone
 * a browser lets in.
 */
export function originMayChange(method: string, origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined || SAFE_METHODS.has(method)) return true;
  if (allowedOrigin(origin, allowed)) return true;
  return host !== undefined && ADDRESS_HOST.test(host) && (origin === `http://${host}` || origin === `https://${host}`);
}

/**
 * Whether a request was sent by a page of another site, which a GET lets through (an `<img>`, a
 * link, a `no-cors` fetch): the browser says so in `Sec-Fetch-Site`, or names the page in an
 * `Origin` that may not change anything. Such a request is answered, but starts nothing: the MCP
 * servers of a folder it names run commands from that folder's config.
 */
export function fromOtherSite(headers: { origin?: string | undefined; host?: string | undefined; fetchSite?: string | undefined }, allowed: readonly string[]): boolean {
  if (headers.fetchSite === 'cross-site') return true;
  return headers.origin !== undefined && !originMayChange('POST', headers.origin, headers.host, allowed);
}

/** fromOtherSite for a request, with the server's --cors list. */
export function requestFromOtherSite(c: ServerContext): boolean {
  return fromOtherSite({ origin: c.req.header('origin'), host: c.req.header('host'), fetchSite: c.req.header('sec-fetch-site') }, c.get('state').options.cors);
}

/** A Host header naming this machine by a name under `localhost` (`localhost.`, `app.localhost`), which resolves nowhere else. */
const LOCAL_NAME_HOST = /^(?:[a-z0-9-]+\.)*localhost\.?(?::\d{1,5})?$/i;

/**
 * Whether a request may be answered at all under its Host: always with a password (a page cannot
 * know it); without one (a loopback bind), only for this machine's address or a localhost name.
 * DNS rebinding points a site's own name at 127.0.0.1, so that its page can read this server's
 * answers as same-origin: sessions, messages, file listings, the config. Programs send the host
 * they dialled, an address or localhost; a request without a Host (HTTP/1.0) is a program's.
 */
export function hostMayAsk(host: string | undefined, open: boolean): boolean {
  return !open || host === undefined || ADDRESS_HOST.test(host) || LOCAL_NAME_HOST.test(host);
}

/** The refusal of a request under another site's name (hostMayAsk). */
export function foreignHost(host: string): HttpError {
  return new HttpError(403, 'FORBIDDEN_HOST', `This server answers requests for its address or localhost, not for ${JSON.stringify(host.slice(0, 200))}.`, {
    hint: 'Use http://127.0.0.1:<port> (or localhost), or set OPENCODE_SERVER_PASSWORD to serve other names.',
  });
}

/** The refusal of a page that may not change anything (originMayChange). */
export function foreignOrigin(origin: string): HttpError {
  return new HttpError(403, 'FORBIDDEN_ORIGIN', `A page at ${JSON.stringify(origin.slice(0, 200))} may not change anything on this server.`, {
    hint: 'Start the server with --cors <origin> to let that site in, or call it from a program (no Origin header).',
  });
}

const ALLOW_HEADERS = ['authorization', 'content-type', 'x-opencode-directory', 'x-request-id', 'x-pantheon-max-wait'].join(',');
/** What a page may read of an answer: who served it, the cache, the rate-limit state, when to retry. */
const EXPOSE_HEADERS = ['x-request-id', 'x-pantheon-model', 'x-pantheon-cache', 'retry-after', 'x-should-retry', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'].join(',');
/** A list of header names (RFC 9110 tokens), as a preflight's Access-Control-Request-Headers holds. */
const HEADER_LIST = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:[ \t]*,[ \t]*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*$/;

/**
 * The headers a preflight lets through: the ones the page asks for (a client's own, as the openai
 * client's `x-stainless-*`; the origin is checked on its own), or the server's list when the ask is
 * not a plain list of names or is longer than any real one.
 */
function allowHeaders(requested: string | undefined): string {
  return requested !== undefined && requested.length <= 2048 && HEADER_LIST.test(requested) ? requested : ALLOW_HEADERS;
}
const ALLOW_METHODS = 'GET,HEAD,PUT,POST,DELETE,PATCH,QUERY';
const MAX_AGE = '86400';

/**
 * The CORS headers of an answer that is not a preflight's (hono/cors's), set through `set`: the
 * Hono middleware below and the fast path (fast-dispatch.ts) send the same.
 */
export function corsHeaders(origin: string | undefined, allowed: readonly string[], set: (name: string, value: string) => void): void {
  if (origin && allowedOrigin(origin, allowed)) set('access-control-allow-origin', origin);
  set('access-control-allow-credentials', 'true');
  set('access-control-expose-headers', EXPOSE_HEADERS);
  set('vary', 'Origin');
}

/**
 * The Host check (hostMayAsk; `open`: no password), then CORS, with the headers hono/cors sends, all set before the route runs. (hono/cors sets them on
 * `c.res` before the route and appends `Vary` after it; either makes Hono rebuild the route's
 * response, which takes @hono/node-server off its fast path for every response — a web
 * ReadableStream per body instead of one write.) Preflights answer 204 here.
 */
export function corsMiddleware(allowed: readonly string[], open: boolean): MiddlewareHandler<ServerEnv> {
  return async (c, next) => {
    const host = c.req.header('host');
    if (!hostMayAsk(host, open)) throw foreignHost(host as string);
    const origin = c.req.header('origin');
    if (!originMayChange(c.req.method, origin, c.req.header('host'), allowed)) {
      corsHeaders(origin, allowed, (name, value) => c.header(name, value));
      throw foreignOrigin(origin as string);
    }
    if (c.req.method === 'OPTIONS') {
      if (origin && allowedOrigin(origin, allowed)) c.header('Access-Control-Allow-Origin', origin);
      c.header('Access-Control-Allow-Credentials', 'true');
      c.header('Access-Control-Expose-Headers', EXPOSE_HEADERS);
      c.header('Vary', 'Origin, Access-Control-Request-Headers');
      c.header('Access-Control-Max-Age', MAX_AGE);
      c.header('Access-Control-Allow-Methods', ALLOW_METHODS);
      c.header('Access-Control-Allow-Headers', allowHeaders(c.req.header('access-control-request-headers')));
      return c.body(null, 204);
    }
    corsHeaders(origin, allowed, (name, value) => c.header(name, value));
    await next();
  };
}
