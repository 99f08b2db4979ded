import { maskSecret } from '../config/secrets.ts';
import type { Config } from '../config/schema-types.ts';
import { PantheonError } from '../errors.ts';
import type { ProviderChoice } from './prompts.ts';
import { credentialFor, loginCandidates, type ProviderInfo } from './providers.ts';
import { saveApiKey, type AuthEntry } from './store.ts';
import { verifyKey, type Verification, type VerifyOptions } from './verify.ts';

export interface LoginOptions extends VerifyOptions {
  provider: ProviderInfo;
  /** The key, already trimmed and checked (normalizeKey). */
  key: string;
  /** Check the key against the provider first (default true). */
  verify?: boolean;
  /** The auth.json path (authFile(env)). */
  storeFile: string;
}

export interface LoginResult {
  provider: string;
  file: string;
  maskedKey: string;
  /** What the check found; undefined with `verify: false`. */
  verification?: Verification;
}

/**
 * Verifies the key (unless told not to) and stores it in auth.json. A key the provider refuses
 * (401/403) is not stored: PROVIDER_AUTH, exit 1. No answer is not a refusal: the key is stored.
 */
export async function login(options: LoginOptions): Promise<LoginResult> {
  const { provider, key } = options;
  const verification = options.verify === false ? undefined : await verifyKey(provider, key, options);
  if (verification?.outcome === 'refused') {
    throw new PantheonError('PROVIDER_AUTH', `${provider.id}: the key was refused (${verification.status}) by GET ${verification.url}; nothing was saved.`, {
      hint: `Check that the whole key was pasted${provider.keysUrl ? ` (keys are made at ${provider.keysUrl})` : ''}, or pass --no-verify to save it without checking.`,
    });
  }
  const file = await saveApiKey(options.storeFile, provider.id, key);
  return { provider: provider.id, file, maskedKey: maskSecret(key), ...(verification ? { verification } : {}) };
}

/** The chooser's entries: configured providers, then the catalogue's, each with where its key comes from now. */
export function loginChoices(config: Readonly<Config>, env: NodeJS.ProcessEnv, entries: Record<string, AuthEntry>): ProviderChoice[] {
  return loginCandidates(config)
    .filter((provider) => provider.configured || provider.needsKey)
    .map((provider) => {
      const credential = credentialFor(config, provider.id, env, entries);
      const status =
        credential.source === 'none'
          ? ''
          : credential.source === 'env'
            ? `key from env ${credential.from ?? ''}`
            : `key from ${credential.source}`;
      return { provider, status };
    });
}
