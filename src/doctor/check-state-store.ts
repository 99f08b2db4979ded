/**
 * state store: where the scheduler's shared state lives; for Redis, that it answers (latency), its
 * version, the key prefix and how far its clock is from this machine's (windows use Redis's clock).
 */
import type { DoctorContext } from './context.ts';
import { resultsFor, type CheckResult } from './types.ts';
import { formatDuration } from './words.ts';

const r = resultsFor('cache');

export async function checkStateStore(ctx: DoctorContext): Promise<CheckResult> {
  if (ctx.loadError) return r.skip('state store', 'not checked: the config did not load (see config)');
  const { stateStoreOf } = await import('../state/open-state.ts');
  const store = stateStoreOf(ctx.loaded?.config.state, ctx.env);
  if (store.kind === 'sqlite') return r.ok('state store', `embedded SQLite ledger (this machine's processes share it): ${store.description}`);
  const { RedisLedger } = await import('../state/ledger-redis.ts');
  const started = performance.now();
  let ledger;
  try {
    ledger = await RedisLedger.open({ url: store.url ?? '', keyPrefix: store.keyPrefix, timeoutMs: ctx.probeTimeoutMs });
  } catch (error) {
    const message = error instanceof Error ? error.message.replace(/\.$/, '') : String(error);
    const ms = performance.now() - started;
    if (store.onUnavailable === 'local') {
      return r.warn('state store', `${message}; runs use this machine's ledger until it answers (onUnavailable: "local")`, { ms, hint: 'Start the Redis server or fix state.store.' });
    }
    return r.fail('state store', message, { ms, hint: 'Start the Redis server or fix state.store; runs stop with exit 2 until it answers (onUnavailable: "fail").' });
  }
  try {
    const before = ctx.now();
    const t0 = performance.now();
    const server = await ledger.serverTime();
    const latency = performance.now() - t0;
    const offset = Math.round(server - (before + latency / 2));
    const info = await ledger.connection.command<string>(['INFO', 'server']);
    const version = /redis_version:([^\r\n]+)/.exec(String(info))?.[1] ?? 'unknown';
    const sign = offset >= 0 ? '+' : '-';
    return r.ok(
      'state store',
      `${store.description} answered in ${formatDuration(latency)} (Redis ${version}, key prefix ${store.keyPrefix}, its clock ${sign}${formatDuration(Math.abs(offset))} from this machine's; windows use Redis's clock)`,
      { ms: latency },
    );
  } catch (error) {
    return r.fail('state store', error instanceof Error ? error.message : String(error), { hint: 'Check that the Redis server is up and reachable.' });
  } finally {
    await ledger.close();
  }
}
