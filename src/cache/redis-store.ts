import type { KeyvStoreAdapter } from 'keyv';
import { stripStoreCredentials } from '../config/url-credentials.ts';
import { PantheonError } from '../errors.ts';

export interface OpenedRedisStore {
  store: KeyvStoreAdapter;
  /** `redis://host:port[/db]`: never the user name or password. */
  description: string;
  /** Removes the URL's credentials from a message before it is shown anywhere. */
  scrub: (message: string) => string;
}

const HINT =
  'Check cache.store (redis://[:password@]host:port[/db]) and that the server is reachable, ' +
  'or use "memory" or a file path, or set cache.enabled to false.';

/** True for the store strings that name a Redis server. */
export function isRedisUrl(store: string): boolean {
  return /^rediss?:\/\//i.test(store);
}

/** A Redis URL without its credentials, for messages and `description`. */
export function describeRedisUrl(raw: string): string {
  try {
    const url = new URL(raw);
    const db = url.pathname && url.pathname !== '/' ? url.pathname : '';
    return `${url.protocol}//${url.host}${db}`;
  } catch {
    // Not parseable as a URL: cut out anything between the scheme and the last `@`.
    return stripStoreCredentials(raw);
  }
}

/** Every way the URL's secret parts could appear in a message (raw and percent-decoded). */
function secretsOf(raw: string): string[] {
  const found = new Set<string>();
  const userinfo = /^\w+:\/\/([^/]*)@/.exec(raw)?.[1];
  if (userinfo) {
    for (const part of [userinfo, ...userinfo.split(':')]) {
      if (part.length < 3) continue;
      found.add(part);
      try {
        found.add(decodeURIComponent(part));
      } catch {
        found.add(part.replace(/%/g, ''));
      }
    }
  }
  return [...found].sort((a, b) => b.length - a.length);
}

function makeScrubber(raw: string): (message: string) => string {
  const secrets = secretsOf(raw);
  return (message) => secrets.reduce((text, secret) => text.split(secret).join('***'), message);
}

/** Stop reconnecting after a few tries, so a dead server fails the open instead of hanging it. */
function reconnectStrategy(retries: number, cause: Error): number | Error {
  return retries >= 3 ? cause : Math.min(100 * 2 ** retries, 1000);
}

/**
 * Connects to Redis through `@keyv/redis` (imported here, on first use only) and checks the
 * connection before returning, so a wrong URL, password or host fails now with STORE_ERROR
 * rather than on the first request. Entry expiry is Redis's own (PX); `maxSize` is not enforced
 * on a Redis store: use the server's `maxmemory` policy for that.
 */
export async function openRedisStore(raw: string, connectTimeoutMs = 5000): Promise<OpenedRedisStore> {
  const description = describeRedisUrl(raw);
  const scrub = makeScrubber(raw);
  try {
    const url = new URL(raw);
    if (!url.hostname) throw new Error('it names no host');
  } catch (error) {
    throw new PantheonError(
      'STORE_ERROR',
      `The cache store ${description} is not a valid Redis URL: ${scrub(messageOf(error))}.`,
      { hint: HINT },
    );
  }
  const { default: KeyvRedis } = await import('@keyv/redis');
  let lastError: unknown;
  // @keyv/redis's own connection timeout comes after ours: when it fires it fails on its own state
  // ("Cannot read properties of undefined (reading 'destroy')"), which said nothing of the cause.
  const store = new KeyvRedis(
    { url: raw, socket: { connectTimeout: connectTimeoutMs, reconnectStrategy } },
    { throwOnConnectError: true, throwOnErrors: true, connectionTimeout: connectTimeoutMs + 1000 },
  );
  store.on('error', (error: unknown) => {
    lastError = error;
  });
  // The whole handshake is bounded (a server that takes the connection and never answers, as a paused Redis).
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${connectTimeoutMs} ms`)), connectTimeoutMs);
  });
  try {
    const ready = store.getClient().then((client) => client.ping());
    ready.catch(() => undefined);
    await Promise.race([ready, deadline]);
  } catch (error) {
    await store.disconnect(true).catch(() => undefined);
    const reason = scrub(messageOf(lastError ?? error));
    throw new PantheonError('STORE_ERROR', `Could not connect to the cache store ${description}: ${reason}.`, {
      hint: HINT,
    });
  } finally {
    clearTimeout(timer);
  }
  return { store, description, scrub };
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/[.\s]+$/, '') || 'unknown error';
}
