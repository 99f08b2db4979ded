/**
 * Limits learned from what providers announce (rate-limit headers, quota errors): stored in the
 * ledger per model key, and turned here into quotas that gate admission, as pure functions every
 * ledger implementation shares. A quota says "at most `allowance` request starts (or tokens) after
 * `since`, until `until`"; starts and tokens are counted from the ledger's own rows under the key.
 */
import { startsAnswer, tokensAnswer } from './ledger.ts';
import type { BlockKind, LedgerRows } from './ledger.ts';
import type { StartsQuery, TokensQuery } from './ledger-reads.ts';

/** One limit a provider announced, as the ledger stores it. */
export interface LearnedLimit {
  /** Ledger key of the model it was learned for, e.g. `learned:nvidia-nim/qwen-3.5-397b`. */
  key: string;
  /** What the provider called it: `requests`, `tokens`, `input-tokens`, `requests-day`, `retry-after`, … */
  name: string;
  /** What it counts. */
  kind: 'requests' | 'tokens';
  /** The announced limit per period, when the provider said it. */
  limit?: number;
  /** What the provider said was left when the answer was received. */
  remaining: number;
  /** When the provider said the quota is full again (ms since the epoch). */
  resetAt: number;
  /**
   * When the request whose answer announced it was handed to the provider (ms since the epoch; the
   * name is older than the meaning). The provider may not have counted a start made from then on
   * when it answered, so those count against `remaining`; the request's own start is one of them.
   */
  observedAt: number;
  /** The header style or body it came from, e.g. `x-ratelimit-*`, `anthropic-ratelimit-*`, `retry-after`, `gemini quota error`. */
  source: string;
}

/** The learned limits of one model that apply to a request, and its token estimate. */
export interface LearnedReserve {
  /** Starts and tokens are recorded under this key whether or not anything is learned yet. */
  key: string;
  /** Tokens the request is expected to use (prompt estimate + output budget). */
  tokens: number;
  /** What the ledger holds for the key (listLearned), read just before the reservation. */
  limits: LearnedLimit[];
}

/**
 * Sources learned from a refusal (a 429's Retry-After, a quota error) rather than from headers every
 * answer carries: an answer without headers does not forget them; they last until they expire.
 */
export const REFUSAL_SOURCES: readonly string[] = Object.freeze(['retry-after', 'gemini quota error']);

/** A learned limit nobody confirmed for this long after its reset is dropped. */
export const LEARNED_TTL_MS = 10 * 60_000;

/**
 * A key's learned limits as a ledger keeps them between reads (learned-signal.ts, the Redis
 * ledger): frozen, so no caller changes what later callers get, and good until the first expires.
 */
export function keptLearned(limits: LearnedLimit[]): { limits: readonly LearnedLimit[]; until: number } {
  let until = Number.POSITIVE_INFINITY;
  for (const l of limits) until = Math.min(until, learnedExpiry(l));
  return { limits: Object.freeze(limits.map((l) => Object.freeze(l))), until };
}

/** When a learned limit stops being kept (and shown): LEARNED_TTL_MS after its reset or observation. */
export function learnedExpiry(limit: LearnedLimit): number {
  return Math.max(limit.resetAt, limit.observedAt) + LEARNED_TTL_MS;
}

/** What a quota allows at `now`: `allowance` after `since` (exclusive) until `until`. */
export interface QuotaState {
  since: number;
  until: number;
  allowance: number;
}

/**
 * Whether a learned limit still paces requests after its reset: only a header's reset means "full
 * again" (with a known limit); a quota error's delay only says when one request may go.
 */
export function refillsAfterReset(limit: LearnedLimit): boolean {
  return limit.limit !== undefined && limit.source !== 'gemini quota error';
}

/**
 * The quota a learned limit imposes at `now`. Before its reset: what was left, counted from the
 * moment its request was handed over (`observedAt`), so that requests sent while the answer was on
 * its way count too; for requests, the one that carried the answer is counted there as well, so it
 * is allowed for (nothing left stays nothing). After it, when the limit is known: the full limit per
 * period, the period estimated from how fast the provider said it refills (at least 1 s). The first
 * period still counts from the hand-over: a provider with a sliding window still counts the starts
 * made after that request when its announced reset comes. Without a limit (a Retry-After), nothing.
 */
export function quotaAt(limit: LearnedLimit, now: number): QuotaState | undefined {
  if (now >= learnedExpiry(limit)) return undefined;
  // Requests: every start from the hand-over's ms on, the carrier's own included. Tokens: the ones
  // reserved after it (the carrier's are in `remaining` already).
  const own = limit.kind === 'requests' ? 1 : 0;
  const handedOver = limit.observedAt - own;
  if (now < limit.resetAt) return { since: handedOver, until: limit.resetAt, allowance: limit.remaining === 0 ? 0 : limit.remaining + own };
  if (!refillsAfterReset(limit)) return undefined;
  const full = limit.limit as number;
  const used = Math.max(1, full - limit.remaining);
  const periodMs = Math.max(1000, Math.ceil(((limit.resetAt - limit.observedAt) * full) / used));
  const periods = Math.floor((now - limit.resetAt) / periodMs);
  if (periods === 0 && own === 1) return { since: handedOver, until: limit.resetAt + periodMs, allowance: full + 1 };
  const since = limit.resetAt + periods * periodMs;
  // Starts just before the reset count in the new period too: the provider may have counted them after it.
  return { since: since - 1, until: since + periodMs, allowance: full };
}

/** How long the rows of a learned key must be kept (ms): every start since its oldest quota. */
export function learnedReadWindow(limits: readonly LearnedLimit[]): number {
  let windowMs = 1;
  for (const l of limits) windowMs = Math.max(windowMs, learnedExpiry(l) - l.observedAt + 1);
  return windowMs;
}

/**
 * The question a learned limit asks of the ledger at `now` (starts or tokens after the quota's
 * `since`), `blocked` when it blocks whatever the ledger holds (nothing left), or undefined when
 * it imposes nothing now. Requests: the starts after `since` plus this one must fit the allowance.
 * Tokens: the reserved tokens after `since` plus this request's (at most the whole limit, so a
 * large request still goes once the quota is full) must fit.
 */
export function learnedQuery(
  reserve: LearnedReserve,
  limit: LearnedLimit,
  now: number,
): { quota: QuotaState } & ({ kind: 'requests'; query: StartsQuery } | { kind: 'tokens'; query: TokensQuery } | { kind: 'blocked' }) | undefined {
  const quota = quotaAt(limit, now);
  if (!quota) return undefined;
  // Times are whole ms: "after since" is from floor(since) + 1 on.
  const from = Math.floor(quota.since) + 1;
  if (limit.kind === 'requests') {
    // count + 1 > allowance ⟺ count ≥ floor(allowance)
    const upTo = Math.floor(quota.allowance);
    return upTo < 1 ? { quota, kind: 'blocked' } : { quota, kind: 'requests', query: { key: reserve.key, from, upTo } };
  }
  const need = Math.min(Math.ceil(reserve.tokens), limit.limit ?? Math.max(1, quota.allowance));
  const room = quota.allowance - need;
  return room < 0 ? { quota, kind: 'blocked' } : { quota, kind: 'tokens', query: { key: reserve.key, from, room } };
}

/** Every question the learned limits of a request ask at `now`. */
export function learnedQueries(reserve: LearnedReserve, now: number): ({ kind: 'requests'; query: StartsQuery } | { kind: 'tokens'; query: TokensQuery })[] {
  const out: ({ kind: 'requests'; query: StartsQuery } | { kind: 'tokens'; query: TokensQuery })[] = [];
  for (const limit of reserve.limits) {
    const q = learnedQuery(reserve, limit, now);
    if (q?.kind === 'requests') out.push({ kind: 'requests', query: q.query });
    if (q?.kind === 'tokens') out.push({ kind: 'tokens', query: q.query });
  }
  return out;
}

export function learnedLabel(limit: LearnedLimit): string {
  return `${limit.key} ${limit.name} (learned)`;
}

/** The wait a request must make for the learned limits of its key (over the ledger's answers), or undefined when they allow it. */
export function learnedWait(reserve: LearnedReserve, rows: LedgerRows, now: number): { waitMs: number; blockedBy: string; kind: BlockKind } | undefined {
  let worst: { waitMs: number; blockedBy: string; kind: BlockKind } | undefined;
  for (const limit of reserve.limits) {
    const q = learnedQuery(reserve, limit, now);
    if (!q) continue;
    const blocked =
      q.kind === 'blocked' || (q.kind === 'requests' ? startsAnswer(rows, q.query).nth !== undefined : tokensAnswer(rows, q.query).over !== undefined);
    if (!blocked) continue;
    const waitMs = Math.max(1, q.quota.until - now + 1);
    if (!worst || waitMs > worst.waitMs) worst = { waitMs, blockedBy: learnedLabel(limit), kind: 'window' };
  }
  return worst;
}

/** Upserts `incoming` into `stored` (one entry per key+name; a newer observation wins). */
export function mergeLearned(stored: readonly LearnedLimit[], incoming: readonly LearnedLimit[]): LearnedLimit[] {
  const byName = new Map(stored.map((l) => [`${l.key}\u0000${l.name}`, l]));
  for (const l of incoming) {
    const id = `${l.key}\u0000${l.name}`;
    const prev = byName.get(id);
    if (!prev || prev.observedAt <= l.observedAt) byName.set(id, l);
  }
  return [...byName.values()];
}
