import type { SessionMessage } from './store.ts';

/** A rough token count: about four characters of JSON per token. */
export function estimateTokens(value: unknown): number {
  const json = JSON.stringify(value) ?? '';
  return Math.ceil(json.length / 4);
}

function cost(messages: readonly SessionMessage[], indexes: readonly number[]): number {
  return indexes.reduce((sum, i) => sum + estimateTokens(messages[i]), 0);
}

/**
 * Indexes of the history before the current turn, grouped into turns: a user message and every
 * message up to the next user message (an assistant's tool calls and their tool results stay
 * together). Messages before the first user message form a group of their own. System messages are
 * left out: they are always kept.
 */
function turnsBefore(messages: readonly SessionMessage[], end: number): number[][] {
  const turns: number[][] = [];
  for (let i = 0; i < end; i++) {
    const m = messages[i] as SessionMessage;
    if (m.role === 'system') continue;
    if (m.role === 'user' || turns.length === 0) turns.push([i]);
    else (turns[turns.length - 1] as number[]).push(i);
  }
  return turns;
}

/**
 * Fits a conversation into a model's context: keeps the newest whole turns whose estimated tokens
 * fit in `contextTokens - reserveTokens`. Always kept, even when alone they exceed it: system
 * messages and the current turn (the latest user message and everything after it). A turn is kept
 * whole or left out whole, so a tool call is never separated from its result and the history never
 * starts in the middle of a turn. `contextTokens` undefined (the limit is unknown) → nothing trimmed.
 */
export function trimHistory(
  messages: SessionMessage[],
  contextTokens: number | undefined,
  reserveTokens: number,
): { messages: SessionMessage[]; dropped: number } {
  if (contextTokens === undefined) return { messages: [...messages], dropped: 0 };
  const budget = contextTokens - reserveTokens;
  const lastUser = messages.findLastIndex((m) => m.role === 'user');
  const current = lastUser < 0 ? [] : messages.map((_, i) => i).slice(lastUser);
  const system = messages.map((m, i) => (m.role === 'system' && i < Math.max(lastUser, 0) ? i : -1)).filter((i) => i >= 0);
  const keep = new Set<number>([...current, ...system]);
  let used = cost(messages, [...keep]);
  const turns = turnsBefore(messages, lastUser < 0 ? messages.length : lastUser);
  for (let t = turns.length - 1; t >= 0; t--) {
    const turn = turns[t] as number[];
    const size = cost(messages, turn);
    if (used + size > budget) break;
    used += size;
    for (const i of turn) keep.add(i);
  }
  const kept = messages.filter((_, i) => keep.has(i));
  return { messages: kept, dropped: messages.length - kept.length };
}

/** The note a caller shows when trimHistory dropped messages. */
export function trimNote(dropped: number, contextTokens: number): string {
  return `history trimmed: ${dropped} earlier message${dropped === 1 ? '' : 's'} left out to fit the model's context (${contextTokens} tokens)`;
}
