/**
 * One workflow task's state as the journal stores it and the result reports it, and the counter
 * that fills its figures from the task's events (the task's own and those of tasks it delegates to).
 */
import type { EventInput, Usage } from '../events.ts';

export type TaskStatus = 'pending' | 'running' | 'success' | 'failed' | 'skipped' | 'cancelled';

export interface TaskState {
  taskID: string;
  stepID: string;
  /** The step's agent. */
  agent: string;
  item?: unknown;
  index?: number;
  status: TaskStatus;
  output?: string;
  error?: string;
  /** Requests sent for the task (first tries, retries and fallbacks). */
  attempts?: number;
  retries: number;
  fallbacks: number;
  usage: Usage;
  costUSD?: number;
  startedAt?: number;
  endedAt?: number;
  /** Models that answered, in order, without repeats (provider/model labels). */
  models: string[];
  /** Time spent waiting on rate limits (ms; see WaitClock); counted by the task's bus. */
  waitedMs: number;
  cacheHits: number;
}

export function pendingTask(taskID: string, stepID: string, agent: string, item?: { value: unknown; index: number }): TaskState {
  return {
    taskID,
    stepID,
    agent,
    ...(item ? { item: item.value, index: item.index } : {}),
    status: 'pending',
    retries: 0,
    fallbacks: 0,
    usage: { inputTokens: 0, outputTokens: 0 },
    models: [],
    waitedMs: 0,
    cacheHits: 0,
  };
}

/** Counts a task's events into its state. */
export function countEvent(task: TaskState, event: EventInput): void {
  switch (event.type) {
    case 'step_start':
      task.attempts = (task.attempts ?? 0) + 1;
      break;
    case 'retry':
      task.retries += 1;
      task.attempts = (task.attempts ?? 0) + 1;
      break;
    case 'fallback':
      task.fallbacks += 1;
      // A model skipped while cooling down was never asked.
      if (event.reason !== 'cooldown') task.attempts = (task.attempts ?? 0) + 1;
      break;
    case 'cache_hit':
      task.cacheHits += 1;
      break;
    case 'step_finish':
      task.usage = { inputTokens: task.usage.inputTokens + event.usage.inputTokens, outputTokens: task.usage.outputTokens + event.usage.outputTokens };
      if (event.model && !task.models.includes(event.model)) task.models.push(event.model);
      break;
    default:
      break;
  }
}

/** A step's output from its tasks: a forEach step's items' outputs in item order, blank lines between (empty ones left out). */
export function joinOutputs(tasks: readonly TaskState[], forEach: boolean): string {
  if (!forEach) return tasks[0]?.output ?? '';
  return [...tasks]
    .sort((a, b) => (a.index ?? 0) - (b.index ?? 0))
    .map((t) => t.output ?? '')
    .filter((text) => text !== '')
    .join('\n\n');
}
