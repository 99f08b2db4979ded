/**
 * A session's file changes as OpenCode reports them (`GET /session/{id}/diff`, the `session.diff`
 * event its TUI lists under "Modified Files"): each file the session's `edit` and `write` calls
 * changed, from before its first change to the file as it is now, with the lines added and removed.
 *
 * The patches the session keeps (SessionMessage.diffs) are applied in reverse to the file as it
 * is now, which gives its text before the session. When that fails (the file was changed since by
 * something else, or a patch was too long to keep), the file is listed with its patches' counts
 * added up and without texts. Files are read up to MAX_TEXT_BYTES; jsdiff gives up after
 * DIFF_TIMEOUT_MS; at most MAX_FILES files.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { changedLines, DIFF_TIMEOUT_MS, MAX_TEXT_BYTES } from '../tools/file-diff.ts';
import type { SessionMessage, SessionRecord } from './store.ts';

/** OpenCode's FileDiff. */
export interface SessionFileDiff {
  file: string;
  /** The file before the session's first change ('' when it did not exist, or when not known). */
  before: string;
  /** The file now ('' when it is gone, or when not known). */
  after: string;
  additions: number;
  deletions: number;
}

/** Files listed at most. */
export const MAX_FILES = 500;

/** The patches of each file the messages changed, oldest first, each with the index of its message; files in the order first changed. */
export function touchedFiles(messages: readonly SessionMessage[]): Map<string, { at: number; patch: string }[]> {
  const files = new Map<string, { at: number; patch: string }[]>();
  for (const [at, m] of messages.entries()) {
    if (m.role !== 'tool' || m.diffs === undefined || m.diffs === null || typeof m.diffs !== 'object') continue;
    for (const patch of Object.values(m.diffs)) {
      if (typeof patch !== 'string') continue;
      const file = patchedFile(patch);
      if (file === undefined) continue;
      let list = files.get(file);
      if (!list) {
        if (files.size >= MAX_FILES) continue;
        files.set(file, (list = []));
      }
      list.push({ at, patch });
    }
  }
  return files;
}

/** The file a patch (file-diff.ts) is about: its `+++ b/<file>` line; none for a path that leaves the project (a hand-edited session). */
function patchedFile(patch: string): string | undefined {
  const line = patch.split('\n', 3).find((l) => l.startsWith('+++ b/'));
  const file = line?.slice('+++ b/'.length);
  if (!file || file.includes('\0') || path.posix.isAbsolute(file)) return undefined;
  const normal = path.posix.normalize(file);
  return normal === '..' || normal.startsWith('../') ? undefined : normal;
}

/** A patch's lines after its two file headers (file-diff.ts writes them first). */
function hunkLines(patch: string): string[] {
  return patch.split('\n').slice(2);
}

/** The file's text now, '' when it is gone, or undefined when it cannot be read within bounds. */
async function textNow(projectRoot: string, file: string): Promise<string | undefined> {
  const full = path.resolve(projectRoot, file);
  try {
    const stat = await fs.stat(full);
    if (!stat.isFile() || stat.size > MAX_TEXT_BYTES) return undefined;
    return await fs.readFile(full, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? '' : undefined;
  }
}

/** `text` with `patches` (oldest first) undone, newest first, or redone in order; false when one does not apply. */
export async function movedText(text: string, patches: readonly { patch: string }[], direction: 'undo' | 'redo'): Promise<string | false> {
  const { applyPatch, parsePatch, reversePatch } = await import('diff');
  let moved: string | false = text;
  for (const { patch } of direction === 'undo' ? [...patches].reverse() : patches) {
    const [parsed] = parsePatch(patch);
    moved = parsed ? applyPatch(moved, direction === 'undo' ? reversePatch(parsed) : parsed) : false;
    if (moved === false) return false;
  }
  return moved;
}

/** How many of the record's messages its files reflect: all, or those before the turn it is reverted to. */
export function appliedTurns(record: Pick<SessionRecord, 'messages' | 'revert'>): number {
  if (!record.revert) return record.messages.length;
  const at = record.messages.findIndex((m) => m.role === 'user' && m.info?.id === record.revert?.messageID);
  return at < 0 ? record.messages.length : at;
}

/**
 * The session's file changes (see above), in the order the files were first changed, as of the
 * messages `[0, applied)` the files on disk reflect (a reverted session's are those before the
 * turn it is reverted to); with `turn`, those its messages `[from, to)` made: each file from
 * before the turn to after it (later turns undone, or reverted ones redone, first).
 */
export async function sessionDiff(projectRoot: string, messages: readonly SessionMessage[], turn?: { from: number; to: number }, applied = messages.length): Promise<SessionFileDiff[]> {
  const { from, to } = turn ?? { from: 0, to: applied };
  const touched = touchedFiles(messages);
  if (touched.size === 0) return [];
  const { structuredPatch } = await import('diff');
  const out: SessionFileDiff[] = [];
  for (const [file, all] of touched) {
    const own = all.filter((p) => p.at >= from && p.at < to);
    if (own.length === 0) continue;
    const now = await textNow(projectRoot, file);
    const after = now === undefined ? false : to <= applied ? await movedText(now, all.filter((p) => p.at >= to && p.at < applied), 'undo') : await movedText(now, all.filter((p) => p.at >= applied && p.at < to), 'redo');
    const before = after === false ? false : await movedText(after, own, 'undo');
    const counted = before === false || after === false ? undefined : structuredPatch('a', 'b', before, after, undefined, undefined, { context: 0, timeout: DIFF_TIMEOUT_MS });
    if (counted === undefined || before === false || after === false) {
      out.push({ file, before: '', after: '', ...changedLines(own.flatMap((p) => hunkLines(p.patch))) });
      continue;
    }
    const { additions, deletions } = changedLines(counted.hunks.flatMap((h) => h.lines));
    if (additions + deletions > 0) out.push({ file, before, after, additions, deletions });
  }
  return out;
}
