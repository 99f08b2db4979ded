import type { Config } from '../config/schema-types.ts';
import { closestMatch } from '../config/did-you-mean.ts';
import { PantheonError } from '../errors.ts';
import { OPENAI_COMPATIBLE } from '../providers/build-model.ts';
import { apiKeyEnvName, envVarsFor, knownProvider, WELL_KNOWN_PROVIDERS } from '../providers/catalog.ts';
import { findCredential, type Credential } from '../providers/credentials.ts';
import type { AuthEntry } from './store.ts';

/** A provider as `opencode auth` sees it: the config's block over the catalogue's entry. */
export interface ProviderInfo {
  id: string;
  name: string;
  npm: string;
  baseURL?: string;
  /** Environment variables that may hold its key, in lookup order. */
  envVars: string[];
  /** The variable to suggest: the config's or catalogue's first, else `<ID>_API_KEY`. */
  envVar: string;
  /** Where keys are made. */
  keysUrl?: string;
  /** False for local servers that accept any key. */
  needsKey: boolean;
  /** Declared under `provider.<id>` in the merged config. */
  configured: boolean;
  /** In the built-in catalogue. */
  wellKnown: boolean;
  /** `options.headers` and `options.queryParams` of the config, sent when verifying a key. */
  headers: Record<string, string>;
  queryParams: Record<string, string>;
}

function isLoopback(url: string | undefined): boolean {
  if (!url) return false;
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
  } catch {
    return false; // not a URL: not known to be local
  }
}

/** The provider's description, or undefined when it is neither configured nor well-known. */
export function providerInfo(config: Readonly<Config>, id: string): ProviderInfo | undefined {
  const declared = config.provider && Object.hasOwn(config.provider, id) ? config.provider[id] : undefined;
  const known = knownProvider(id);
  if (!declared && !known) return undefined;
  const options = declared?.options ?? {};
  const baseURL = options.baseURL || declared?.api || known?.baseURL;
  return {
    id,
    name: declared?.name ?? known?.name ?? id,
    npm: declared?.npm ?? known?.npm ?? OPENAI_COMPATIBLE,
    ...(baseURL ? { baseURL } : {}),
    envVars: [...new Set([...(declared?.env ?? []), ...envVarsFor(id)])],
    envVar: declared?.env?.[0] ?? known?.env[0] ?? apiKeyEnvName(id),
    ...(known?.keysUrl ? { keysUrl: known.keysUrl } : {}),
    // A declared provider the catalogue does not know needs a key unless it is served from this machine.
    needsKey: known ? known.needsKey && !(declared && isLoopback(baseURL)) : !isLoopback(baseURL),
    configured: Boolean(declared),
    wellKnown: Boolean(known),
    headers: { ...(options.headers ?? {}) },
    queryParams: { ...(options.queryParams ?? {}) },
  };
}

/** Providers one may log in to: the configured ones (config order), then the catalogue's. */
export function loginCandidates(config: Readonly<Config>): ProviderInfo[] {
  const ids = [...new Set([...Object.keys(config.provider ?? {}), ...Object.keys(WELL_KNOWN_PROVIDERS)])];
  return ids.map((id) => providerInfo(config, id)).filter((p): p is ProviderInfo => p !== undefined);
}

/** The provider named on the command line; an unknown one is a usage error with "did you mean". */
export function requireProvider(config: Readonly<Config>, id: string): ProviderInfo {
  const info = providerInfo(config, id);
  if (info) return info;
  const configured = Object.keys(config.provider ?? {});
  const match = closestMatch(id, [...new Set([...configured, ...Object.keys(WELL_KNOWN_PROVIDERS)])]);
  const known = Object.keys(WELL_KNOWN_PROVIDERS).filter((k) => WELL_KNOWN_PROVIDERS[k]?.needsKey);
  const suggestion = match === undefined ? '.' : `; did you mean "${match}"?`;
  throw new PantheonError('UNKNOWN_PROVIDER', `Unknown provider "${id}"${suggestion}`, {
    hint: `${configured.length ? `Configured: ${configured.join(', ')}. ` : ''}Well-known: ${known.join(', ')}. Another provider must be declared under "provider" in opencode.json first.`,
  });
}

/** Where the provider's key comes from (config, auth.json, env, none), in the contract's order. */
export function credentialFor(config: Readonly<Config>, id: string, env: NodeJS.ProcessEnv, store: Record<string, AuthEntry>): Credential {
  const declared = config.provider && Object.hasOwn(config.provider, id) ? config.provider[id] : undefined;
  const configKey = declared?.options?.apiKey;
  return findCredential(id, { ...(configKey ? { configKey } : {}), envNames: declared?.env ?? [], env, store });
}
