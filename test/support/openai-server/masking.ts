/**
 * Masks credentials in logged request headers, for logs written to files: `Bearer nvap…x9Qa`.
 */
import type { RequestLogEntry } from './types.ts';

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'api-key', 'x-api-key']);

/** Keeps an auth scheme and the first and last four characters of a long secret; hides a short one. */
export function maskSecret(value: string): string {
  const match = /^(\S+\s+)?(\S+)$/.exec(value);
  const scheme = match?.[1] ?? '';
  const secret = match?.[2] ?? value;
  return `${scheme}${secret.length >= 12 ? `${secret.slice(0, 4)}…${secret.slice(-4)}` : '****'}`;
}

/** A copy of the entry with credential headers masked. */
export function maskedEntry(entry: RequestLogEntry): RequestLogEntry {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(entry.headers)) headers[name] = SECRET_HEADERS.has(name) ? maskSecret(value) : value;
  return { ...entry, headers };
}
