/**
 * What the model reads of a session's earlier turns: from its last compaction on, each message's
 * role and content as clients edited them (a turn's, and a resumed sub-task's: run/task-tool.ts).
 */
import type { ModelMessage } from 'ai';
import { editedForModel } from './message-edits.ts';
import type { SessionMessage } from './store.ts';

/** The messages the model sees of a session: from its last compaction on (the summary request and its answer), or all. */
export function sinceCompaction(messages: readonly SessionMessage[]): readonly SessionMessage[] {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]?.role === 'user' && messages[i]?.info?.compaction === true) return messages.slice(i);
  return messages;
}

/** What the model sees of earlier turns: each message's role and content (as clients edited them), without Pantheon's turn info. */
export function modelHistory(messages: readonly SessionMessage[] | undefined): ModelMessage[] {
  return editedForModel(messages ?? []).map((m) => ({ role: m.role, content: m.content }) as ModelMessage);
}
