/**
 * Small policy functions for retry: what kind of failure is this, how long to wait, whether to
 * give up on a model. The scheduler composes them; nothing here does I/O.
 */
import { retryAfterMs } from './rate-limit-headers.ts';
import { APICallError, InvalidResponseDataError } from '@ai-sdk/provider';
import { PantheonError } from '../errors.ts';
import { geminiQuota } from './rate-limit-headers.ts';

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
  /** The request never reached the provider (see `neverSent`): its start is given back. */
  notSent?: true;
  /** The provider's own error `code` and `param` (OpenAI's error body: `context_length_exceeded`, `messages`), when short tokens. */
  providerCode?: string;
  providerParam?: string;
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

/** Reads `retry-after-ms`, then `retry-after` (seconds or an HTTP date), as milliseconds from now (at most a day; rate-limit-headers.ts). */
export function parseRetryAfter(headers: Record<string, string | undefined> | undefined, now: number): number | undefined {
  // One reading of the header for retries and learned limits: a wait over a day (a broken or
  // hostile value; a timer cannot even hold 25 days) is ignored, and the backoff applies.
  return headers ? retryAfterMs(headers, now) : undefined;
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'ECONNABORTED',
]);
/** Name lookups that failed: no connection was even tried. */
const LOOKUP_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN']);

/**
 * Whether `error` shows that the request never reached the provider: its host name did not resolve,
 * or the connection was never made (a failed `connect`: refused, unreachable, timed out while
 * connecting; undici's connect timeout; every address of an AggregateError so). Such an attempt's
 * start is given back, so later requests do not wait for a start the provider never saw. Anything
 * else that may have gone out (a reset, a timeout after connecting, a TLS failure) keeps its start:
 * on the side of the limit. The first error in the cause chain that carries a code decides.
 */
export function neverSent(error: unknown): boolean {
  for (const { code, syscall, errors } of causes(error)) {
    if (Array.isArray(errors) && errors.length > 0) return errors.every((e) => neverSent(e));
    if (typeof code === 'string') return LOOKUP_CODES.has(code) || syscall === 'connect' || code === 'UND_ERR_CONNECT_TIMEOUT';
  }
  return false;
}

/** An error and its causes, outermost first (at most five deep). */
function* causes(error: unknown): Generator<{ code?: unknown; syscall?: unknown; errors?: unknown; cause?: unknown }> {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const link = current as { code?: unknown; syscall?: unknown; errors?: unknown; cause?: unknown };
    yield link;
    current = link.cause;
  }
}

/** A network failure's Failure: retryable, `reset` or `network`, given back when it never left (`neverSent`). */
function networkFailure(error: unknown, code: string | undefined, message: string): Failure {
  return { kind: 'retryable', status: code === 'ECONNRESET' ? 'reset' : 'network', message, ...(neverSent(error) ? { notSent: true as const } : {}) };
}

function networkCode(error: unknown): string | undefined {
  for (const { code } of causes(error)) if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
  return undefined;
}

/** Classifies what an attempt threw. */
export function classifyFailure(error: unknown, policy: RetryPolicy, signal: AbortSignal | undefined, now: number): Failure {
  if (signal?.aborted) return { kind: 'cancelled', status: 'cancelled', message: 'cancelled' };
  if (error instanceof AttemptError) return { kind: 'retryable', status: error.status, message: error.message };
  // A provider package that is not installed: the model can never be called, so the chain moves on.
  if (error instanceof PantheonError && error.code === 'PROVIDER_PACKAGE_MISSING') {
    return { kind: 'next-model', status: 'package_missing', message: `${error.message} ${error.hint ?? ''}`.trim() };
  }
  // A provider login that cannot serve the model (expired beyond renewal, or a model it does not
  // serve: plugins/builtin/codex-auth.ts): nothing was sent, and the chain moves on.
  if (error instanceof PantheonError && (error.code === 'PROVIDER_AUTH' || error.code === 'UNKNOWN_MODEL')) {
    return { kind: 'next-model', status: 'login', message: error.message };
  }
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    const { message, ...fields } = bodyFacts(error);
    if (status === undefined) return networkFailure(error, networkCode(error), message);
    // A 2xx whose body failed to arrive or parse: cut off (connection gone) or a broken body.
    if (status < 300) return { kind: 'retryable', status: networkCode(error) ? 'truncated' : 'bad_response', message };
    const retryAfterMs = parseRetryAfter(error.responseHeaders, now) ?? quotaErrorDelay(status, error.responseBody, now);
    const base = { status, message, ...(retryAfterMs === undefined ? {} : { retryAfterMs }), ...fields };
    if (policy.retryOn.includes(status)) return { kind: 'retryable', ...base };
    if (status === 401 || status === 403 || status === 404) return { kind: 'next-model', ...base };
    if (status === 429 || status >= 500) return { kind: 'next-model', ...base };
    return { kind: 'fatal', ...base };
  }
  const code = networkCode(error);
  if (code) return networkFailure(error, code, code);
  const name = (error as { name?: string } | undefined)?.name ?? '';
  // The stream stopped before its finish_reason: the connection was cut short.
  if (InvalidResponseDataError.isInstance(error) && /ended without a finish reason/.test(error.message)) {
    return { kind: 'retryable', status: 'truncated', message: error.message };
  }
  if (/JSONParseError|TypeValidationError|InvalidResponseDataError|EmptyResponseBodyError/.test(name)) {
    return { kind: 'retryable', status: 'bad_response', message: (error as Error).message.slice(0, 200) };
  }
  return { kind: 'fatal', status: 'error', message: error instanceof Error ? error.message : String(error) };
}

/** A Gemini quota error's RetryInfo delay (a 429 without Retry-After), in ms. */
function quotaErrorDelay(status: number, body: string | undefined, now: number): number | undefined {
  if (status !== 429 || !body) return undefined;
  const quota = geminiQuota(body, now)[0];
  return quota ? quota.resetAt - now : undefined;
}

const CODE_TOKEN = /^[A-Za-z0-9_.:-]{1,64}$/;
const PARAM_TOKEN = /^[A-Za-z0-9_.[\]-]{1,128}$/;

/**
 * What an error body says, read once: the provider's own message (`{error:{message}}`, `{error}`,
 * `{message}`; '' when the body is not JSON, an HTML error page or plain text, so the SDK's own
 * message is used), and the `code` and `param` of an OpenAI-style `{error:{code, param}}`, each
 * kept only when it is a short token.
 */
function readBody(body: string | undefined): { message: string } & Pick<Failure, 'providerCode' | 'providerParam'> {
  let parsed: { error?: unknown; message?: unknown } | null;
  try {
    parsed = body ? (JSON.parse(body) as { error?: unknown; message?: unknown } | null) : null;
  } catch {
    return { message: '' };
  }
  const error = typeof parsed?.error === 'object' && parsed.error !== null ? (parsed.error as { message?: unknown; code?: unknown; param?: unknown }) : undefined;
  const message = typeof parsed?.error === 'string' ? parsed.error : typeof error?.message === 'string' ? error.message : typeof parsed?.message === 'string' ? parsed.message : '';
  return {
    message,
    ...(typeof error?.code === 'string' && CODE_TOKEN.test(error.code) ? { providerCode: error.code } : {}),
    ...(typeof error?.param === 'string' && PARAM_TOKEN.test(error.param) ? { providerParam: error.param } : {}),
  };
}

/** The failure's message (the provider's own, else the SDK's, at most 200 characters), code and param. */
function bodyFacts(error: APICallError): { message: string } & Pick<Failure, 'providerCode' | 'providerParam'> {
  const read = readBody(error.responseBody);
  const text = read.message || error.message;
  return { ...read, message: text.length > 200 ? `${text.slice(0, 197)}...` : text };
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
 * than the fallback's expected start, and longer than one base delay (a short wait stays on the
 * chosen model), or longer than maxDelay. The scheduler asks this about waits the model imposes
 * (Retry-After, retry-after-ms, a rate-limit window); its own backoff after a failure without
 * such a header is retried on the same model up to `maxRetries` before the fallback is taken.
 */
export function preferFallback(waitMs: number, fallbackStartMs: number | undefined, policy: RetryPolicy): boolean {
  if (fallbackStartMs === undefined) return false;
  if (waitMs > policy.maxDelay) return true;
  return waitMs > Math.max(fallbackStartMs, policy.baseDelay);
}
