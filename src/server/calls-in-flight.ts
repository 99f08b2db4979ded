/**
 * The gateway's model calls in flight (`/v1`), for the server's shutdown. On SIGTERM the server stops
 * taking calls (a new one is answered 503 with Retry-After), refuses those still waiting on a rate
 * limit the same way (they were not sent: another server, or this one restarted, can take them), and
 * lets the others finish within the drain grace of turns; the grace over, the rest are cancelled.
 * Either way the server closes its ledger only once every call has ended, so each call's
 * reservations and concurrency slots are released there (a slot left held would block a
 * `concurrency: 1` model for the lease's 30 s, in every process sharing the ledger).
 */
import { HttpError, SHUTDOWN_RETRY_AFTER_S } from './http-error.ts';

/** The answer to a call the server will not serve because it is stopping. */
export function shuttingDown(cut = false): HttpError {
  return cut
    ? new HttpError(503, 'SHUTTING_DOWN', 'The server is shutting down and its grace for calls in flight ran out: this call was cancelled.', { hint: 'Send it again in a few seconds.', retryAfter: SHUTDOWN_RETRY_AFTER_S })
    : new HttpError(503, 'SHUTTING_DOWN', 'The server is shutting down and takes no new calls.', { hint: 'Send it again in a few seconds.', retryAfter: SHUTDOWN_RETRY_AFTER_S });
}

/** How the server stops a call: its request's signal aborts with `reason`. */
export interface Stoppable {
  stop(reason: unknown): void;
}

/** One call in flight. The core gateway reports its waits on rate limits (GatewayCall.waits). */
export class CallInFlight {
  readonly #calls: CallsInFlight;
  readonly #request: Stoppable;
  #waiting = false;
  /** Why the server stopped the call, if it did (the answer the client gets). */
  stopped: HttpError | undefined = undefined;

  constructor(calls: CallsInFlight, request: Stoppable) {
    this.#calls = calls;
    this.#request = request;
  }

  /** The call waits on a rate limit (true), or goes to a provider (false). A call that waits once the server is stopping is refused. */
  waiting(on: boolean): void {
    this.#waiting = on;
    if (on && this.#calls.closing) this.stop(shuttingDown());
  }

  get isWaiting(): boolean {
    return this.#waiting;
  }

  stop(reason: HttpError): void {
    if (this.stopped) return;
    this.stopped = reason;
    this.#request.stop(reason);
  }

  /** The call is over: answered (and its bookkeeping done), or failed. */
  end(): void {
    this.#calls.ended(this);
  }
}

export class CallsInFlight {
  readonly #calls = new Set<CallInFlight>();
  #closing = false;
  #idle: (() => void) | undefined;

  get closing(): boolean {
    return this.#closing;
  }

  get size(): number {
    return this.#calls.size;
  }

  /** A call starts; a 503 once the server is stopping. */
  start(request: Stoppable): CallInFlight {
    if (this.#closing) throw shuttingDown();
    const call = new CallInFlight(this, request);
    this.#calls.add(call);
    return call;
  }

  ended(call: CallInFlight): void {
    if (this.#calls.delete(call) && this.#calls.size === 0) this.#idle?.();
  }

  /**
   * The server stops: calls waiting on a rate limit are refused at once, the others have `graceMs`
   * to end, then are cancelled. Resolves once every call has ended (at most `settleMs` after the
   * cancellation: a call that does not end by then is left to the process's exit).
   */
  async close(graceMs: number, settleMs = 2000): Promise<void> {
    this.#closing = true;
    for (const call of this.#calls) if (call.isWaiting) call.stop(shuttingDown());
    if (await this.#idleWithin(graceMs)) return;
    for (const call of this.#calls) call.stop(shuttingDown(true));
    await this.#idleWithin(settleMs);
  }

  /** Whether every call ended within `ms`. */
  #idleWithin(ms: number): Promise<boolean> {
    if (this.#calls.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#idle = undefined;
        resolve(false);
      }, ms);
      this.#idle = () => {
        clearTimeout(timer);
        this.#idle = undefined;
        resolve(true);
      };
    });
  }
}
