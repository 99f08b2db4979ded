import type { Usage, UsageBreakdown } from '../events.ts';
import type { ModelCost } from '../providers/resolve-model.ts';

/** Tokens of one model call; cache counts are part of `inputTokens` when the provider reports them. */
export interface StepUsage extends Usage {
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
}

export type UsageEntry = UsageBreakdown;

/**
 * What a call cost in USD from the model's `cost` (USD per million tokens, OpenCode's names):
 * uncached input at `input`, cached input at `cache_read` (else `input`), cache writes at
 * `cache_write` (else `input`), output at `output`. Undefined when the model has no prices.
 */
export function costOf(cost: ModelCost | undefined, usage: StepUsage): number | undefined {
  if (!cost || (cost.input === undefined && cost.output === undefined)) return undefined;
  const input = cost.input ?? 0;
  const cacheRead = Math.min(usage.cacheReadTokens ?? 0, usage.inputTokens);
  const cacheWrite = Math.min(usage.cacheWriteTokens ?? 0, usage.inputTokens - cacheRead);
  const plain = usage.inputTokens - cacheRead - cacheWrite;
  const total = input * plain + (cost.cache_read ?? input) * cacheRead + (cost.cache_write ?? input) * cacheWrite + (cost.output ?? 0) * usage.outputTokens;
  return total / 1_000_000;
}

function add(into: Map<string, UsageEntry>, key: string, usage: Usage, costUSD: number | undefined): void {
  const entry = into.get(key) ?? { usage: { inputTokens: 0, outputTokens: 0 } };
  entry.usage.inputTokens += usage.inputTokens;
  entry.usage.outputTokens += usage.outputTokens;
  if (costUSD !== undefined) entry.costUSD = (entry.costUSD ?? 0) + costUSD;
  into.set(key, entry);
}

/**
 * Usage and cost of a task and everything it delegated: each model call is recorded once, in the
 * tally of the task that made it, and counted in every tally above it.
 */
export class UsageTally {
  readonly usage: Usage = { inputTokens: 0, outputTokens: 0 };
  costUSD: number | undefined;
  /** Models that answered, in order (provider/model labels; cache hits included). */
  readonly servedBy: string[] = [];
  private readonly agents = new Map<string, UsageEntry>();
  private readonly providers = new Map<string, UsageEntry>();
  private readonly parent: UsageTally | undefined;

  constructor(parent?: UsageTally) {
    this.parent = parent;
  }

  record(step: { agent: string; provider: string; model: string; usage: Usage; costUSD?: number }): void {
    this.usage.inputTokens += step.usage.inputTokens;
    this.usage.outputTokens += step.usage.outputTokens;
    if (step.costUSD !== undefined) this.costUSD = (this.costUSD ?? 0) + step.costUSD;
    this.servedBy.push(step.model);
    add(this.agents, step.agent, step.usage, step.costUSD);
    add(this.providers, step.provider, step.usage, step.costUSD);
    this.parent?.record(step);
  }

  byAgent(): Record<string, UsageEntry> {
    return Object.fromEntries(this.agents);
  }

  byProvider(): Record<string, UsageEntry> {
    return Object.fromEntries(this.providers);
  }
}
