import type { JsonPath } from './json-path.ts';
import { emptyRecord } from './merge.ts';
import { isStoreKey, redactStoreUrl, redactUrlCredentials } from './url-credentials.ts';

const MAX_LENGTH = 40;
const MASK = '****';
/** Fields that hold a secret wherever they appear (as mask.ts reads them): a key, a webhook's secret, a password, a token. */
const SECRET_KEY = /^(?:api[-_]?key|secret|password|token|accessToken|refreshToken)$/i;
/** Objects whose every value may be a credential (HTTP headers, a server's environment). */
const SECRET_MAPS = new Set(['headers', 'environment']);

/** True when the value at `path` may be a credential: an `apiKey` (a `secret`, …), a header or environment entry, or one of `server.keys`. */
export function isSecretPath(path: JsonPath): boolean {
  if (path[0] === 'server' && path[1] === 'keys') return true;
  return path.some((key, i) => typeof key === 'string' && (SECRET_KEY.test(key) || (SECRET_MAPS.has(key) && i < path.length - 1)));
}

function masked(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(masked);
  if (typeof value === 'string') return redactUrlCredentials(value);
  if (typeof value !== 'object' || value === null) return value;
  const out = emptyRecord();
  for (const [key, child] of Object.entries(value)) {
    if (SECRET_KEY.test(key)) out[key] = MASK;
    else if (isStoreKey(key) && typeof child === 'string') out[key] = redactStoreUrl(child);
    else if (SECRET_MAPS.has(key) && typeof child === 'object' && child !== null && !Array.isArray(child)) {
      out[key] = Object.fromEntries(Object.keys(child).map((k) => [k, MASK]));
    } else if (SECRET_MAPS.has(key)) out[key] = MASK;
    else out[key] = masked(child);
  }
  return out;
}

/**
 * A value found in a config, for messages: its JSON, cut to about 40 characters. Credentials
 * (an `apiKey`, header and environment values, also inside objects) show as `****`, and the user
 * name and password of a URL as `***` (a store URL's wherever its `@` is).
 */
export function formatFound(value: unknown, path: JsonPath): string {
  if (value === undefined) return 'nothing';
  if (isSecretPath(path)) return MASK;
  const shown = typeof value === 'string' && isStoreKey(path.at(-1)) ? redactStoreUrl(value) : value;
  const text = JSON.stringify(masked(shown)) ?? String(shown);
  return text.length > MAX_LENGTH ? `${text.slice(0, MAX_LENGTH - 1)}…` : text;
}
