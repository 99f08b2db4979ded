import { splitInlined, usableFiles } from './attached-files.ts';
import type { SessionMessage } from './store.ts';

/** Longest title kept in a session file; listings cut it further. */
export const MAX_TITLE = 100;

/** The text of a message's content: a string, or the `text` parts of a content list joined. */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) => {
      const p = part as { type?: unknown; text?: unknown };
      return p && p.type === 'text' && typeof p.text === 'string' ? p.text : '';
    })
    .filter(Boolean)
    .join(' ');
}

/** One line, whitespace collapsed, at most `max` characters (an ellipsis marks a cut). */
export function oneLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  const chars = [...line];
  return chars.length <= max ? line : `${chars.slice(0, max - 1).join('').trimEnd()}…`;
}

/** A session's title: its first user message on one line, about 60 characters (without the files it inlines; their names when it has no text). */
export function titleFrom(messages: readonly SessionMessage[], max = 60): string {
  // A command the user ran (shell) or a compaction is not what the session is about: their text is not the user's.
  const first = messages.find((m) => m.role === 'user' && m.info?.shell !== true && m.info?.compaction !== true);
  if (!first) return '';
  // A command run as a sub-task: what it asked (as OpenCode titles it from the sub-task's prompt).
  const subtask: unknown = first.info?.subtask;
  if (subtask !== null && typeof subtask === 'object' && typeof (subtask as { prompt?: unknown }).prompt === 'string') return oneLine((subtask as { prompt: string }).prompt, max);
  // Without what the server added (an MCP resource's text).
  const added = new Set(Array.isArray(first.added) ? first.added : []);
  const own = Array.isArray(first.content) && added.size ? first.content.filter((_, i) => !added.has(i)) : first.content;
  return oneLine(splitInlined(messageText(own), first.files).own, max) || oneLine(usableFiles(first.files).map((f) => f.filename).join(', '), max);
}
