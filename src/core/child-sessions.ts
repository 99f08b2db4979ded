/**
 * The child sessions of a turn, as OpenCode makes them: each `task` call's sub-task gets a session
 * of its own (`parentID`: the session of the task that called, titled
 * "<description> (@<agent> subagent)"), saved when it starts (so a client can open it at once) and
 * again when it ends, with its prompt as the user message and what the sub-task said and did as
 * the reply. Every turn keeps them, a local `opencode run`'s as a server's (core/session-turn.ts).
 * A `task` call with OpenCode's `task_id` goes on in the child session it names (resume): one of
 * this session's tree, not running, its messages read by the model and kept, the new turn added.
 * A server turn's start, status and end go out on its hub too (`child.started`, `child.ended`: not
 * a turn of its own for metrics, webhooks or the dashboard, whose turn counts it already), which the
 * OpenCode event stream follows like a turn (a LiveTurn per child, fed by the sub-task's events).
 */
import { isPantheonError } from '../errors.ts';
import type { PantheonEvent } from '../events.ts';
import type { Delegation, DelegationOutcome, DelegationStart, Delegations } from '../run/delegations.ts';
import { newMessageId } from '../session/ids.ts';
import { modelHistory, sinceCompaction } from '../session/model-history.ts';
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
  /** Whether a session runs a turn or a sub-task elsewhere (another turn's children): one that does cannot be resumed. */
  busy?: (sessionID: string) => boolean;
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
  /** A resumed session as it was: its messages, usage and models stay, the new turn's are added. */
  previous?: SessionRecord;
}

export class ChildSessions implements Delegations {
  readonly #options: ChildSessionsOptions;
  /** Children by their sub-task's id. */
  readonly #children = new Map<string, Child>();
  /** The sessions a resume is being checked for (until its child is among #children). */
  readonly #claimed = new Set<string>();

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
    if (e.type === 'step_finish') child.steps.push({ provider: e.provider ?? '', model: e.model ?? '', usage: { ...e.usage }, ...(e.costUSD === undefined ? {} : { costUSD: e.costUSD }), ...(e.reason === undefined ? {} : { reason: e.reason }) });
  }

  async start(d: DelegationStart): Promise<Delegation | undefined> {
    const { store, projectRoot } = this.#options;
    const parentID = this.#children.get(d.parentTaskID)?.record.id ?? this.#options.sessionID;
    if (d.resume !== undefined) {
      // Claimed at once: a second call naming it in the same step is refused, not run beside it in the one session.
      if (this.#claimed.has(d.resume)) throw new Error(stillRunning(d.resume));
      this.#claimed.add(d.resume);
      try {
        return this.#open(d, await this.#resumable(d.resume, parentID));
      } finally {
        this.#claimed.delete(d.resume);
      }
    }
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
    return this.#open(d, record);
  }

  /**
   * The session OpenCode's `task_id` names, when the model may go on in it: a sub-task's session of
   * this session's tree (same root), not running now; else an Error whose sentence the model reads.
   */
  async #resumable(id: string, parentID: string): Promise<SessionRecord> {
    const { store, projectRoot } = this.#options;
    const named = JSON.stringify(id.slice(0, 60));
    const fresh = 'Leave task_id out to start a new task.';
    const record = await store.load(id).catch(() => undefined);
    if (!record) throw new Error(`task_id ${named}: no such task (expected the id of an earlier task's session, from its <task id="ses_..."> result). ${fresh}`);
    const [root, own] = await Promise.all([this.#rootOf(record), this.#rootOf(parentID)]);
    if (record.projectRoot !== projectRoot || record.parentID === undefined || root === undefined || root !== own) {
      throw new Error(`task_id ${named}: not a task of this session (only the sessions of this session's own task calls can be resumed). ${fresh}`);
    }
    if (record.id === parentID || [...this.#children.values()].some((c) => c.record.id === record.id) || this.#options.busy?.(record.id)) {
      throw new Error(stillRunning(id));
    }
    return record;
  }

  /** The root of a session's tree (undefined: a session missing on the way, or a tree deeper than any task makes). */
  async #rootOf(start: SessionRecord | string): Promise<string | undefined> {
    let at = typeof start === 'string' ? await this.#options.store.load(start).catch(() => undefined) : start;
    for (let depth = 0; at && depth < MAX_TREE_DEPTH; depth++) {
      if (at.parentID === undefined) return at.id;
      at = await this.#options.store.load(at.parentID).catch(() => undefined);
    }
    return undefined;
  }

  /** Starts the sub-task's turn in its session (new, or resumed: `previous`). */
  #open(d: DelegationStart, found: SessionRecord): Delegation {
    const { hub, projectRoot } = this.#options;
    const previous = d.resume === undefined ? undefined : found;
    const record: SessionRecord = previous ? { ...previous, updatedAt: d.time } : found;
    const parentID = record.parentID as string;
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
    const child: Child = { record, turn, status: { type: 'busy' }, steps: [], description: d.description ?? 'Task', promote, ...(previous ? { previous } : {}) };
    this.#children.set(d.taskID, child);
    // OpenCode's `background: true`: the call ends at once, as when a client sends it to the background. Where nobody
    // would be told of its end (a local run, which ends with its turn) it runs in the foreground: its answer is not lost.
    if (d.background && this.#options.onBackgroundEnd) {
      promote();
      child.promote = undefined;
    }
    const where = { projectRoot, sessionID: record.id };
    // A resumed session exists already: only its update is told.
    if (!previous) hub?.emit({ ...where, type: 'session.created', session: record });
    // OpenCode's TUI keeps the sessions it is told of by `session.updated` (it has no case for `session.created`): it then
    // knows the child while it runs, and shows the child's permission questions in the parent's view.
    hub?.emit({ ...where, type: 'session.updated', session: record });
    hub?.emit({ ...where, type: 'session.status', status: { type: 'busy' } });
    hub?.emit({ ...where, type: 'child.started', turn });
    const history = previous ? modelHistory(sinceCompaction(previous.messages)) : undefined;
    return { sessionID: record.id, end: (outcome) => this.#end(child, outcome), background, ...(history ? { history } : {}) };
  }

  #status(child: Child, status: SessionStatus): void {
    child.status = status;
    this.#options.hub?.emit({ projectRoot: this.#options.projectRoot, sessionID: child.record.id, type: 'session.status', status });
  }

  async #end(child: Child, outcome: DelegationOutcome): Promise<void> {
    const { store, hub, projectRoot } = this.#options;
    const { record, turn, previous } = child;
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
    const added = user ? [{ ...user, info }, ...rest] : [];
    const costUSD = outcome.costUSD === undefined ? previous?.costUSD : (previous?.costUSD ?? 0) + outcome.costUSD;
    const saved: SessionRecord = {
      ...record,
      updatedAt: now,
      messages: [...(previous?.messages ?? []), ...added],
      usage: { inputTokens: (previous?.usage.inputTokens ?? 0) + outcome.usage.inputTokens, outputTokens: (previous?.usage.outputTokens ?? 0) + outcome.usage.outputTokens },
      ...(costUSD === undefined ? {} : { costUSD }),
      models: [...new Set([...(previous?.models ?? []), ...outcome.servedBy])],
    };
    let session: SessionRecord | undefined;
    try {
      // The sub-task's durable events, written with its messages.
      const withEvents = appendEvents(saved, turnEvents(record.id, added));
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

function stillRunning(id: string): string {
  return `task_id ${JSON.stringify(id.slice(0, 60))}: that task is still running and cannot take a new prompt until it ends; wait for its result, or leave task_id out to start a new task.`;
}

/** No task tree is deeper than this (delegation depth is capped far below): a walk up that goes further stops. */
const MAX_TREE_DEPTH = 64;

/** A rate-limit wait shorter than this shows as busy, not as retry (as for a turn: core/sessions.ts). */
const SHOW_WAIT_MS = 1000;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
