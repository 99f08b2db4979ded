/**
 * The dashboard's "today": usage and cost since midnight from the shared ledger's usage log, by the
 * same function as `opencode stats` (src/core/stats.ts), so it counts every process's runs, not
 * only those this server saw, and shows the numbers `opencode stats --days 1` prints.
 */
import type { Ledger } from '../../scheduler/ledger.ts';
import { computeStats, statsSince, type StatsFigures } from '../stats.ts';
import type { UsageTotals, UsageView } from './usage-book.ts';

export type TodayTotals = UsageTotals & StatsFigures & { byAgent: Record<string, StatsFigures>; byProvider: Record<string, StatsFigures>; byModel: Record<string, StatsFigures> };

/** Today's totals (in `timeZone`, default the machine's) from the ledger's usage log. */
export async function todayFromLedger(ledger: Ledger, now: number, timeZone?: string): Promise<TodayTotals> {
  const records = await ledger.listUsage(statsSince(now, 1));
  const report = computeStats(records, { now, days: 1, ...(timeZone ? { timeZone } : {}) });
  return { ...report.totals, byAgent: report.byAgent, byProvider: report.byProvider, byModel: report.byModel };
}

/** The book's view with `today` replaced by the ledger's, and the day's projection based on it. */
export function withToday(view: UsageView, today: TodayTotals | undefined): UsageView {
  if (!today) return view;
  const tokens = (t: UsageTotals): number => t.inputTokens + t.outputTokens;
  return {
    ...view,
    today,
    projection: {
      ...view.projection,
      costUSD: view.projection.costUSD - view.today.costUSD + today.costUSD,
      tokens: view.projection.tokens - tokens(view.today) + tokens(today),
    },
  };
}
