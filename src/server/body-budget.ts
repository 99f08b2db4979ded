/**
 * The request-body bytes the server holds at once, across every request still receiving its body: a
 * server-wide budget (ServerOptions.bodyBudgetBytes, default BODY_BUDGET_BYTES) on top of the
 * per-body limit (maxBodyBytes, 413). A body that would take the server over it is refused before
 * more of it is buffered (503 with Retry-After: the same body is served once others are in), so many
 * large bodies sent slowly at once cannot take the server's memory. A body's declared length
 * (`content-length`) is taken when its reading starts; a body sent in chunks takes its bytes as they
 * come. What is taken is given back once the body is read (or dropped).
 */
import { HttpError } from './http-error.ts';

/** The default budget: 16 bodies at the per-body limit (16 MiB), or thousands of ordinary ones. */
export const BODY_BUDGET_BYTES = 256 * 1024 * 1024;

export class BodyBudget {
  readonly limit: number;
  #used = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Bytes taken now. */
  get used(): number {
    return this.#used;
  }

  /** Takes `bytes` of the budget; false (nothing taken) when that would go over it. */
  take(bytes: number): boolean {
    if (this.#used + bytes > this.limit) return false;
    this.#used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.#used -= bytes;
  }
}

/** The answer to a body the budget has no room for. */
export function budgetFull(budget: BodyBudget): HttpError {
  return new HttpError(503, 'SERVER_BUSY', `The server is receiving as many request bodies as it holds at once (${budget.limit} bytes in all); this one would go over that.`, {
    hint: 'Send it again in a moment.',
    retryAfter: 1,
  });
}
