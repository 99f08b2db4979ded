/**
 * The ledger the config's `state` names: the embedded SQLite ledger (default), or Redis, failing
 * at start (exit 2) or falling back to the embedded one per `state.onUnavailable`.
 */
import path from 'node:path';
import { isRedisUrl } from '../cache/redis-store.ts';
import type { Config } from '../config/schema-types.ts';
import { stateDir } from '../paths.ts';
import type { Ledger } from '../scheduler/ledger.ts';
import { SqliteLedger } from '../scheduler/ledger-sqlite.ts';
import { FallbackLedger } from './fallback-ledger.ts';
import { DEFAULT_KEY_PREFIX } from './key-prefix.ts';
import type { RedisLedger } from './ledger-redis.ts';
import { describeRedisUrl } from '../cache/redis-store.ts';

export type StateConfig = NonNullable<Config['state']>;

export interface StateStore {
  kind: 'sqlite' | 'redis';
  /** `ledger.sqlite`'s path, or the Redis URL without credentials. */
  description: string;
  /** The Redis URL, credentials included (never shown). */
  url?: string;
  keyPrefix: string;
  onUnavailable: 'fail' | 'local';
}

/** Where the config puts the scheduler's state. */
export function stateStoreOf(state: StateConfig | undefined, env: NodeJS.ProcessEnv = process.env): StateStore {
  const store = state?.store?.trim() || 'sqlite';
  const keyPrefix = state?.keyPrefix ?? DEFAULT_KEY_PREFIX;
  const onUnavailable = state?.onUnavailable ?? 'fail';
  if (isRedisUrl(store)) return { kind: 'redis', description: describeRedisUrl(store), url: store, keyPrefix, onUnavailable };
  return { kind: 'sqlite', description: path.join(stateDir(env), 'ledger.sqlite'), keyPrefix, onUnavailable };
}

/**
 * Opens the configured ledger. With Redis and `onUnavailable: "fail"`, an unreachable server is a
 * StateUnavailableError (exit 2) naming the URL without its password.
 */
export async function openStateLedger(state: StateConfig | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Ledger> {
  const store = stateStoreOf(state, env);
  const sqlite = (): Promise<SqliteLedger> => SqliteLedger.open(path.join(stateDir(env), 'ledger.sqlite'));
  if (store.kind === 'sqlite' || !store.url) return sqlite();
  const url = store.url;
  // The Redis ledger is loaded only when the config names Redis (in the run bundle, a side file of it: scripts/build-cli.ts).
  const open = async (): Promise<RedisLedger> => (await import('./ledger-redis.ts')).RedisLedger.open({ url, keyPrefix: store.keyPrefix });
  if (store.onUnavailable === 'fail') return open();
  return new FallbackLedger({ open, local: await sqlite(), description: store.description }).start();
}
