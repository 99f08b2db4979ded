import { openCache } from '../cache/response-cache.ts';
import type { ResponseCache } from '../cache/response-cache.ts';
import type { Config } from '../config/schema-types.ts';
import { isPantheonError } from '../errors.ts';
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
  /**
   * Why the configured cache could not be opened, when it could not: the store, what went wrong
   * and a hint, in one sentence (no credentials). The runtime then works without a cache; the
   * front-end says so once (a `CACHE_UNAVAILABLE` warning).
   */
  cacheUnavailable?: string;
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
  const opened = options.noCache ? { cache: undefined } : await cacheOrWhyNot(config, env);
  const cache = opened.cache;
  const scheduler = new Scheduler({ ledger, retry: retryPolicy(config), cooldown: cooldownPolicy(config) });
  return {
    scheduler,
    ledger,
    cache,
    ...(opened.why ? { cacheUnavailable: opened.why } : {}),
    async close() {
      await cache?.close();
      if (!options.ledger) await ledger.close();
    },
  };
}

/**
 * The configured cache, or why it could not be opened (an unwritable folder, a file where its
 * folder should be, a corrupt or locked database, Redis away): a cache is an optimisation, so a
 * run goes on without one rather than failing. A config mistake in its values (cache.ttl) still throws.
 */
async function cacheOrWhyNot(config: Config, env: NodeJS.ProcessEnv): Promise<{ cache: ResponseCache | undefined; why?: string }> {
  try {
    return { cache: await openCache(config.cache, env) };
  } catch (error) {
    if (!isPantheonError(error) || error.code !== 'STORE_ERROR') throw error;
    const what = error.message.replace(/[.\s]+$/, '');
    const hint = error.hint ? ` (${error.hint.replace(/[.\s]+$/, '').replace(/^./, (c) => c.toLowerCase())})` : '';
    return { cache: undefined, why: `${what.replace(/^./, (c) => c.toLowerCase())}; going on without the response cache${hint}.` };
  }
}
