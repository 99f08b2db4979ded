import fs from 'node:fs';
import { PantheonError } from '../errors.ts';
import { authFile } from '../paths.ts';
import { envVarsFor } from './catalog.ts';

export type CredentialSource = 'config' | 'auth.json' | 'env' | 'none';

export interface Credential {
  key?: string;
  source: CredentialSource;
  /** The env var name, or the auth file path, the key came from. */
  from?: string;
}

interface AuthEntry {
  type?: string;
  key?: string;
}

/** Reads OpenCode's auth.json (`{"<provider>": {"type": "api", "key": "…"}}`); a missing file is empty. */
export function readAuthStore(env: NodeJS.ProcessEnv = process.env): Record<string, AuthEntry> {
  const file = authFile(env);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new PantheonError('STORE_ERROR', `Cannot read the credential store ${file}: ${(error as Error).message}.`, {
      hint: 'Check the file permissions (it should be 0600 and owned by you).',
    });
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, AuthEntry>;
  } catch {
    // fall through to the error below: the store is not JSON
  }
  throw new PantheonError('STORE_ERROR', `The credential store ${file} is not a JSON object.`, {
    hint: 'Fix or remove the file, then run `opencode auth login` again.',
  });
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
