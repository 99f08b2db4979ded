/**
 * Stats computed from the request log (counts, outcomes, refusals, starts per window), plus
 * the live in-flight and peak-concurrency figures the caller passes in.
 */
import type { ModelStats, Outcome, RequestLogEntry, ServerStats } from './types.ts';

const OUTCOMES: readonly Outcome[] = ['ok', 'status', 'hang', 'reset', 'bad_json', 'truncated', 'rate_limited'];

/** The largest number of entries whose startedAt falls in one window [t, t + windowMs). */
export function maxStartsInWindow(log: readonly RequestLogEntry[], windowMs: number, model?: string): number {
  const starts = log
    .filter((entry) => model === undefined || entry.model === model)
    .map((entry) => entry.startedAt)
    .sort((a, b) => a - b);
  let best = 0;
  let tail = 0;
  for (let head = 0; head < starts.length; head += 1) {
    const start = starts[head] ?? 0;
    while (tail < head && (starts[tail] ?? start) <= start - windowMs) tail += 1;
    best = Math.max(best, head - tail + 1);
  }
  return best;
}

function countEntries(entries: readonly RequestLogEntry[], live: { inFlight: number; peak: number }): ModelStats {
  const outcomes = Object.fromEntries(OUTCOMES.map((outcome) => [outcome, 0])) as Record<Outcome, number>;
  for (const entry of entries) outcomes[entry.outcome] += 1;
  return {
    requests: entries.length,
    outcomes,
    overLimit: outcomes.rate_limited,
    peakConcurrency: live.peak,
    inFlight: live.inFlight,
  };
}

export function computeStats(
  log: readonly RequestLogEntry[],
  modelIds: readonly string[],
  live: (model: string | undefined) => { inFlight: number; peak: number },
): ServerStats {
  const snapshot = [...log];
  const ids = new Set([...modelIds, ...snapshot.map((entry) => entry.model)]);
  const models: Record<string, ModelStats> = {};
  for (const id of ids) {
    models[id] = countEntries(
      snapshot.filter((entry) => entry.model === id),
      live(id),
    );
  }
  return {
    ...countEntries(snapshot, live(undefined)),
    models,
    maxStartsInWindow: (model, windowMs) => maxStartsInWindow(snapshot, windowMs, model),
  };
}
