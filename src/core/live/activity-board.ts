/**
 * Sessions and workflow runs as the dashboard lists them: what is running now and what ended
 * lately, with per-step progress and the last answer. Server turns come from the host's events;
 * workflow runs from their events and from the workflow journal, which every process on the
 * machine writes (so `opencode workflow run` in a terminal shows here too).
 */
import type { HostEvent } from '../event-hub.ts';
import type { RunRecord } from '../../workflow/journal.ts';
import type { TaskState } from '../../workflow/task-state.ts';

export interface SessionView {
  id: string;
  projectRoot: string;
  title: string;
  agent: string;
  status: 'busy' | 'retry' | 'success' | 'failed' | 'cancelled';
  /** When the current or last turn started / ended (ms since the epoch). */
  startedAt: number;
  endedAt?: number;
  /** The model answering now or last (`provider/model`). */
  model?: string;
  /** Model calls of the current or last turn. */
  steps: number;
  inputTokens: number;
  outputTokens: number;
  costUSD?: number;
  /** The last answer (its last 600 characters while it streams). */
  lastAnswer: string;
  /** Why the last turn failed. */
  error?: string;
}

export interface StepProgress {
  id: string;
  agent: string;
  /** Tasks known (started or finished) and how they stand. */
  total: number;
  done: number;
  running: number;
  failed: number;
}

export interface WorkflowView {
  runId: string;
  workflow: string;
  status: RunRecord['status'];
  startedAt: number;
  endedAt?: number;
  steps: StepProgress[];
  inputTokens: number;
  outputTokens: number;
  costUSD?: number;
  /** The output of the task that finished last. */
  lastAnswer?: string;
}

const MAX_ANSWER = 600;
const KEEP_ENDED_MS = 30 * 60_000;
const MAX_ENDED = 20;

function tail(text: string): string {
  return text.length > MAX_ANSWER ? `…${text.slice(-MAX_ANSWER)}` : text;
}

function titleOf(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}

/** The sessions of server turns: running ones, and those that ended in the last half hour. */
export class SessionBoard {
  readonly #sessions = new Map<string, SessionView>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Applies a host event; true when the board changed. */
  apply(e: HostEvent): boolean {
    const s = this.#sessions.get(e.sessionID);
    switch (e.type) {
      case 'turn.started': {
        this.#sessions.delete(e.sessionID);
        this.#sessions.set(e.sessionID, {
          id: e.sessionID,
          projectRoot: e.projectRoot,
          title: titleOf(e.turn.text) || '(no text)',
          agent: e.turn.agent,
          status: 'busy',
          startedAt: e.turn.time,
          // The model asked for, else the agent's first: a turn waiting on a rate limit names the model it waits for.
          ...(e.turn.model ?? e.turn.agentModel ? { model: (e.turn.model ?? e.turn.agentModel) as string } : {}),
          steps: 0,
          inputTokens: 0,
          outputTokens: 0,
          lastAnswer: '',
        });
        return true;
      }
      case 'turn.ended': {
        if (!s) return false;
        s.status = e.result.status;
        s.endedAt = this.#now();
        if (e.result.answer) s.lastAnswer = tail(e.result.answer);
        s.inputTokens = e.result.usage.inputTokens;
        s.outputTokens = e.result.usage.outputTokens;
        if (e.result.costUSD !== undefined) s.costUSD = e.result.costUSD;
        const error = e.result.error;
        if (error) s.error = titleOf(error instanceof Error ? error.message : String(error));
        if (e.session?.title) s.title = titleOf(e.session.title);
        return true;
      }
      case 'session.status': {
        if (!s || s.endedAt !== undefined) return false;
        const next = e.status.type === 'retry' ? 'retry' : 'busy';
        if (e.status.type === 'idle' || s.status === next) return false;
        s.status = next;
        return true;
      }
      case 'pantheon': {
        if (!s || s.endedAt !== undefined) return false;
        const ev = e.event;
        if (ev.type === 'text' && !ev.parentTaskID) {
          s.lastAnswer = tail(s.lastAnswer + ev.text);
          return true;
        }
        if (ev.type === 'step_start' && !ev.parentTaskID) {
          // A new model call of the top-level task: its text replaces the previous step's.
          s.lastAnswer = '';
          return false;
        }
        if (ev.type === 'step_finish') {
          s.steps += 1;
          s.inputTokens += ev.usage.inputTokens;
          s.outputTokens += ev.usage.outputTokens;
          if (ev.costUSD !== undefined) s.costUSD = (s.costUSD ?? 0) + ev.costUSD;
          if (ev.provider && ev.model) s.model = ev.model;
          return true;
        }
        return false;
      }
      default:
        return false;
    }
  }

  /** Running sessions first (newest first), then ended ones (latest first). */
  list(): SessionView[] {
    const now = this.#now();
    const ended = [...this.#sessions.values()].filter((s) => s.endedAt !== undefined).sort((a, b) => (b.endedAt ?? 0) - (a.endedAt ?? 0));
    for (const [i, s] of ended.entries()) if (i >= MAX_ENDED || now - (s.endedAt ?? now) > KEEP_ENDED_MS) this.#sessions.delete(s.id);
    const all = [...this.#sessions.values()];
    const running = all.filter((s) => s.endedAt === undefined).sort((a, b) => b.startedAt - a.startedAt);
    return [...running, ...all.filter((s) => s.endedAt !== undefined).sort((a, b) => (b.endedAt ?? 0) - (a.endedAt ?? 0))].map((s) => ({ ...s }));
  }
}

/** A journaled run as the dashboard shows it: per-step task counts, usage, the last output. */
export function workflowView(run: RunRecord, tasks: readonly TaskState[]): WorkflowView {
  const steps = new Map<string, StepProgress>();
  let inputTokens = 0;
  let outputTokens = 0;
  let cost: number | undefined;
  let last: TaskState | undefined;
  for (const t of tasks) {
    let step = steps.get(t.stepID);
    if (!step) {
      step = { id: t.stepID, agent: t.agent, total: 0, done: 0, running: 0, failed: 0 };
      steps.set(t.stepID, step);
    }
    step.total += 1;
    if (t.status === 'success' || t.status === 'skipped') step.done += 1;
    else if (t.status === 'running') step.running += 1;
    else if (t.status === 'failed' || t.status === 'cancelled') step.failed += 1;
    inputTokens += t.usage.inputTokens;
    outputTokens += t.usage.outputTokens;
    if (t.costUSD !== undefined) cost = (cost ?? 0) + t.costUSD;
    if (t.status === 'success' && t.output && (!last || (t.endedAt ?? 0) >= (last.endedAt ?? 0))) last = t;
  }
  return {
    runId: run.id,
    workflow: run.workflow,
    status: run.status,
    startedAt: run.startedAt,
    ...(run.endedAt !== undefined ? { endedAt: run.endedAt } : {}),
    steps: [...steps.values()],
    inputTokens,
    outputTokens,
    ...(cost !== undefined ? { costUSD: cost } : {}),
    ...(last?.output ? { lastAnswer: tail(last.output) } : {}),
  };
}

/** Runs worth showing: running ones, and those that ended in the last half hour (at most 10 in all). */
export function recentRuns(runs: readonly RunRecord[], now: number): RunRecord[] {
  // A run left "running" by a process that died long ago is not shown as running for ever.
  return runs.filter((r) => (r.status === 'running' ? now - r.startedAt < 86_400_000 : now - (r.endedAt ?? r.startedAt) <= KEEP_ENDED_MS)).slice(0, 10);
}
