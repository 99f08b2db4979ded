/**
 * The lanes of a long-lived process: every model its projects' configs declare or name, and every
 * lane their schedulers have used, read over the one shared ledger. What /api/state, the dashboard
 * and /metrics show per provider+model.
 */
import { configuredModels } from '../agents/configured-models.ts';
import { credentialFor } from '../auth/providers.ts';
import { readAuthStoreFile, type AuthEntry } from '../auth/store.ts';
import type { Config } from '../config/schema-types.ts';
import { keyCooldownKey } from '../scheduler/key-cooldown.ts';
import type { LaneCounters, LaneSpec } from '../scheduler/lane-activity.ts';
import { snapshotLanes, type LaneSnapshot } from '../scheduler/lane-snapshot.ts';
import { applicableLimits } from '../scheduler/limits.ts';
import { authFile } from '../paths.ts';
import type { Host } from './host.ts';

const byConfig = new WeakMap<Config, LaneSpec[]>();

/**
 * A lane for every model the config declares or names (its effective limits, as the scheduler
 * applies them, and the cooldown key of the API key it is called with from `env`).
 */
export function configuredLanes(config: Config, env: NodeJS.ProcessEnv = process.env): LaneSpec[] {
  // A loaded config never changes: its lanes are worked out once.
  const known = byConfig.get(config);
  if (known) return known;
  const keys = providerKeys(config, env);
  const lanes = configuredModels(config).map((m): LaneSpec => {
    const declared = config.provider?.[m.provider];
    const limits = applicableLimits(m.provider, m.model, { global: config.rateLimit, provider: declared?.rateLimit, model: declared?.models?.[m.model]?.rateLimit });
    const key = `model:${m.provider}/${m.model}`;
    return { key, provider: m.provider, label: m.ref, keyCooldown: keyCooldownKey(key, m.provider, keys(m.provider)), ...limits };
  });
  byConfig.set(config, lanes);
  return lanes;
}

/** The API key each provider is called with (config, auth.json, environment); an unreadable auth.json counts as empty. */
function providerKeys(config: Readonly<Config>, env: NodeJS.ProcessEnv): (providerId: string) => string | undefined {
  let store: Record<string, AuthEntry> | undefined;
  const keys = new Map<string, string | undefined>();
  return (id) => {
    if (!keys.has(id)) {
      try {
        store ??= readAuthStoreFile(authFile(env)).entries;
      } catch {
        store = {};
      }
      keys.set(id, credentialFor(config, id, env, store).key);
    }
    return keys.get(id);
  };
}

/** Every lane of every open project of `host`, now. */
export async function hostLanes(host: Host): Promise<LaneSnapshot[]> {
  const specs: LaneSpec[] = [];
  const counters: LaneCounters[] = [];
  for (const instance of await host.instances.list()) {
    specs.push(...configuredLanes(instance.config, host.env));
    counters.push(...instance.runtime.scheduler.activity.list());
  }
  return snapshotLanes(host.ledger, specs, counters);
}
