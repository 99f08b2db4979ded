/**
 * Usage and cost as the dashboard shows them: totals per agent, provider and model for today (since
 * local midnight) and since the server started, tokens and USD per minute (last hour) and per hour
 * (last day), and a projection of the day's spend from the last hour's pace. Fed with one record
 * per model call (a `step_finish`), and at start with what the session store saved earlier today.
 */
export interface UsageFigures {
  inputTokens: number;
  outputTokens: number;
  /** Model calls counted. */
  requests: number;
  /** USD, where prices are known (calls without a price add nothing). */
  costUSD: number;
}

export interface UsageTotals extends UsageFigures {
  byAgent: Record<string, UsageFigures>;
  byProvider: Record<string, UsageFigures>;
  byModel: Record<string, UsageFigures>;
}

export interface UsageBucket extends UsageFigures {
  /** Start of the bucket (ms since the epoch). */
  t: number;
}

export interface UsageView {
  /** Since local midnight: calls this server saw, and calls saved in sessions earlier today. */
  today: UsageTotals;
  /** Since this server started. */
  sinceStart: UsageTotals;
  startedAt: number;
  /** Per minute, the last 60 minutes (oldest first; minutes without calls left out). */
  perMinute: UsageBucket[];
  /** Per hour, the last 24 hours. */
  perHour: UsageBucket[];
  /** The day's expected spend: today so far plus the last hour's pace until midnight. */
  projection: { costUSD: number; tokens: number; perHourUSD: number; perHourTokens: number; basisMinutes: number };
}

export interface UsageRecord {
  time: number;
  agent?: string;
  provider?: string;
  model?: string;
  inputTokens: number;
  outputTokens: number;
  costUSD?: number;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;

function zero(): UsageFigures {
  return { inputTokens: 0, outputTokens: 0, requests: 0, costUSD: 0 };
}

function emptyTotals(): UsageTotals {
  return { ...zero(), byAgent: {}, byProvider: {}, byModel: {} };
}

function addTo(into: UsageFigures, r: UsageRecord): void {
  into.inputTokens += r.inputTokens;
  into.outputTokens += r.outputTokens;
  into.requests += 1;
  into.costUSD += r.costUSD ?? 0;
}

function addTotals(into: UsageTotals, r: UsageRecord): void {
  addTo(into, r);
  const group = (table: Record<string, UsageFigures>, key: string | undefined) => {
    if (!key) return;
    table[key] ??= zero();
    addTo(table[key], r);
  };
  group(into.byAgent, r.agent);
  group(into.byProvider, r.provider);
  group(into.byModel, r.model);
}

/** Local midnight of the day of `t`. */
export function startOfDay(t: number): number {
  const d = new Date(t);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

function copy(t: UsageTotals): UsageTotals {
  const table = (x: Record<string, UsageFigures>) => Object.fromEntries(Object.entries(x).map(([k, v]) => [k, { ...v }]));
  return { inputTokens: t.inputTokens, outputTokens: t.outputTokens, requests: t.requests, costUSD: t.costUSD, byAgent: table(t.byAgent), byProvider: table(t.byProvider), byModel: table(t.byModel) };
}

export class UsageBook {
  readonly #now: () => number;
  readonly startedAt: number;
  #day: number;
  #today = emptyTotals();
  readonly #sinceStart = emptyTotals();
  readonly #minutes = new Map<number, UsageBucket>();
  readonly #hours = new Map<number, UsageBucket>();

  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.startedAt = now();
    this.#day = startOfDay(this.startedAt);
  }

  /** The next local midnight after #day (a local-time computation is worth skipping on every call). */
  #nextDay = -Infinity;

  #rollDay(now: number): void {
    if (now >= this.#day && now < this.#nextDay) return;
    const day = startOfDay(now);
    // 25 h after a midnight is always in the next day (days are 23 to 25 h long).
    this.#nextDay = startOfDay(day + 25 * HOUR);
    if (day !== this.#day) {
      this.#day = day;
      this.#today = emptyTotals();
    }
  }

  /** One model call this server saw (also counted since start and in the series). */
  add(r: UsageRecord): void {
    const now = this.#now();
    this.#rollDay(now);
    if (r.time >= this.#day) addTotals(this.#today, r);
    addTotals(this.#sinceStart, r);
    this.#bucket(this.#minutes, Math.floor(r.time / MINUTE) * MINUTE, r);
    this.#bucket(this.#hours, Math.floor(r.time / HOUR) * HOUR, r);
    this.#trim(now);
  }

  /** A call saved before this server started (earlier today): counted in today and the series only. */
  addEarlier(r: UsageRecord): void {
    const now = this.#now();
    this.#rollDay(now);
    if (r.time < this.#day) return;
    addTotals(this.#today, r);
    this.#bucket(this.#minutes, Math.floor(r.time / MINUTE) * MINUTE, r);
    this.#bucket(this.#hours, Math.floor(r.time / HOUR) * HOUR, r);
    this.#trim(now);
  }

  #bucket(map: Map<number, UsageBucket>, t: number, r: UsageRecord): void {
    let b = map.get(t);
    if (!b) {
      b = { t, ...zero() };
      map.set(t, b);
    }
    addTo(b, r);
  }

  #trim(now: number): void {
    for (const t of this.#minutes.keys()) if (t < now - HOUR) this.#minutes.delete(t);
    for (const t of this.#hours.keys()) if (t < now - 24 * HOUR) this.#hours.delete(t);
  }

  view(): UsageView {
    const now = this.#now();
    this.#rollDay(now);
    this.#trim(now);
    const perMinute = [...this.#minutes.values()].sort((a, b) => a.t - b.t).map((b) => ({ ...b }));
    const perHour = [...this.#hours.values()].sort((a, b) => a.t - b.t).map((b) => ({ ...b }));
    // The pace of the last hour, or of the time since start (at least one minute) when shorter.
    const basisMinutes = Math.max(1, Math.min(60, (now - Math.min(this.startedAt, now - MINUTE)) / MINUTE));
    const recent = perMinute.filter((b) => b.t >= now - basisMinutes * MINUTE);
    const recentUSD = recent.reduce((s, b) => s + b.costUSD, 0);
    const recentTokens = recent.reduce((s, b) => s + b.inputTokens + b.outputTokens, 0);
    const perHourUSD = (recentUSD / basisMinutes) * 60;
    const perHourTokens = (recentTokens / basisMinutes) * 60;
    const hoursLeft = Math.max(0, this.#day + 24 * HOUR - now) / HOUR;
    return {
      today: copy(this.#today),
      sinceStart: copy(this.#sinceStart),
      startedAt: this.startedAt,
      perMinute,
      perHour,
      projection: {
        costUSD: this.#today.costUSD + perHourUSD * hoursLeft,
        tokens: Math.round(this.#today.inputTokens + this.#today.outputTokens + perHourTokens * hoursLeft),
        perHourUSD,
        perHourTokens: Math.round(perHourTokens),
        basisMinutes: Math.round(basisMinutes),
      },
    };
  }
}
