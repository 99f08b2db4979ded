import type { ModelMessage } from 'ai';
import { PantheonError } from '../errors.ts';
import type { Usage } from '../events.ts';
import type { SessionMessage, SessionProblem, SessionRecord, SessionStore } from '../session/store.ts';
import { withoutReverted } from '../session/revert.ts';
import type { Todo } from './todo-list.ts';

export interface SessionChoice {
  /** `--session ID`: that session (unknown → a usage error from the store). */
  id?: string;
  /** `--continue`: the latest session of the project. */
  continue?: boolean;
  /** `--fork`: the session continued is copied into a new one, which the run continues (the original stays as it was). */
  fork?: boolean;
  projectRoot: string;
  /** The session `id` names, when the caller has just loaded it (not read again). */
  loaded?: SessionRecord;
}

export interface OpenedSession {
  id: string;
  /** The session continued, or undefined for a new one. */
  previous: SessionRecord | undefined;
  /** `--continue` found no earlier session in this project, so a new one starts. */
  nothingToContinue: boolean;
  /** `--continue`: session files that could not be read to find the latest (skipped; one may have been newer). */
  skipped?: SessionProblem[];
  /** The file of the session continued as it was read: a save finding it changed since adds the turn to what is there now. */
  read?: SessionStamp;
}

/** What tells whether a session's file changed since it was read. */
export interface SessionStamp {
  updatedAt: number;
  messageCount: number;
}

function stampOf(record: SessionRecord): SessionStamp {
  return { updatedAt: record.updatedAt, messageCount: record.messages.length };
}

/** The session a run belongs to: the one named, the project's latest, or a new one; with `fork`, a copy of the first two. */
export async function openSession(store: SessionStore, choice: SessionChoice): Promise<OpenedSession> {
  let opened: OpenedSession;
  // A reverted session goes on from where it was reverted to: its reverted turns are dropped now (as OpenCode's next prompt does).
  if (choice.id) {
    const loaded = choice.loaded?.id === choice.id ? choice.loaded : await store.load(choice.id);
    opened = { id: choice.id, previous: withoutReverted(loaded), nothingToContinue: false, read: stampOf(loaded) };
  } else if (choice.continue) {
    const { record: latest, problems } = await store.latestChecked(choice.projectRoot);
    opened = latest
      ? { id: latest.id, previous: withoutReverted(latest), nothingToContinue: false, read: stampOf(latest) }
      : { id: store.newId(), previous: undefined, nothingToContinue: true };
    if (problems.length > 0) opened.skipped = problems;
  } else return { id: store.newId(), previous: undefined, nothingToContinue: false };
  if (!choice.fork || !opened.previous) return opened;
  const previous = forkedRecord(opened.previous, store.newId());
  return { id: previous.id, previous, nothingToContinue: false, ...(opened.skipped ? { skipped: opened.skipped } : {}) };
}

/**
 * A copy of a session under `id`, titled "… (fork)": every turn, or the turns before the one whose
 * user message is `messageID` (with their usage, cost and models); unknown → a usage error.
 */
export function forkedRecord(record: SessionRecord, id: string, messageID?: string): SessionRecord {
  let kept: SessionRecord = record;
  if (messageID !== undefined) {
    const at = record.messages.findIndex((m) => m.info?.id === messageID);
    if (at < 0) {
      throw new PantheonError('USAGE', `messageID: session ${record.id} has no user message ${messageID}.`, {
        hint: 'Give the id of one of its user messages (GET /session/{id}/message); the fork keeps the turns before it.',
      });
    }
    const messages = record.messages.slice(0, at);
    const infos = messages.flatMap((m) => (m.info ? [m.info] : []));
    const costs = infos.map((i) => i.reply.costUSD).filter((c): c is number => c !== undefined);
    const { costUSD: _cost, ...rest } = record;
    kept = {
      ...rest,
      messages,
      usage: { inputTokens: infos.reduce((n, i) => n + i.reply.usage.inputTokens, 0), outputTokens: infos.reduce((n, i) => n + i.reply.usage.outputTokens, 0) },
      ...(costs.length ? { costUSD: costs.reduce((a, b) => a + b, 0) } : {}),
      models: [...new Set(infos.flatMap((i) => i.reply.steps.map((s) => s.model)))],
    };
  }
  const now = Date.now();
  // A fork stands on its own: it is no `task` call's session, and its durable events start anew.
  const { parentID: _parent, events: _events, ...own } = kept;
  return { ...own, id, title: `${record.title || 'session'} (fork)`, createdAt: now, updatedAt: now };
}

export interface TurnOutcome {
  agent: string;
  turn: readonly ModelMessage[];
  usage: Usage;
  costUSD: number | undefined;
  servedBy: readonly string[];
  /** The title of a new session (`run --title`); an existing session keeps its own. */
  title?: string;
  /** The task list as the turn left it (undefined: the session's stays). */
  todos?: readonly Todo[];
}

/** The session record after a run: the earlier messages and this turn's, usage and cost added up. */
export function sessionAfter(opened: OpenedSession, projectRoot: string, outcome: TurnOutcome, now: number): SessionRecord {
  const before = opened.previous;
  const costUSD = before?.costUSD === undefined && outcome.costUSD === undefined ? undefined : (before?.costUSD ?? 0) + (outcome.costUSD ?? 0);
  return {
    id: opened.id,
    projectRoot: before?.projectRoot ?? projectRoot,
    agent: outcome.agent,
    title: before?.title ?? outcome.title ?? '',
    createdAt: before?.createdAt ?? now,
    updatedAt: now,
    messages: [...(before?.messages ?? []), ...(outcome.turn as SessionMessage[])],
    usage: {
      inputTokens: (before?.usage.inputTokens ?? 0) + outcome.usage.inputTokens,
      outputTokens: (before?.usage.outputTokens ?? 0) + outcome.usage.outputTokens,
    },
    ...(costUSD === undefined ? {} : { costUSD }),
    models: [...new Set([...(before?.models ?? []), ...outcome.servedBy])],
    ...(before?.permission ? { permission: before.permission } : {}),
    ...(before?.model ? { model: before.model } : {}),
    ...(before?.system ? { system: before.system } : {}),
    ...(before?.tags?.length ? { tags: before.tags } : {}),
    ...((outcome.todos ?? before?.todos)?.length ? { todos: [...((outcome.todos ?? before?.todos) as Todo[])] } : {}),
    ...(before?.parentID ? { parentID: before.parentID } : {}),
    ...(before?.events?.length ? { events: before.events } : {}),
  };
}
