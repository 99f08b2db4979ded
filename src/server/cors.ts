import type { MiddlewareHandler } from 'hono';
import type { ServerEnv } from './route.ts';

const LOCAL = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

/** Whether a browser page at `origin` may call the server: localhost pages, and the origins given with --cors (`*`: any). */
export function allowedOrigin(origin: string, allowed: readonly string[]): boolean {
  return LOCAL.test(origin) || allowed.includes('*') || allowed.includes(origin.replace(/\/$/, ''));
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
 * CORS, with the headers hono/cors sends, all set before the route runs. (hono/cors sets them on
 * `c.res` before the route and appends `Vary` after it; either makes Hono rebuild the route's
 * response, which takes @hono/node-server off its fast path for every response — a web
 * ReadableStream per body instead of one write.) Preflights answer 204 here.
 */
export function corsMiddleware(allowed: readonly string[]): MiddlewareHandler<ServerEnv> {
  return async (c, next) => {
    const origin = c.req.header('origin');
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
