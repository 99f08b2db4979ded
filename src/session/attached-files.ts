/**
 * Text files attached to a user message, as its content carries them: each as a block after the
 * user's text (`fileBlock`), which the message's `files` measure (SessionFile.inlined), so that the
 * user's own text and each file can be told apart again (OpenCode's parts, the session's title).
 */
import type { SessionFile } from './store.ts';

/** A text file as the message carries it, after the user's text. */
export function fileBlock(name: string, text: string): string {
  return `\n\n<file path="${name}">\n${text}\n</file>`;
}

/** A text file's text, from its block. */
export function blockText(block: string): string {
  const start = block.indexOf('">\n');
  return start < 0 || !block.endsWith('\n</file>') ? '' : block.slice(start + 3, -'\n</file>'.length);
}

/** A message's `files` as they can be used: a file edited by hand may hold anything there. */
export function usableFiles(files: unknown): SessionFile[] {
  if (!Array.isArray(files)) return [];
  return files.filter((f: Partial<SessionFile> | null): f is SessionFile => {
    if (f === null || typeof f !== 'object' || typeof f.filename !== 'string' || typeof f.mime !== 'string') return false;
    return (f.url === undefined || typeof f.url === 'string') && (f.inlined === undefined || (Number.isSafeInteger(f.inlined) && f.inlined >= 0));
  });
}

/** The user's own text and the blocks of the text files after it (none when `files` do not fit the text). */
export function splitInlined(text: string, files: readonly SessionFile[] | undefined): { own: string; blocks: string[] } {
  const lengths = usableFiles(files).flatMap((f) => (f.inlined === undefined ? [] : [f.inlined]));
  const total = lengths.reduce((sum, n) => sum + n, 0);
  if (total === 0 || total > text.length) return { own: text, blocks: [] };
  let at = text.length - total;
  const own = text.slice(0, at);
  const blocks = lengths.map((n) => text.slice(at, (at += n)));
  return { own, blocks };
}
