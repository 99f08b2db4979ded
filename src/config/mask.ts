import { isPlainObject } from './jsonc.ts';
import { emptyRecord } from './merge.ts';
import { isStoreKey, redactStoreUrl, redactUrlCredentials } from './url-credentials.ts';

const SECRET_HEADER = /authorization|api[-_]?key|token|secret|cookie/i;
const SECRET_ENV = /key|token|secret|password|credential/i;

/** `nvapi-…x9Qa`-style: the first 4 and last 4 characters; shorter than 12 → `****`. */
export function maskSecret(secret: string): string {
  if (secret.length < 12) return '****';
  return `${secret.slice(0, 4)}…${secret.slice(-4)}`;
}

/** Fields that hold a secret wherever they appear (server keys, webhook secrets, tokens). */
const SECRET_FIELD = /^(apiKey|secret|password|token|accessToken|refreshToken|keys)$/;

function maskValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskValue);
  // A `server.keys` entry may be `{key, name, rateLimit}`: its key is the secret.
  if (isPlainObject(value)) {
    const out = walk(value, []) as Record<string, unknown>;
    if (typeof out.key === 'string') out.key = maskSecret(out.key);
    return out;
  }
  return typeof value === 'string' ? maskSecret(value) : value;
}

function maskMatching(record: unknown, pattern: RegExp): unknown {
  if (!isPlainObject(record)) return walk(record, []);
  const out = emptyRecord();
  for (const [name, value] of Object.entries(record)) out[name] = pattern.test(name) ? maskValue(value) : walk(value, []);
  return out;
}

function walk(value: unknown, at: string[]): unknown {
  if (Array.isArray(value)) return value.map((item) => walk(item, at));
  if (typeof value === 'string') return isStoreKey(at.at(-1)) ? redactStoreUrl(value) : redactUrlCredentials(value);
  if (!isPlainObject(value)) return value;
  const out = emptyRecord();
  for (const [key, child] of Object.entries(value)) {
    const here = [...at, key];
    if (SECRET_FIELD.test(key)) out[key] = maskValue(child);
    else if (key === 'headers') out[key] = maskMatching(child, SECRET_HEADER);
    else if (key === 'environment' && at.length === 2 && at[0] === 'mcp') out[key] = maskMatching(child, SECRET_ENV);
    else out[key] = walk(child, here);
  }
  return out;
}

/**
 * A deep copy of a config with secrets masked: every `apiKey` (and `secret`, `password`, `token`,
 * `server.keys` wherever they appear), header values whose name looks
 * like a credential (authorization, api-key, token, secret, cookie) and `mcp.*.environment`
 * values whose name does (key, token, secret, password, credential), and the user name and
 * password of every URL (`redis://***@host:6379`). For `config show` and the server's `/config`.
 */
export function maskConfig<T>(config: T): T {
  return walk(config, []) as T;
}
