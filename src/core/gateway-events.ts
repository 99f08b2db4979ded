/**
 * A gateway call's events on the host's one event stream, like a turn's: the scheduler's (`step_start`,
 * `retry`, `fallback`, `rate_limited`, `cache_hit`), then `step_finish` with usage and cost when a
 * model has answered, and `done` (after an `error` when it failed) when the call is over. Each call is
 * its own `sessionID` (`gw_…`), so metrics, webhooks and the dashboard's state see every front-end's
 * requests the same way.
 */
import { isPantheonError } from '../errors.ts';
import type { BudgetStatus, EventInput, PantheonEvent, Usage } from '../events.ts';
import type { ResolvedModel } from '../providers/resolve-model.ts';
import { costOf } from '../run/usage-tally.ts';
import type { EventHub } from './event-hub.ts';

export type GatewayOutcome = 'success' | 'failed' | 'cancelled';

let seq = 0;
const prefix = `gw_${Date.now().toString(36)}`;

/** A new gateway call's session id: unique in this process, cheap to make. */
export function gatewaySessionId(): string {
  seq += 1;
  return `${prefix}_${seq.toString(36)}`;
}

/** Sends a call's events to the hub as `pantheon` events of session `sessionID` in `projectRoot`. */
export function hubEmitter(hub: EventHub, projectRoot: string, sessionID: string): (event: EventInput) => void {
  return (event) => {
    if (hub.listenerCount === 0) return;
    const full = { ...event, timestamp: Date.now(), sessionID } as PantheonEvent;
    hub.emit({ type: 'pantheon', projectRoot, sessionID, event: full });
  };
}

/** Tracks one call's usage and ends it exactly once: `error` (when it failed) and `done`. */
export class CallEvents {
  readonly #emit: ((event: EventInput) => void) | undefined;
  readonly #tags: { agent?: string };
  readonly #usage: Usage = { inputTokens: 0, outputTokens: 0 };
  #cost: number | undefined;
  #ended = false;
  readonly #budgets: (() => Promise<BudgetStatus[]>) | undefined;

  /** `budgets`: spend against the budgets that apply, for `done` (when the config sets any), as a CLI run's `done` has it. */
  constructor(emit: ((event: EventInput) => void) | undefined, tags: { agent?: string }, budgets?: () => Promise<BudgetStatus[]>) {
    this.#emit = emit;
    this.#tags = tags;
    this.#budgets = budgets;
  }

  /** A model (or the cache for it) finished answering: `step_finish` (with why its answer ended, as a turn's step says). */
  served(model: ResolvedModel, usage: Usage, fromCache: boolean, reason?: string): void {
    this.#usage.inputTokens += usage.inputTokens;
    this.#usage.outputTokens += usage.outputTokens;
    const cost = fromCache ? undefined : costOf(model.cost, usage);
    if (cost !== undefined) this.#cost = (this.#cost ?? 0) + cost;
    this.#emit?.({ ...this.#tags, provider: model.provider, model: model.label, type: 'step_finish', usage: { ...usage }, ...(cost === undefined ? {} : { costUSD: cost }), ...(reason === undefined ? {} : { reason }) });
  }

  /** The call is over (answered, failed, or the client went away). Only the first call counts. */
  end(status: GatewayOutcome, error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    const emit = this.#emit;
    if (!emit) return;
    if (status === 'failed' && error !== undefined) {
      if (isPantheonError(error)) emit({ ...this.#tags, type: 'error', code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) });
      else emit({ ...this.#tags, type: 'error', code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) });
    }
    const done = { ...this.#tags, type: 'done' as const, usage: { ...this.#usage }, status, ...(this.#cost === undefined ? {} : { costUSD: this.#cost }) };
    if (!this.#budgets) return emit(done);
    void this.#budgets().then(
      (budgets) => emit({ ...done, budgets }),
      () => emit({ ...done, budgets: [] }),
    );
  }
}
