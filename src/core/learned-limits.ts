/**
 * What has been learned from the providers, read from the state store the config names (the
 * embedded SQLite ledger without creating it, or Redis, where every machine's learned limits are):
 * `opencode models` shows it (doctor reads the store in src/doctor/check-ledger.ts).
 */
import fs from 'node:fs';
import type { Config } from '../config/schema-types.ts';
import { learnedView, type LearnedView } from '../scheduler/learned-text.ts';

/**
 * Every learned limit in the configured store (none when there is no ledger yet). A Redis store
 * that cannot be reached is an error for the caller to report.
 */
export async function readLearnedLimits(env: NodeJS.ProcessEnv = process.env, now: number = Date.now(), state?: Config['state']): Promise<LearnedView[]> {
  const { stateStoreOf } = await import('../state/open-state.ts');
  const store = stateStoreOf(state, env);
  if (store.kind === 'redis') {
    const { RedisLedger } = await import('../state/ledger-redis.ts');
    const ledger = await RedisLedger.open({ url: store.url ?? '', keyPrefix: store.keyPrefix });
    try {
      return (await ledger.listLearned()).map((l) => learnedView(l, now));
    } finally {
      await ledger.close();
    }
  }
  const { SqliteLedger, defaultLedgerPath } = await import('../scheduler/ledger-sqlite.ts');
  const file = defaultLedgerPath(env);
  if (!fs.existsSync(file)) return [];
  const ledger = new SqliteLedger({ path: file, busyTimeoutMs: 1000 });
  try {
    return (await ledger.listLearned()).map((l) => learnedView(l, now));
  } finally {
    await ledger.close();
  }
}
