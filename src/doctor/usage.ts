/**
 * What the config asks of the outside world: each enabled agent's model chain, the providers those
 * chains use, and for each provider where it lives, how it is called and whether it has a key.
 */
import { agentNames, defaultAgentName, resolveAgent } from '../agents/resolve-agent.ts';
import { formatJsonPath } from '../config/json-path.ts';
import type { Config } from '../config/schema-types.ts';
import { baseURLFinding, configuredBaseURL } from '../providers/base-url.ts';
import { OPENAI_COMPATIBLE } from '../providers/build-model.ts';
import { apiKeyEnvName, knownProvider } from '../providers/catalog.ts';
import { builtinLoginNote } from '../auth/builtin-logins.ts';
import { findCredential, type Credential } from '../providers/credentials.ts';
import { parseModelRef, type ModelRef } from '../providers/model-ref.ts';
import { providerOff } from '../providers/provider-filter.ts';
import { builtinProviders } from '../plugins/builtin/index.ts';
import { COPILOT_API_VERSION, copilotBaseURL } from '../plugins/builtin/copilot-login.ts';

type AuthStore = Parameters<typeof findCredential>[1]['store'];

export interface AgentChain {
  agent: string;
  chain: ModelRef[];
}

export interface ProviderInfo {
  id: string;
  npm: string;
  baseURL?: string;
  /** What is wrong with its configured base URL (`provider.<id>.options.baseURL: expected …`), if anything. */
  baseURLProblem?: string;
  headers: Record<string, string>;
  queryParams: Record<string, string>;
  /** From the catalogue; undefined for a declared provider the catalogue does not know. */
  needsKey: boolean | undefined;
  credential: Credential;
  /** A login of auth.json a built-in plugin uses instead of a key (the ChatGPT login of openai): what it is. */
  login?: string;
  /** The environment variable to suggest for its key. */
  keyEnv: string;
  /** Agents whose chain uses it. */
  agents: string[];
  /** Upstream model ids to look for in its `/models` list: declared models and those agents name. */
  modelIds: string[];
}

export interface Usage {
  chains: AgentChain[];
  /** Enabled agents with no model at all (no own model, no top-level model or fallbacks). */
  noModel: string[];
  /** The agent `opencode run` uses without `--agent`, when it resolves. */
  defaultAgent: string | undefined;
  providers: Map<string, ProviderInfo>;
}

/** Each enabled agent's chain, parsed; agents without any model are listed apart. */
export function agentChains(config: Config): { chains: AgentChain[]; noModel: string[] } {
  const chains: AgentChain[] = [];
  const noModel: string[] = [];
  for (const agent of agentNames(config)) {
    let specs;
    try {
      specs = resolveAgent(config, agent).chain;
    } catch {
      noModel.push(agent);
      continue;
    }
    // A ref that is not provider/model is a config warning already; a switched-off provider is left out.
    const chain = specs.flatMap((spec, i) => {
      try {
        const ref = parseModelRef(spec, `agent.${agent} chain[${i}]`);
        return providerOff(config, ref.provider) ? [] : [ref];
      } catch {
        return [];
      }
    });
    if (chain.length === 0) noModel.push(agent);
    else chains.push({ agent, chain });
  }
  return { chains, noModel };
}

/** A provider as doctor sees it: where, how, and with which key (never printed). */
export function providerInfo(config: Config, id: string, env: NodeJS.ProcessEnv, store: AuthStore): Omit<ProviderInfo, 'agents' | 'modelIds'> {
  const declared = config.provider?.[id];
  const known = knownProvider(id);
  const options = declared?.options ?? {};
  const login = builtinLogin(id, options, env, store);
  const stored = store?.[id]?.type;
  const note = builtinLoginNote(id, typeof stored === 'string' ? stored : undefined, env);
  const baseURL = options.baseURL ?? declared?.api ?? login?.baseURL ?? known?.baseURL;
  const keyEnv = declared?.env?.[0] ?? known?.env[0] ?? apiKeyEnvName(id);
  const configured = configuredBaseURL(config, id);
  const finding = configured && baseURLFinding(configured.value, configured.path);
  return {
    id,
    npm: declared?.npm ?? known?.npm ?? OPENAI_COMPATIBLE,
    ...(baseURL ? { baseURL } : {}),
    ...(finding ? { baseURLProblem: `${formatJsonPath(configured.path)}: ${finding}` } : {}),
    headers: { ...login?.headers, ...(options.headers ?? {}) },
    queryParams: { ...(options.queryParams ?? {}) },
    needsKey: known?.needsKey,
    credential: login?.credential ?? findCredential(id, {
      ...(options.apiKey ? { configKey: options.apiKey } : {}),
      envNames: declared?.env ?? [],
      env,
      store,
    }),
    ...(note ? { login: note } : {}),
    keyEnv,
  };
}

/**
 * The OAuth login of auth.json a built-in plugin makes the provider's requests with (GitHub
 * Copilot's: its GitHub token, its enterprise host's API), unless the config sets a key.
 */
function builtinLogin(id: string, options: { apiKey?: string }, env: NodeJS.ProcessEnv, store: AuthStore): { credential: Credential; baseURL?: string; headers: Record<string, string> } | undefined {
  const entry = store?.[id] as Record<string, unknown> | undefined;
  if (options.apiKey || entry?.type !== 'oauth' || typeof entry.refresh !== 'string' || !entry.refresh || !builtinProviders(env).includes(id)) return undefined;
  // The ChatGPT login's tokens (openai) are no API key: the doctor neither shows nor probes with them (`login` says what it is).
  if (id === 'openai') return undefined;
  const copilot = id === 'github-copilot';
  const enterprise = typeof entry.enterpriseUrl === 'string' && entry.enterpriseUrl ? entry.enterpriseUrl : undefined;
  return {
    credential: { key: entry.refresh, source: 'auth.json', oauth: true },
    ...(copilot ? { baseURL: copilotBaseURL(enterprise), headers: { 'X-GitHub-Api-Version': COPILOT_API_VERSION } } : { headers: {} }),
  };
}

/** Every provider an enabled agent uses, with the agents and model ids involved. */
export function collectUsage(config: Config, env: NodeJS.ProcessEnv, store: AuthStore): Usage {
  const { chains, noModel } = agentChains(config);
  const providers = new Map<string, ProviderInfo>();
  for (const { agent, chain } of chains) {
    for (const ref of chain) {
      let info = providers.get(ref.provider);
      if (!info) {
        const declared = config.provider?.[ref.provider]?.models ?? {};
        const ids = Object.entries(declared).map(([key, model]) => model.id ?? key);
        info = { ...providerInfo(config, ref.provider, env, store), agents: [], modelIds: ids };
        providers.set(ref.provider, info);
      }
      if (!info.agents.includes(agent)) info.agents.push(agent);
      const upstream = config.provider?.[ref.provider]?.models?.[ref.model]?.id ?? ref.model;
      if (!info.modelIds.includes(upstream)) info.modelIds.push(upstream);
    }
  }
  return { chains, noModel, defaultAgent: defaultAgentName(config), providers };
}

/** True when calls to the provider can carry a key, or it needs none; undefined when unknown. */
export function hasUsableCredential(info: Pick<ProviderInfo, 'credential' | 'needsKey' | 'login'>): boolean | undefined {
  if (info.credential.key || info.login) return true;
  if (info.needsKey === false) return true;
  return info.needsKey === undefined ? undefined : false;
}

/** hasUsableCredential for a provider of the usage by id (false for one it does not hold). */
export function providerUsable(usage: Usage, id: string): boolean | undefined {
  const info = usage.providers.get(id);
  return info ? hasUsableCredential(info) : false;
}

/** `opencode auth login ID, or set NVIDIA_API_KEY` */
export function keyHint(info: Pick<ProviderInfo, 'id' | 'keyEnv'>): string {
  return `Run \`opencode auth login ${info.id}\`, or set ${info.keyEnv}.`;
}
