/**
 * The health of a long-lived process (the guide's §34.3): the shared state stores answer, the
 * providers in use have keys and are not cooling down, the MCP servers that were started are up.
 * `unhealthy` when a store fails (nothing can be scheduled), `degraded` when a provider or MCP
 * server has a problem (turns still run, some models or tools are missing) or the configured cache
 * could not be opened (turns run without it).
 */
import { configuredModels } from '../agents/configured-models.ts';
import { credentialFor } from '../auth/providers.ts';
import { readAuthStoreFile, type AuthEntry } from '../auth/store.ts';
import { authFile } from '../paths.ts';
import { WELL_KNOWN_PROVIDERS } from '../providers/catalog.ts';
import { keyCooldownKey } from '../scheduler/key-cooldown.ts';
import type { CooldownEntry } from '../scheduler/ledger.ts';
import type { Host } from './host.ts';
import type { Instance } from './instances.ts';

export type CheckStatus = 'ok' | 'degraded' | 'error';

export interface StoreCheck {
  status: CheckStatus;
  latency_ms?: number;
  error?: string;
  store?: string;
}

export interface ProviderCheck {
  id: string;
  status: CheckStatus;
  /** Where its key comes from (`config`, `auth.json`, `env`), `none`, or `not needed`. */
  credential: string;
  models: string[];
  /**
   * Models skipped for now after repeated failures, with the time they are tried again (ms);
   * `refusedKey`: the provider refused the API key this server calls it with (401/403).
   */
  coolingDown: { model: string; until: number; refusedKey?: true }[];
  reason?: string;
}

export interface McpCheck {
  name: string;
  status: CheckStatus;
  state: string;
  tools: number;
  /** A local server's process (started once per server process and kept). */
  pid?: number;
  restarts: number;
  reason?: string;
}

export interface HealthReport {
  status: 'healthy' | 'degraded' | 'unhealthy';
  timestamp: string;
  version: string;
  /** Seconds since the process started serving. */
  uptime: number;
  checks: { database: StoreCheck; cache: StoreCheck; providers: ProviderCheck[]; mcp: McpCheck[] };
}

async function timed(fn: () => Promise<unknown>): Promise<StoreCheck> {
  const start = performance.now();
  try {
    await fn();
    return { status: 'ok', latency_ms: Math.round((performance.now() - start) * 10) / 10 };
  } catch (error) {
    return { status: 'error', error: error instanceof Error ? error.message : String(error) };
  }
}

/** `cooldowns`: the ledger's, as the database check read them (none when it could not: that check fails then). */
function providerChecks(host: Host, instance: Instance, cooldowns: readonly CooldownEntry[]): ProviderCheck[] {
  const cooling = new Map(cooldowns.map((c) => [c.key, c.until]));
  // And the models this server could not reach (cooling in this process alone).
  for (const lane of instance.runtime.scheduler.activity.list()) {
    if (lane.unreachable && lane.unreachable.until > (cooling.get(lane.spec.key) ?? 0)) cooling.set(lane.spec.key, lane.unreachable.until);
  }
  const models = configuredModels(instance.config).filter((m) => m.agents.length > 0 || m.topLevel.length > 0);
  let store: Record<string, AuthEntry> | undefined;
  try {
    store = readAuthStoreFile(authFile(host.env)).entries;
  } catch {
    store = {};
  }
  const byProvider = new Map<string, typeof models>();
  for (const m of models) byProvider.set(m.provider, [...(byProvider.get(m.provider) ?? []), m]);
  const now = Date.now();
  return [...byProvider].map(([id, list]) => {
    const needsKey = WELL_KNOWN_PROVIDERS[id]?.needsKey ?? true;
    const credential = credentialFor(instance.config, id, host.env, store);
    const coolingDown = list.flatMap((m) => {
      const until = cooling.get(`model:${m.ref}`) ?? 0;
      // The cooldown of this server's key, when the provider refused it.
      const refused = cooling.get(keyCooldownKey(`model:${m.ref}`, id, credential.key)) ?? 0;
      if (Math.max(until, refused) <= now) return [];
      return [refused > until ? { model: m.ref, until: refused, refusedKey: true as const } : { model: m.ref, until }];
    });
    const missingKey = needsKey && credential.source === 'none';
    const allCooling = coolingDown.length === list.length;
    const status: CheckStatus = missingKey || allCooling ? 'error' : coolingDown.length ? 'degraded' : 'ok';
    const refusals = coolingDown.filter((c) => c.refusedKey).length;
    const cause = refusals === coolingDown.length ? `the provider refused this server's API key (from ${credential.source === 'env' ? credential.from : credential.source})` : 'repeated failures';
    const reason = missingKey ? 'no API key (config, auth.json or environment)' : coolingDown.length ? `${coolingDown.length} of ${list.length} models cooling down after ${cause}` : undefined;
    return { id, status, credential: needsKey ? credential.source : 'not needed', models: list.map((m) => m.ref), coolingDown, ...(reason ? { reason } : {}) };
  });
}

function mcpChecks(instance: Instance): McpCheck[] {
  return (instance.mcp?.manager.status() ?? []).map((s) => {
    const failed = s.state === 'failed' || s.state === 'needs_auth' || s.state === 'needs_client_registration' || s.state === 'exited';
    return { name: s.name, status: failed ? 'degraded' : 'ok', state: s.state, tools: s.toolCount, ...(s.pid ? { pid: s.pid } : {}), restarts: s.restarts, ...(s.reason ? { reason: s.reason } : {}) };
  });
}

export async function healthReport(host: Host, instance: Instance, version: string): Promise<HealthReport> {
  const responseCache = instance.runtime.cache;
  // The ledger is read once: its answer is the database check, and its cooldowns the providers'.
  let cooldowns: CooldownEntry[] = [];
  const [database, cache] = await Promise.all([
    timed(async () => {
      cooldowns = await host.ledger.listCooldowns();
    }),
    responseCache
      ? timed(() => responseCache.get('health-check')).then((c) => ({ ...c, store: responseCache.description }))
      : // A configured cache that could not be opened: turns run without it (degraded, not down).
        Promise.resolve<StoreCheck>(instance.runtime.cacheUnavailable ? { status: 'degraded', store: 'unavailable', error: instance.runtime.cacheUnavailable } : { status: 'ok', store: 'disabled' }),
  ]);
  const providers = providerChecks(host, instance, cooldowns);
  const mcp = mcpChecks(instance);
  const storesDown = database.status === 'error' || cache.status === 'error';
  const degraded = [...providers, ...mcp, cache].some((c) => c.status !== 'ok');
  return {
    status: storesDown ? 'unhealthy' : degraded ? 'degraded' : 'healthy',
    timestamp: new Date().toISOString(),
    version,
    uptime: Math.round((Date.now() - host.startedAt) / 100) / 10,
    checks: { database: { ...database, store: 'rate-limit ledger' }, cache, providers, mcp },
  };
}
