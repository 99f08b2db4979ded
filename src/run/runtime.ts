import { openCache } from '../cache/response-cache.ts';
import type { ResponseCache } from '../cache/response-cache.ts';
import type { Config } from '../config/schema-types.ts';
import type { Ledger } from '../scheduler/ledger.ts';
import { DEFAULT_RETRY, type RetryPolicy } from '../scheduler/retry-policy.ts';
import { Scheduler, type CooldownPolicy } from '../scheduler/scheduler.ts';
import { openStateLedger } from '../state/open-state.ts';

export const DEFAULT_COOLDOWN: CooldownPolicy = { afterFailures: 3, ms: 60_000 };

/** The long-lived parts a run needs: the shared ledger, the cache and the scheduler over them. */
export interface Runtime {
  scheduler: Scheduler;
  ledger: Ledger;
  cache: ResponseCache | undefined;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  env?: NodeJS.ProcessEnv;
  noCache?: boolean;
  ledger?: Ledger;
}

export function retryPolicy(config: Config): RetryPolicy {
  return { ...DEFAULT_RETRY, ...config.retry } as RetryPolicy;
}

export function cooldownPolicy(config: Config): CooldownPolicy {
  return { ...DEFAULT_COOLDOWN, ...config.cooldown } as CooldownPolicy;
}

export async function openRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const env = options.env ?? process.env;
  // The config's state store: the embedded SQLite ledger, or Redis (state.store).
  const ledger = options.ledger ?? (await openStateLedger(config.state, env));
  const cache = options.noCache ? undefined : await openCache(config.cache, env);
  const scheduler = new Scheduler({ ledger, retry: retryPolicy(config), cooldown: cooldownPolicy(config) });
  return {
    scheduler,
    ledger,
    cache,
    async close() {
      await cache?.close();
      if (!options.ledger) await ledger.close();
    },
  };
}
