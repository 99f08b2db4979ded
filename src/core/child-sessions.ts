/**
 * The child sessions of a turn, as OpenCode makes them: each `task` call's sub-task gets a session
 * of its own (`parentID`: the session of the task that called, titled
 * "<description> (@<agent> subagent)"), saved when it starts (so a client can open it at once) and
 * again when it ends, with its prompt as the user message and what the sub-task said and did as
 * the reply. Every turn keeps them, a local `opencode run`'s as a server's (core/session-turn.ts).
 * A server turn's start, status and end go out on its hub too (`child.started`, `child.ended`: not
 * a turn of its own for metrics, webhooks or the dashboard, whose turn counts it already), which the
 * OpenCode event stream follows like a turn (a LiveTurn per child, fed by the sub-task's events).
 */
import { isPantheonError } from '../errors.ts';
import type { PantheonEvent } from '../events.ts';
import type { Delegation, DelegationOutcome, DelegationStart, Delegations } from '../run/delegations.ts';
import { newMessageId } from '../session/ids.ts';
import { appendEvents } from '../session/durable-events.ts';
import { turnEvents } from '../session/turn-events.ts';
import type { SessionMessage, SessionRecord, SessionStore, StepInfo } from '../session/store.ts';
import type { EventHub, SessionStatus, TurnStart } from './event-hub.ts';

export interface ChildSessionsOptions {
  store: SessionStore;
  /** Where a server turn announces its children (a local run has none). */
  hub?: EventHub;
  projectRoot: string;
  /** The session of the turn (the top-level task's). */
  sessionID: string;
  /** The first model of an agent's chain (`provider/model`), when it resolves. */
  headModel?: (agent: string) => string | undefined;
  /** A sub-task sent to the background has ended (done or failed, not cancelled): what its parent session is to be told. */
  onBackgroundEnd?: (ended: BackgroundEnd) => void;
}

/** A background sub-task's end, as OpenCode tells its parent session. */
export interface BackgroundEnd {
  parentSessionID: string;
  sessionID: string;
  description: string;
  status: 'success' | 'failed';
  /** Its answer, or why it failed. */
  text: string;
}

interface Child {
  record: SessionRecord;
  turn: TurnStart;
  status: SessionStatus;
  steps: StepInfo[];
  /** The model the sub-task's latest words or call came from. */
  answering?: { provider: string; model: string };
  description: string;
  /** Sends it to the background (its `task` call ends at once); undefined once done. */
  promote?: () => void;
}

export class ChildSessions implements Delegations {
  readonly #options: ChildSessionsOptions;
  /** Children by their sub-task's id. */
  readonly #children = new Map<string, Child>();

  constructor(options: ChildSessionsOptions) {
    this.#options = options;
  }

  /** The child session of a running sub-task, and its reply's id. */
  of(taskID: string | undefined): { sessionID: string; messageID: string } | undefined {
    const child = taskID === undefined ? undefined : this.#children.get(taskID);
    return child && { sessionID: child.record.id, messageID: child.turn.assistantMessageID };
  }

  get projectRoot(): string {
    return this.#options.projectRoot;
  }

  /** Resolves once no sub-task runs. */
  settled(): Promise<void> {
    if (this.#children.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  readonly #waiters: (() => void)[] = [];

  /** How many sub-tasks are still running. */
  get running(): number {
    return this.#children.size;
  }

  /** Sends the running sub-tasks whose parent is session `parentID` to the background; how many were. */
  background(parentID: string): number {
    let moved = 0;
    for (const child of this.#children.values()) {
      if (child.record.parentID !== parentID || !child.promote) continue;
      child.promote();
      child.promote = undefined;
      moved++;
    }
    return moved;
  }

  /** The status of each child session still running (busy, or retry while its sub-task waits), by session id. */
  statuses(): Record<string, SessionStatus> {
    return Object.fromEntries([...this.#children.values()].map((c) => [c.record.id, c.status]));
  }

  /** Follows the turn's events: each child's model calls, for its reply's steps, and its retries and waits, for its status. */
  handle(e: PantheonEvent): void {
    const child = e.taskID === undefined ? undefined : this.#children.get(e.taskID);
    if (!child) return;
    if (e.type === 'retry') {
      this.#status(child, { type: 'retry', attempt: e.attempt, message: `${e.model ?? 'model'}: ${e.status}${e.message ? ` ${e.message}` : ''}`, next: e.timestamp + e.delayMs });
    } else if (e.type === 'rate_limited' && e.waitMs >= SHOW_WAIT_MS) {
      this.#status(child, { type: 'retry', attempt: 0, message: `waiting for ${e.limit ?? e.model ?? 'a rate limit'}`, next: e.timestamp + e.waitMs });
    } else if ((e.type === 'step_start' || e.type === 'fallback' || e.type === 'text' || e.type === 'tool_use') && child.status.type !== 'busy') this.#status(child, { type: 'busy' });
    if ((e.type === 'text' || e.type === 'tool_use') && e.provider && e.model) child.answering = { provider: e.provider, model: e.model };
    if (e.type === 'step_finish') child.steps.push({ provider: e.provider ?? '', model: e.model ?? '', usage: { ...e.usage }, ...(e.costUSD === undefined ? {} : { costUSD: e.costUSD }) });
  }

  async start(d: DelegationStart): Promise<Delegation | undefined> {
    const { store, hub, projectRoot } = this.#options;
    const parentID = this.#children.get(d.parentTaskID)?.record.id ?? this.#options.sessionID;
    const record: SessionRecord = {
      id: store.newId(),
      projectRoot,
      agent: d.agent,
      title: `${d.description ?? 'Task'} (@${d.agent} subagent)`,
      createdAt: d.time,
      updatedAt: d.time,
      messages: [],
      usage: { inputTokens: 0, outputTokens: 0 },
      models: [],
      parentID,
    };
    try {
      await store.save(record);
    } catch {
      // Without its file the child could not be read back: the sub-task runs without a session.
      return undefined;
    }
    const agentModel = this.#options.headModel?.(d.agent);
    const turn: TurnStart = {
      userMessageID: newMessageId(d.time),
      assistantMessageID: newMessageId(d.time),
      time: d.time,
      agent: d.agent,
      ...(agentModel ? { agentModel } : {}),
      text: d.prompt,
      attachments: [],
      delegated: { taskID: d.taskID, parentTaskID: d.parentTaskID, parentSessionID: parentID, ...(d.callID === undefined ? {} : { callID: d.callID }) },
    };
    let promote!: () => void;
    const background = new Promise<void>((resolve) => {
      promote = resolve;
    });
    const child: Child = { record, turn, status: { type: 'busy' }, steps: [], description: d.description ?? 'Task', promote };
    this.#children.set(d.taskID, child);
    const where = { projectRoot, sessionID: record.id };
    hub?.emit({ ...where, type: 'session.created', session: record });
    // OpenCode's TUI keeps the sessions it is told of by `session.updated` (it has no case for `session.created`): it then
    // knows the child while it runs, and shows the child's permission questions in the parent's view.
    hub?.emit({ ...where, type: 'session.updated', session: record });
    hub?.emit({ ...where, type: 'session.status', status: { type: 'busy' } });
    hub?.emit({ ...where, type: 'child.started', turn });
    return { sessionID: record.id, end: (outcome) => this.#end(child, outcome), background };
  }

  #status(child: Child, status: SessionStatus): void {
    child.status = status;
    this.#options.hub?.emit({ projectRoot: this.#options.projectRoot, sessionID: child.record.id, type: 'session.status', status });
  }

  async #end(child: Child, outcome: DelegationOutcome): Promise<void> {
    const { store, hub, projectRoot } = this.#options;
    const { record, turn } = child;
    const where = { projectRoot, sessionID: record.id };
    const error = outcome.error === undefined ? undefined : { code: outcome.status === 'cancelled' ? 'CANCELLED' : isPantheonError(outcome.error) ? outcome.error.code : 'PROVIDER_ERROR', message: errorText(outcome.error) };
    const last = child.steps.at(-1) ?? child.answering;
    const now = Date.now();
    const [user, ...rest] = outcome.turn as SessionMessage[];
    const info = {
      id: turn.userMessageID,
      time: turn.time,
      agent: turn.agent,
      reply: {
        id: turn.assistantMessageID,
        completed: now,
        ...(last ? { provider: last.provider, model: last.model } : {}),
        usage: { ...outcome.usage },
        ...(outcome.costUSD === undefined ? {} : { costUSD: outcome.costUSD }),
        steps: child.steps,
        ...(error ? { error } : {}),
      },
    };
    const saved: SessionRecord = {
      ...record,
      updatedAt: now,
      messages: user ? [{ ...user, info }, ...rest] : [],
      usage: { ...outcome.usage },
      ...(outcome.costUSD === undefined ? {} : { costUSD: outcome.costUSD }),
      models: [...new Set(outcome.servedBy)],
    };
    let session: SessionRecord | undefined;
    try {
      // The sub-task's durable events, written with its messages.
      const withEvents = appendEvents(saved, turnEvents(record.id, saved.messages));
      await store.save(withEvents);
      session = withEvents;
      hub?.emit({ ...where, type: 'session.updated', session });
    } catch {
      // The started record stays; the reply streamed is what clients keep.
    }
    const result = { status: outcome.status, ...(outcome.error === undefined ? {} : { error: outcome.error }) };
    this.#children.delete(turn.delegated?.taskID ?? '');
    hub?.emit({ ...where, type: 'child.ended', turn, result, session });
    hub?.emit({ ...where, type: 'session.status', status: { type: 'idle' } });
    if (this.#children.size === 0) for (const resolve of this.#waiters.splice(0)) resolve();
    // Still running in the foreground it told its `task` call; in the background its parent is told now.
    const inBackground = child.promote === undefined;
    child.promote = undefined;
    // A cancelled one is not told (its parent's turn was aborted, or the server is stopping), as OpenCode.
    if (inBackground && record.parentID && outcome.status !== 'cancelled') {
      const text = outcome.status === 'success' ? (outcome.answer ?? '') : (error?.message ?? 'failed');
      this.#options.onBackgroundEnd?.({ parentSessionID: record.parentID, sessionID: record.id, description: child.description, status: outcome.status === 'success' ? 'success' : 'failed', text });
    }
  }
}

/** A rate-limit wait shorter than this shows as busy, not as retry (as for a turn: core/sessions.ts). */
const SHOW_WAIT_MS = 1000;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
