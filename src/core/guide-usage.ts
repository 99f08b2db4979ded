/** A turn's usage in the guide's words (its §32.7 `Usage`): totals, cost, and per provider. */
import type { TurnResult } from './session-turn.ts';

export interface GuideUsage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  cost_usd?: number;
  providers: Record<string, { input_tokens: number; output_tokens: number }>;
}

export function guideUsage(result: Pick<TurnResult, 'usage' | 'costUSD' | 'byProvider'>): GuideUsage {
  const u = result.usage;
  return {
    input_tokens: u.inputTokens,
    output_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
    ...(result.costUSD === undefined ? {} : { cost_usd: result.costUSD }),
    providers: Object.fromEntries(Object.entries(result.byProvider).map(([id, b]) => [id, { input_tokens: b.usage.inputTokens, output_tokens: b.usage.outputTokens }])),
  };
}
