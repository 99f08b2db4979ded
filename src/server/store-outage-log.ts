/**
 * What the server's log says of a Redis state store that goes away: one line when it stops
 * answering (the store, why, and what the server does meanwhile) and one when it answers again,
 * however many requests come in between (each request refused meanwhile used to log a line of its
 * own). With `state.onUnavailable: "local"`, the ledger's own switch warnings, said once each too.
 */
import type { Ledger } from '../scheduler/ledger.ts';
import { FallbackLedger } from '../state/fallback-ledger.ts';
import { RedisLedger } from '../state/ledger-redis.ts';

/** Starts logging the ledger's outages; returns the function that stops it. A ledger not on Redis has none. */
export function logStoreOutages(ledger: Ledger, log: (line: string) => void, now: () => number = Date.now): () => void {
  if (ledger instanceof FallbackLedger) {
    return ledger.watch((w) => log(`${w.code === 'STATE_LOCAL' ? 'warning' : 'note'}: ${w.message.replace(/^The /, 'the ').replace(/[.\s]+$/, '')}.`));
  }
  if (!(ledger instanceof RedisLedger)) return () => undefined;
  const store = ledger.connection.description;
  let since: number | undefined;
  return ledger.connection.watchAvailability((change) => {
    if (!change.up) {
      since = now();
      log(`warning: the state store ${store} cannot be reached: ${change.reason ?? 'no answer'}. Until it answers, requests that need the shared limits are refused (503, Retry-After: 1) and never sent to a provider; /health, /metrics and the dashboard go on answering.`);
      return;
    }
    const lasted = since === undefined ? '' : ` after ${((now() - since) / 1000).toFixed(1)} s`;
    since = undefined;
    log(`note: the state store ${store} answers again${lasted}: requests are served again.`);
  });
}
