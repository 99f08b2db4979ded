/**
 * Typed errors with stable codes. Core code throws these; the CLI renders them once
 * (one sentence plus a hint) and maps them to exit codes.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_PARSE'
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_EXTENDS'
  | 'CONFIG_FILE_REF'
  | 'USAGE'
  | 'UNKNOWN_AGENT'
  | 'UNKNOWN_MODEL'
  | 'UNKNOWN_PROVIDER'
  | 'PROVIDER_PACKAGE_MISSING'
  | 'PROVIDER_AUTH'
  | 'PROVIDER_BAD_REQUEST'
  | 'PROVIDER_ERROR'
  | 'RATE_LIMITED'
  | 'ALL_FALLBACKS_FAILED'
  | 'BUDGET_EXCEEDED'
  | 'CANCELLED'
  | 'STORE_ERROR'
  | 'STATE_UNAVAILABLE'
  | 'MCP_START_FAILED'
  | 'FILE_EXISTS'
  | 'TOOL_FAILED'
  | 'PLUGIN_FAILED'
  | 'SESSION_NOT_FOUND'
  | 'MESSAGE_NOT_FOUND'
  | 'PERMISSION_NOT_FOUND'
  | 'QUESTION_NOT_FOUND'
  | 'DIRECTORY_NOT_FOUND'
  | 'SESSION_BUSY'
  | 'SESSION_EXISTS'
  | 'FILES_CHANGED'
  | 'SHUTTING_DOWN'
  | 'SERVER_UNREACHABLE'
  | 'SERVER_AUTH'
  | 'SERVER_ERROR'
  | 'INTERNAL';

/** Exit codes from CONTRACT.md. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

const USAGE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'CONFIG_INVALID',
  'CONFIG_PARSE',
  'CONFIG_NOT_FOUND',
  'CONFIG_EXTENDS',
  'CONFIG_FILE_REF',
  'USAGE',
  'UNKNOWN_AGENT',
  'UNKNOWN_MODEL',
  'UNKNOWN_PROVIDER',
  'PROVIDER_PACKAGE_MISSING',
  'FILE_EXISTS',
  'SESSION_NOT_FOUND',
  'MESSAGE_NOT_FOUND',
  'DIRECTORY_NOT_FOUND',
  'SERVER_AUTH',
]);

export interface PantheonErrorOptions {
  hint?: string;
  /** Extra lines shown under the sentence (e.g. every validation problem, every attempt). */
  details?: string[];
  cause?: unknown;
  exitCode?: number;
  /** Short machine-readable facts from where the error came from: a provider's own error `code` and `param`. */
  fields?: Record<string, string>;
}

export class PantheonError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: string[];
  readonly exitCode: number;
  readonly fields: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: PantheonErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PantheonError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? [];
    this.fields = options.fields ?? {};
    this.exitCode =
      options.exitCode ?? (code === 'CANCELLED' ? EXIT.interrupted : USAGE_CODES.has(code) ? EXIT.usage : EXIT.failed);
  }
}

export function isPantheonError(value: unknown): value is PantheonError {
  return value instanceof PantheonError;
}
