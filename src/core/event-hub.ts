/**
 * The host's one event stream: every turn's events (as `pantheon`), and what happens to sessions
 * (created, updated, deleted, status, a turn starting and ending). Front-ends subscribe: the
 * OpenCode event streams, metrics, and later webhooks and the dashboard. A listener that throws is
 * cut off (reported once) so it cannot stop the others.
 */
import type { PantheonEvent } from '../events.ts';
import type { PermissionQuestion, PermissionReply } from './permission-asks.ts';
import type { QuestionRequest } from './question-asks.ts';
import type { CommandSubtask } from '../run/run-task.ts';
import type { SessionRecord } from '../session/store.ts';
import type { TurnResult } from './session-turn.ts';

/** What OpenCode calls a session's status: idle, busy, or waiting to retry (`next`: ms since the epoch). */
export type SessionStatus = { type: 'idle' } | { type: 'busy' } | { type: 'retry'; attempt: number; message: string; next: number };

/** What a turn was asked, as the front-ends show it. */
export interface TurnStart {
  userMessageID: string;
  assistantMessageID: string;
  /** When the turn started (ms). */
  time: number;
  agent: string;
  /** `provider/model` asked for, when the request named one. */
  model?: string;
  /** The first model of the agent's chain (`provider/model`): who answers unless it fails over, shown from the start of the turn (a shell turn has no step to say so). */
  agentModel?: string;
  /** The user's message as sent: text, and the attachments' names and types. */
  text: string;
  attachments: { filename: string; mediaType: string; url?: string }[];
  /** The parts the server added after the user's (an MCP resource's texts, synthetic; an image it holds). */
  added?: ({ type: 'text'; text: string } | { type: 'file'; filename: string; mediaType: string })[];
  /** A command the user ran in the session (OpenCode's shell): the text is OpenCode's synthetic note, the command the bash call's. */
  shell?: string;
  /** A compaction (the session summarized): the user message is OpenCode's `compaction` part, the reply a summary. */
  compaction?: true;
  /** A command run as a sub-task (OpenCode's `/review`): the user message is OpenCode's `subtask` part. */
  subtask?: CommandSubtask;
  /** The server's own prompt (a background sub-task's end): its text part is synthetic, which OpenCode's TUI does not show. */
  synthetic?: true;
  /** A child session's turn: the sub-task a `task` call started (its events' `taskID`), the task and session that called, and the call's id. */
  delegated?: { taskID: string; parentTaskID: string; parentSessionID: string; callID?: string };
}

interface Where {
  /** The project the session belongs to. */
  projectRoot: string;
  sessionID: string;
}

export type HostEvent = Where &
  (
    | { type: 'pantheon'; event: PantheonEvent }
    | { type: 'session.created' | 'session.updated' | 'session.deleted'; session: SessionRecord; /** a revert moved its files */ filesMoved?: boolean }
    | { type: 'session.status'; status: SessionStatus }
    | { type: 'turn.started'; turn: TurnStart }
    | { type: 'turn.ended'; turn: TurnStart; result: TurnResult; session: SessionRecord | undefined }
    /** A child session's turn (its sub-task's work, on the events of the session that delegated): see core/child-sessions.ts. */
    | { type: 'child.started'; turn: TurnStart }
    | { type: 'child.ended'; turn: TurnStart; result: Pick<TurnResult, 'status' | 'error'>; session: SessionRecord | undefined }
    | { type: 'permission.asked'; question: PermissionQuestion; /** the tool called, and its input when known */ tool: string; input?: unknown }
    | { type: 'permission.replied'; requestID: string; reply: PermissionReply }
    | { type: 'question.asked'; request: QuestionRequest; /** the call's input, shown with its part while it waits */ input: unknown }
    | { type: 'question.replied'; requestID: string; answers: string[][] }
    | { type: 'question.rejected'; requestID: string }
    /** A client deleted a message, or a part of one, or rewrote a part (session/message-edits.ts). */
    | { type: 'message.removed'; messageID: string }
    | { type: 'message.part.removed'; messageID: string; partID: string }
    | { type: 'message.part.updated'; part: Record<string, unknown> }
  );

export type HostListener = (event: HostEvent) => void;

export class EventHub {
  readonly #listeners = new Set<HostListener>();
  readonly #onListenerError: (error: unknown) => void;

  constructor(onListenerError: (error: unknown) => void = () => undefined) {
    this.#onListenerError = onListenerError;
  }

  subscribe(listener: HostListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  emit(event: HostEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#listeners.delete(listener);
        this.#onListenerError(error);
      }
    }
  }
}
