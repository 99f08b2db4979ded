/**
 * What the workflow progress view shows, kept from events: per step its tasks done/total, which
 * are running, which wait on a rate limit (until when, for which limit), retries and fallbacks.
 */
import type { PantheonEvent, WorkflowStepPlan } from '../../events.ts';

export type StepPhase = 'pending' | 'running' | 'done' | 'failed' | 'skipped';

export interface StepView {
  id: string;
  agent: string;
  needs: string[];
  total: number;
  done: number;
  failed: number;
  running: Set<string>;
  /** Tasks waiting on a rate limit: until when (ms epoch) and the limit that holds them. */
  waiting: Map<string, { until: number; limit: string }>;
  retries: number;
  fallbacks: number;
  cacheHits: number;
  startedAt?: number;
  endedAt?: number;
  lastError?: string;
}

function stepView(plan: WorkflowStepPlan): StepView {
  return {
    id: plan.id,
    agent: plan.agent,
    needs: plan.needs,
    total: plan.tasks,
    done: plan.done,
    failed: 0,
    running: new Set(),
    waiting: new Map(),
    retries: 0,
    fallbacks: 0,
    cacheHits: 0,
  };
}

export class WorkflowBoard {
  runId = '';
  workflow = '';
  resumed = false;
  readonly steps: StepView[] = [];
  #byId = new Map<string, StepView>();
  #finished = false;

  /** Applies one event; returns the step it changed, if any. */
  apply(e: PantheonEvent): StepView | undefined {
    if (e.type === 'workflow_start') {
      this.runId = e.runId;
      this.workflow = e.workflow;
      this.resumed = e.resumed;
      for (const plan of e.steps) {
        const view = stepView(plan);
        this.steps.push(view);
        this.#byId.set(view.id, view);
      }
      return undefined;
    }
    if (e.type === 'workflow_finish') {
      this.#finished = true;
      return undefined;
    }
    const step = e.stepID === undefined ? undefined : this.#byId.get(e.stepID);
    if (!step) return undefined;
    const task = e.taskID ?? '';
    switch (e.type) {
      case 'task_start':
        step.startedAt ??= e.timestamp;
        step.running.add(e.taskID);
        break;
      case 'task_finish':
        step.running.delete(e.taskID);
        step.waiting.delete(e.taskID);
        if (e.status === 'success') step.done += 1;
        else if (e.status === 'failed') {
          step.failed += 1;
          if (e.error) step.lastError = e.error;
        }
        if (step.done + step.failed === step.total) step.endedAt = e.timestamp;
        break;
      case 'rate_limited':
        step.waiting.set(task, { until: e.timestamp + e.waitMs, limit: e.limit ?? e.model ?? 'rate limit' });
        break;
      case 'step_start':
        step.waiting.delete(task);
        break;
      case 'retry':
        step.retries += 1;
        break;
      case 'fallback':
        step.fallbacks += 1;
        step.waiting.delete(task);
        break;
      case 'cache_hit':
        step.cacheHits += 1;
        break;
      default:
        return undefined;
    }
    return step;
  }

  phase(step: StepView): StepPhase {
    if (step.failed > 0) return 'failed';
    if (step.total > 0 && step.done === step.total) return 'done';
    // An empty forEach step is done as soon as its needs are.
    if (step.total === 0 && this.#needsDone(step)) return 'done';
    if (step.startedAt !== undefined) return 'running';
    return this.#finished ? 'skipped' : 'pending';
  }

  #needsDone(step: StepView): boolean {
    return step.needs.every((id) => {
      const need = this.#byId.get(id);
      return need !== undefined && need.done === need.total && need.failed === 0;
    });
  }

  /**
   * Tasks of `step` waiting on a limit (from their `rate_limited` until their request goes out),
   * the limit holding them, and the longest announced time left (0 once every announced wait has run out).
   */
  waitingNow(step: StepView, now: number): { count: number; leftMs: number; limit?: string } {
    let leftMs = 0;
    let limit: string | undefined;
    for (const wait of step.waiting.values()) {
      limit ??= wait.limit;
      if (wait.until - now > leftMs) {
        leftMs = wait.until - now;
        limit = wait.limit;
      }
    }
    return { count: step.waiting.size, leftMs, ...(limit === undefined ? {} : { limit }) };
  }
}
