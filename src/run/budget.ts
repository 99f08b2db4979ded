/**
 * Spending budgets (`budget` in the config): which budgets apply to a request (the run's, today's,
 * the agent's today), what the request is expected to cost, and the ledger reservation that every
 * process shares. The chain model asks before each request and settles with what it really cost.
 */
import type { Config } from '../config/schema-types.ts';
import { PantheonError } from '../errors.ts';
import type { BudgetStatus, EventInput } from '../events.ts';
import type { ModelCost } from '../providers/resolve-model.ts';
import type { Ledger } from '../scheduler/ledger.ts';
import type { BudgetLimit, SpendAmount } from '../scheduler/spend.ts';
import { costOf } from './usage-tally.ts';
import { thousands } from '../icu-free.ts';

export type BudgetConfig = NonNullable<Config['budget']>;

export type { BudgetStatus } from '../events.ts';

/** Warn once a budget is this full. */
export const WARN_AT = 0.8;
const DAY_MS = 86_400_000;
const RUN_RETAIN_MS = 30 * DAY_MS;

/** One formatter per time zone: making one costs far more than using it (stats format every record of the day). */
const dayFormats = new Map<string | undefined, Intl.DateTimeFormat>();

/** `YYYY-MM-DD` of `now` in `timeZone` (default: the machine's). */
export function budgetDay(now: number, timeZone?: string): string {
  let format = dayFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(timeZone, format);
  }
  return format.format(now);
}

export function usd(n: number): string {
  return n >= 1 || n === 0 ? `$${n.toFixed(2)}` : `$${n.toPrecision(2)}`;
}

/** `$0.42 of $0.50`, `12,345 of 20,000 tokens`, or both. */
export function spendText(s: BudgetStatus): string {
  const parts: string[] = [];
  if (s.limitUSD !== undefined) parts.push(`${usd(s.spentUSD)} of ${usd(s.limitUSD)}`);
  if (s.limitTokens !== undefined) parts.push(`${thousands(s.spentTokens)} of ${thousands(s.limitTokens)} tokens`);
  return parts.join(', ');
}

/** Budgets warned about in this process (per ledger), so each warning is given once. */
const warned = new WeakMap<Ledger, Set<string>>();

export class BudgetExceededError extends PantheonError {
  readonly status: BudgetStatus;
  constructor(status: BudgetStatus, downgraded: boolean) {
    super('BUDGET_EXCEEDED', `The ${status.budget} budget would be exceeded${downgraded ? ', also on the downgrade chain' : ''}: ${spendText(status)} spent.`, {
      hint: downgraded ? 'Raise the budget, or give budget.downgrade free models.' : 'Raise the budget in the config (budget.*), or set budget.onExceeded to "downgrade" with a cheaper chain.',
    });
    this.name = 'BudgetExceededError';
    this.status = status;
  }
}

export interface Reservation {
  id: string;
}

/** The budgets of one run (a session's turn, or a workflow run), shared with every process through the ledger. */
export class BudgetGate {
  readonly config: BudgetConfig;
  readonly #ledger: Ledger;
  readonly #runId: string;
  readonly #now: () => number;

  constructor(config: BudgetConfig, options: { ledger: Ledger; runId: string; now?: () => number }) {
    this.config = config;
    this.#ledger = options.ledger;
    this.#runId = options.runId;
    this.#now = options.now ?? Date.now;
  }

  get onExceeded(): 'fail' | 'downgrade' {
    return this.config.onExceeded ?? 'fail';
  }

  /** The budgets that apply to a request of `agent` now. */
  budgetsFor(agent: string): BudgetLimit[] {
    const now = this.#now();
    const day = budgetDay(now, this.config.timeZone);
    const out: BudgetLimit[] = [];
    const add = (key: string, label: string, amount: { usd?: number; tokens?: number } | undefined, retain: number): void => {
      if (amount) out.push({ key, label, ...(amount.usd === undefined ? {} : { usd: amount.usd }), ...(amount.tokens === undefined ? {} : { tokens: amount.tokens }), retainUntil: now + retain });
    };
    add(`budget:run:${this.#runId}`, 'perRun', this.config.perRun, RUN_RETAIN_MS);
    add(`budget:day:${day}`, `perDay (${day})`, this.config.perDay, 2 * DAY_MS);
    const own = this.config.perAgent && Object.hasOwn(this.config.perAgent, agent) ? this.config.perAgent[agent] : undefined;
    add(`budget:agent:${agent}:${day}`, `perAgent.${agent} (${day})`, own, 2 * DAY_MS);
    return out;
  }

  /**
   * Reserves the expected spend of a request against every budget of `agent`; `exceeded` names the
   * budget it would cross. Emits `budget_warning` when a budget reaches 80 % (once per process).
   */
  async reserve(agent: string, expected: SpendAmount, emit: (e: EventInput) => void): Promise<Reservation | { exceeded: BudgetStatus }> {
    const budgets = this.budgetsFor(agent);
    if (budgets.length === 0) return { id: '' };
    const result = await this.#ledger.reserveSpend({ budgets, expected });
    if (!result.ok) return { exceeded: statusOf(result.exceeded, result.totals[result.exceeded.key]) };
    const seen = warned.get(this.#ledger) ?? new Set<string>();
    warned.set(this.#ledger, seen);
    for (const b of budgets) {
      const before = result.totals[b.key] ?? { usd: 0, tokens: 0 };
      const after = { usd: before.usd + expected.usd, tokens: before.tokens + expected.tokens };
      const share = Math.max(b.usd ? after.usd / b.usd : 0, b.tokens ? after.tokens / b.tokens : 0);
      if (share < WARN_AT || seen.has(b.key)) continue;
      seen.add(b.key);
      emit({ type: 'budget_warning', ...statusOf(b, after), percent: Math.min(100, Math.round(share * 100)) });
    }
    return { id: result.id };
  }

  async settle(reservation: Reservation, actual: SpendAmount): Promise<void> {
    if (reservation.id) await this.#ledger.settleSpend(reservation.id, actual);
  }

  /** Spend against the run's, today's and these agents' budgets. */
  async status(agents: readonly string[]): Promise<BudgetStatus[]> {
    const budgets = new Map<string, BudgetLimit>();
    for (const agent of agents.length ? agents : ['']) for (const b of this.budgetsFor(agent)) budgets.set(b.key, b);
    if (budgets.size === 0) return [];
    const totals = await this.#ledger.spendTotals([...budgets.keys()]);
    return [...budgets.values()].map((b) => statusOf(b, totals[b.key]));
  }

  /** Whether the run's own budget is used up (a workflow then starts no more tasks). */
  async runSpent(): Promise<BudgetStatus | undefined> {
    const run = this.budgetsFor('').find((b) => b.label === 'perRun');
    if (!run) return undefined;
    const status = statusOf(run, (await this.#ledger.spendTotals([run.key]))[run.key]);
    const over = (status.limitUSD !== undefined && status.spentUSD >= status.limitUSD - 1e-9) || (status.limitTokens !== undefined && status.spentTokens >= status.limitTokens);
    return over ? status : undefined;
  }
}

function statusOf(b: BudgetLimit, spent: SpendAmount | undefined): BudgetStatus {
  return {
    budget: b.label,
    spentUSD: spent?.usd ?? 0,
    ...(b.usd === undefined ? {} : { limitUSD: b.usd }),
    spentTokens: spent?.tokens ?? 0,
    ...(b.tokens === undefined ? {} : { limitTokens: b.tokens }),
  };
}

/** What a request is expected to spend on the priciest model of `chain`: prompt estimate + output budget. */
export function expectedSpend(chain: readonly { cost?: ModelCost }[], promptTokens: number, outputTokens: number): SpendAmount {
  let most = 0;
  for (const m of chain) most = Math.max(most, costOf(m.cost, { inputTokens: promptTokens, outputTokens }) ?? 0);
  return { usd: most, tokens: promptTokens + outputTokens };
}

/** The gate for a run, when the config sets a budget. */
export function budgetGate(config: Config, ledger: Ledger, runId: string): BudgetGate | undefined {
  return config.budget && (config.budget.perRun || config.budget.perDay || config.budget.perAgent) ? new BudgetGate(config.budget, { ledger, runId }) : undefined;
}
