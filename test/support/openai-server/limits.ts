/**
 * Server-side limits: sliding windows of accepted request starts and in-flight counts, per
 * model and over all models, with peak concurrency.
 */
import type { RateLimit, RequestLogEntry } from './types.ts';

export type LimitName = NonNullable<RequestLogEntry['limit']>;

export type Admission =
  | { ok: true; release: () => void }
  | { ok: false; limit: LimitName; retryAfterMs: number | undefined };

interface Lane {
  starts: number[];
  inFlight: number;
  peak: number;
}

export interface LimitSettings {
  rateLimit: RateLimit | undefined;
  concurrencyLimit: number | undefined;
}

export function createLimits(global: LimitSettings): {
  admit: (model: string, settings: LimitSettings, at: number) => Admission;
  lane: (model: string | undefined) => { inFlight: number; peak: number };
  /** The model's own window at `at`: limit, starts left, ms until every counted start has left it. */
  window: (model: string, limit: RateLimit, at: number) => { limit: number; remaining: number; resetMs: number };
  models: () => string[];
  reset: () => void;
} {
  const lanes = new Map<string | undefined, Lane>();
  const laneFor = (key: string | undefined): Lane => {
    let lane = lanes.get(key);
    if (lane === undefined) {
      lane = { starts: [], inFlight: 0, peak: 0 };
      lanes.set(key, lane);
    }
    return lane;
  };

  /** How long until the window has room, or undefined when it has room now. */
  const windowWait = (lane: Lane, limit: RateLimit | undefined, at: number): number | undefined => {
    if (limit === undefined) return undefined;
    const span = Math.max(0, limit.windowMs - (limit.graceMs ?? 0));
    lane.starts = lane.starts.filter((start) => start > at - span);
    if (lane.starts.length < limit.maxRequests) return undefined;
    const oldest = lane.starts[lane.starts.length - limit.maxRequests] ?? at;
    return Math.max(1, oldest + span - at);
  };

  return {
    admit(model, settings, at) {
      const own = laneFor(model);
      const all = laneFor(undefined);
      const ownWait = windowWait(own, settings.rateLimit, at);
      const allWait = windowWait(all, global.rateLimit, at);
      if (ownWait !== undefined || allWait !== undefined) {
        const ownFirst = (ownWait ?? -1) >= (allWait ?? -1);
        return { ok: false, limit: ownFirst ? 'model-window' : 'global-window', retryAfterMs: Math.max(ownWait ?? 0, allWait ?? 0) };
      }
      if (settings.concurrencyLimit !== undefined && own.inFlight >= settings.concurrencyLimit) {
        return { ok: false, limit: 'model-concurrency', retryAfterMs: undefined };
      }
      if (global.concurrencyLimit !== undefined && all.inFlight >= global.concurrencyLimit) {
        return { ok: false, limit: 'global-concurrency', retryAfterMs: undefined };
      }
      for (const lane of [own, all]) {
        lane.starts.push(at);
        lane.inFlight += 1;
        lane.peak = Math.max(lane.peak, lane.inFlight);
      }
      let released = false;
      return {
        ok: true,
        release() {
          if (released) return;
          released = true;
          own.inFlight -= 1;
          all.inFlight -= 1;
        },
      };
    },
    window(model, limit, at) {
      const lane = laneFor(model);
      const span = Math.max(0, limit.windowMs - (limit.graceMs ?? 0));
      const inside = lane.starts.filter((start) => start > at - span);
      const newest = inside.length > 0 ? Math.max(...inside) : undefined;
      return {
        limit: limit.maxRequests,
        remaining: Math.max(0, limit.maxRequests - inside.length),
        resetMs: newest === undefined ? 0 : Math.max(0, newest + span - at),
      };
    },
    lane(model) {
      const lane = laneFor(model);
      return { inFlight: lane.inFlight, peak: lane.peak };
    },
    models() {
      return [...lanes.keys()].filter((key): key is string => key !== undefined);
    },
    reset() {
      for (const lane of lanes.values()) {
        lane.starts = [];
        lane.peak = lane.inFlight;
      }
    },
  };
}
