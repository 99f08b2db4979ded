import type { Ledger } from './ledger.ts';
import { AttemptError } from './retry-policy.ts';

/**
 * One admitted request: holds its ledger reservation (renewed while it runs), its abort signal and
 * an idle timer that aborts the request when no progress is seen for `timeoutMs`.
 */
export class Lease {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly ledger: Ledger;
  private readonly id: string;
  private readonly timeoutMs: number | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private released = false;

  constructor(ledger: Ledger, id: string, options: { parent?: AbortSignal; timeoutMs?: number; leaseMs: number }) {
    this.ledger = ledger;
    this.id = id;
    this.timeoutMs = options.timeoutMs;
    this.signal = options.parent ? AbortSignal.any([options.parent, this.controller.signal]) : this.controller.signal;
    this.touch();
    const every = Math.max(1000, Math.floor(options.leaseMs / 3));
    this.heartbeat = setInterval(() => {
      this.ledger.renew(this.id, options.leaseMs).catch(() => undefined);
    }, every);
    this.heartbeat.unref();
  }

  /** Records progress: restarts the idle timer. */
  touch(): void {
    if (this.timeoutMs === undefined || this.released) return;
    if (this.idleTimer) this.idleTimer.refresh();
    else {
      const ms = this.timeoutMs;
      this.idleTimer = setTimeout(() => this.controller.abort(new AttemptError('timeout', `no response for ${ms} ms`)), ms);
      this.idleTimer.unref();
    }
  }

  /** The request goes on the wire now: the ledger counts its start (and tokens) from this moment. */
  async markSent(): Promise<void> {
    if (!this.released) await this.ledger.markSent(this.id);
  }

  /** Why the lease's own signal fired (a timeout), if it did. */
  get timeoutReason(): AttemptError | undefined {
    const reason: unknown = this.controller.signal.reason;
    return reason instanceof AttemptError ? reason : undefined;
  }

  /** Ends the request: frees the concurrency slot and corrects the token reservation. Idempotent. */
  async release(options: { actualTokens?: number; refund?: boolean } = {}): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.ledger.release(this.id, options);
  }
}
