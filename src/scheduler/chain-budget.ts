/**
 * The chain a chain model sends to, and the budgets it checks first: the configured chain until a
 * budget would be crossed, then (`onExceeded: "downgrade"`) the downgrade chain, which ends the task
 * when it would cross a budget too.
 */
import type { LanguageModelV4CallOptions } from '@ai-sdk/provider';
import type { EventInput } from '../events.ts';
import type { ResolvedModel } from '../providers/resolve-model.ts';
import { BudgetExceededError, expectedSpend, type BudgetGate, type Reservation } from '../run/budget.ts';
import { costOf, type StepUsage } from '../run/usage-tally.ts';
import { inputRatio, outputBudget, promptTokens } from './chain-request.ts';

export interface ChainBudget {
  gate: BudgetGate;
  agent: string;
  /** The chain to downgrade to; an empty one (none of its models can take the call) fails as `onExceeded: "fail"` does. */
  downgrade: () => ResolvedModel[];
}

export class ActiveChain {
  chain: ResolvedModel[];
  head: ResolvedModel;
  downgraded = false;
  readonly #budget: ChainBudget | undefined;
  readonly #ledger: object;

  constructor(chain: ResolvedModel[], budget: ChainBudget | undefined, ledger: object) {
    this.chain = chain;
    this.head = chain[0] as ResolvedModel;
    this.#budget = budget;
    this.#ledger = ledger;
  }

  /** Whether a budget applies (else reserveSpend has nothing to do). */
  get budgeted(): boolean {
    return this.#budget !== undefined;
  }

  /** Reserves the call's expected spend; downgrades or fails (BudgetExceededError) when a budget would be crossed. */
  async reserveSpend(options: LanguageModelV4CallOptions, emit: (e: EventInput) => void): Promise<Reservation | undefined> {
    const budget = this.#budget;
    if (!budget) return undefined;
    for (;;) {
      const ratio = inputRatio(this.#ledger, this.head.label);
      const expected = expectedSpend(this.chain, Math.ceil(promptTokens(options) * ratio), outputBudget(options, this.head));
      const result = await budget.gate.reserve(budget.agent, expected, emit);
      if (!('exceeded' in result)) return result;
      const to = budget.gate.onExceeded === 'downgrade' && !this.downgraded ? budget.downgrade() : [];
      if (to.length) {
        const target = (to[0] as ResolvedModel).label;
        emit({ type: 'budget_exceeded', action: 'downgrade', to: target, ...result.exceeded });
        emit({ provider: this.head.provider, model: this.head.label, type: 'fallback', from: this.head.label, to: target, reason: 'budget' });
        this.chain = to;
        this.head = to[0] as ResolvedModel;
        this.downgraded = true;
        continue;
      }
      emit({ type: 'budget_exceeded', action: 'fail', ...result.exceeded });
      throw new BudgetExceededError(result.exceeded, this.downgraded);
    }
  }

  /** Corrects a reservation to what the call cost (nothing, when it broke off unanswered). */
  async settle(spend: Reservation | undefined, model: ResolvedModel, usage: StepUsage): Promise<void> {
    if (!spend || !this.#budget) return;
    const spent = { usd: costOf(model.cost, usage) ?? 0, tokens: usage.inputTokens + usage.outputTokens };
    await this.#budget.gate.settle(spend, spent).catch(() => undefined);
  }
}
