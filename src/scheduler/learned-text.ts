/**
 * Learned limits in words and as plain data, the same for `models`, `doctor` and the dashboard:
 * what the provider said, what it means now, and when it was learned.
 */
import { learnedExpiry, quotaAt, type LearnedLimit } from './learned.ts';

/** A learned limit as front-ends show it (JSON). */
export interface LearnedView {
  /** `provider/model`. */
  model: string;
  name: string;
  kind: 'requests' | 'tokens';
  limit?: number;
  /** What was left when it was learned. */
  remaining: number;
  /** When the provider said it is full again (ms since the epoch). */
  resetAt: number;
  /** When it was learned: when the request whose answer announced it went out (ms since the epoch). */
  learnedAt: number;
  /** When it stops being kept unless the provider says it again. */
  expiresAt: number;
  /** Whether it holds requests back right now (nothing left before its reset). */
  exhausted: boolean;
  source: string;
}

export function learnedView(l: LearnedLimit, now: number): LearnedView {
  const quota = quotaAt(l, now);
  return {
    model: l.key.replace(/^learned:/, ''),
    name: l.name,
    kind: l.kind,
    ...(l.limit === undefined ? {} : { limit: l.limit }),
    remaining: l.remaining,
    resetAt: l.resetAt,
    learnedAt: l.observedAt,
    expiresAt: learnedExpiry(l),
    exhausted: quota !== undefined && now < l.resetAt && quota.allowance === 0,
    source: l.source,
  };
}

function clock(t: number): string {
  return new Date(t).toTimeString().slice(0, 8);
}

function inWords(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 120_000) return `${Math.round(ms / 100) / 10} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/** `requests: 3 of 40 left, full again in 12 s (x-ratelimit-*, learned 12:03:04)`. */
export function learnedText(v: LearnedView, now: number): string {
  const unit = v.kind === 'tokens' && !/token/.test(v.name) ? ' tokens' : '';
  const left = v.limit === undefined ? `${v.remaining}${unit} left` : `${v.remaining} of ${v.limit}${unit} left`;
  const reset = v.resetAt > now ? `full again in ${inWords(v.resetAt - now)}` : `reset ${inWords(now - v.resetAt)} ago`;
  const what = v.name === 'retry-after' ? `retry after: nothing before ${clock(v.resetAt)}` : `${v.name}: ${left}, ${reset}`;
  return `${what} (${v.source}, learned ${clock(v.learnedAt)})`;
}
