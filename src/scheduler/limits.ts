import type { RateLimit } from '../config/schema-types.ts';
import type { ConcurrencyLimit, TokenLimit, WindowLimit } from './ledger.ts';

/** A `rateLimit` object from the config (schema/config.json `$defs/rateLimit`). */
export type RateLimitSpec = RateLimit;

export interface Limits {
  windows: WindowLimit[];
  tokens: TokenLimit[];
  concurrency: ConcurrencyLimit[];
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** Turns one `rateLimit` object into ledger limits under `key` (every limit given is enforced). */
export function limitsOf(key: string, spec: RateLimitSpec | undefined): Limits {
  const out: Limits = { windows: [], tokens: [], concurrency: [] };
  if (!spec || spec.enabled === false) return out;
  if (spec.rpm) out.windows.push({ key, maxRequests: spec.rpm, windowMs: MINUTE });
  if (spec.rpd) out.windows.push({ key, maxRequests: spec.rpd, windowMs: DAY });
  if (spec.maxRequests && spec.windowMs) out.windows.push({ key, maxRequests: spec.maxRequests, windowMs: spec.windowMs });
  if (spec.tpm) out.tokens.push({ key, maxTokens: spec.tpm, windowMs: MINUTE });
  if (spec.concurrency) out.concurrency.push({ key, limit: spec.concurrency });
  return out;
}

/**
 * Every limit that applies to one model: the top-level `rateLimit` (counted per provider), the
 * provider's, and the model's. All are enforced together, so the tightest wins.
 */
export function applicableLimits(
  providerId: string,
  modelKey: string,
  specs: { global?: RateLimitSpec; provider?: RateLimitSpec; model?: RateLimitSpec },
): Limits {
  const parts = [
    limitsOf(`default:${providerId}`, specs.global),
    limitsOf(`provider:${providerId}`, specs.provider),
    limitsOf(`model:${providerId}/${modelKey}`, specs.model),
  ];
  return {
    windows: parts.flatMap((p) => p.windows),
    tokens: parts.flatMap((p) => p.tokens),
    concurrency: parts.flatMap((p) => p.concurrency),
  };
}

/**
 * Whether the model's limits are also learned from the provider's answers: the most specific
 * `rateLimit` (model, then provider, then top level) that says `learn` — or turns its limits off
 * with `enabled: false` — decides; by default they are.
 */
export function learnEnabled(specs: { global?: RateLimitSpec; provider?: RateLimitSpec; model?: RateLimitSpec }): boolean {
  for (const spec of [specs.model, specs.provider, specs.global]) {
    if (spec?.learn !== undefined) return spec.learn;
    if (spec?.enabled === false) return false;
  }
  return true;
}

/** The ledger key of what is learned from one model's answers. */
export function learnKeyOf(providerId: string, modelKey: string): string {
  return `learned:${providerId}/${modelKey}`;
}
