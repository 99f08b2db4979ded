/**
 * The workflow engine: runs a validated workflow's steps as a DAG. Every task whose needs are
 * done starts at once (bounded by the workflow's `concurrency`, default 64; the scheduler's provider limits
 * pace the rest), goes through runTask (limits, retries, fallbacks, cache), and is written to the
 * journal when it starts and when it ends, so a later run can resume where this one stopped.
 */
import PQueue from 'p-queue';
import type { Config } from '../config/schema-types.ts';
import { PantheonError } from '../errors.ts';
import type { EventBus, Usage, WorkflowStatus, WorkflowSummary, WorkflowTaskStatus } from '../events.ts';
import { BudgetExceededError, budgetGate, type BudgetStatus } from '../run/budget.ts';
import { runTask, type RunTaskOptions } from '../run/run-task.ts';
import type { Runtime } from '../run/runtime.ts';
import { checkInputs, stepItems } from './inputs.ts';
import type { Journal } from './journal.ts';
import { findResumable, resumeInputs, type OpenedRun } from './open-run.ts';
import { claimRun } from './run-lock.ts';
import type { HeldLock } from '../pid-lock.ts';
import { TaskBus } from './task-bus.ts';
import { joinOutputs, pendingTask, type TaskState } from './task-state.ts';
import { renderTemplate } from './template.ts';
import { validateWorkflow, type ValidatedStep, type ValidatedWorkflow } from './validate.ts';

export type { TaskState, TaskStatus } from './task-state.ts';

export interface WorkflowRunOptions {
  config: Config;
  name: string;
  inputs: Record<string, string>;
  runtime: Runtime;
  bus: EventBus;
  journal: Journal;
  /** A run id, or true for the newest unfinished run of this workflow. */
  resume?: string | true;
  signal?: AbortSignal;
  workspace?: RunTaskOptions['workspace'];
  env?: NodeJS.ProcessEnv;
  /** Tasks in flight at once when the workflow sets no `concurrency` (default DEFAULT_CONCURRENCY). */
  concurrency?: number;
  /** Per-attempt timeout for every task (ms). */
  timeoutMs?: number;
  /** The id of a new run (default: a fresh `wr_…`); ignored when resuming. */
  runId?: string;
}

export interface WorkflowRunResult {
  runId: string;
  workflow: string;
  status: WorkflowStatus;
  /** Every task, in step order then item order (resumed tasks as the journal has them). */
  tasks: TaskState[];
  /** This invocation's start and end. */
  startedAt: number;
  endedAt: number;
  usage: Usage;
  costUSD?: number;
  retries: number;
  fallbacks: number;
  cacheHits: number;
  waitedMs: number;
  /** Spend against each budget that applies (when the config sets `budget`). */
  budgets?: BudgetStatus[];
}

interface StepRun {
  step: ValidatedStep;
  tasks: TaskState[];
  forEach: boolean;
  remaining: number;
  started: boolean;
  finished: boolean;
}

/**
 * Tasks in flight at once when neither the workflow nor the caller says. A `forEach` over 5,000
 * items used to start all 5,000 at once: 5,000 connections to one provider and ~700 MB in this
 * process (a list of tens of thousands ran it out of memory), where a provider takes a few dozen.
 */
export const DEFAULT_CONCURRENCY = 64;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}


function planSteps(steps: ValidatedStep[], items: (unknown[] | undefined)[], runId: string, done: Map<string, TaskState>): StepRun[] {
  return steps.map((step, i) => {
    const list = items[i];
    const fresh =
      list === undefined
        ? [pendingTask(`${runId}.${step.id}`, step.id, step.agent)]
        : list.map((value, index) => pendingTask(`${runId}.${step.id}.${index}`, step.id, step.agent, { value, index }));
    const tasks = fresh.map((t) => done.get(t.taskID) ?? t);
    return { step, tasks, forEach: list !== undefined, remaining: 0, started: false, finished: false };
  });
}

/** Totals over a run's tasks (a resumed run's earlier tasks included); `wallMs` is this invocation's. */
export function summarize(tasks: readonly TaskState[], wallMs: number): WorkflowSummary {
  const usage = { inputTokens: 0, outputTokens: 0 };
  const counts: Record<WorkflowTaskStatus, number> = { success: 0, failed: 0, skipped: 0, cancelled: 0 };
  let cost: number | undefined;
  for (const t of tasks) {
    usage.inputTokens += t.usage.inputTokens;
    usage.outputTokens += t.usage.outputTokens;
    if (t.costUSD !== undefined) cost = (cost ?? 0) + t.costUSD;
    if (t.status !== 'pending' && t.status !== 'running') counts[t.status] += 1;
  }
  const sum = (key: 'retries' | 'fallbacks' | 'cacheHits' | 'waitedMs') => tasks.reduce((n, t) => n + t[key], 0);
  return {
    tasks: counts,
    usage,
    ...(cost === undefined ? {} : { costUSD: cost }),
    retries: sum('retries'),
    fallbacks: sum('fallbacks'),
    cacheHits: sum('cacheHits'),
    waitedMs: sum('waitedMs'),
    wallMs,
  };
}

/** Runs (or resumes) the workflow `opts.name`; resolves with every task's state whatever the outcome. */
export async function runWorkflow(opts: WorkflowRunOptions): Promise<WorkflowRunResult> {
  const startedAt = Date.now();
  const wf = validateWorkflow(opts.config, opts.name);
  // A resumed run is claimed for this process as it is picked (another process running it is refused); a new one once it is written.
  const resumed = opts.resume === undefined ? undefined : findResumable(opts.journal, wf, opts.resume);
  const locks: HeldLock[] = resumed ? [resumed.lock] : [];
  try {
    return await runOpened(opts, wf, resumed, startedAt, locks);
  } finally {
    for (const lock of locks) lock.release();
  }
}

async function runOpened(opts: WorkflowRunOptions, wf: ValidatedWorkflow, resumed: OpenedRun | undefined, startedAt: number, locks: HeldLock[]): Promise<WorkflowRunResult> {
  const { journal, bus } = opts;
  const inputs = resumed ? resumeInputs(resumed.run, opts.inputs) : { ...opts.inputs };
  checkInputs(wf, inputs);
  // Items come from the inputs: a malformed list is reported before any run is recorded.
  const items = wf.steps.map((step) => stepItems(step, inputs));
  const run = resumed ? journal.reopenRun(resumed.run.id) : journal.createRun(wf.name, inputs, opts.runId);
  if (!resumed) {
    const claim = claimRun(journal.path, run.id);
    if ('release' in claim) locks.push(claim);
  }
  const steps = planSteps(wf.steps, items, run.id, resumed?.done ?? new Map());
  // Every planned task is in the journal from the start, so `workflow show` sees the whole run even after a crash.
  journal.recordTasks(
    run.id,
    steps.flatMap((s) => s.tasks),
  );
  const byId = new Map(steps.map((s) => [s.step.id, s]));
  const outputs = new Map<string, string>();
  const controller = new AbortController();
  const limit = wf.concurrency ?? opts.concurrency ?? DEFAULT_CONCURRENCY;
  const queue = new PQueue({ concurrency: limit });
  let stopping: 'failed' | 'cancelled' | undefined;
  let fatal: unknown;
  // perRun counts the whole run, resumed invocations included (its key is the run id).
  const budget = budgetGate(opts.config, opts.runtime.ledger, run.id);
  let budgetStopped = false;
  /** The run's budget is spent: no more tasks start; `--resume` continues once it is raised. */
  const stopForBudget = (status: BudgetStatus): void => {
    if (!budgetStopped) bus.emit({ type: 'budget_exceeded', action: 'stop', ...status });
    budgetStopped = true;
    stop('failed');
  };

  const stop = (why: 'failed' | 'cancelled'): void => {
    stopping ??= why;
    queue.clear();
  };
  const onAbort = (): void => {
    stop('cancelled');
    controller.abort(opts.signal?.reason);
  };
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });

  const finishStep = (s: StepRun): void => {
    s.finished = true;
    outputs.set(s.step.id, joinOutputs(s.tasks, s.forEach));
    startReady();
  };
  const runOne = async (s: StepRun, task: TaskState): Promise<void> => {
    if (stopping) return;
    const spent = await budget?.runSpent();
    if (spent) return stopForBudget(spent);
    if (stopping) return;
    const item = task.index === undefined ? undefined : { value: task.item };
    let overBudget: BudgetStatus | undefined;
    task.status = 'running';
    task.startedAt = Date.now();
    journal.recordTask(run.id, task);
    bus.emit({ type: 'task_start', agent: s.step.agent, stepID: s.step.id, taskID: task.taskID, ...(item ? { item: item.value } : {}) });
    try {
      const result = await runTask({
        config: opts.config,
        runtime: opts.runtime,
        bus: new TaskBus(bus, task),
        message: renderTemplate(s.step.prompt, { inputs, outputs, ...(item ? { item } : {}) }),
        agent: s.step.agent,
        ...(s.step.model === undefined ? {} : { model: s.step.model }),
        taskID: task.taskID,
        signal: controller.signal,
        ...(opts.workspace ? { workspace: opts.workspace } : {}),
        ...(opts.env ? { env: opts.env } : {}),
        ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
        ...(budget ? { budget } : {}),
      });
      task.status = 'success';
      task.output = result.answer;
      task.usage = { ...result.usage };
      if (result.costUSD !== undefined) task.costUSD = result.costUSD;
    } catch (error) {
      task.status = controller.signal.aborted ? 'cancelled' : 'failed';
      task.error = errorText(error);
      if (error instanceof BudgetExceededError) overBudget = error.status;
    }
    const status = task.status;
    task.endedAt = Date.now();
    journal.recordTask(run.id, task);
    bus.emit({ type: 'task_finish', agent: s.step.agent, stepID: s.step.id, taskID: task.taskID, status, ...(task.error ? { error: task.error } : {}) });
    if (overBudget) return stopForBudget(overBudget);
    if (status === 'failed' && s.step.onError === 'fail') return stop('failed');
    s.remaining -= 1;
    if (s.remaining === 0 && !stopping) finishStep(s);
  };
  const startStep = (s: StepRun): void => {
    s.started = true;
    const todo = s.tasks.filter((t) => t.status !== 'success');
    s.remaining = todo.length;
    if (s.forEach && s.tasks.length === 0) {
      bus.emit({ type: 'warning', agent: s.step.agent, stepID: s.step.id, code: 'EMPTY_FOREACH', message: `step ${s.step.id}: forEach over an empty list, nothing to do` });
    }
    if (todo.length === 0) return finishStep(s);
    for (const task of todo) {
      queue
        .add(() => runOne(s, task))
        .catch((error: unknown) => {
          fatal ??= error;
          stop('failed');
        });
    }
  };
  function startReady(): void {
    if (stopping) return;
    for (const s of steps) {
      if (!s.started && s.step.needs.every((need) => byId.get(need)?.finished)) startStep(s);
    }
  }

  bus.emit({
    type: 'workflow_start',
    runId: run.id,
    workflow: wf.name,
    resumed: resumed !== undefined,
    steps: steps.map((s) => ({ id: s.step.id, agent: s.step.agent, needs: s.step.needs, tasks: s.tasks.length, done: s.tasks.filter((t) => t.status === 'success').length })),
  });
  try {
    startReady();
    await queue.onIdle();
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  const status: WorkflowStatus = stopping ?? 'success';
  const tasks = steps.flatMap((s) => s.tasks);
  const unrun = tasks.filter((task) => task.status === 'pending' || task.status === 'running');
  for (const task of unrun) task.status = status === 'cancelled' ? 'cancelled' : 'skipped';
  if (unrun.length > 0) journal.recordTasks(run.id, unrun);
  journal.finishRun(run.id, status);
  const endedAt = Date.now();
  const budgets = budget ? await budget.status([...new Set(steps.map((s) => s.step.agent))]).catch(() => []) : [];
  const summary = { ...summarize(tasks, endedAt - startedAt), ...(budget ? { budgets } : {}) };
  bus.emit({ type: 'workflow_finish', runId: run.id, workflow: wf.name, status, ...summary });
  if (fatal) throw fatal instanceof PantheonError ? fatal : new PantheonError('INTERNAL', `The workflow run failed: ${errorText(fatal)}`, { cause: fatal });
  const { tasks: _counts, wallMs: _wall, budgets: _budgets, ...totals } = summary;
  return { runId: run.id, workflow: wf.name, status, tasks, startedAt, endedAt, ...totals, ...(budget ? { budgets } : {}) };
}
