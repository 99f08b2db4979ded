/**
 * What the model reads of a session's earlier turns: from its last compaction on, each message's
 * role and content as clients edited them (a turn's, and a resumed sub-task's: run/task-tool.ts).
 */
import type { ModelMessage } from 'ai';
import { editedForModel } from './message-edits.ts';
import type { SessionMessage, TurnInfo } from './store.ts';

/**
 * The turn a history's user message opens, by the message object modelHistory made (not sent to the
 * model): what the plugins' `experimental.chat.messages.transform` is told of it (its ids, time,
 * agent, model), so that the messages it sees have the ids clients read (plugins/messages-view.ts).
 */
const turns = new WeakMap<object, TurnInfo>();

/** The turn info of a user message of a history (modelHistory's), or of a turn's own message (markTurn). */
export function turnOf(message: object): TurnInfo | undefined {
  return turns.get(message);
}

/** Records the turn a user message opens (a turn's new message, before it is sent). */
export function markTurn(message: object, info: TurnInfo): void {
  turns.set(message, info);
}

/**
 * The messages the model sees of a session: from its last compaction that made its summary on (the
 * summary request and its answer), or all. A compaction that failed or was cancelled (its reply an
 * error) stands in for nothing, as OpenCode cuts a session's history only at a finished summary.
 */
export function sinceCompaction(messages: readonly SessionMessage[]): readonly SessionMessage[] {
  for (let i = messages.length - 1; i >= 0; i--) {
    const info = messages[i]?.info;
    if (messages[i]?.role === 'user' && info?.compaction === true && !info.reply.error) return messages.slice(i);
  }
  return messages;
}

/** What the model sees of earlier turns: each message's role and content (as clients edited them), without Pantheon's turn info. */
export function modelHistory(messages: readonly SessionMessage[] | undefined): ModelMessage[] {
  return editedForModel(messages ?? []).map((m) => {
    const message = { role: m.role, content: m.content } as ModelMessage;
    if (m.role === 'user' && m.info) turns.set(message, m.info);
    return message;
  });
}
