/**
 * The dashboard's "today": usage and cost since midnight from the shared ledger's usage log, counted
 * as `opencode stats` counts (src/core/stats.ts), so it includes every process's runs, not only
 * those this server saw, and shows the numbers `opencode stats --days 1` prints.
 *
 * Kept as running totals: the day is read once, then each read takes only the records written since
 * the last one (and an overlap of OVERLAP_MS before it, for a record another process wrote a little
 * after its own time). Records of the overlap already counted are recognised by their content and
 * counted once, however often they are read.
 */
import type { Ledger } from '../../scheduler/ledger.ts';
import type { UsageRecord } from '../../scheduler/spend.ts';
import { budgetDay } from '../../run/budget.ts';
import { addRecord, statsSince, zeroFigures, type StatsFigures } from '../stats.ts';
import type { UsageTotals, UsageView } from './usage-book.ts';

export type TodayTotals = UsageTotals & StatsFigures & { byAgent: Record<string, StatsFigures>; byProvider: Record<string, StatsFigures>; byModel: Record<string, StatsFigures> };

/**
 * How far before the newest record read the next read starts (ms): a record is written right after
 * its time is taken, but a busy ledger may hold the write up to its busy timeout (5 s).
 */
export const OVERLAP_MS = 15_000;

function emptyToday(): TodayTotals {
  return { ...zeroFigures(), byAgent: {}, byProvider: {}, byModel: {} };
}

function group(table: Record<string, StatsFigures>, key: string, r: UsageRecord): void {
  if (!Object.hasOwn(table, key)) table[key] = zeroFigures();
  addRecord(table[key] as StatsFigures, r);
}

function keyOf(r: UsageRecord): string {
  return `${r.t}|${r.runId ?? ''}|${r.agent}|${r.provider}|${r.model}|${r.inputTokens}|${r.outputTokens}|${r.costUSD ?? ''}|${r.cached ? 1 : 0}|${r.savedUSD ?? ''}|${r.retries}|${r.fallbacks}|${r.waitedMs}`;
}

function copyToday(t: TodayTotals): TodayTotals {
  const table = (x: Record<string, StatsFigures>) => Object.fromEntries(Object.entries(x).map(([k, v]) => [k, { ...v }]));
  return { ...t, byAgent: table(t.byAgent), byProvider: table(t.byProvider), byModel: table(t.byModel) };
}

/** Today's totals from the ledger's usage log, kept up to date by reading only what was added. */
export class TodayTally {
  readonly #ledger: Ledger;
  #day: string | undefined;
  #timeZone: string | undefined;
  #totals = emptyToday();
  /** The newest record's time read so far (the next read starts OVERLAP_MS before it). */
  #newest = -Infinity;
  /** How many records of each content were counted from the next read's start on. */
  #recent = new Map<string, number>();
  /**
   * Times known to fall on `#day` (a day is one interval, so every time between two of them does
   * too): a record inside it needs no date formatting, which was most of a read's cost.
   */
  #dayFrom = Infinity;
  #dayTo = -Infinity;

  constructor(ledger: Ledger) {
    this.#ledger = ledger;
  }

  /** One read at a time: two at once would both count the same new records. */
  #queue: Promise<unknown> = Promise.resolve();

  /** Today's totals (in `timeZone`, default the machine's) as of `now()` when the read begins; a copy. */
  read(now: () => number, timeZone?: string): Promise<TodayTotals> {
    const next = this.#queue.then(() => this.#read(now(), timeZone));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #read(now: number, timeZone: string | undefined): Promise<TodayTotals> {
    const day = budgetDay(now, timeZone);
    if (day !== this.#day || timeZone !== this.#timeZone) {
      // A new day (or another time zone): counted from scratch.
      this.#day = day;
      this.#timeZone = timeZone;
      this.#totals = emptyToday();
      this.#newest = -Infinity;
      this.#recent = new Map();
      this.#dayFrom = Infinity;
      this.#dayTo = -Infinity;
    }
    // `now` is on the day: so is every record between the earliest one known to be and now.
    this.#dayFrom = Math.min(this.#dayFrom, now);
    this.#dayTo = Math.max(this.#dayTo, now);
    const since = Math.max(statsSince(now, 1), this.#newest - OVERLAP_MS);
    const records = await this.#ledger.listUsage(since);
    let newest = this.#newest;
    for (const r of records) if (r.t > newest) newest = r.t;
    const nextSince = newest - OVERLAP_MS;
    const seen = new Map<string, number>();
    const recent = new Map<string, number>();
    for (const r of records) {
      const key = keyOf(r);
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      // The n-th record of this content: new unless as many were counted before.
      if (n > (this.#recent.get(key) ?? 0) && this.#today(r.t, day, timeZone)) this.#add(r);
      if (r.t >= nextSince) recent.set(key, (recent.get(key) ?? 0) + 1);
    }
    this.#newest = newest;
    this.#recent = recent;
    return copyToday(this.#totals);
  }

  /** Whether time `t` falls on `day`. */
  #today(t: number, day: string, timeZone: string | undefined): boolean {
    if (t >= this.#dayFrom && t <= this.#dayTo) return true;
    if (budgetDay(t, timeZone) !== day) return false;
    this.#dayFrom = Math.min(this.#dayFrom, t);
    this.#dayTo = Math.max(this.#dayTo, t);
    return true;
  }

  #add(r: UsageRecord): void {
    addRecord(this.#totals, r);
    group(this.#totals.byAgent, r.agent, r);
    group(this.#totals.byProvider, r.provider, r);
    group(this.#totals.byModel, r.model, r);
  }
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
