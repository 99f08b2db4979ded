/**
 * What one model call went through (retries, fallbacks, time waiting on rate limits) and its record
 * in the ledger's usage log, which `opencode stats` and the dashboard read.
 */
import type { EventInput } from '../events.ts';
import type { ResolvedModel } from '../providers/resolve-model.ts';
import { costOf, type StepUsage } from '../run/usage-tally.ts';
import type { Ledger } from './ledger.ts';

/** Counted over the whole call: every attempt, every restart after a cut-off answer, a budget downgrade. */
export interface CallCounts {
  retries: number;
  fallbacks: number;
  waitedMs: number;
  waitingSince?: number;
}

export function newCounts(): CallCounts {
  return { retries: 0, fallbacks: 0, waitedMs: 0 };
}

/** Counts the call's retry, fallback and rate_limited events on their way to `emit`. */
export function counting(counts: CallCounts, emit: (e: EventInput) => void, now: () => number = Date.now): (e: EventInput) => void {
  return (e) => {
    if (e.type === 'retry') counts.retries += 1;
    else if (e.type === 'fallback') counts.fallbacks += 1;
    else if (e.type === 'rate_limited') counts.waitingSince ??= now();
    emit(e);
  };
}

/** The request went on the wire: a rate-limit wait in progress ends here. */
export function waitEnded(counts: CallCounts, now: () => number = Date.now): void {
  if (counts.waitingSince !== undefined) counts.waitedMs += now() - counts.waitingSince;
  counts.waitingSince = undefined;
}

export interface UsageEntry {
  ledger: Ledger;
  runId?: string;
  agent: string;
  model: ResolvedModel;
  /** Reported tokens; cache reads and writes priced as `done` prices them. */
  usage: StepUsage;
  cached: boolean;
  counts?: CallCounts;
}

/** Appends the call to the usage log; a store that fails to take it never fails the call. */
export async function logUsage(entry: UsageEntry): Promise<void> {
  const { usage, cached, counts, model } = entry;
  const cost = costOf(model.cost, usage);
  await entry.ledger
    .recordUsage({
      t: Date.now(),
      ...(entry.runId ? { runId: entry.runId } : {}),
      agent: entry.agent,
      provider: model.provider,
      model: model.label,
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      ...(cached || cost === undefined ? {} : { costUSD: cost }),
      cached,
      ...(cached && cost !== undefined ? { savedUSD: cost } : {}),
      retries: counts?.retries ?? 0,
      fallbacks: counts?.fallbacks ?? 0,
      waitedMs: counts?.waitedMs ?? 0,
    })
    .catch(() => undefined);
}
