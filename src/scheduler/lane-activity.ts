/**
 * What this process's scheduler is doing per lane (one lane per provider+model): requests in
 * flight, requests queued behind a rate limit and when their wait ends, and the tokens its finished
 * requests used over the last minute. The ledger knows the rest (other processes' starts, slots,
 * cooldowns); lane-snapshot.ts joins the two.
 */
import { nextFailureState, type ConcurrencyLimit, type FailureState, type TokenLimit, type WindowLimit } from './ledger.ts';
import type { AnnouncedBalance } from './rate-limit-headers.ts';

/** A balance a provider's answer announced, and when (ms since the epoch). */
export interface LaneBalance extends AnnouncedBalance {
  at: number;
}

/** A lane as the scheduler knows it: the model's limits (the variant does not make a lane of its own). */
export interface LaneSpec {
  /** The cooldown key, `model:provider/model`. */
  key: string;
  /** The cooldown key of the API key this process calls the model with (key-cooldown.ts). */
  keyCooldown?: string;
  provider: string;
  /** `provider/model`. */
  label: string;
  windows: WindowLimit[];
  tokens: TokenLimit[];
  concurrency: ConcurrencyLimit[];
}

export interface LaneCounters {
  spec: LaneSpec;
  inFlight: number;
  queued: number;
  /** When the announced rate-limit wait of this lane's queued requests ends (ms since the epoch). */
  waitUntil?: number;
  /** The limit that announced wait is for, e.g. `provider:nvidia-nim rpm`. */
  blockedBy?: string;
  /** Tokens of requests that finished in the last minute (reported usage). */
  tokensLastMinute: number;
  /** Requests this process started on the lane since it began. */
  started: number;
  /** The latest balance per unit the provider's answers on this lane announced. */
  balances?: LaneBalance[];
  /** Cooling down in this process alone: its tasks could not reach the model (see `unreachable`). */
  unreachable?: { until: number; failures: number };
}

const MINUTE = 60_000;

/** The label of a lane from its key (`model:nvidia-nim/qwen` → `nvidia-nim/qwen`). */
export function laneLabel(key: string): string {
  return key.startsWith('model:') ? key.slice('model:'.length) : key;
}

interface Lane {
  spec: LaneSpec;
  inFlight: number;
  queued: number;
  started: number;
  waitUntil?: number;
  blockedBy?: string;
  served: { t: number; tokens: number }[];
  balances?: Map<string, LaneBalance>;
  /** Tasks in a row that could not reach the model from this process, and the cooldown they started. */
  unreachable?: FailureState;
}

export class LaneActivity {
  readonly #lanes = new Map<string, Lane>();
  readonly #now: () => number;
  /** Lanes holding a count of unreachable tasks (a success elsewhere costs nothing while there are none). */
  #unreachable = 0;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  #lane(model: Omit<LaneSpec, 'label'>): Lane {
    let lane = this.#lanes.get(model.key);
    if (!lane) {
      const spec: LaneSpec = {
        key: model.key,
        provider: model.provider,
        label: laneLabel(model.key),
        windows: model.windows,
        tokens: model.tokens,
        concurrency: model.concurrency,
        ...(model.keyCooldown === undefined ? {} : { keyCooldown: model.keyCooldown }),
      };
      lane = { spec, inFlight: 0, queued: 0, started: 0, served: [] };
      this.#lanes.set(model.key, lane);
    }
    return lane;
  }

  /** A request starts waiting in the lane's queue. */
  enqueue(model: Omit<LaneSpec, 'label'>): void {
    this.#lane(model).queued += 1;
  }

  /** A queued request left the queue (admitted, cancelled or moved to a fallback). */
  dequeue(model: Omit<LaneSpec, 'label'>): void {
    const lane = this.#lane(model);
    lane.queued = Math.max(0, lane.queued - 1);
    if (lane.queued === 0) {
      delete lane.waitUntil;
      delete lane.blockedBy;
    }
  }

  /** The lane's queued requests wait for `blockedBy` until `until`. */
  waiting(model: Omit<LaneSpec, 'label'>, until: number, blockedBy: string): void {
    const lane = this.#lane(model);
    lane.waitUntil = until;
    lane.blockedBy = blockedBy;
  }

  /** A request was admitted and is now in flight. */
  started(model: Omit<LaneSpec, 'label'>): void {
    const lane = this.#lane(model);
    lane.inFlight += 1;
    lane.started += 1;
  }

  /** A request in flight ended; `tokens` is its reported usage when it had one. */
  finished(model: Omit<LaneSpec, 'label'>, tokens?: number): void {
    const lane = this.#lane(model);
    lane.inFlight = Math.max(0, lane.inFlight - 1);
    if (tokens !== undefined && tokens > 0) lane.served.push({ t: this.#now(), tokens });
  }

  /**
   * A task could not reach the lane's model from this process (its last attempt never left: a name
   * that did not resolve, a connection never made): counted toward a cooldown of this process alone,
   * as the shared ledger counts other failures (`afterFailures` tasks in a row cool it for `ms`).
   * Such a failure says nothing of the model to another process or machine.
   */
  unreachableFailure(model: Omit<LaneSpec, 'label'>, afterFailures: number, ms: number): void {
    const lane = this.#lane(model);
    if (lane.unreachable === undefined) this.#unreachable += 1;
    lane.unreachable = nextFailureState(lane.unreachable, afterFailures, ms, this.#now());
  }

  /** The lane's model answered: its count of unreachable tasks ends. */
  reached(key: string): void {
    if (this.#unreachable === 0) return;
    const lane = this.#lanes.get(key);
    if (lane?.unreachable === undefined) return;
    delete lane.unreachable;
    this.#unreachable -= 1;
  }

  /** When the lane's cooldown in this process ends (0: none). */
  unreachableUntil(key: string): number {
    return this.#unreachable === 0 ? 0 : (this.#lanes.get(key)?.unreachable?.until ?? 0);
  }

  /** An answer on the lane announced `balances` (kept per unit, the latest wins). */
  announced(model: Omit<LaneSpec, 'label'>, balances: readonly AnnouncedBalance[], at: number): void {
    if (balances.length === 0) return;
    const lane = this.#lane(model);
    lane.balances ??= new Map();
    for (const b of balances) lane.balances.set(b.unit, { ...b, at });
  }

  /** Every lane this process has used, with its counters now. */
  list(): LaneCounters[] {
    const since = this.#now() - MINUTE;
    return [...this.#lanes.values()].map((lane) => {
      while (lane.served.length && (lane.served[0] as { t: number }).t < since) lane.served.shift();
      return {
        spec: lane.spec,
        inFlight: lane.inFlight,
        queued: lane.queued,
        started: lane.started,
        ...(lane.waitUntil !== undefined ? { waitUntil: lane.waitUntil } : {}),
        ...(lane.blockedBy !== undefined ? { blockedBy: lane.blockedBy } : {}),
        tokensLastMinute: lane.served.reduce((sum, s) => sum + s.tokens, 0),
        ...(lane.balances ? { balances: [...lane.balances.values()] } : {}),
        ...(lane.unreachable?.until !== undefined && lane.unreachable.until > this.#now() ? { unreachable: { until: lane.unreachable.until, failures: lane.unreachable.failures } } : {}),
      };
    });
  }
}
