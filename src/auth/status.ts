import { agentNames, resolveAgent } from '../agents/resolve-agent.ts';
import { maskSecret } from '../config/secrets.ts';
import type { Config } from '../config/schema-types.ts';
import { isPantheonError } from '../errors.ts';
import { builtinProviders } from '../plugins/builtin/index.ts';
import { WELL_KNOWN_PROVIDERS, apiKeyEnvName } from '../providers/catalog.ts';
import type { CredentialSource } from '../providers/credentials.ts';
import { parseModelRef } from '../providers/model-ref.ts';
import { listAgents } from '../doctor/words.ts';
import { credentialFor, providerInfo } from './providers.ts';
import type { AuthEntry } from './store.ts';

/** One provider's credential, as `opencode auth list` shows it. The key itself is never here. */
export interface ProviderStatus {
  id: string;
  name: string;
  configured: boolean;
  wellKnown: boolean;
  /** Some agent's model chain names it. */
  used: boolean;
  needsKey: boolean;
  /** The environment variable to set for it (the config's or catalogue's first, else `<ID>_API_KEY`). */
  envVar: string;
  source: CredentialSource;
  /** The env var name, or the auth.json path. */
  from?: string;
  /** The key masked (`nvap…x9Qa`); absent without a credential. */
  maskedKey?: string;
  /** The `type` of its auth.json entry when there is one (`api`, `oauth`, …). */
  stored?: string;
  /** True when its requests use the OAuth login of auth.json through a built-in plugin (GitHub Copilot's): `source` is then `auth.json`, with no key to show. */
  builtinLogin?: true;
}

/** An agent whose chain uses providers that have no credential. */
export interface AgentWarning {
  agent: string;
  providers: string[];
  message: string;
}

export interface AuthStatus {
  store: string;
  providers: ProviderStatus[];
  warnings: AgentWarning[];
}

export interface AuthStatusOptions {
  env: NodeJS.ProcessEnv;
  /** The auth.json entries and the file they came from. */
  entries: Record<string, AuthEntry>;
  storeFile: string;
}

/** Each enabled agent with the provider ids of its model chain (agents without any model are left out). */
export function agentProviders(config: Readonly<Config>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const name of agentNames(config)) {
    let chain;
    try {
      chain = resolveAgent(config, name).chain;
    } catch (error) {
      // An agent with no model anywhere has no chain to check; anything else is a real problem.
      if (isPantheonError(error) && error.code === 'USAGE') continue;
      throw error;
    }
    out.set(name, [...new Set(chain.map((spec, i) => parseModelRef(spec, `agent.${name} chain[${i}]`).provider))]);
  }
  return out;
}

function statusOf(config: Readonly<Config>, id: string, used: boolean, options: AuthStatusOptions): ProviderStatus {
  const info = providerInfo(config, id);
  const entry = Object.hasOwn(options.entries, id) ? options.entries[id] : undefined;
  // An OAuth login a built-in plugin uses (GitHub Copilot's) makes the provider's requests, whatever key the environment has.
  const builtinLogin = entry?.type === 'oauth' && !config.provider?.[id]?.options?.apiKey && builtinProviders(options.env).includes(id);
  const credential = builtinLogin ? { source: 'auth.json' as const } : credentialFor(config, id, options.env, options.entries);
  return {
    id,
    name: info?.name ?? id,
    configured: info?.configured ?? false,
    wellKnown: info?.wellKnown ?? false,
    used,
    needsKey: info?.needsKey ?? true,
    envVar: info?.envVar ?? apiKeyEnvName(id),
    source: credential.source,
    ...(credential.source === 'auth.json' ? { from: options.storeFile } : credential.from ? { from: credential.from } : {}),
    ...(credential.key ? { maskedKey: maskSecret(credential.key) } : {}),
    ...(entry ? { stored: typeof entry.type === 'string' ? entry.type : 'unknown' } : {}),
    ...(builtinLogin ? { builtinLogin: true as const } : {}),
  };
}

function remedy(status: ProviderStatus): string {
  return `${status.id} (run \`opencode auth login ${status.id}\` or set ${status.envVar})`;
}

/**
 * Every provider that is configured, used by an agent, stored in auth.json, or well-known with a
 * credential present: where its key comes from and the key masked; plus a warning for each agent
 * whose chain uses a provider that needs a key and has none.
 */
export function authStatus(config: Readonly<Config>, options: AuthStatusOptions): AuthStatus {
  const chains = agentProviders(config);
  const used = new Set([...chains.values()].flat());
  const ids = new Set<string>([...Object.keys(config.provider ?? {}), ...used, ...Object.keys(options.entries)]);
  for (const id of Object.keys(WELL_KNOWN_PROVIDERS)) {
    if (credentialFor(config, id, options.env, options.entries).source !== 'none') ids.add(id);
  }
  const providers = [...ids].sort().map((id) => statusOf(config, id, used.has(id), options));
  const byId = new Map(providers.map((p) => [p.id, p]));
  const warnings: AgentWarning[] = [];
  for (const [agent, ids] of chains) {
    const missing = ids.map((id) => byId.get(id)).filter((p): p is ProviderStatus => p !== undefined && p.source === 'none' && p.needsKey);
    if (missing.length === 0) continue;
    warnings.push({
      agent,
      providers: missing.map((p) => p.id),
      message: `agent "${agent}" has no credential for ${missing.map(remedy).join(', ')}.`,
    });
  }
  return { store: options.storeFile, providers, warnings };
}

/**
 * The warnings as lines for a terminal: agents missing the same providers' credentials in one line
 * (`agent "oracle" has …`, `agents "build", "plan" have …`, `8 agents (atlas, build, metis (+5 more)) have …`),
 * so a config of many agents without keys does not print a line per agent.
 */
export function warningLines(status: AuthStatus): string[] {
  const byId = new Map(status.providers.map((p) => [p.id, p]));
  const groups = new Map<string, AgentWarning[]>();
  for (const w of status.warnings) {
    const key = w.providers.join('\u0000');
    const group = groups.get(key);
    if (group) group.push(w);
    else groups.set(key, [w]);
  }
  return [...groups.values()].map((group) => {
    const agents = group.map((w) => w.agent);
    const missing = (group[0] as AgentWarning).providers.map((id) => byId.get(id)).filter((p): p is ProviderStatus => p !== undefined);
    const who = agents.length === 1 ? `agent "${agents[0]}" has` : agents.length <= 3 ? `agents ${agents.map((a) => `"${a}"`).join(', ')} have` : `${listAgents(agents)} have`;
    return `${who} no credential for ${missing.map(remedy).join(', ')}.`;
  });
}

