import { cors } from 'hono/cors';
import type { MiddlewareHandler } from 'hono';
import type { ServerEnv } from './route.ts';

const LOCAL = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

/** Whether a browser page at `origin` may call the server: localhost pages, and the origins given with --cors (`*`: any). */
export function allowedOrigin(origin: string, allowed: readonly string[]): boolean {
  return LOCAL.test(origin) || allowed.includes('*') || allowed.includes(origin.replace(/\/$/, ''));
}

export function corsMiddleware(allowed: readonly string[]): MiddlewareHandler<ServerEnv> {
  return cors({
    origin: (origin) => (origin && allowedOrigin(origin, allowed) ? origin : null),
    allowHeaders: ['authorization', 'content-type', 'x-opencode-directory', 'x-request-id'],
    exposeHeaders: ['x-request-id', 'x-pantheon-model', 'retry-after'],
    maxAge: 86_400,
    credentials: true,
  }) as MiddlewareHandler<ServerEnv>;
}
