/**
 * Who may call the gateway route groups (`/v1`, `/api/v1`): a bearer key from the config's
 * `server.keys`, or the server password (as a bearer token or HTTP Basic). With neither configured
 * the server is open (serve refuses a non-loopback address without a password). A key may carry its
 * own request limit, so one client cannot starve the others; it is counted here, in the server.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config/schema-types.ts';
import { limitsOf } from '../scheduler/limits.ts';
import { HttpError } from './http-error.ts';
import { KeyLimiter, type LimitState } from './key-limiter.ts';
import type { ServerState } from './state.ts';

export interface Client {
  /** A label for logs (the key's `name`, else `key-<n>`); never the key. */
  name: string;
  /** Whose stored things (the Responses API's stored responses) it sees: a digest of its key, or `open` for the server password and an open server. */
  owner: string;
  limiter?: KeyLimiter;
}

export interface GatewaySettings {
  /** Whether any key is configured (an empty one included: the server then stays closed). */
  keyed: boolean;
  keys: { digest: Buffer; client: Client }[];
  maxWaitMs: number;
  /** The open client (no keys, no password): one shared client without limits. */
  open: Client;
}

type KeyEntry = string | { key: string; name?: string; rateLimit?: Config['rateLimit'] };

const DEFAULT_MAX_WAIT_MS = 30_000;
const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

export function gatewaySettings(config: Readonly<Config>): GatewaySettings {
  const server = (config.server ?? {}) as { keys?: KeyEntry[]; maxWaitMs?: number };
  const entries = server.keys ?? [];
  const keys = entries.flatMap((entry, i) => {
    const e = typeof entry === 'string' ? { key: entry } : entry;
    if (!e.key) return [];
    const limits = limitsOf(`client:${i}`, e.rateLimit);
    const limited = limits.windows.length > 0 || limits.concurrency.length > 0;
    const keyDigest = digest(e.key);
    const client: Client = { name: e.name ?? `key-${i + 1}`, owner: `key:${keyDigest.toString('hex').slice(0, 32)}`, ...(limited ? { limiter: new KeyLimiter(limits.windows, limits.concurrency[0]?.limit) } : {}) };
    return [{ digest: keyDigest, client }];
  });
  return { keyed: entries.length > 0, keys, maxWaitMs: server.maxWaitMs ?? DEFAULT_MAX_WAIT_MS, open: { name: 'open', owner: 'open' } };
}

const settingsOf = new WeakMap<ServerState, Promise<GatewaySettings>>();

/** The gateway settings of the server (from the config of its own folder), read once. */
export function serverGatewaySettings(state: ServerState): Promise<GatewaySettings> {
  let found = settingsOf.get(state);
  if (!found) {
    found = state.host.instance().then((instance) => gatewaySettings(instance.config));
    settingsOf.set(state, found);
  }
  return found;
}

function bearer(header: string): string | undefined {
  const m = /^bearer\s+(.+)$/i.exec(header.trim());
  return m?.[1]?.trim();
}

function basicPassword(header: string): { user: string; password: string } | undefined {
  const m = /^basic\s+(.+)$/i.exec(header.trim());
  if (!m) return undefined;
  const text = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

function same(a: string, b: string): boolean {
  const x = digest(a);
  const y = digest(b);
  return timingSafeEqual(x, y);
}

/** The client a request comes from (its Authorization header), or a 401. */
export function authenticate(header: string, settings: GatewaySettings, auth: ServerState['options']['auth']): Client {
  if (!settings.keyed && !auth) return settings.open;
  const token = bearer(header);
  if (token !== undefined) {
    const d = digest(token);
    for (const k of settings.keys) if (timingSafeEqual(k.digest, d)) return k.client;
    if (auth && same(token, auth.password)) return settings.open;
  }
  const basic = basicPassword(header);
  if (auth && basic && same(basic.user, auth.username) && same(basic.password, auth.password)) return settings.open;
  throw new HttpError(401, 'UNAUTHORIZED', header ? 'The API key is not valid.' : 'This API needs an API key.', {
    hint: settings.keyed ? 'Send Authorization: Bearer <key> with one of the keys in the config’s server.keys.' : 'Send Authorization: Bearer <server password> (OPENCODE_SERVER_PASSWORD).',
  });
}

/** Counts a request against the client's own limit: a 429 with Retry-After when it is over. */
export function admitClient(client: Client): { state?: LimitState; release: () => void } {
  if (!client.limiter) return { release: () => undefined };
  const result = client.limiter.tryStart(Date.now());
  if (!result.ok) {
    const seconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
    throw new HttpError(429, 'RATE_LIMITED', `This API key's request limit (${result.limit}) is used up.`, {
      hint: `Retry after ${seconds} s.`,
      retryAfter: seconds,
      details: { state: result.state },
    });
  }
  return { state: result.state, release: result.release };
}
