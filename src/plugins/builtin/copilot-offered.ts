/**
 * The models GitHub Copilot offers the login in auth.json, for every list of models: what the
 * built-in Copilot plugin's `provider` hook (OpenCode's `{id, models(provider, {auth})}`,
 * copilot-auth.ts) answers for the provider, the same hook a run's model check asks, with each
 * model's name, limits and price. Its list is Copilot's (copilot-models.ts: kept an hour; an older
 * one answered at once while a new one is asked for behind it, unless `waitForModelLists()`).
 * Nothing when the built-ins are off, the provider is switched off, a configured `apiKey`
 * replaces the login, there is no Copilot login, or Copilot does not answer and no list was kept
 * (a debug note says why, once per time Copilot was asked).
 */
import { readAuthStoreFile, type AuthEntry } from '../../auth/store.ts';
import type { OfferedModels } from '../../agents/configured-models.ts';
import type { Config } from '../../config/schema-types.ts';
import { debugNote } from '../../debug-note.ts';
import { authFile } from '../../paths.ts';
import { providerOff } from '../../providers/provider-filter.ts';
import { builtinsEnabled } from './index.ts';
import { whyNot } from './copilot-models.ts';

export const COPILOT = 'github-copilot';

export interface OfferedModel {
  name: string;
  upstreamId: string;
  limit: { context: number; output: number };
  cost: { input: number; output: number; cache_read: number };
}

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

type ModelsHook = (provider: Json, context: { auth?: AuthEntry }) => Promise<Record<string, Json>>;

/** The built-in plugin's `provider.models`, made once per environment (its state folder and auth file are the environment's). */
const hooks = new WeakMap<NodeJS.ProcessEnv, Promise<ModelsHook>>();

function modelsHook(env: NodeJS.ProcessEnv): Promise<ModelsHook> {
  let made = hooks.get(env);
  if (!made) {
    made = import('./copilot-auth.ts').then(async ({ CopilotAuthPlugin }) => {
      const plugin = (await CopilotAuthPlugin({ env })) as { provider: { models: ModelsHook } };
      return plugin.provider.models.bind(plugin.provider);
    });
    hooks.set(env, made);
  }
  return made;
}

/** A model of the hook's answer (OpenCode's `Model`) as the lists show it; one Copilot did not describe (no limits, no price: the hook's fallback to the provider's own) is none. */
function offeredOf(model: Json): OfferedModel | undefined {
  const limit = isRecord(model.limit) ? model.limit : {};
  const cost = isRecord(model.cost) ? model.cost : undefined;
  const api = isRecord(model.api) ? model.api : {};
  const context = num(limit.context);
  const output = num(limit.output);
  if (context === undefined || output === undefined || !cost || typeof model.name !== 'string' || typeof api.id !== 'string') return undefined;
  const cache = isRecord(cost.cache) ? cost.cache : {};
  return { name: model.name, upstreamId: api.id, limit: { context, output }, cost: { input: num(cost.input) ?? 0, output: num(cost.output) ?? 0, cache_read: num(cache.read) ?? 0 } };
}

export async function copilotOffered(config: Readonly<Config>, env: NodeJS.ProcessEnv = process.env): Promise<Record<string, OfferedModel>> {
  const declared = config.provider?.[COPILOT];
  if (!builtinsEnabled(env) || providerOff(config, COPILOT) || declared?.options?.apiKey) return {};
  const entry = readAuthStoreFile(authFile(env)).entries[COPILOT];
  if (entry?.type !== 'oauth') return {};
  // The provider as OpenCode hands it to the hook: its options (never a key) and its models.
  const { apiKey: _key, ...options } = (declared?.options ?? {}) as Json;
  const given = Object.fromEntries(Object.entries(declared?.models ?? {}).map(([key, m]) => [key, { name: m.name ?? key, api: { id: m.id ?? key } }]));
  const answer = await (await modelsHook(env))({ id: COPILOT, name: declared?.name ?? 'GitHub Copilot', options, models: given }, { auth: entry });
  return Object.fromEntries(Object.entries(isRecord(answer) ? answer : {}).flatMap(([key, model]) => {
    const offered = isRecord(model) ? offeredOf(model) : undefined;
    return offered ? [[key, offered]] : [];
  }));
}

/**
 * The models logins offer beyond the config, by provider (GitHub Copilot's list), for every list of
 * models: `opencode models`, OpenCode's `/provider`, `/config/providers` and v2 `/api/provider`,
 * `/api/model`, ACP's model picker. An auth store that cannot be read offers nothing (doctor says why).
 */
export async function loginOffers(config: Readonly<Config>, env: NodeJS.ProcessEnv = process.env): Promise<OfferedModels> {
  let copilot: Record<string, OfferedModel>;
  try {
    copilot = await copilotOffered(config, env);
  } catch (error) {
    debugNote(`github-copilot: the login's models were not listed (${whyNot(error)})`);
    return {};
  }
  return Object.keys(copilot).length > 0 ? { [COPILOT]: copilot } : {};
}
