/**
 * A completed tool part's `metadata`, as OpenCode's tools make it and its TUI reads it. Pantheon's
 * tools answer with text; what OpenCode keeps beside the text is made here from the call's input,
 * its answer and its patch, so a saved session shows the same as the live turn did.
 */
import path from 'node:path';
import { globCount } from '../../tools/glob.ts';
import { grepMatches } from '../../tools/grep.ts';
import { listCount } from '../../tools/list.ts';
import { answersFromText } from '../../tools/question.ts';

/** What is known of the call besides its answer. */
export interface ToolCallFacts {
  /** The unified patch of an `edit` or `write` (its `tool_use` event's, or the tool message's `diffs`). */
  patch?: string | undefined;
  input?: unknown;
  /** The project the call's relative paths are in. */
  projectRoot: string;
}

/** Lines added and removed by a unified patch's hunks (its `---`/`+++` file lines not counted). */
function patchCounts(patch: string): { additions: number; deletions: number } {
  let additions = 0;
  let deletions = 0;
  let inHunk = false;
  for (const line of patch.split('\n')) {
    if (line.startsWith('@@')) inHunk = true;
    else if (!inHunk) continue;
    else if (line.startsWith('+')) additions += 1;
    else if (line.startsWith('-')) deletions += 1;
  }
  return { additions, deletions };
}

/**
 * - `write`: `{diagnostics, filepath, exists}` (Pantheon runs no language server: no diagnostics),
 *   on which the TUI draws the written text under "# Wrote <file>"; and `{diff}`, the patch.
 * - `edit`: `{diagnostics, diff, filediff}`; the TUI draws the diff under the call.
 * - `grep`: `{matches, truncated}`, `glob` and `list`: `{count, truncated}`; the TUI writes "(3 matches)".
 * - `bash`: `{output}`: the TUI draws a call's output from its metadata (10 lines, more on a click).
 * - `question`: `{answers}`, read back from its answer with the questions of its input, drawn under each question.
 * - `todowrite`: `{todos}`, its answer (the list as checked), drawn in place of "Updating todos…".
 */
export function toolMetadata(tool: string, output: string, { patch, input, projectRoot }: ToolCallFacts): Record<string, unknown> {
  const args = (input !== null && typeof input === 'object' ? input : {}) as Record<string, unknown>;
  const filePath = typeof args.filePath === 'string' && args.filePath ? path.resolve(projectRoot, args.filePath) : undefined;
  switch (tool) {
    case 'write':
      return { diagnostics: {}, ...(filePath ? { filepath: filePath } : {}), ...(patch === undefined ? {} : { exists: !patch.startsWith('--- /dev/null'), diff: patch }) };
    case 'edit':
      return { diagnostics: {}, ...(patch === undefined ? {} : { diff: patch, filediff: { file: filePath ?? '', patch, ...patchCounts(patch) } }) };
    case 'grep':
      return grepMatches(output);
    case 'glob':
      return globCount(output);
    case 'list':
      return listCount(output);
    case 'bash':
      return { output };
    case 'question': {
      const questions = args.questions;
      const answers = Array.isArray(questions) && questions.every((q) => typeof (q as { question?: unknown } | null)?.question === 'string') ? answersFromText(questions as { question: string }[], output) : undefined;
      return answers ? { answers } : {};
    }
    case 'todowrite':
      try {
        const todos: unknown = JSON.parse(output);
        return Array.isArray(todos) ? { todos } : {};
      } catch {
        return {};
      }
    default:
      return patch === undefined ? {} : { diff: patch };
  }
}
