/**
 * What a revert did to the session's files, as OpenCode's server reports it (the session's
 * `revert.diff`, which its TUI's "N message reverted" banner lists file by file with their +/-
 * counts; v2's `revert.files`): each file the reverted turns changed, from how the session left it
 * (every turn applied) to how the revert left it, as a git-style patch (`diff --git`, `index`,
 * `new file mode` / `deleted file mode`, 3 lines of context) with its counts.
 *
 * Bounded as the session's other diffs are (tools/file-diff.ts): files over MAX_TEXT_BYTES are not
 * read, jsdiff gives up after DIFF_TIMEOUT_MS, a file's patch over MAX_PATCH_CHARS, or one that would
 * take the whole diff past MAX_REVERT_DIFF_CHARS, keeps its headers only (listed, no hunks) while its
 * counts stay; at most MAX_FILES files (session-diff.ts). A file whose texts cannot be worked out (it
 * was changed since by something else) is listed with its kept patches' counts, headers only.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { changedLines, DIFF_TIMEOUT_MS, MAX_PATCH_CHARS, MAX_TEXT_BYTES } from '../tools/file-diff.ts';
import { movedText, touchedFiles } from './session-diff.ts';
import type { SessionMessage } from './store.ts';

/** One file a revert moved (OpenCode v2's FileDiff, `file` for its `path`). */
export interface RevertFile {
  /** Relative to the project root, `/` separators. */
  file: string;
  /** What the revert did to it: `deleted` a file the reverted turns created (`added`, OpenCode's third, is not made: the tools remove no file). */
  status: 'added' | 'deleted' | 'modified';
  additions: number;
  deletions: number;
  /** Its git-style patch, ending in a newline; its headers only when too long to keep. */
  patch: string;
}

/** The whole revert diff is kept up to this many characters; later files keep their headers only. */
export const MAX_REVERT_DIFF_CHARS = 256 * 1024;

/** The file's text (null: there is none), or undefined when it cannot be read within bounds. */
async function textOf(full: string): Promise<{ text: string | null; mode: string } | undefined> {
  try {
    const stat = await fs.stat(full);
    if (!stat.isFile() || stat.size > MAX_TEXT_BYTES) return undefined;
    return { text: await fs.readFile(full, 'utf8'), mode: stat.mode & 0o111 ? '100755' : '100644' };
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? { text: null, mode: '100644' } : undefined;
  }
}

/** git's short object name of a text, as its `index` line shows it. */
function blobName(text: string | null): string {
  if (text === null) return '0000000';
  const bytes = Buffer.from(text, 'utf8');
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex').slice(0, 7);
}

/** A patch's file headers, as git writes them (`index` left out when the texts are not known). */
function headers(file: string, before: string | null, after: string | null, mode: string, index = true): string {
  const lines = [`diff --git a/${file} b/${file}`];
  const names = `${blobName(before)}..${blobName(after)}`;
  if (before === null) lines.push(`new file mode ${mode}`, ...(index ? [`index ${names}`] : []));
  else if (after === null) lines.push(`deleted file mode ${mode}`, ...(index ? [`index ${names}`] : []));
  else if (index) lines.push(`index ${names} ${mode}`);
  lines.push(before === null ? '--- /dev/null' : `--- a/${file}`, after === null ? '+++ /dev/null' : `+++ b/${file}`);
  return `${lines.join('\n')}\n`;
}

/** Hunks as git heads them: a count of one line left out (`@@ -1 +1,2 @@`). */
function gitHunks(hunks: string): string {
  return hunks.replace(/^@@ -(\d+(?:,\d+)?) \+(\d+(?:,\d+)?) @@/gm, (_all, from: string, to: string) => `@@ -${from.replace(/,1$/, '')} +${to.replace(/,1$/, '')} @@`);
}

/** A patch's lines after its two file headers (file-diff.ts writes them first). */
function hunkLines(patch: string): string[] {
  return patch.split('\n').slice(2);
}

/**
 * The files the turns from message `from` on changed, each from every turn applied to the state the
 * files on disk are in now (just reverted to before message `from`), in git's order (by path, bytewise).
 */
export async function revertFiles(projectRoot: string, messages: readonly SessionMessage[], from: number): Promise<RevertFile[]> {
  const touched = touchedFiles(messages);
  if (touched.size === 0) return [];
  const { formatPatch, OMIT_HEADERS, structuredPatch } = await import('diff');
  const out: RevertFile[] = [];
  let chars = 0;
  const add = (entry: RevertFile, whole: string, head: string): void => {
    const patch = whole.length <= MAX_PATCH_CHARS && chars + whole.length <= MAX_REVERT_DIFF_CHARS ? whole : head;
    chars += patch.length;
    out.push({ ...entry, patch });
  };
  const byPath = [...touched].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const [file, all] of byPath) {
    const own = all.filter((p) => p.at >= from);
    if (own.length === 0) continue;
    const now = await textOf(path.resolve(projectRoot, file));
    // Every turn applied: the reverted turns' patches redone on the file as it is now.
    const applied = now === undefined ? false : await movedText(now.text ?? '', own, 'redo');
    const structured = now === undefined || applied === false ? undefined : structuredPatch('a', 'b', applied, now.text ?? '', undefined, undefined, { context: 3, timeout: DIFF_TIMEOUT_MS });
    if (now === undefined || applied === false || structured === undefined) {
      // Not known: the kept patches undone, their counts swapped.
      const counted = changedLines(own.flatMap((p) => hunkLines(p.patch)));
      const created = (own[0]?.patch ?? '').startsWith('--- /dev/null');
      const head = headers(file, '', created ? null : '', '100644', false);
      add({ file, status: created ? 'deleted' : 'modified', additions: counted.deletions, deletions: counted.additions, patch: '' }, head, head);
      continue;
    }
    const { additions, deletions } = changedLines(structured.hunks.flatMap((h) => h.lines));
    if (additions + deletions === 0 && now.text !== null) continue;
    const head = headers(file, applied, now.text, now.mode);
    add({ file, status: now.text === null ? 'deleted' : 'modified', additions, deletions, patch: '' }, head + gitHunks(formatPatch(structured, OMIT_HEADERS)), head);
  }
  return out;
}

/** OpenCode's `revert.diff`: the files' patches as one text, without its last newline (as git's output is trimmed). */
export function revertDiffText(files: readonly RevertFile[]): string {
  return files
    .map((f) => f.patch)
    .join('')
    .replace(/\n$/, '');
}

/**
 * A revert mark as OpenCode v2's RevertState (`diff`, and each file as its FileDiff). With
 * `maxChars` (a durable event's copy), patches are kept only when the whole diff fits; else each
 * file keeps its counts, its patch empty, and `diff` is left out.
 */
export function revertState(revert: { messageID: string; files?: readonly RevertFile[] }, maxChars = Infinity): Record<string, unknown> {
  if (!revert.files) return { messageID: revert.messageID };
  const diff = revertDiffText(revert.files);
  const whole = diff.length <= maxChars;
  const files = revert.files.map((f) => ({ path: f.file, status: f.status, additions: f.additions, deletions: f.deletions, patch: whole ? f.patch : '' }));
  return { messageID: revert.messageID, ...(whole ? { diff } : {}), files };
}
