/**
 * Small policy functions for retry: what kind of failure is this, how long to wait, whether to
 * give up on a model. The scheduler composes them; nothing here does I/O.
 */
import { APICallError } from '@ai-sdk/provider';

export interface RetryPolicy {
  maxRetries: number;
  baseDelay: number;
  maxDelay: number;
  backoffMultiplier: number;
  retryOn: readonly number[];
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxRetries: 3,
  baseDelay: 1000,
  maxDelay: 60_000,
  backoffMultiplier: 2,
  retryOn: [429, 500, 502, 503, 504],
};

/** retryable: try again (maybe after a wait); next-model: go to the fallback now; fatal: fail the task now. */
export type FailureKind = 'retryable' | 'next-model' | 'fatal' | 'cancelled';

export interface Failure {
  kind: FailureKind;
  /** HTTP status, or a word for what happened: timeout, reset, truncated, bad_response, network. */
  status: number | string;
  message: string;
  /** Server-requested wait (Retry-After / retry-after-ms), in ms. */
  retryAfterMs?: number;
}

/** Marks a failure the scheduler itself detected (timeout, truncated stream). */
export class AttemptError extends Error {
  readonly status: string;
  constructor(status: string, message: string) {
    super(message);
    this.name = 'AttemptError';
    this.status = status;
  }
}

/** Reads `retry-after-ms`, then `retry-after` (seconds or an HTTP date), as milliseconds from now. */
export function parseRetryAfter(headers: Record<string, string | undefined> | undefined, now: number): number | undefined {
  if (!headers) return undefined;
  const lower: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  const ms = Number(lower['retry-after-ms']);
  if (lower['retry-after-ms'] !== undefined && Number.isFinite(ms) && ms >= 0) return Math.ceil(ms);
  const value = lower['retry-after'];
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.ceil(seconds * 1000) : undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Classifies what an attempt threw. */
export function classifyFailure(error: unknown, policy: RetryPolicy, signal: AbortSignal | undefined, now: number): Failure {
  if (signal?.aborted) return { kind: 'cancelled', status: 'cancelled', message: 'cancelled' };
  if (error instanceof AttemptError) return { kind: 'retryable', status: error.status, message: error.message };
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    const message = shortMessage(error);
    if (status === undefined) {
      const code = networkCode(error);
      return { kind: 'retryable', status: code === 'ECONNRESET' ? 'reset' : 'network', message };
    }
    const retryAfterMs = parseRetryAfter(error.responseHeaders, now);
    const base = retryAfterMs === undefined ? { status, message } : { status, message, retryAfterMs };
    if (policy.retryOn.includes(status)) return { kind: 'retryable', ...base };
    if (status === 401 || status === 403 || status === 404) return { kind: 'next-model', ...base };
    if (status === 429 || status >= 500) return { kind: 'next-model', ...base };
    return { kind: 'fatal', ...base };
  }
  const code = networkCode(error);
  if (code) return { kind: 'retryable', status: code === 'ECONNRESET' ? 'reset' : 'network', message: code };
  const name = (error as { name?: string } | undefined)?.name ?? '';
  if (/JSONParseError|TypeValidationError|InvalidResponseDataError|EmptyResponseBodyError/.test(name)) {
    return { kind: 'retryable', status: 'bad_response', message: (error as Error).message.slice(0, 200) };
  }
  return { kind: 'fatal', status: 'error', message: error instanceof Error ? error.message : String(error) };
}

function shortMessage(error: APICallError): string {
  const body = error.responseBody ?? '';
  let detail = '';
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string } | string; message?: string };
    detail = typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? parsed.message ?? '');
  } catch {
    detail = '';
  }
  const text = detail || error.message;
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

/** Exponential backoff with jitter: the n-th retry (0-based) waits base·mult^n, scaled by 0.5–1.0, capped at maxDelay. */
export function backoffDelay(retryIndex: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const raw = policy.baseDelay * Math.pow(policy.backoffMultiplier, retryIndex);
  const jittered = raw * (0.5 + random() * 0.5);
  return Math.round(Math.min(policy.maxDelay, jittered));
}

/** How long to wait before retrying: the server's Retry-After when given, otherwise backoff. */
export function retryDelay(failure: Failure, retryIndex: number, policy: RetryPolicy, random?: () => number): number {
  if (failure.retryAfterMs !== undefined) return failure.retryAfterMs;
  return backoffDelay(retryIndex, policy, random);
}

/**
 * Whether to take the fallback instead of waiting `waitMs` on the current model: the wait is longer
 * than the fallback's expected start, and longer than one base delay (a short first backoff stays
 * on the chosen model), or longer than maxDelay.
 */
export function preferFallback(waitMs: number, fallbackStartMs: number | undefined, policy: RetryPolicy): boolean {
  if (fallbackStartMs === undefined) return false;
  if (waitMs > policy.maxDelay) return true;
  return waitMs > Math.max(fallbackStartMs, policy.baseDelay);
}
