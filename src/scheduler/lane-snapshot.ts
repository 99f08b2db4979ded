/**
 * The scheduler's lanes as they stand now, one per provider+model: requests in flight and queued
 * (this process), each rate window's use against its limit (from the ledger, so every process that
 * shares it counts), when the next slot frees, tokens per minute, and cooldown. A plain function
 * over the ledger and the scheduler's counters: the dashboard, /api/state and /metrics read it.
 */
import { decide, startsAnswer, tokenLabel, tokensAnswer, tokensQuery, windowLabel, windowQuery, type CooldownEntry, type Ledger, type ReserveRequest } from './ledger.ts';
import type { TokensQuery } from './ledger-reads.ts';
import type { LaneBalance, LaneCounters, LaneSpec } from './lane-activity.ts';
import { learnedView, type LearnedView } from './learned-text.ts';
import { byCodeUnit } from '../icu-free.ts';

export type LaneState = 'idle' | 'busy' | 'waiting' | 'full' | 'cooling';

export interface LaneWindow {
  /** e.g. `provider:nvidia-nim rpm`, `model:zen/big-pickle 4/4000ms`. */
  label: string;
  scope: 'default' | 'provider' | 'model';
  used: number;
  limit: number;
  windowMs: number;
  /** When the oldest counted start leaves the window (ms from `at`); absent when none is counted. */
  nextFreeMs?: number;
}

export interface LaneTokens {
  label: string;
  scope: 'default' | 'provider' | 'model';
  used: number;
  limit: number;
  windowMs: number;
}

export interface LaneConcurrency {
  label: string;
  scope: 'default' | 'provider' | 'model';
  /** Slots held now by every process that shares the ledger. */
  used: number;
  limit: number;
}

export interface LaneSnapshot {
  /** `model:provider/model`, the cooldown key. */
  key: string;
  provider: string;
  /** `provider/model`. */
  model: string;
  state: LaneState;
  /** Requests in flight: this process's, or the ledger's count of the model's own concurrency slots when that is higher. */
  inFlight: number;
  /** Requests of this process waiting for a slot. */
  queued: number;
  /** Requests this process started on the lane. */
  started: number;
  windows: LaneWindow[];
  tokens: LaneTokens[];
  concurrency: LaneConcurrency[];
  /** Milliseconds until a request could start (0: now); the longest exact wait of every limit. */
  nextSlotMs: number;
  /** The limit that decides `nextSlotMs`, when it is not 0. */
  blockedBy?: string;
  /** When this process's queued requests expect to start (ms since the epoch), as announced in `rate_limited`. */
  waitUntil?: number;
  /** Tokens over the last minute: the ledger's `tpm` count when the lane has one (every process), else this process's reported usage. */
  tokensPerMinute: number;
  tokensPerMinuteSource: 'ledger' | 'process';
  /**
   * Cooling down after repeated failures (the latest of these): shared through the ledger; for the
   * API key this process calls the model with (`refusedKey`: the provider refused it, 401/403;
   * processes with another key still use the model); or (`unreachable`) in this process alone,
   * whose tasks could not reach the model.
   */
  cooldown?: { until: number; failures: number; remainingMs: number; refusedKey?: true; unreachable?: true };
  /** Limits learned from the provider's answers (rateLimit.learn), with when each was learned: the remaining quota. */
  learned: LearnedView[];
  /** What the account has left as the provider's answers on this lane say (Venice's `x-venice-balance-*`), the latest per unit, with when; this process's answers. */
  balances: LaneBalance[];
  /** When this snapshot was taken (the ledger's clock, ms since the epoch). */
  at: number;
}

function scopeOf(key: string): 'default' | 'provider' | 'model' {
  return key.startsWith('provider:') ? 'provider' : key.startsWith('model:') ? 'model' : 'default';
}

/** The latest balance per unit of two lists. */
function latestBalances(a: readonly LaneBalance[] = [], b: readonly LaneBalance[] = []): LaneBalance[] {
  const out = new Map<string, LaneBalance>();
  for (const x of [...a, ...b]) if ((out.get(x.unit)?.at ?? -Infinity) <= x.at) out.set(x.unit, x);
  return [...out.values()].sort((x, y) => byCodeUnit(x.unit, y.unit));
}

/** The same lane seen by several schedulers (several projects in one server): counters added up. */
function merge(counters: LaneCounters[]): Map<string, LaneCounters> {
  const out = new Map<string, LaneCounters>();
  for (const c of counters) {
    const prev = out.get(c.spec.key);
    if (!prev) {
      out.set(c.spec.key, { ...c });
      continue;
    }
    const waitUntil = Math.max(prev.waitUntil ?? 0, c.waitUntil ?? 0);
    out.set(c.spec.key, {
      spec: prev.spec,
      inFlight: prev.inFlight + c.inFlight,
      queued: prev.queued + c.queued,
      started: prev.started + c.started,
      tokensLastMinute: prev.tokensLastMinute + c.tokensLastMinute,
      balances: latestBalances(prev.balances, c.balances),
      ...((c.unreachable?.until ?? 0) > (prev.unreachable?.until ?? 0) ? { unreachable: c.unreachable } : prev.unreachable ? { unreachable: prev.unreachable } : {}),
      ...(waitUntil > 0 ? { waitUntil } : {}),
      ...((c.waitUntil ?? 0) >= (prev.waitUntil ?? 0) ? (c.blockedBy ? { blockedBy: c.blockedBy } : {}) : prev.blockedBy ? { blockedBy: prev.blockedBy } : {}),
    });
  }
  return out;
}

/**
 * Snapshots of `specs` (lanes from the config, whether used yet or not) and of every lane the
 * schedulers' `counters` know, sorted by label. One ledger read per lane, nothing written.
 */
export async function snapshotLanes(ledger: Ledger, specs: readonly LaneSpec[], counters: readonly LaneCounters[]): Promise<LaneSnapshot[]> {
  const local = merge([...counters]);
  const lanes = new Map<string, LaneSpec>();
  // The API keys a lane is called with here (one per project whose config gives it its own).
  const keyCooldowns = new Map<string, Set<string>>();
  for (const spec of [...specs, ...counters.map((c) => c.spec)]) {
    if (!lanes.has(spec.key)) lanes.set(spec.key, spec);
    if (spec.keyCooldown !== undefined) keyCooldowns.set(spec.key, (keyCooldowns.get(spec.key) ?? new Set()).add(spec.keyCooldown));
  }
  const cooling = new Map((await ledger.listCooldowns()).map((c) => [c.key, c]));
  const learned = await ledger.listLearned();
  const out: LaneSnapshot[] = [];
  for (const spec of lanes.values()) {
    const mine = local.get(spec.key);
    const learnKey = spec.key.replace(/^model:/, 'learned:');
    const own = learned.filter((l) => l.key === learnKey);
    const req: ReserveRequest = {
      windows: spec.windows,
      tokens: spec.tokens.map((limit) => ({ limit, amount: 0 })),
      concurrency: spec.concurrency,
      leaseMs: 30_000,
      ...(own.length > 0 ? { learned: { key: learnKey, tokens: 0, limits: own } } : {}),
    };
    const { now, rows } = await ledger.inspect(req);
    // Slots this process leased and has not handed out: others count them, its own requests may take them.
    const ownFree = new Set<string>();
    const windows = spec.windows.map((w): LaneWindow => {
      const { count = 0, nth, oldest } = startsAnswer(rows, windowQuery(w, now));
      const unused = Math.min(count, ledger.ownUnused?.(w.key) ?? 0);
      if (unused > 0) ownFree.add(windowLabel(w));
      // The start whose leaving frees a slot: the limit-th newest when full, else the oldest counted.
      const freeing = nth ?? oldest;
      return {
        label: windowLabel(w),
        scope: scopeOf(w.key),
        used: count - unused,
        limit: w.maxRequests,
        windowMs: w.windowMs,
        ...(freeing === undefined ? {} : { nextFreeMs: Math.max(0, freeing + w.windowMs + 1 - now) }),
      };
    });
    const tokens = spec.tokens.map((l): LaneTokens => {
      const q = tokensQuery(l, 0, now) as TokensQuery;
      return { label: tokenLabel(l), scope: scopeOf(l.key), used: tokensAnswer(rows, q).sum ?? 0, limit: l.maxTokens, windowMs: l.windowMs };
    });
    const concurrency = spec.concurrency.map((c): LaneConcurrency => ({ label: `${c.key} concurrency`, scope: scopeOf(c.key), used: rows.inFlight.get(c.key) ?? 0, limit: c.limit }));
    const decided = decide(req, rows, now);
    // Full for other processes, not for this one while its own leased slots last.
    const decision = !decided.ok && ownFree.has(decided.blockedBy) && windows.every((w) => w.used < w.limit) ? ({ ok: true } as const) : decided;
    const tpm = tokens.find((t) => t.windowMs === 60_000);
    const shared = cooling.get(spec.key);
    let refused: CooldownEntry | undefined;
    for (const key of keyCooldowns.get(spec.key) ?? []) {
      const entry = cooling.get(key);
      if (entry && entry.until > (refused?.until ?? 0)) refused = entry;
    }
    const cool = refused && refused.until > (shared?.until ?? 0) ? refused : shared;
    const ownSlots = concurrency.find((c) => c.scope === 'model')?.used ?? 0;
    const inFlight = Math.max(mine?.inFlight ?? 0, ownSlots);
    const queued = mine?.queued ?? 0;
    const waitUntil = mine?.waitUntil !== undefined && mine.waitUntil > now && queued > 0 ? mine.waitUntil : undefined;
    const nextSlotMs = decision.ok ? 0 : decision.waitMs;
    const away = mine?.unreachable;
    const cooldown =
      away && away.until > now && away.until > (cool?.until ?? 0)
        ? { until: away.until, failures: away.failures, remainingMs: away.until - now, unreachable: true as const }
        : cool && cool.until > now
          ? { until: cool.until, failures: cool.failures, remainingMs: cool.until - now, ...(cool === refused ? { refusedKey: true as const } : {}) }
          : undefined;
    const state: LaneState = cooldown ? 'cooling' : queued > 0 ? 'waiting' : nextSlotMs > 0 ? 'full' : inFlight > 0 ? 'busy' : 'idle';
    out.push({
      key: spec.key,
      provider: spec.provider,
      model: spec.label,
      state,
      inFlight,
      queued,
      started: mine?.started ?? 0,
      windows,
      tokens,
      concurrency,
      nextSlotMs,
      ...(decision.ok ? {} : { blockedBy: decision.blockedBy }),
      ...(waitUntil !== undefined ? { waitUntil } : {}),
      tokensPerMinute: tpm ? tpm.used : (mine?.tokensLastMinute ?? 0),
      tokensPerMinuteSource: tpm ? 'ledger' : 'process',
      ...(cooldown ? { cooldown } : {}),
      learned: own.map((l) => learnedView(l, now)),
      balances: latestBalances(mine?.balances),
      at: now,
    });
  }
  return out.sort((a, b) => byCodeUnit(a.model, b.model));
}
