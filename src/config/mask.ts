import { isPlainObject } from './jsonc.ts';
import { emptyRecord } from './merge.ts';
import { CREDENTIAL_NAME, isSecretHeader, maskSecret } from './secrets.ts';
import { isStoreKey, redactStoreUrl, redactUrlCredentials } from './url-credentials.ts';


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

function maskMatching(record: unknown, secret: (name: string, value: unknown) => boolean): unknown {
  if (!isPlainObject(record)) return walk(record, []);
  const out = emptyRecord();
  for (const [name, value] of Object.entries(record)) out[name] = secret(name, value) ? maskValue(value) : walk(value, []);
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
    else if (key === 'headers') out[key] = maskMatching(child, isSecretHeader);
    else if (key === 'environment' && at.length === 2 && at[0] === 'mcp') out[key] = maskMatching(child, (name) => CREDENTIAL_NAME.test(name));
    else out[key] = walk(child, here);
  }
  return out;
}

/**
 * A deep copy of a config with secrets masked: every `apiKey` (and `secret`, `password`, `token`,
 * `server.keys` wherever they appear), the header values secrets.ts counts as secrets (under a
 * credential's name, or shaped like a key), `mcp.*.environment` values under a
 * credential's name, and the user name and password of every URL (`redis://***@host:6379`). For
 * `config show`, `agent show` and the server's `/config` and `/agent`.
 */
export function maskConfig<T>(config: T): T {
  return walk(config, []) as T;
}
