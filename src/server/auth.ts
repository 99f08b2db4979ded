/**
 * HTTP Basic auth as OpenCode's server does it: with OPENCODE_SERVER_PASSWORD set, every request
 * needs `Authorization: Basic base64(user:password)` (user OPENCODE_SERVER_USERNAME, default
 * `opencode`), or `?auth_token=base64(user:password)` for clients that cannot set headers (an
 * EventSource). CORS preflights pass. Route groups with their own `gate` (the gateway’s bearer keys) are not asked for it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { HttpError } from './http-error.ts';
import type { ServerEnv } from './route.ts';

/** Compared as digests, in time that says nothing of either value, not even its length. */
function same(a: string, b: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** The username and password of a Basic credential (`base64(user:password)`), if it is one. */
function decodeBasic(token: string): { user: string; password: string } | undefined {
  const text = Buffer.from(token, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** The challenge a 401 carries. */
export const WWW_AUTHENTICATE = 'Basic realm="opencode", charset="UTF-8"';

/**
 * Undefined when the request's `Authorization` header or its `?auth_token=` carries the server's
 * credentials, else the 401 to answer. Either may carry them: a stale ?auth_token= in a copied URL
 * does not hide a right header.
 */
export function credentialsRefused(auth: { username: string; password: string }, header: string | undefined, token: string | undefined): HttpError | undefined {
  const tried = [header && /^basic\s+/i.test(header) ? header.replace(/^basic\s+/i, '') : undefined, token].filter((t) => t !== undefined).map(decodeBasic);
  if (tried.some((given) => given !== undefined && same(given.user, auth.username) && same(given.password, auth.password))) return undefined;
  return new HttpError(401, 'UNAUTHORIZED', tried.length || header ? 'The credentials are wrong.' : 'This server needs a password.', {
    hint: 'Send HTTP Basic auth with the server password (OPENCODE_SERVER_PASSWORD; user OPENCODE_SERVER_USERNAME, default "opencode"), or ?auth_token=base64(user:password).',
  });
}

export function basicAuth(auth: { username: string; password: string }): MiddlewareHandler<ServerEnv> {
  return async (c, next) => {
    if (c.req.method === 'OPTIONS') return next();
    const refused = credentialsRefused(auth, c.req.header('authorization'), c.req.query('auth_token'));
    if (!refused) return next();
    c.header('WWW-Authenticate', WWW_AUTHENTICATE);
    throw refused;
  };
}
