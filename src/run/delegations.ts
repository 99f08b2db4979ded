/**
 * What a turn's front-end may do with each delegation (a `task` call's sub-task): a server turn
 * gives the sub-task a session of its own, as OpenCode makes a child session per `task` call
 * (core/child-sessions.ts). Nested delegations are told too, each with the task that delegated.
 */
import type { ModelMessage } from 'ai';
import type { Usage } from '../events.ts';

export interface DelegationStart {
  /** The sub-task's id (its events' `taskID`). */
  taskID: string;
  /** The task whose `task` call started it. */
  parentTaskID: string;
  /** The `task` call's id. */
  callID?: string;
  agent: string;
  description?: string;
  prompt: string;
  /** When it started (ms). */
  time: number;
  /** OpenCode's `task_id`: the earlier sub-task's session to go on in (its messages kept), instead of a new one. */
  resume?: string;
  /** OpenCode's `background: true`: sent to the background at once (as a client's `POST /experimental/session/{id}/background` does). */
  background?: boolean;
}

/** How a sub-task ended: its messages (the prompt, then what it said and did, as far as it got), its usage and its failure. */
export interface DelegationOutcome {
  status: 'success' | 'failed' | 'cancelled';
  error?: unknown;
  turn: readonly ModelMessage[];
  usage: Usage;
  costUSD?: number;
  servedBy: readonly string[];
  /** Its final answer, when it succeeded. */
  answer?: string;
}

export interface Delegation {
  /** The sub-task's own session. */
  sessionID: string;
  /** A resumed session's earlier messages, as the model reads them (DelegationStart.resume). */
  history?: ModelMessage[];
  /** Told once, when the sub-task has ended, however it ended; never throws. */
  end(outcome: DelegationOutcome): Promise<void>;
  /**
   * Settles if a client sends the sub-task to the background (OpenCode's
   * `POST /experimental/session/{id}/background`): the `task` call then ends at once and the
   * sub-task runs on in its session; never rejects.
   */
  background?: Promise<void>;
}

export interface Delegations {
  /**
   * A sub-task is about to start: its session (undefined: none is kept for it). Throws only for a
   * `resume` that may not be (an unknown session, one outside this session's tree, one still running),
   * with a sentence the model reads.
   */
  start(d: DelegationStart): Promise<Delegation | undefined>;
}
