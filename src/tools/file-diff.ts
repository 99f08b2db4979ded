/**
 * What a file tool (`edit`, `write`) changed, as a unified patch with its line counts: carried by the
 * `tool_use` event (`diff`), shown on the CLI's line (`+3 −1`) and drawn by OpenCode's TUI (a tool
 * part's `metadata.diff`). Computed with jsdiff only when someone listens (ToolContext.onFileDiff),
 * in bounded time: a file over MAX_TEXT_BYTES, or a diff that takes longer than DIFF_TIMEOUT_MS, has
 * none; a patch over MAX_PATCH_CHARS keeps its counts and drops its text.
 */
import type { ToolContext } from './types.ts';

/** One file's change, as events and front-ends carry it. */
export interface FileDiff {
  /** The file, relative to the project root (`/` separators). */
  file: string;
  /** Lines added and removed. */
  additions: number;
  deletions: number;
  /** The unified patch (`--- a/file`, `+++ b/file`, hunks with 3 lines of context); left out when too long. */
  patch?: string;
}

/** Texts larger than this are not diffed. */
export const MAX_TEXT_BYTES = 1024 * 1024;
/** Patches longer than this keep their counts only. */
export const MAX_PATCH_CHARS = 64 * 1024;
/** jsdiff gives up after this long (a pathological pair of texts). */
export const DIFF_TIMEOUT_MS = 250;

/** The change from `before` (undefined: the file did not exist) to `after`, or undefined when it cannot be had in bounds. */
export async function fileDiff(file: string, before: string | undefined, after: string): Promise<FileDiff | undefined> {
  if (Buffer.byteLength(before ?? '') > MAX_TEXT_BYTES || Buffer.byteLength(after) > MAX_TEXT_BYTES) return undefined;
  const { FILE_HEADERS_ONLY, formatPatch, structuredPatch } = await import('diff');
  const name = file.split('\\').join('/');
  const patch = structuredPatch(before === undefined ? '/dev/null' : `a/${name}`, `b/${name}`, before ?? '', after, undefined, undefined, { context: 3, timeout: DIFF_TIMEOUT_MS });
  if (!patch) return undefined;
  const { additions, deletions } = changedLines(patch.hunks.flatMap((h) => h.lines));
  const text = formatPatch(patch, FILE_HEADERS_ONLY);
  return { file: name, additions, deletions, ...(text.length <= MAX_PATCH_CHARS ? { patch: text } : {}) };
}

/** The lines that hunk lines (`+…`, `-…`, ` …`; no file headers) add and remove. */
export function changedLines(lines: readonly string[]): { additions: number; deletions: number } {
  let additions = 0;
  let deletions = 0;
  for (const line of lines) {
    if (line.startsWith('+')) additions += 1;
    else if (line.startsWith('-')) deletions += 1;
  }
  return { additions, deletions };
}

/** Tells the tool's listener (if any) what a call changed; never fails the call. */
export async function reportFileDiff(ctx: ToolContext, file: string, before: string | undefined, after: string): Promise<void> {
  const listener = ctx.onFileDiff;
  if (!listener) return;
  try {
    const diff = await fileDiff(file, before, after);
    if (diff) listener(diff, ctx.toolCallId);
  } catch {
    // The change is made; only its description is missing.
  }
}
