/**
 * The health of a long-lived process (the guide's §34.3): the shared state stores answer, the
 * providers in use have keys and are not cooling down, the MCP servers that were started are up.
 * `unhealthy` when a store fails (nothing can be scheduled), `degraded` when a provider or MCP
 * server has a problem (turns still run, some models or tools are missing).
 */
import { configuredModels } from '../agents/configured-models.ts';
import { findCredential, readAuthStore } from '../providers/credentials.ts';
import { WELL_KNOWN_PROVIDERS } from '../providers/catalog.ts';
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
  /** Models skipped for now after repeated failures, with the time they are tried again (ms). */
  coolingDown: { model: string; until: number }[];
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

async function providerChecks(host: Host, instance: Instance): Promise<ProviderCheck[]> {
  const cooling = new Map((await host.ledger.listCooldowns()).map((c) => [c.key, c.until]));
  // And the models this server could not reach (cooling in this process alone).
  for (const lane of instance.runtime.scheduler.activity.list()) {
    if (lane.unreachable && lane.unreachable.until > (cooling.get(lane.spec.key) ?? 0)) cooling.set(lane.spec.key, lane.unreachable.until);
  }
  const models = configuredModels(instance.config).filter((m) => m.agents.length > 0 || m.topLevel.length > 0);
  let store: ReturnType<typeof readAuthStore> | undefined;
  try {
    store = readAuthStore(host.env);
  } catch {
    store = {};
  }
  const byProvider = new Map<string, typeof models>();
  for (const m of models) byProvider.set(m.provider, [...(byProvider.get(m.provider) ?? []), m]);
  return [...byProvider].map(([id, list]) => {
    const declared = instance.config.provider?.[id];
    const needsKey = WELL_KNOWN_PROVIDERS[id]?.needsKey ?? true;
    const credential = findCredential(id, { ...(declared?.options?.apiKey ? { configKey: declared.options.apiKey } : {}), env: host.env, store });
    const coolingDown = list.flatMap((m) => {
      const until = cooling.get(`model:${m.ref}`);
      return until !== undefined && until > Date.now() ? [{ model: m.ref, until }] : [];
    });
    const missingKey = needsKey && credential.source === 'none';
    const allCooling = coolingDown.length === list.length;
    const status: CheckStatus = missingKey || allCooling ? 'error' : coolingDown.length ? 'degraded' : 'ok';
    const reason = missingKey ? 'no API key (config, auth.json or environment)' : coolingDown.length ? `${coolingDown.length} of ${list.length} models cooling down after repeated failures` : undefined;
    return { id, status, credential: needsKey ? credential.source : 'not needed', models: list.map((m) => m.ref), coolingDown, ...(reason ? { reason } : {}) };
  });
}

function mcpChecks(instance: Instance): McpCheck[] {
  return (instance.mcp?.manager.status() ?? []).map((s) => {
    const failed = s.state === 'failed' || s.state === 'exited';
    return { name: s.name, status: failed ? 'degraded' : 'ok', state: s.state, tools: s.toolCount, ...(s.pid ? { pid: s.pid } : {}), restarts: s.restarts, ...(s.reason ? { reason: s.reason } : {}) };
  });
}

export async function healthReport(host: Host, instance: Instance, version: string): Promise<HealthReport> {
  const responseCache = instance.runtime.cache;
  const [database, cache, providers] = await Promise.all([
    timed(() => host.ledger.listCooldowns()),
    responseCache ? timed(() => responseCache.get('health-check')).then((c) => ({ ...c, store: responseCache.description })) : Promise.resolve<StoreCheck>({ status: 'ok', store: 'disabled' }),
    providerChecks(host, instance),
  ]);
  const mcp = mcpChecks(instance);
  const storesDown = database.status === 'error' || cache.status === 'error';
  const degraded = [...providers, ...mcp].some((c) => c.status !== 'ok');
  return {
    status: storesDown ? 'unhealthy' : degraded ? 'degraded' : 'healthy',
    timestamp: new Date().toISOString(),
    version,
    uptime: Math.round((Date.now() - host.startedAt) / 100) / 10,
    checks: { database: { ...database, store: 'rate-limit ledger' }, cache, providers, mcp },
  };
}
