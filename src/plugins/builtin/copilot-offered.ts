/**
 * The models GitHub Copilot offers the login in auth.json, for `opencode models`: Copilot's list
 * (copilot-models.ts: kept an hour; an older one answered at once while a new one is asked for
 * behind it, unless `wait`) as the built-in plugin's `provider.models` answers it, with each
 * model's name, limits and price. Nothing when the built-ins are off, the provider is switched
 * off, a configured `apiKey` replaces the login, there is no Copilot login, or Copilot does not
 * answer and no list was kept (a debug note says why, once per time Copilot was asked).
 */
import { readAuthStoreFile } from '../../auth/store.ts';
import type { OfferedModels } from '../../agents/configured-models.ts';
import type { Config } from '../../config/schema-types.ts';
import { debugNote } from '../../debug-note.ts';
import { authFile } from '../../paths.ts';
import { providerOff } from '../../providers/provider-filter.ts';
import { builtinsEnabled } from './index.ts';
import { listRequest, mergeModels, modelList, whyNot } from './copilot-models.ts';

export const COPILOT = 'github-copilot';

export interface OfferedModel {
  name: string;
  upstreamId: string;
  limit: { context: number; output: number };
  cost: { input: number; output: number; cache_read: number };
}

export interface OfferOptions {
  /** Wait for Copilot's answer when the kept list is over an hour old (`opencode models`), rather than answer it at once and refresh it behind (the server's lists). */
  wait?: boolean;
  /** The clock (ms), for the list's age. */
  now?: number;
}

export async function copilotOffered(config: Readonly<Config>, env: NodeJS.ProcessEnv = process.env, options: OfferOptions = {}): Promise<Record<string, OfferedModel>> {
  const declared = config.provider?.[COPILOT];
  if (!builtinsEnabled(env) || providerOff(config, COPILOT) || declared?.options?.apiKey) return {};
  const entry = readAuthStoreFile(authFile(env)).entries[COPILOT];
  if (entry?.type !== 'oauth') return {};
  const { version } = await import('../../cli/version.ts');
  const request = listRequest(entry, (declared?.options ?? {}) as Record<string, unknown>, `opencode/${version}`, env);
  if (!request) return {};
  let list;
  try {
    list = await modelList({ ...request, ...(options.wait ? { wait: true } : {}), ...(options.now === undefined ? {} : { now: options.now }) });
  } catch {
    // Copilot did not answer and no list was kept: said once per ask, by modelList's debug note.
    return {};
  }
  const given = Object.fromEntries(Object.entries(declared?.models ?? {}).map(([key, m]) => [key, { name: m.name ?? key, api: { id: m.id ?? key } }]));
  const merged = mergeModels(given, list, request.baseURL);
  return Object.fromEntries(
    Object.entries(merged).map(([key, m]) => {
      const limit = m.limit as { context: number; output: number };
      const cost = m.cost as { input: number; output: number; cache: { read: number } };
      return [key, { name: String(m.name), upstreamId: String((m.api as { id: string }).id), limit: { context: limit.context, output: limit.output }, cost: { input: cost.input, output: cost.output, cache_read: cost.cache.read } }];
    }),
  );
}

/**
 * The models logins offer beyond the config, by provider (GitHub Copilot's list), for every list of
 * models: `opencode models`, OpenCode's `/provider`, `/config/providers` and v2 `/api/provider`,
 * `/api/model`, ACP's model picker. An auth store that cannot be read offers nothing (doctor says why).
 */
export async function loginOffers(config: Readonly<Config>, env: NodeJS.ProcessEnv = process.env, options: OfferOptions = {}): Promise<OfferedModels> {
  let copilot: Record<string, OfferedModel>;
  try {
    copilot = await copilotOffered(config, env, options);
  } catch (error) {
    debugNote(`github-copilot: the login's models were not listed (${whyNot(error)})`);
    return {};
  }
  return Object.keys(copilot).length > 0 ? { [COPILOT]: copilot } : {};
}
