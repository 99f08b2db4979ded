import { readAuthStoreFile } from '../auth/store.ts';
import { authFile } from '../paths.ts';
import { envVarsFor } from './catalog.ts';

export type CredentialSource = 'config' | 'auth.json' | 'env' | 'none';

export interface Credential {
  key?: string;
  source: CredentialSource;
  /** The env var name, or the auth file path, the key came from. */
  from?: string;
  /** The key is an OAuth login's token (auth.json's `refresh`) a built-in plugin sends (doctor's probe). */
  oauth?: true;
}

interface AuthEntry {
  type?: string;
  key?: string;
}

/**
 * Reads OpenCode's auth.json (`{"<provider>": {"type": "api", "key": "…"}}`); a missing file is
 * empty; an unreadable or corrupt one throws STORE_ERROR (the same reader as `opencode auth`).
 */
export function readAuthStore(env: NodeJS.ProcessEnv = process.env): Record<string, AuthEntry> {
  return readAuthStoreFile(authFile(env)).entries;
}

/**
 * Finds the API key for a provider: `provider.<id>.options.apiKey`, then the auth store, then the
 * provider's environment variables. The key itself is never logged.
 */
export function findCredential(
  providerId: string,
  options: { configKey?: string; envNames?: readonly string[]; env?: NodeJS.ProcessEnv; store?: Record<string, AuthEntry> },
): Credential {
  const env = options.env ?? process.env;
  if (options.configKey) return { key: options.configKey, source: 'config' };
  const store = options.store ?? readAuthStore(env);
  const entry = store[providerId];
  if (entry && entry.type === 'api' && typeof entry.key === 'string' && entry.key) {
    return { key: entry.key, source: 'auth.json', from: authFile(env) };
  }
  const names = [...(options.envNames ?? []), ...envVarsFor(providerId)];
  for (const name of names) {
    const value = env[name];
    if (value) return { key: value, source: 'env', from: name };
  }
  return { source: 'none' };
}
