/**
 * `opencode stats` and the dashboard's usage totals: requests, tokens, cost, retries, fallbacks,
 * rate-limit waits and cache savings by day, agent, provider and model, computed from the usage
 * log every process writes to the shared ledger (one record per model call). Pure: the records come
 * from stats-sources.ts (or the dashboard's ledger read), so both front-ends count the same way.
 */
import { budgetDay } from '../run/budget.ts';
import type { UsageRecord } from '../scheduler/spend.ts';
import { byCodeUnit } from '../icu-free.ts';

export interface StatsFigures {
  /** Model calls answered (each step of a tool loop is one), cache hits included. */
  requests: number;
  /** Of those, answered from the response cache. */
  cacheHits: number;
  /** Reported tokens, as `done` counts them (cache hits included). */
  inputTokens: number;
  outputTokens: number;
  /** USD spent, where prices are known (cache hits cost nothing). */
  costUSD: number;
  /** What the cache hits would have cost from the model (USD). */
  savedUSD: number;
  retries: number;
  fallbacks: number;
  /** Calls that waited on a rate limit before going out. */
  rateLimitWaits: number;
  /** Time those calls waited (ms), summed. */
  waitedMs: number;
}

export interface StatsDay extends StatsFigures {
  /** `YYYY-MM-DD` in the report's time zone. */
  day: string;
}

export interface StatsReport {
  /** First and last day covered (`YYYY-MM-DD`); `from` is the first day with a call when `days` is not given. */
  from: string;
  to: string;
  /** `--days N`, or null for everything the usage log keeps. */
  days: number | null;
  /** The IANA zone days are counted in (`budget.timeZone`), or `local` (the machine's). */
  timeZone: string;
  filters: { agent?: string; provider?: string; /** `--project`: the project folder whose sessions' calls are counted */ project?: string };
  totals: StatsFigures;
  /** Every day of the period, oldest first (days without calls are zero), or with `days: null`, the days with calls. */
  byDay: StatsDay[];
  byAgent: Record<string, StatsFigures>;
  byProvider: Record<string, StatsFigures>;
  byModel: Record<string, StatsFigures>;
  /** Things a reader should know about the figures (an unknown filter, figures from sessions). */
  notes: string[];
}

export interface StatsOptions {
  now: number;
  /** The last N calendar days, today included; undefined: every record given. */
  days?: number;
  timeZone?: string;
  agent?: string;
  provider?: string;
  /** `--project`: only the calls of these sessions (a project's), named in `filters.project` by `projectRoot`. */
  project?: { projectRoot: string; sessions: ReadonlySet<string> };
}

const DAY_MS = 86_400_000;

/** The longest period a report covers (the usage log keeps 90 days; sessions may go further back). */
export const MAX_STATS_DAYS = 3650;

/** A period in days as given (`--days 7`, `?days=7`): a whole number from 1 to MAX_STATS_DAYS, else undefined. */
export function parseStatsDays(text: string): number | undefined {
  const days = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  return Number.isSafeInteger(days) && days >= 1 && days <= MAX_STATS_DAYS ? days : undefined;
}

export function zeroFigures(): StatsFigures {
  return { requests: 0, cacheHits: 0, inputTokens: 0, outputTokens: 0, costUSD: 0, savedUSD: 0, retries: 0, fallbacks: 0, rateLimitWaits: 0, waitedMs: 0 };
}

export function addRecord(into: StatsFigures, r: UsageRecord): void {
  into.requests += 1;
  if (r.cached) into.cacheHits += 1;
  into.inputTokens += r.inputTokens;
  into.outputTokens += r.outputTokens;
  into.costUSD += r.costUSD ?? 0;
  into.savedUSD += r.savedUSD ?? 0;
  into.retries += r.retries;
  into.fallbacks += r.fallbacks;
  if (r.waitedMs > 0) into.rateLimitWaits += 1;
  into.waitedMs += r.waitedMs;
}

function group(table: Record<string, StatsFigures>, key: string, r: UsageRecord): void {
  if (!Object.hasOwn(table, key)) table[key] = zeroFigures();
  addRecord(table[key] as StatsFigures, r);
}

/** `count` calendar days ending with `last` (`YYYY-MM-DD`), oldest first: pure date arithmetic, no time zone. */
export function dayRange(last: string, count: number): string[] {
  const [y, m, d] = last.split('-').map(Number) as [number, number, number];
  const out: string[] = [];
  for (let i = count - 1; i >= 0; i--) out.push(new Date(Date.UTC(y, m - 1, d - i)).toISOString().slice(0, 10));
  return out;
}

/**
 * How far back the records must be read for `days` (ms since the epoch): a day and a half more
 * than the period, so that no time zone can put a call of its first day before it.
 */
export function statsSince(now: number, days: number | undefined): number {
  return days === undefined ? 0 : Math.max(0, now - (days + 1.5) * DAY_MS);
}

function sortedKeys<T>(table: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(table).sort(([a], [b]) => byCodeUnit(a, b)));
}

/** Groups the usage log's records into the report `opencode stats` prints. */
export function computeStats(records: readonly UsageRecord[], options: StatsOptions): StatsReport {
  const today = budgetDay(options.now, options.timeZone);
  const period = options.days === undefined ? undefined : new Set(dayRange(today, options.days));
  const totals = zeroFigures();
  const days: Record<string, StatsFigures> = {};
  const byAgent: Record<string, StatsFigures> = {};
  const byProvider: Record<string, StatsFigures> = {};
  const byModel: Record<string, StatsFigures> = {};
  const seen = { agents: new Set<string>(), providers: new Set<string>() };
  for (const r of records) {
    const day = budgetDay(r.t, options.timeZone);
    if (period ? !period.has(day) : day > today) continue;
    seen.agents.add(r.agent);
    seen.providers.add(r.provider);
    if (options.agent !== undefined && r.agent !== options.agent) continue;
    if (options.provider !== undefined && r.provider !== options.provider) continue;
    if (options.project !== undefined && (r.runId === undefined || !options.project.sessions.has(r.runId))) continue;
    addRecord(totals, r);
    group(days, day, r);
    group(byAgent, r.agent, r);
    group(byProvider, r.provider, r);
    group(byModel, r.model, r);
  }
  const dayList = period ? [...period] : Object.keys(days).sort();
  const notes: string[] = [];
  const within = options.days === undefined ? 'in the usage log' : `in the last ${options.days === 1 ? 'day' : `${options.days} days`}`;
  const unknown = (what: string, name: string, known: Set<string>): void => {
    const others = [...known].sort();
    notes.push(`No calls by ${what} "${name}" ${within}${others.length ? `; ${what}s with calls: ${others.join(', ')}` : ''}.`);
  };
  if (options.agent !== undefined && !seen.agents.has(options.agent)) unknown('agent', options.agent, seen.agents);
  if (options.provider !== undefined && !seen.providers.has(options.provider)) unknown('provider', options.provider, seen.providers);
  return {
    from: dayList[0] ?? today,
    to: today,
    days: options.days ?? null,
    timeZone: options.timeZone ?? 'local',
    filters: {
      ...(options.agent !== undefined ? { agent: options.agent } : {}),
      ...(options.provider !== undefined ? { provider: options.provider } : {}),
      ...(options.project !== undefined ? { project: options.project.projectRoot } : {}),
    },
    totals,
    byDay: dayList.map((day) => ({ day, ...(days[day] ?? zeroFigures()) })),
    byAgent: sortedKeys(byAgent),
    byProvider: sortedKeys(byProvider),
    byModel: sortedKeys(byModel),
    notes,
  };
}
