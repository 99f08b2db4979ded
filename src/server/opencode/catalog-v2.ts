/**
 * The config's agents, providers, models, skills and credentials in the shapes of OpenCode's v2 API
 * (`GET /api/agent`, `/api/provider`, `/api/model`, `/api/skill`, `/api/integration`), made from the
 * same views as the v1 routes (catalog-view.ts) and the skills the `skill` tool loads. Secrets masked
 * as in /config: a provider's `apiKey` and secret headers, an agent's options.
 */
import { providerInfo, credentialFor, loginCandidates } from '../../auth/providers.ts';
import type { AuthEntry } from '../../auth/store.ts';
import { MAX_SKILL_BYTES, skillsFor } from '../../agents/skills.ts';
import { withoutCredentials } from '../../basic-auth.ts';
import { splitFrontmatter } from '../../config/markdown-layers.ts';
import { maskConfig } from '../../config/mask.ts';
import { readTextFile } from '../../config/read-text.ts';
import type { Config } from '../../config/schema-types.ts';
import type { ReplacedAgents } from '../../agents/resolve-agent.ts';
import { agentsView, type OcModel, type OcProvider } from './catalog-view.ts';
import { offeredProvidersView } from './offered-view.ts';
import { credentialConnection } from './credentials-v2.ts';

type Json = Record<string, unknown>;

/** A provider's options but its address and headers (OpenCode's `api.settings`), masked; undefined when none. */
function settingsOf(config: Config, provider: string): Json | undefined {
  const declared = config.provider && Object.hasOwn(config.provider, provider) ? config.provider[provider] : undefined;
  const { baseURL: _url, headers: _headers, ...rest } = (declared?.options ?? {}) as Json;
  return Object.keys(rest).length ? maskConfig(rest) : undefined;
}

/** The headers a provider's requests carry, secret ones masked. */
function headersOf(config: Config, provider: string): Record<string, string> {
  return maskConfig({ headers: providerInfo(config, provider)?.headers ?? {} }).headers as Record<string, string>;
}

function apiOf(config: Config, provider: string, npm: string, url: string | undefined): Json {
  const settings = settingsOf(config, provider);
  return { type: 'aisdk', package: npm, ...(url ? { url: withoutCredentials(url) } : {}), ...(settings ? { settings } : {}) };
}

/** v2's providers: those of `GET /provider` with a model the config can use. */
export async function providersV2(config: Config, env: NodeJS.ProcessEnv): Promise<Json[]> {
  return (await offeredProvidersView(config, env)).providers.map((p: OcProvider) => {
    const info = providerInfo(config, p.id);
    const first = Object.values(p.models)[0];
    const npm = info?.npm ?? first?.api.npm ?? '@ai-sdk/openai-compatible';
    const url = info?.baseURL ?? first?.api.url;
    return { id: p.id, name: p.name, api: apiOf(config, p.id, npm, url), request: { headers: headersOf(config, p.id), body: {} } };
  });
}

const on = (flags: Record<string, boolean>) => Object.keys(flags).filter((k) => flags[k]);

function modelV2(config: Config, m: OcModel): Json {
  const released = Date.parse(m.release_date);
  const variants = config.provider?.[m.providerID]?.models?.[m.id]?.variants ?? {};
  return {
    id: m.id,
    providerID: m.providerID,
    name: m.name,
    api: { id: m.api.id, ...apiOf(config, m.providerID, m.api.npm, m.api.url) },
    capabilities: { tools: m.capabilities.toolcall, input: on(m.capabilities.input), output: on(m.capabilities.output) },
    request: { headers: headersOf(config, m.providerID), body: {} },
    variants: Object.entries(variants).map(([id, options]) => ({ id, headers: {}, body: maskConfig((options ?? {}) as Json) })),
    time: { released: Number.isFinite(released) ? released : 0 },
    cost: [{ input: m.cost.input, output: m.cost.output, cache: { read: m.cost.cache.read, write: m.cost.cache.write } }],
    status: m.status,
    enabled: true,
    limit: { context: m.limit.context, output: m.limit.output },
  };
}

/** v2's models: every model of every provider of `providersV2`. */
export async function modelsV2(config: Config, env: NodeJS.ProcessEnv): Promise<Json[]> {
  return (await offeredProvidersView(config, env)).providers.flatMap((p) => Object.values(p.models).map((m) => modelV2(config, m)));
}

interface AgentV1 {
  name: string;
  description?: string;
  mode: string;
  temperature?: number;
  topP?: number;
  permission: { permission: string; pattern: string; action: string }[];
  model?: { providerID: string; modelID: string };
  prompt?: string;
  options: Json;
  variant?: string;
  steps: number;
}

/** v2's agents: `GET /agent`'s, renamed as v2 writes them (the sampling settings go in the request body, as OpenCode's do). */
export function agentsV2(config: Config, replaced?: ReplacedAgents): Json[] {
  return (agentsView(config, replaced) as AgentV1[]).map((a) => {
    const color = config.agent?.[a.name]?.color;
    return {
      id: a.name,
      ...(a.model ? { model: { id: a.model.modelID, providerID: a.model.providerID, ...(a.variant ? { variant: a.variant } : {}) } } : {}),
      request: { headers: {}, body: { ...a.options, ...(a.temperature === undefined ? {} : { temperature: a.temperature }), ...(a.topP === undefined ? {} : { topP: a.topP }) } },
      ...(a.prompt ? { system: a.prompt } : {}),
      ...(a.description ? { description: a.description } : {}),
      mode: a.mode,
      hidden: false,
      ...(typeof color === 'string' ? { color } : {}),
      steps: a.steps,
      permissions: a.permission.map((r) => ({ action: r.permission, resource: r.pattern, effect: r.action })),
    };
  });
}

/** The most bytes of instructions one listing of skills sends (their bodies in all); the rest are sent empty. */
export const SKILL_LISTING_MAX_BYTES = 4 * 1024 * 1024;

/** What `GET /skill` and `GET /api/skill` say of the cap, in their OpenAPI descriptions. */
export const SKILL_LISTING_NOTE = `Every skill is listed; their instructions are sent whole, in order, up to ${SKILL_LISTING_MAX_BYTES / 1024 / 1024} MiB in all: a skill whose instructions would go past that (and every one after it) comes with \`content: ""\` (the \`skill\` tool still loads it whole).`;

/**
 * The skills of a folder with their instructions (the SKILL.md's body), as the `skill` tool finds and
 * loads them (`GET /skill`, `GET /api/skill`); one that cannot be read now is left out. The files are
 * read one at a time and only while the bodies fit in SKILL_LISTING_MAX_BYTES, so one listing holds
 * a few MiB however many skills (up to 200 of 1 MiB each) a folder has.
 */
export async function skillsWithContent(instance: { projectRoot: string; config: unknown }, env: NodeJS.ProcessEnv): Promise<Json[]> {
  const skills = await skillsFor(instance.projectRoot, env, instance.config as { skills?: { paths?: unknown; urls?: unknown } });
  const out: Json[] = [];
  let left = SKILL_LISTING_MAX_BYTES;
  for (const s of skills) {
    const entry = { name: s.name, description: s.description, location: s.file };
    if (left <= 0) {
      out.push({ ...entry, content: '' });
      continue;
    }
    const text = await readTextFile(s.file, MAX_SKILL_BYTES).catch(() => undefined);
    if (text === undefined) continue;
    const content = splitFrontmatter(text).body;
    const size = Buffer.byteLength(content, 'utf8');
    const fits = size <= left;
    left = fits ? left - size : 0;
    out.push({ ...entry, content: fits ? content : '' });
  }
  return out;
}

/**
 * v2's integrations: the providers one may log in to (`opencode auth login`'s: the config's, then the
 * catalogue's), each taking an API key or its environment variables (v2 offers no OAuth connections here),
 * connected by its key in OpenCode's auth.json (a `credential`, credentials-v2.ts) and by the
 * variable that holds its key (unless the config gives the key).
 */
export function integrationsV2(config: Config, env: NodeJS.ProcessEnv, store: Record<string, AuthEntry>): Json[] {
  return loginCandidates(config).map((p) => {
    const stored = credentialConnection(store, p.id);
    const fromEnv = credentialFor(config, p.id, env, {});
    const connections = [...(stored ? [stored] : []), ...(fromEnv.source === 'env' && fromEnv.from ? [{ type: 'env', name: fromEnv.from }] : [])];
    return { id: p.id, name: p.name, methods: [{ type: 'key' }, ...(p.envVars.length ? [{ type: 'env', names: p.envVars }] : [])], connections };
  });
}
