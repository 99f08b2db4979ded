/**
 * What a provider's answer says about its limits: the rate-limit headers of the common styles and
 * Gemini's quota errors, read into plain numbers. Pure: no I/O, the clock is a parameter. A value of
 * the wrong form or an absurd size is left out with a note (shown with --debug), never trusted.
 *
 * Styles read:
 * - OpenAI, Groq, NVIDIA NIM, Together, Cerebras: `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`
 *   (Cerebras adds `-minute`/`-day`); resets as durations (`1s`, `6m0s`, `20ms`, `2m59.56s`) or seconds
 * - Anthropic: `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}`, resets as RFC 3339 times
 * - OpenRouter and other gateways: `x-ratelimit-{limit,remaining,reset}` (reset: epoch ms, epoch s or seconds from now)
 * - IETF draft: `ratelimit-{limit,remaining,reset}` and `ratelimit: limit=…, remaining=…, reset=…`
 * - `retry-after-ms` / `retry-after` (seconds or an HTTP date) on a 429
 * - Gemini: a 429 body with `RESOURCE_EXHAUSTED`, `QuotaFailure` violations (`quotaId`, `quotaValue`) and `RetryInfo.retryDelay`
 * - Balances: Venice's `x-venice-balance-{usd,diem,vcu}` (what the account has left to spend)
 */

export interface AnnouncedLimit {
  /** `requests`, `tokens`, `input-tokens`, `output-tokens`, with `-minute`/`-day` where the header says so; `retry-after`. */
  name: string;
  kind: 'requests' | 'tokens';
  limit?: number;
  remaining: number;
  /** When the quota is full again (ms since the epoch). */
  resetAt: number;
  source: string;
}

/** What the account has left, as the provider's answer says (Venice: `x-venice-balance-usd`). */
export interface AnnouncedBalance {
  /** The currency or unit, upper-case: `USD`, `DIEM`, `VCU`. */
  unit: string;
  amount: number;
  /** The header it came from. */
  source: string;
}

export interface Announcement {
  limits: AnnouncedLimit[];
  balances: AnnouncedBalance[];
  /** Values left out, for --debug. */
  notes: string[];
}

/** Counts above this are not believed. */
export const MAX_ANNOUNCED_COUNT = 1_000_000_000;
/** Resets further away than this are not believed (a day, the longest period providers use). */
export const MAX_RESET_MS = 86_400_000;

// Microseconds as Go writes them: `µs` (U+00B5) or `μs` (U+03BC), escaped so the bundle stays ASCII (scripts/build-cli.ts).
const UNITS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, '\u00b5s': 0.001, '\u03bcs': 0.001, ns: 0.000001 };

/** `1s`, `6m0s`, `20ms`, `1h2m3.5s`, `2m59.56s` → ms; a bare number is seconds. Undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const value = text.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  if (!/^(\d+(\.\d+)?(h|ms|m|s|us|\u00b5s|\u03bcs|ns))+$/.test(value)) return undefined;
  let ms = 0;
  for (const [, n, unit] of value.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|\u00b5s|\u03bcs|ns)/g)) ms += Number(n) * (UNITS[unit as string] as number);
  return ms;
}

/** A safe, short rendering of a provider-supplied value for a note. */
function shown(value: string): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(clean.length > 40 ? `${clean.slice(0, 40)}…` : clean);
}

function count(value: string | undefined, what: string, notes: string[]): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (!/^\d+(\.0+)?$/.test(trimmed)) {
    notes.push(`ignored ${what}: ${shown(value)} is not a whole number`);
    return undefined;
  }
  const n = Number(trimmed);
  if (n > MAX_ANNOUNCED_COUNT) {
    notes.push(`ignored ${what}: ${shown(value)} is implausibly large`);
    return undefined;
  }
  return n;
}

type ResetForm = 'duration' | 'date' | 'epoch-or-seconds';

/** A reset value as an absolute time, or undefined (with a note) when malformed, past or too far away. */
function resetTime(value: string | undefined, form: ResetForm, now: number, what: string, notes: string[]): number | undefined {
  if (value === undefined) return undefined;
  let at: number | undefined;
  const trimmed = value.trim();
  if (form === 'duration') {
    const ms = parseDuration(trimmed);
    at = ms === undefined ? undefined : now + ms;
  } else if (form === 'date') {
    const t = /^\d{4}-\d{2}-\d{2}T/.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
    at = Number.isNaN(t) ? undefined : t;
  } else if (/^\d+(\.\d+)?$/.test(trimmed)) {
    const n = Number(trimmed);
    // Epoch milliseconds, epoch seconds, or seconds from now, told apart by size.
    at = n > 1e12 ? n : n > 1e9 ? n * 1000 : now + n * 1000;
  }
  if (at === undefined || !Number.isFinite(at)) {
    notes.push(`ignored ${what}: ${shown(value)} is not a reset time`);
    return undefined;
  }
  if (at - now > MAX_RESET_MS) {
    notes.push(`ignored ${what}: ${shown(value)} is more than a day away`);
    return undefined;
  }
  return Math.max(now, Math.ceil(at));
}

function kindOf(name: string): 'requests' | 'tokens' {
  return name.includes('token') ? 'tokens' : 'requests';
}

/** Builds one limit from its three values; incomplete or inconsistent triples are noted and left out. */
function triple(
  out: Announcement,
  name: string,
  source: string,
  raw: { limit?: string; remaining?: string; reset?: string },
  form: ResetForm,
  now: number,
): void {
  if (raw.remaining === undefined && raw.limit === undefined && raw.reset === undefined) return;
  const what = `${source} ${name}`;
  const limit = count(raw.limit, `${what} limit`, out.notes);
  let remaining = count(raw.remaining, `${what} remaining`, out.notes);
  const resetAt = resetTime(raw.reset, form, now, `${what} reset`, out.notes);
  if (remaining === undefined || resetAt === undefined) {
    if (raw.remaining !== undefined || raw.reset !== undefined) out.notes.push(`ignored ${what}: needs both a remaining count and a reset time`);
    return;
  }
  if (limit !== undefined && remaining > limit) {
    out.notes.push(`${what}: remaining ${remaining} above the limit ${limit}, counted as ${limit}`);
    remaining = limit;
  }
  out.limits.push({ name, kind: kindOf(name), ...(limit === undefined ? {} : { limit }), remaining, resetAt, source });
}

/** Whether a header is one the readers below look at (prefix tests, not a regular expression: see suffixed). */
function announces(name: string): boolean {
  const n = name.toLowerCase();
  return n.startsWith('x-ratelimit-') || n.startsWith('ratelimit') || n.startsWith('anthropic-ratelimit-') || n.startsWith('x-venice-balance-');
}

/** Whether any header can announce a limit or a balance (Retry-After only counts on a 429, read apart). */
function announcing(headers: Headers | Record<string, string | undefined>): boolean {
  if (typeof headers.keys === 'function') {
    for (const name of (headers as Headers).keys()) if (announces(name)) return true;
    return false;
  }
  for (const name in headers) if (announces(name)) return true;
  return false;
}

/**
 * Lower-cased header names; a Headers object or a plain record (told apart without naming the
 * global `Headers`, whose first use loads undici: ~10 MiB in a process that never fetches).
 */
function lowerCase(headers: Headers | Record<string, string | undefined>): Map<string, string> {
  const out = new Map<string, string>();
  const entries = typeof headers.entries === 'function' ? (headers as Headers).entries() : Object.entries(headers);
  for (const [k, v] of entries) if (typeof v === 'string') out.set(k.toLowerCase(), v);
  return out;
}

function suffixed(h: Map<string, string>, out: Announcement, now: number): void {
  const groups = new Map<string, { limit?: string; remaining?: string; reset?: string }>();
  for (const [name, value] of h) {
    // A prefix test first: most headers are not these, and a regular expression is compiled to
    // machine code on its second run (~0.4 ms for this file's, once per process, in the tool loop's first step).
    if (!name.startsWith('x-ratelimit-')) continue;
    const openai = /^x-ratelimit-(limit|remaining|reset)-((?:input-|output-)?(?:requests|tokens)(?:-(?:minute|hour|day))?)$/.exec(name);
    if (!openai) continue;
    const group = groups.get(openai[2] as string) ?? {};
    group[openai[1] as 'limit' | 'remaining' | 'reset'] = value;
    groups.set(openai[2] as string, group);
  }
  for (const [name, raw] of groups) triple(out, name, 'x-ratelimit-*', raw, 'duration', now);
}

function anthropic(h: Map<string, string>, out: Announcement, now: number): void {
  for (const name of ['requests', 'tokens', 'input-tokens', 'output-tokens']) {
    const get = (part: string): string | undefined => h.get(`anthropic-ratelimit-${name}-${part}`);
    triple(out, name, 'anthropic-ratelimit-*', { limit: get('limit'), remaining: get('remaining'), reset: get('reset') }, 'date', now);
  }
}

function plain(h: Map<string, string>, out: Announcement, now: number): void {
  triple(out, 'requests', 'x-ratelimit-limit/remaining/reset', { limit: h.get('x-ratelimit-limit'), remaining: h.get('x-ratelimit-remaining'), reset: h.get('x-ratelimit-reset') }, 'epoch-or-seconds', now);
  const combined = h.get('ratelimit');
  const fields = new Map<string, string>();
  for (const part of combined === undefined ? [] : combined.split(/[,;]/)) {
    const m = /^\s*(limit|remaining|reset)\s*=\s*"?([^"\s]*)"?\s*$/i.exec(part);
    if (m) fields.set((m[1] as string).toLowerCase(), m[2] as string);
  }
  const ietf = { limit: h.get('ratelimit-limit') ?? fields.get('limit'), remaining: h.get('ratelimit-remaining') ?? fields.get('remaining'), reset: h.get('ratelimit-reset') ?? fields.get('reset') };
  // The IETF reset is seconds from now; a number that large is really an epoch time, as gateways send it.
  triple(out, 'requests', 'ratelimit-*', ietf, 'epoch-or-seconds', now);
}

/** Balances above this are not believed. */
const MAX_BALANCE = 1e12;

function balances(h: Map<string, string>, out: Announcement): void {
  for (const [name, value] of h) {
    if (!name.startsWith('x-venice-balance-')) continue;
    const venice = /^x-venice-balance-([a-z0-9]{1,16})$/.exec(name);
    if (!venice) continue;
    const trimmed = value.trim();
    const amount = Number(trimmed);
    if (!/^-?\d+(\.\d+)?$/.test(trimmed) || Math.abs(amount) > MAX_BALANCE) {
      out.notes.push(`ignored ${name}: ${shown(value)} is not an amount`);
      continue;
    }
    out.balances.push({ unit: (venice[1] as string).toUpperCase(), amount, source: name });
  }
}

/** `retry-after-ms`, then `retry-after` (seconds or an HTTP date), as ms from now; undefined when absent or malformed (noted). */
export function retryAfterMs(headers: Headers | Record<string, string | undefined>, now: number, notes: string[] = []): number | undefined {
  const h = lowerCase(headers);
  const ms = h.get('retry-after-ms');
  if (ms !== undefined) {
    const n = Number(ms.trim());
    if (ms.trim() !== '' && Number.isFinite(n) && n >= 0 && n <= MAX_RESET_MS) return Math.ceil(n);
    notes.push(`ignored retry-after-ms: ${shown(ms)}`);
  }
  const value = h.get('retry-after');
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value.trim());
  const wait = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(wait) || wait < (Number.isFinite(seconds) ? 0 : -MAX_RESET_MS) || wait > MAX_RESET_MS) {
    notes.push(`ignored retry-after: ${shown(value)}`);
    return undefined;
  }
  return Math.max(0, Math.ceil(wait));
}

interface GeminiDetail {
  '@type'?: unknown;
  retryDelay?: unknown;
  violations?: { quotaId?: unknown; quotaMetric?: unknown; quotaValue?: unknown }[];
}

/** A Gemini quota error (`RESOURCE_EXHAUSTED`): how long to wait and which quota, from the body. */
export function geminiQuota(body: string, now: number, notes: string[] = []): AnnouncedLimit[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [];
  }
  const error = (Array.isArray(parsed) ? parsed[0] : parsed) as { error?: { status?: unknown; details?: unknown } } | undefined;
  const details = error?.error?.details;
  if (error?.error?.status !== 'RESOURCE_EXHAUSTED' || !Array.isArray(details)) return [];
  let delay: number | undefined;
  const quotas: { name: string; limit?: number }[] = [];
  for (const d of details as GeminiDetail[]) {
    const type = typeof d['@type'] === 'string' ? d['@type'] : '';
    if (type.endsWith('RetryInfo') && typeof d.retryDelay === 'string') {
      delay = parseDuration(d.retryDelay);
      if (delay === undefined || delay > MAX_RESET_MS) {
        notes.push(`ignored gemini retryDelay: ${shown(d.retryDelay)}`);
        delay = undefined;
      }
    }
    if (type.endsWith('QuotaFailure') && Array.isArray(d.violations)) {
      for (const v of d.violations) {
        const id = typeof v.quotaId === 'string' ? v.quotaId : typeof v.quotaMetric === 'string' ? v.quotaMetric : 'quota';
        const limit = typeof v.quotaValue === 'string' || typeof v.quotaValue === 'number' ? count(String(v.quotaValue), `gemini ${id} quotaValue`, notes) : undefined;
        const per = /PerDay/i.test(id) ? '-day' : /PerMinute/i.test(id) ? '-minute' : '';
        quotas.push({ name: `${/token/i.test(id) ? 'tokens' : 'requests'}${per}`, ...(limit === undefined ? {} : { limit }) });
      }
    }
  }
  if (delay === undefined) return [];
  const resetAt = now + Math.ceil(delay);
  const named = quotas.length > 0 ? quotas : [{ name: 'requests' }];
  return named.map((q) => ({ ...q, kind: kindOf(q.name), remaining: 0, resetAt, source: 'gemini quota error' }));
}

/**
 * Everything an answer announces. `status` and `body` matter for errors: a 429's Retry-After says
 * nothing may start before it ends, and a Gemini 429 body names the quota.
 */
export function readAnnouncement(input: { headers: Headers | Record<string, string | undefined>; status: number; body?: string; now: number }): Announcement {
  const out: Announcement = { limits: [], balances: [], notes: [] };
  // Most answers announce nothing: they are told apart by their header names alone, before any copy.
  if (input.status !== 429 && !announcing(input.headers)) return out;
  const h = lowerCase(input.headers);
  balances(h, out);
  suffixed(h, out, input.now);
  anthropic(h, out, input.now);
  plain(h, out, input.now);
  if (input.status === 429) {
    const wait = retryAfterMs(h.size ? Object.fromEntries(h) : {}, input.now, out.notes);
    if (wait !== undefined) out.limits.push({ name: 'retry-after', kind: 'requests', remaining: 0, resetAt: input.now + wait, source: 'retry-after' });
    if (input.body) out.limits.push(...geminiQuota(input.body, input.now, out.notes));
  }
  return out;
}
