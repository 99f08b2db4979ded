/**
 * The rate-fidelity workload, shared by the in-process run and the worker processes: `count`
 * tasks through one Scheduler over the SQLite ledger at `ledgerPath`, against a model limited to
 * MAX_REQUESTS starts per WINDOW_MS; each task records its send (wall clock, ms) and marks its
 * request sent (as the provider fetch does, after the send).
 */
import { SqliteLedger } from '../../src/scheduler/ledger-sqlite.ts';
import { DEFAULT_RETRY } from '../../src/scheduler/retry-policy.ts';
import { Scheduler } from '../../src/scheduler/scheduler.ts';
import type { ScheduledModel } from '../../src/scheduler/scheduler.ts';

export const MAX_REQUESTS = 10;
export const WINDOW_MS = 2000;
export const MODEL_KEY = 'model:bench/limited';

const model: ScheduledModel = {
  label: 'bench/limited',
  provider: 'bench',
  key: MODEL_KEY,
  windows: [{ key: MODEL_KEY, maxRequests: MAX_REQUESTS, windowMs: WINDOW_MS }],
  tokens: [],
  concurrency: [],
};

/** Wall-clock ms with sub-ms precision, comparable across processes on one machine. */
export const wallNow = (): number => performance.timeOrigin + performance.now();

export interface RateRunner {
  /** Runs `count` tasks at once; resolves to their attempt start times. */
  run: (count: number) => Promise<number[]>;
  close: () => Promise<void>;
}

export async function openRateRunner(ledgerPath: string): Promise<RateRunner> {
  const ledger = await SqliteLedger.open(ledgerPath);
  const scheduler = new Scheduler({ ledger, retry: DEFAULT_RETRY, cooldown: { afterFailures: 3, ms: 60_000 } });
  const ctx = { emit: () => undefined };
  return {
    async run(count) {
      const starts: number[] = [];
      await Promise.all(
        Array.from({ length: count }, async () => {
          // As the provider fetch does (lease.ts markingSends): the start counts from the send.
          const { lease } = await scheduler.execute(
            [model],
            async (_m, attemptLease) => {
              // The send is now: a provider sees the request from here. The ledger's start is the
              // commit below, never earlier; read after it, a worker descheduled in between would
              // record its send late and make the next one look early.
              starts.push(wallNow());
              await attemptLease.markSent();
            },
            ctx,
          );
          await lease.release();
        }),
      );
      return starts;
    },
    close: () => ledger.close(),
  };
}
