/**
 * Errors of a scheduled model call as HTTP errors for the gateway route groups (`/v1`, `/api/v1`):
 * an unknown model is the client's 404, a wait on a rate limit longer than allowed is a 429 with
 * Retry-After, a spent budget a 429 that asks not to be retried (as OpenAI's `insufficient_quota`
 * and LiteLLM's `budget_exceeded`), a provider refusing the request a 400, and every model of the
 * chain failing, or a plugin's hook on the call (an `auth` loader), a 502.
 */
import { BudgetExceededError } from '../run/budget.ts';
import { RateLimitWaitError } from '../scheduler/acquire.ts';
import { isPantheonError } from '../errors.ts';
import { HttpError, toHttpError } from './http-error.ts';

export function gatewayHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof RateLimitWaitError) {
    const seconds = Number.isFinite(error.waitMs) ? Math.max(1, Math.ceil(error.waitMs / 1000)) : undefined;
    return new HttpError(429, 'RATE_LIMITED', error.message, {
      hint: seconds === undefined ? (error.hint ?? '') : `Retry after ${seconds} s, or allow a longer wait with the x-pantheon-max-wait header (ms).`,
      ...(seconds === undefined ? {} : { retryAfter: seconds }),
      details: { limit: error.blockedBy },
    });
  }
  if (error instanceof BudgetExceededError) {
    return new HttpError(429, error.code, error.message, { ...(error.hint ? { hint: error.hint } : {}), details: { budget: error.status }, final: true });
  }
  if (isPantheonError(error)) {
    const hint = error.hint ? { hint: error.hint } : {};
    const attempts = error.details.length ? { details: { attempts: error.details } } : {};
    switch (error.code) {
      case 'UNKNOWN_MODEL':
      case 'UNKNOWN_PROVIDER':
      case 'UNKNOWN_AGENT':
        return new HttpError(404, 'MODEL_NOT_FOUND', error.message, hint);
      case 'PROVIDER_BAD_REQUEST': {
        // The provider's own code and param (`context_length_exceeded`, `messages`): clients act on them.
        const given = error.fields;
        return new HttpError(400, error.code, error.message, { ...hint, details: { ...attempts.details, ...(given.param ? { param: given.param } : {}), ...(given.code ? { providerCode: given.code } : {}) } });
      }
      // A plugin's hook on the call (its provider's auth loader, `chat.params`, `chat.headers`) failed: the request could not be made.
      case 'PLUGIN_FAILED':
      case 'ALL_FALLBACKS_FAILED':
      case 'PROVIDER_ERROR':
      case 'PROVIDER_AUTH':
      case 'PROVIDER_PACKAGE_MISSING':
        return new HttpError(502, error.code, error.message, { ...hint, ...attempts });
      case 'CANCELLED':
        return new HttpError(499, error.code, error.message);
      default:
        return toHttpError(error);
    }
  }
  return toHttpError(error);
}
