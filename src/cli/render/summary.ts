import type { BudgetStatus, PantheonEvent, Usage, UsageBreakdown } from '../../events.ts';
import { spendText } from '../../run/budget.ts';
import { WaitClock } from '../../run/wait-clock.ts';

export interface SummaryInput {
  status: string;
  usage: Usage;
  costUSD: number | undefined;
  servedBy: readonly string[];
  sessionID?: string;
  byAgent?: Record<string, UsageBreakdown>;
}

function money(usd: number): string {
  return `$${usd.toFixed(4)}`;
}

/** `oracle 1200/80` per agent, with cost where known: shown when more than one agent worked. */
function agentsPart(byAgent: Record<string, UsageBreakdown> | undefined): string | undefined {
  const entries = Object.entries(byAgent ?? {});
  if (entries.length < 2) return undefined;
  const parts = entries.map(([name, e]) => `${name} ${e.usage.inputTokens}/${e.usage.outputTokens}${e.costUSD === undefined ? '' : ` ${money(e.costUSD)}`}`);
  return `agents: ${parts.join(', ')}`;
}

/** Counts what happened in a run, for the closing summary line. */
export class RunStats {
  retries = 0;
  fallbacks = 0;
  cacheHits = 0;
  requests = 0;
  toolCalls = 0;
  /** Spend against each budget, as the run's `done` (or `workflow_finish`) reported it. */
  budgets: BudgetStatus[] = [];
  readonly #waits = new WaitClock();
  private readonly started: number;
  constructor(now: number = Date.now()) {
    this.started = now;
  }
  handle(e: PantheonEvent): void {
    if (e.type === 'retry') this.retries++;
    else if (e.type === 'fallback') this.fallbacks++;
    else if (e.type === 'cache_hit') this.cacheHits++;
    else if (e.type === 'step_finish') this.requests++;
    else if (e.type === 'tool_use') this.toolCalls++;
    else if ((e.type === 'done' || e.type === 'workflow_finish') && e.budgets) this.budgets = e.budgets;
    this.#waits.handle(e.type, e.taskID ?? '', e.timestamp);
  }
  line(input: SummaryInput, now: number = Date.now()): string {
    const { usage } = input;
    const parts = [
      `${input.status} in ${((now - this.started) / 1000).toFixed(1)} s`,
      input.servedBy.length ? `by ${[...new Set(input.servedBy)].join(', ')}` : undefined,
      `${usage.inputTokens} in / ${usage.outputTokens} out tokens`,
      input.costUSD === undefined ? undefined : money(input.costUSD),
      this.toolCalls ? `${this.toolCalls} tool call${this.toolCalls === 1 ? '' : 's'}` : undefined,
      agentsPart(input.byAgent),
      this.retries ? `${this.retries} retr${this.retries === 1 ? 'y' : 'ies'}` : undefined,
      this.fallbacks ? `${this.fallbacks} fallback${this.fallbacks === 1 ? '' : 's'}` : undefined,
      this.cacheHits ? `${this.cacheHits} cache hit${this.cacheHits === 1 ? '' : 's'}` : undefined,
      this.#waits.totalMs ? `${(this.#waits.totalMs / 1000).toFixed(1)} s waiting on limits` : undefined,
      this.budgets.length ? `budgets: ${this.budgets.map((b) => `${b.budget} ${spendText(b)}`).join(', ')}` : undefined,
      input.sessionID ? `session ${input.sessionID}` : undefined,
    ];
    return parts.filter(Boolean).join(' · ');
  }
}
