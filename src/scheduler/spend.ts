/**
 * Spending against budgets, kept in the ledger so every process (and every machine sharing a
 * Redis store) counts the same totals; and the usage log `opencode stats` reads. The decision over
 * the totals is a pure function every ledger implementation shares.
 */

export interface SpendAmount {
  usd: number;
  tokens: number;
}

/** One budget as the ledger checks it: a key whose spend is summed, and its ceilings. */
export interface BudgetLimit {
  /** e.g. `budget:run:<runId>`, `budget:day:2026-12-02`, `budget:agent:oracle:2026-12-02`. */
  key: string;
  /** For people: `perRun`, `perDay (2026-12-02)`, `perAgent.oracle (2026-12-02)`. */
  label: string;
  usd?: number;
  tokens?: number;
  /** Spend rows under this key may be dropped after this time (ms since the epoch). */
  retainUntil: number;
}

export interface SpendRequest {
  budgets: BudgetLimit[];
  /** What the request is expected to cost (estimate; corrected later with settleSpend). */
  expected: SpendAmount;
}

export type SpendResult =
  | { ok: true; id: string; /** per budget key, the spend before this request */ totals: Record<string, SpendAmount> }
  | { ok: false; exceeded: BudgetLimit; totals: Record<string, SpendAmount> };

/** One model call, as the usage log keeps it for `opencode stats`. */
export interface UsageRecord {
  /** When the call finished (ms since the epoch). */
  t: number;
  /** The run (workflow run id or session id) it belonged to. */
  runId?: string;
  agent: string;
  provider: string;
  /** provider/model label. */
  model: string;
  inputTokens: number;
  outputTokens: number;
  costUSD?: number;
  /** Answered from the response cache. */
  cached: boolean;
  /** What a cached answer would have cost from the model (USD). */
  savedUSD?: number;
  retries: number;
  fallbacks: number;
  /** Time the call waited on rate limits (ms). */
  waitedMs: number;
}

/** How long the usage log is kept. */
export const USAGE_RETAIN_MS = 90 * 86_400_000;

export const NO_SPEND: SpendAmount = Object.freeze({ usd: 0, tokens: 0 });

/** The first budget the expected spend would cross, given the current totals; undefined when all allow it. */
export function exceededBudget(req: SpendRequest, totals: Readonly<Record<string, SpendAmount>>): BudgetLimit | undefined {
  for (const budget of req.budgets) {
    const spent = totals[budget.key] ?? NO_SPEND;
    // A tiny tolerance so float sums of per-call costs do not refuse the call that lands exactly on the budget.
    if (budget.usd !== undefined && spent.usd + req.expected.usd > budget.usd + 1e-9) return budget;
    if (budget.tokens !== undefined && spent.tokens + req.expected.tokens > budget.tokens) return budget;
  }
  return undefined;
}

/** Checks that amounts are finite and not negative. */
export function validSpend(amount: SpendAmount): SpendAmount {
  const clean = (n: number): number => (Number.isFinite(n) && n > 0 ? n : 0);
  return { usd: clean(amount.usd), tokens: Math.ceil(clean(amount.tokens)) };
}
