/**
 * The gate of the gateway route groups (`/v1`, `/api/v1`): authenticates the client (bearer key or
 * server password), counts the request against the key's own limit (429 with Retry-After when it is
 * over), and reports that limit in `X-RateLimit-Limit/Remaining/Reset` on every response.
 */
import type { MiddlewareHandler } from 'hono';
import { admitClient, authenticate, serverGatewaySettings } from './client-keys.ts';
import { HttpError } from './http-error.ts';
import type { LimitState } from './key-limiter.ts';
import type { ServerContext, ServerEnv } from './route.ts';

/** `X-RateLimit-Limit/Remaining/Reset` for `state` (nothing when there is no limit). */
export function limitHeaders(c: ServerContext, state: LimitState | undefined): void {
  if (!state) return;
  c.header('X-RateLimit-Limit', String(state.limit));
  c.header('X-RateLimit-Remaining', String(state.remaining));
  c.header('X-RateLimit-Reset', String(Math.ceil(state.resetAt / 1000)));
}

export const gatewayGate: MiddlewareHandler<ServerEnv> = async (c, next) => {
  if (c.req.method === 'OPTIONS') return next();
  const server = c.get('state');
  const settings = await serverGatewaySettings(server);
  let client;
  try {
    client = authenticate(c, settings, server.options.auth);
  } catch (error) {
    c.header('WWW-Authenticate', 'Bearer realm="pantheon"');
    throw error;
  }
  c.set('client', client);
  let admitted;
  try {
    admitted = admitClient(client);
  } catch (error) {
    if (error instanceof HttpError) limitHeaders(c, error.details.state as LimitState | undefined);
    throw error;
  }
  limitHeaders(c, admitted.state);
  await next();
  // Without a limit of its own there is nothing to hold (and reading c.res.body would take the response off Node's fast path).
  if (!client.limiter) return admitted.release();
  const body = c.res.body;
  if (!body) return admitted.release();
  // The request counts as in flight until its body (a stream, maybe) has been sent or dropped.
  c.res = new Response(
    body.pipeThrough(new TransformStream({ flush: admitted.release, cancel: admitted.release } as unknown as ConstructorParameters<typeof TransformStream<Uint8Array, Uint8Array>>[0])),
    c.res,
  );
};
