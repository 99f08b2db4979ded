/**
 * What a decision reads from a ledger: per limit, one question with a short answer — "is the
 * window full, and which start decides the wait?", "do the tokens exceed the room, and which row
 * decides the wait?" — so that no ledger reads a whole window's rows per admission. The questions
 * come from the request and the ledger's clock (`decisionReads`); every ledger answers them (the
 * memory and SQLite ledgers through `answerStarts` / `answerTokens` over their ordered rows, Redis
 * in its script), and `decide` (ledger.ts) looks the answers up. One way to ask, one way to decide.
 */
import type { TokenRow } from './ledger.ts';

/** Effective starts of `key` at or after `from`: are there at least `upTo`, and which is the `upTo`-th newest? */
export interface StartsQuery {
  key: string;
  from: number;
  upTo: number;
}
/** Token rows of `key` at or after `from`: does their sum exceed `room` (what may be used for the request to still fit)? */
export interface TokensQuery {
  key: string;
  from: number;
  room: number;
}
export interface StartsAnswer {
  /** The `upTo`-th newest effective start at or after `from`; absent when there are fewer (not full). */
  nth?: number;
  /** `inspect` only: how many there are, counted up to `upTo`. */
  count?: number;
  /** `inspect` only: the oldest of them. */
  oldest?: number;
}
export interface TokensAnswer {
  /**
   * When the sum exceeds `room`: the effective time of the row whose leaving brings it within room
   * (counting newest first, the row at which the running sum first exceeds room); absent otherwise.
   */
  over?: number;
  /** `inspect` only: the sum. */
  sum?: number;
}
/** The questions a decision on one request asks (each once). */
export interface DecisionReads {
  starts: StartsQuery[];
  tokens: TokensQuery[];
  concurrency: string[];
}

export const startsId = (q: StartsQuery): string => `${q.key}\u0000${q.from}\u0000${q.upTo}`;
export const tokensId = (q: TokensQuery): string => `${q.key}\u0000${q.from}\u0000${q.room}`;

/** A ledger's sent (no longer pending) starts of one key, as its ordered index gives them. */
export interface SentStarts {
  /** The m-th newest sent start at or after `from` (m ≥ 1) and the one after it; undefined where there are fewer. */
  nth(from: number, m: number): [number | undefined, number | undefined];
  /** Sent starts at or after `from`, counted up to `cap`. */
  count(from: number, cap: number): number;
  oldest(from: number): number | undefined;
  /** A cheap upper bound of the key's rows, sent and pending alike (when below `upTo`, nothing is full). */
  bound?(): number;
}
/** A ledger's sent token rows of one key. */
export interface SentTokens {
  sum(from: number): number;
  /** Rows at or after `from`, newest first (read only as far as the answer needs). */
  newestFirst(from: number): Iterable<TokenRow>;
}

/**
 * Answers a starts question over the sent rows and the pending rows' effective times (few: what is
 * admitted and not yet on the wire; read only when needed). The upTo-th newest of both together is
 * found by asking the sent rows for at most a few positions: pending starts are normally the newest
 * of all ("now").
 */
export function answerStarts(q: StartsQuery, sent: SentStarts, pending: () => readonly number[], exact: boolean): StartsAnswer {
  const answer: StartsAnswer = {};
  if (!exact && sent.bound && sent.bound() < q.upTo) return answer;
  const inside = pending()
    .filter((t) => t >= q.from)
    .sort((a, b) => b - a);
  if (exact) {
    answer.count = Math.min(q.upTo, sent.count(q.from, q.upTo) + inside.length);
    const oldest = Math.min(sent.oldest(q.from) ?? Infinity, inside[inside.length - 1] ?? Infinity);
    if (oldest !== Infinity) answer.oldest = oldest;
  }
  // Suppose the upTo newest hold the i newest pending starts and the upTo - i newest sent ones; the
  // first guess takes every pending start, and each failed guess trades one pending for one sent.
  for (let i = Math.min(inside.length, q.upTo); ; i--) {
    const m = q.upTo - i;
    const [sentM, sentNext] = m > 0 ? sent.nth(q.from, m) : [undefined, sent.nth(q.from, 1)[0]];
    // Only on the first guess: fewer than upTo starts in all.
    if (m > 0 && sentM === undefined) return answer;
    const lastPending = i === 0 ? Infinity : (inside[i - 1] as number);
    if (i === 0 || sentNext === undefined || lastPending >= sentNext) {
      answer.nth = Math.min(lastPending, m === 0 ? Infinity : (sentM as number));
      return answer;
    }
  }
}

/** Answers a tokens question over the sent rows and the pending rows (at their effective times). */
export function answerTokens(q: TokensQuery, sent: SentTokens, pending: () => readonly TokenRow[], exact: boolean): TokensAnswer {
  const inside = pending().filter((r) => r.t >= q.from).sort((a, b) => b.t - a.t);
  const sum = sent.sum(q.from) + inside.reduce((s, r) => s + r.amount, 0);
  const answer: TokensAnswer = exact ? { sum } : {};
  if (sum <= q.room) return answer;
  let running = 0;
  let j = 0;
  const take = (r: TokenRow): boolean => {
    running += r.amount;
    return running > q.room;
  };
  for (const r of sent.newestFirst(q.from)) {
    for (; j < inside.length && (inside[j] as TokenRow).t >= r.t; j++) if (take(inside[j] as TokenRow)) return { ...answer, over: (inside[j] as TokenRow).t };
    if (take(r)) return { ...answer, over: r.t };
  }
  for (; j < inside.length; j++) if (take(inside[j] as TokenRow)) return { ...answer, over: (inside[j] as TokenRow).t };
  // The sum said it exceeds room; rows that moved between the two reads cannot (one transaction).
  return answer;
}
