import type { MiddlewareHandler } from 'hono';
import type { ServerEnv } from './route.ts';

const LOCAL = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

/** Whether a browser page at `origin` may call the server: localhost pages, and the origins given with --cors (`*`: any). */
export function allowedOrigin(origin: string, allowed: readonly string[]): boolean {
  return LOCAL.test(origin) || allowed.includes('*') || allowed.includes(origin.replace(/\/$/, ''));
}

const ALLOW_HEADERS = ['authorization', 'content-type', 'x-opencode-directory', 'x-request-id'].join(',');
const EXPOSE_HEADERS = ['x-request-id', 'x-pantheon-model', 'retry-after'].join(',');
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
      c.header('Access-Control-Allow-Headers', ALLOW_HEADERS);
      return c.body(null, 204);
    }
    corsHeaders(origin, allowed, (name, value) => c.header(name, value));
    await next();
  };
}
