/**
 * The auth.json entries other than an API key, as OpenCode 1.18.33 stores them (its `Auth.Info`):
 * an OAuth login `{type: "oauth", refresh, access, expires, accountId?, enterpriseUrl?}` (what a
 * plugin's `auth` hook's login answers, and what a plugin's `client.auth.set` stores when it
 * refreshes a token) and a well-known login `{type: "wellknown", key, token}`. Checked before they
 * are written: one sentence naming the field, never quoting a value.
 */
import type { AuthEntry } from './store.ts';

/** The most characters of one token or id kept. */
const MAX_FIELD = 65_536;

export type EntryCheck = { entry: AuthEntry } | { field: string; problem: string };

/** What is wrong with a token-like field, or undefined. */
function fieldProblem(value: unknown, optional = false): string | undefined {
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string') return 'expected a string';
  if (value.length > MAX_FIELD) return `longer than ${MAX_FIELD} characters`;
  // Sent in a header by the plugin that stored it: a control character would break the request.
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return 'has a control character';
  }
  return undefined;
}

/** An OAuth or well-known entry from what a client or a plugin gave (only OpenCode's fields are kept). */
export function loginEntry(given: Record<string, unknown>): EntryCheck {
  if (given.type === 'oauth') {
    for (const field of ['refresh', 'access'] as const) {
      const problem = fieldProblem(given[field]);
      if (problem) return { field, problem };
    }
    if (typeof given.expires !== 'number' || !Number.isFinite(given.expires)) return { field: 'expires', problem: 'expected a number (milliseconds since the epoch)' };
    for (const field of ['accountId', 'enterpriseUrl'] as const) {
      const problem = fieldProblem(given[field], true);
      if (problem) return { field, problem };
    }
    const entry: AuthEntry = { type: 'oauth', refresh: given.refresh, access: given.access, expires: given.expires };
    if (given.accountId !== undefined) entry.accountId = given.accountId;
    if (given.enterpriseUrl !== undefined) entry.enterpriseUrl = given.enterpriseUrl;
    return { entry };
  }
  if (given.type === 'wellknown') {
    for (const field of ['key', 'token'] as const) {
      const problem = fieldProblem(given[field]);
      if (problem) return { field, problem };
    }
    return { entry: { type: 'wellknown', key: given.key as string, token: given.token } };
  }
  return { field: 'type', problem: 'expected "api", "oauth" or "wellknown"' };
}
