/**
 * A client's log line (OpenCode's `POST /log`, `client.app.log` of its SDK and of plugins) as the
 * server's log shows it: `client log: LEVEL SERVICE: MESSAGE EXTRA`, control characters escaped and
 * every part cut to a bound. Light on purpose: a run's plugins log through it without the server.
 */
import { safeLine } from '../cli/terminal-text.ts';

/** The longest message and `extra` (as JSON) of a client's log line that reach the log. */
export const LOG_MESSAGE_CHARS = 2_000;
export const LOG_EXTRA_CHARS = 1_000;
/** The longest service name (the route's schema refuses a longer one). */
export const LOG_SERVICE_CHARS = 200;

export const LOG_LEVELS = ['debug', 'info', 'error', 'warn'] as const;
export type ClientLogLevel = (typeof LOG_LEVELS)[number];

export interface ClientLog {
  service: string;
  level: ClientLogLevel;
  message: string;
  extra?: Record<string, unknown>;
}

/** The line the log shows for `entry`. */
export function clientLogLine(entry: ClientLog): string {
  const extra = entry.extra && Object.keys(entry.extra).length ? ` ${safeLine(JSON.stringify(entry.extra), LOG_EXTRA_CHARS)}` : '';
  return `client log: ${entry.level} ${safeLine(entry.service, LOG_SERVICE_CHARS)}: ${safeLine(entry.message, LOG_MESSAGE_CHARS)}${extra}`;
}

/**
 * The body of `POST /log` checked as the route's schema checks it, or the sentence naming the field
 * that is wrong (for a caller without the route's schema: a run's plugins).
 */
export function checkClientLog(body: unknown): ClientLog | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body: expected a JSON object {service, level, message, extra?}.';
  const b = body as Record<string, unknown>;
  if (typeof b.service !== 'string') return 'body.service: expected a string (the name of what logs).';
  if (b.service.length > LOG_SERVICE_CHARS) return `body.service: expected at most ${LOG_SERVICE_CHARS} characters.`;
  if (typeof b.level !== 'string' || !(LOG_LEVELS as readonly string[]).includes(b.level)) return `body.level: expected one of ${LOG_LEVELS.join(', ')}.`;
  if (typeof b.message !== 'string') return 'body.message: expected a string.';
  if (b.extra !== undefined && (typeof b.extra !== 'object' || b.extra === null || Array.isArray(b.extra))) return 'body.extra: expected an object.';
  return { service: b.service, level: b.level as ClientLogLevel, message: b.message, ...(b.extra ? { extra: b.extra as Record<string, unknown> } : {}) };
}
