/**
 * The one event stream: everything that happens during a run is an event; renderers, the
 * NDJSON writer and the session store subscribe. Shapes follow CONTRACT.md "Events".
 */
import type { FileDiff } from './tools/file-diff.ts';

export type { FileDiff } from './tools/file-diff.ts';
export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export interface UsageBreakdown {
  usage: Usage;
  costUSD?: number;
}

/** Spend against one budget (`budget` in the config). */
export interface BudgetStatus {
  /** `perRun`, `perDay (2026-12-02)`, `perAgent.oracle (2026-12-02)`. */
  budget: string;
  spentUSD: number;
  limitUSD?: number;
  spentTokens: number;
  limitTokens?: number;
}

interface Base {
  timestamp: number;
  sessionID: string;
  agent?: string;
  provider?: string;
  model?: string;
  taskID?: string;
  parentTaskID?: string;
  /** The workflow step the task belongs to (workflow runs only). */
  stepID?: string;
}

export type WorkflowStatus = 'success' | 'failed' | 'cancelled';
export type WorkflowTaskStatus = 'success' | 'failed' | 'skipped' | 'cancelled';

/** A step as `workflow_start` announces it: its task count and how many a resumed run already has. */
export interface WorkflowStepPlan {
  id: string;
  agent: string;
  needs: string[];
  tasks: number;
  done: number;
}

/** What `workflow_finish` reports about the whole run. */
export interface WorkflowSummary {
  tasks: Record<WorkflowTaskStatus, number>;
  usage: Usage;
  costUSD?: number;
  retries: number;
  fallbacks: number;
  cacheHits: number;
  /** Time tasks spent waiting on rate limits, summed over tasks (ms): parallel waits add up. */
  waitedMs: number;
  /** This invocation's wall time (ms). */
  wallMs: number;
  /** Spend against each budget that applies (when the config sets `budget`). */
  budgets?: BudgetStatus[];
}

export type PantheonEvent = Base &
  (
    | { type: 'text'; text: string }
    /** A reasoning block of the model's, whole, once it ends: printed by `run --thinking` (`--format json` too), hidden otherwise. */
    | { type: 'reasoning'; text: string }
    /** `durationMs`: how long the tool ran; absent for a call that could not run (an unknown tool, bad arguments). */
    /** `callID`: the model's id of the call (what a `subtask_start`'s `callID` names). */
    | { type: 'tool_use'; tool: string; input: unknown; output?: unknown; error?: string; durationMs?: number; /** what an `edit` or `write` changed */ diff?: FileDiff; /** the title the tool made of the call (`webfetch`: URL and content type) */ title?: string; callID?: string }
    /**
     * The model started to write a tool call: its input streams on (OpenCode's `pending` tool part).
     * Once per call, before its `tool_start` (or, for a call that cannot run, its `tool_use` with an
     * error). Not printed by `--format json`, which keeps OpenCode's events.
     */
    | { type: 'tool_pending'; tool: string; callID: string }
    /** A tool call starts to run (its `tool_use` follows when it ends; a call that cannot run has none of these). */
    | { type: 'tool_start'; tool: string; input: unknown; callID?: string }
    /**
     * A `task` call starts its sub-task (`taskID`, its agent as `agent`; `parentTaskID`: the task that
     * called), before any of the sub-task's own events. `callID`: the call's id, as on its `tool_use`;
     * `childSessionID`: the sub-task's own session, in a server turn (OpenCode's child session).
     */
    | { type: 'subtask_start'; taskID: string; parentTaskID: string; callID?: string; description?: string; prompt: string; childSessionID?: string }
    | { type: 'step_start' }
    /**
     * A model's step ended. `reason`: why, in the AI SDK's and OpenCode's words (`stop`, `length`: the
     * output limit cut it, `tool-calls`, `content-filter`: the provider refused or filtered it,
     * `error`, `interrupted`, `other`: any other word a provider package or a cached answer gives;
     * src/providers/finish-reason.ts). A gateway call's `step_finish` has it too.
     */
    | { type: 'step_finish'; usage: Usage; costUSD?: number; reason?: string }
    | { type: 'retry'; attempt: number; delayMs: number; status: number | string; message?: string }
    | { type: 'fallback'; from: string; to: string; reason: string }
    | { type: 'rate_limited'; waitMs: number; limit?: string }
    | { type: 'cache_hit' }
    | { type: 'error'; code: string; message: string; hint?: string; details?: string[] }
    | { type: 'warning'; code: string; message: string }
    | ({ type: 'budget_warning'; /** how full the fuller of its USD and token budgets is, in % */ percent: number } & BudgetStatus)
    | ({ type: 'budget_exceeded'; /** downgrade: moved to budget.downgrade; fail: the task fails; stop: a workflow starts no more tasks */ action: 'downgrade' | 'fail' | 'stop'; to?: string } & BudgetStatus)
    | { type: 'workflow_start'; runId: string; workflow: string; resumed: boolean; steps: WorkflowStepPlan[] }
    | { type: 'task_start'; stepID: string; taskID: string; item?: unknown }
    | { type: 'task_finish'; stepID: string; taskID: string; status: WorkflowTaskStatus; error?: string }
    | ({ type: 'workflow_finish'; runId: string; workflow: string; status: WorkflowStatus } & WorkflowSummary)
    | {
        type: 'done';
        usage: Usage;
        costUSD?: number;
        status: 'success' | 'failed' | 'cancelled';
        /** Usage of the run (delegated tasks included) per agent and per provider. */
        byAgent?: Record<string, UsageBreakdown>;
        byProvider?: Record<string, UsageBreakdown>;
        /** Spend against each budget that applies (when the config sets `budget`). */
        budgets?: BudgetStatus[];
      }
  );

export type EventType = PantheonEvent['type'];
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event as emitted: the bus stamps `timestamp` and `sessionID`. */
export type EventInput = DistributiveOmit<PantheonEvent, 'timestamp' | 'sessionID'>;
export type Listener = (event: PantheonEvent) => void;

export class EventBus {
  readonly sessionID: string;
  private readonly listeners: Listener[] = [];
  private readonly now: () => number;

  constructor(sessionID: string, now: () => number = Date.now) {
    this.sessionID = sessionID;
    this.now = now;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  emit(event: EventInput): void {
    const full = { ...event, timestamp: this.now(), sessionID: this.sessionID } as PantheonEvent;
    for (const listener of this.listeners) listener(full);
  }
}
