/**
 * The lanes of a long-lived process: every model its projects' configs declare or name, and every
 * lane their schedulers have used, read over the one shared ledger. What /api/state, the dashboard
 * and /metrics show per provider+model.
 */
import { configuredModels } from '../agents/configured-models.ts';
import type { Config } from '../config/schema-types.ts';
import type { LaneCounters, LaneSpec } from '../scheduler/lane-activity.ts';
import { snapshotLanes, type LaneSnapshot } from '../scheduler/lane-snapshot.ts';
import { applicableLimits } from '../scheduler/limits.ts';
import type { Host } from './host.ts';

const byConfig = new WeakMap<Config, LaneSpec[]>();

/** A lane for every model the config declares or names (its effective limits, as the scheduler applies them). */
export function configuredLanes(config: Config): LaneSpec[] {
  // A loaded config never changes: its lanes are worked out once.
  const known = byConfig.get(config);
  if (known) return known;
  const lanes = configuredModels(config).map((m): LaneSpec => {
    const declared = config.provider?.[m.provider];
    const limits = applicableLimits(m.provider, m.model, { global: config.rateLimit, provider: declared?.rateLimit, model: declared?.models?.[m.model]?.rateLimit });
    return { key: `model:${m.provider}/${m.model}`, provider: m.provider, label: m.ref, ...limits };
  });
  byConfig.set(config, lanes);
  return lanes;
}

/** Every lane of every open project of `host`, now. */
export async function hostLanes(host: Host): Promise<LaneSnapshot[]> {
  const specs: LaneSpec[] = [];
  const counters: LaneCounters[] = [];
  for (const instance of await host.instances.list()) {
    specs.push(...configuredLanes(instance.config));
    counters.push(...instance.runtime.scheduler.activity.list());
  }
  return snapshotLanes(host.ledger, specs, counters);
}
