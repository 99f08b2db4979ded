/**
 * The gate of the gateway route groups (`/v1`, `/api/v1`): authenticates the client (bearer key or
 * server password) before any of the body is read, then, once the body is in, counts the request
 * against the key's own limit (429 with Retry-After when it is over) and reports that limit in
 * `X-RateLimit-Limit/Remaining/Reset`.
 */
import { admitClient, authenticate, serverGatewaySettings } from './client-keys.ts';
import { HttpError } from './http-error.ts';
import type { LimitState } from './key-limiter.ts';
import type { RouteRequest } from './route.ts';

/** `X-RateLimit-Limit/Remaining/Reset` for `state` (nothing when there is no limit). */
export function limitHeaders(req: Pick<RouteRequest, 'setHeader'>, state: LimitState | undefined): void {
  if (!state) return;
  req.setHeader('X-RateLimit-Limit', String(state.limit));
  req.setHeader('X-RateLimit-Remaining', String(state.remaining));
  req.setHeader('X-RateLimit-Reset', String(Math.ceil(state.resetAt / 1000)));
}

/**
 * Lets the request through (setting `req.client`) or throws the 401. The request is counted against
 * the key's own limit only once its body has arrived (`gatewayAdmit`): a client still sending one
 * holds none of its key's slots.
 */
export async function gatewayGate(req: RouteRequest): Promise<void> {
  const settings = await serverGatewaySettings(req.state);
  try {
    req.client = authenticate(req.header('authorization') ?? '', settings, req.state.options.auth);
  } catch (error) {
    req.setHeader('WWW-Authenticate', 'Bearer realm="pantheon"');
    throw error;
  }
}

/**
 * Counts the request (its body in) against its key's own limit, or throws the 429. Returns the
 * release of the key's in-flight slot when the key has a limit of its own (the request counts as in
 * flight until its answer has been sent or dropped), else undefined.
 */
export function gatewayAdmit(req: RouteRequest): (() => void) | undefined {
  const client = req.client;
  if (!client?.limiter) return undefined;
  let admitted;
  try {
    admitted = admitClient(client);
  } catch (error) {
    if (error instanceof HttpError) limitHeaders(req, error.details.state as LimitState | undefined);
    throw error;
  }
  limitHeaders(req, admitted.state);
  return admitted.release;
}
