import { isPantheonError } from '../errors.ts';

/**
 * A request that cannot be served: the HTTP status, a stable code and one sentence (plus a hint).
 * Route groups render it in their API's error shape; nothing else reaches a client.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly hint: string | undefined;
  /** Extra fields for the error body (the field at fault, the session id, …). */
  readonly details: Record<string, unknown>;
  /** Seconds until a retry may succeed (429, 503). */
  readonly retryAfter: number | undefined;
  /** Sending the request again will not help (a spent budget): clients are told not to retry (`x-should-retry: false`). */
  readonly final: boolean;
  /** OpenCode's name for the error, where it has its own (`VcsApplyError`); else the status's. */
  readonly errorName: string | undefined;

  constructor(status: number, code: string, message: string, options: { hint?: string; details?: Record<string, unknown>; retryAfter?: number; final?: boolean; cause?: unknown; name?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? {};
    this.retryAfter = options.retryAfter;
    this.final = options.final ?? false;
    this.errorName = options.name;
  }
}

/** Seconds a client is asked to wait before sending a request a stopping server refused (a restart's time). */
export const SHUTDOWN_RETRY_AFTER_S = 5;

/** Seconds a client is asked to wait when the shared state store (Redis) cannot be reached: the connection is tried again at least every second. */
export const STATE_RETRY_AFTER_S = 1;

/** 5xx answers that are the server's choice, not its failure: it is stopping, or holds as many request bodies as it may. */
const REFUSALS = new Set(['SHUTTING_DOWN', 'SERVER_BUSY']);

/** Whether an error answer is the server's own failure, for the operator's log: a 5xx, but not a refusal of its own (REFUSALS). */
export function serverFault(error: HttpError): boolean {
  return error.status >= 500 && !REFUSALS.has(error.code);
}

const STATUS_OF_CODE: Record<string, number> = {
  USAGE: 400,
  UNKNOWN_AGENT: 400,
  UNKNOWN_MODEL: 400,
  UNKNOWN_PROVIDER: 400,
  CONFIG_INVALID: 400,
  CONFIG_PARSE: 400,
  CONFIG_NOT_FOUND: 400,
  CONFIG_EXTENDS: 400,
  CONFIG_FILE_REF: 400,
  PROVIDER_PACKAGE_MISSING: 400,
  DIRECTORY_NOT_FOUND: 400,
  SESSION_NOT_FOUND: 404,
  MESSAGE_NOT_FOUND: 404,
  PERMISSION_NOT_FOUND: 404,
  QUESTION_NOT_FOUND: 404,
  SESSION_BUSY: 409,
  SESSION_EXISTS: 409,
  FILES_CHANGED: 409,
  SHUTTING_DOWN: 503,
  // Redis is away (state.onUnavailable "fail"): the server is fine, the request may be sent again.
  STATE_UNAVAILABLE: 503,
};

const RETRY_AFTER_OF_CODE: Record<string, number> = { SHUTTING_DOWN: SHUTDOWN_RETRY_AFTER_S, STATE_UNAVAILABLE: STATE_RETRY_AFTER_S };

/** Any thrown value as an HttpError: Pantheon's typed errors keep their code and sentence; anything else is a 500. */
const ID_FIELDS = ['sessionID', 'requestID'] as const;

export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (isPantheonError(error)) {
    const status = STATUS_OF_CODE[error.code] ?? 500;
    // A stopping server's refusal (sent again after a restart's time, it is served), or Redis away.
    const after = RETRY_AFTER_OF_CODE[error.code];
    const retry = after === undefined ? {} : { retryAfter: after };
    // The ids an error concerns (a session, a permission or question request), which OpenCode's tagged errors name.
    const ids = Object.fromEntries(ID_FIELDS.filter((key) => error.fields[key] !== undefined).map((key) => [key, error.fields[key]]));
    return new HttpError(status, error.code, error.message, { ...(error.hint ? { hint: error.hint } : {}), ...retry, ...(Object.keys(ids).length > 0 ? { details: ids } : {}) });
  }
  // A stack overflow while a request is handled: its JSON nests deeper than the code reading it follows.
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    return new HttpError(400, 'BAD_REQUEST', 'The request body is nested too deeply to be read.', { hint: 'Send JSON nested at most a few hundred levels deep.', cause: error });
  }
  return new HttpError(500, 'INTERNAL', 'The server failed to handle the request.', { hint: 'Run `opencode serve --debug` to see the cause on stderr, and report it if it persists.', cause: error });
}
