/**
 * A completed tool part's `metadata`, as OpenCode's tools make it and its TUI reads it. Pantheon's
 * tools answer with text; what OpenCode keeps beside the text is made here from the call's input,
 * its answer and its patch, so a saved session shows the same as the live turn did.
 */
import path from 'node:path';
import { resultTruncated } from '../../mcp/tool-result.ts';
import { refusalOf } from '../../permissions/authorize.ts';
import { skillFacts } from '../../run/skill-tool.ts';
import { bashFacts } from '../../tools/bash.ts';
import { globCount } from '../../tools/glob.ts';
import { grepMatches } from '../../tools/grep.ts';
import { listCount } from '../../tools/list.ts';
import { diagnosticsInAnswer } from '../../tools/lsp-diagnostics.ts';
import { answersFromText } from '../../tools/question.ts';
import { readFacts } from '../../tools/read.ts';
import { webfetchTruncated } from '../../tools/webfetch.ts';

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
 * - `write`: `{diagnostics, filepath, exists}` (`diagnostics`: the errors the config's language servers
 *   reported, by file, as the answer says them; `{}` without),
 *   on which the TUI draws the written text under "# Wrote <file>"; and `{diff}`, the patch.
 * - `edit`: `{diagnostics, diff, filediff}`; the TUI draws the diff under the call.
 * - `grep`: `{matches, truncated}`, `glob` and `list`: `{count, truncated}`; the TUI writes "(3 matches)".
 * - `bash`: `{output}`: the TUI draws a call's output from its metadata (10 lines, more on a click).
 * - `question`: `{answers}`, read back from its answer with the questions of its input, drawn under each question.
 * - `todowrite` (and `todoread`): `{todos}`, its answer (the list as checked), drawn in place of "Updating todos…".
 * - `read`: `{preview, truncated, loaded, display}`, the lines shown (`loaded`: the instruction files
 *   the read brought in, a folder's own AGENTS.md, which the TUI lists under it).
 * - `skill`: `{name, dir}`; `webfetch`, an MCP tool's: `{truncated}` (the answer was cut at its limit).
 * Every one carries `truncated`, as OpenCode's do (false unless the tool's answer says it was cut).
 */
export function toolMetadata(tool: string, output: string, facts: ToolCallFacts): Record<string, unknown> {
  const metadata = ownMetadata(tool, output, facts);
  return { ...metadata, truncated: metadata.truncated === true };
}

/** The errors the answer reports, by absolute file; the call's own also under its `filePath` as given (the key OpenCode's TUI looks them up by). */
function diagnosticsOf(output: string, given: unknown, filePath: string | undefined): Record<string, unknown> {
  const found = diagnosticsInAnswer(output);
  const own = filePath ? found[filePath] : undefined;
  if (own && typeof given === 'string' && given !== filePath) found[given] = own;
  return found;
}

function ownMetadata(tool: string, output: string, { patch, input, projectRoot }: ToolCallFacts): Record<string, unknown> {
  const args = (input !== null && typeof input === 'object' ? input : {}) as Record<string, unknown>;
  const filePath = typeof args.filePath === 'string' && args.filePath ? path.resolve(projectRoot, args.filePath) : undefined;
  switch (tool) {
    case 'write':
      return { diagnostics: diagnosticsOf(output, args.filePath, filePath), ...(filePath ? { filepath: filePath } : {}), ...(patch === undefined ? {} : { exists: !patch.startsWith('--- /dev/null'), diff: patch }) };
    case 'edit':
      return { diagnostics: diagnosticsOf(output, args.filePath, filePath), ...(patch === undefined ? {} : { diff: patch, filediff: { file: filePath ?? '', patch, ...patchCounts(patch) } }) };
    case 'grep':
      return grepMatches(output);
    case 'glob':
      return globCount(output);
    case 'list':
      return listCount(output);
    case 'bash':
      return { output, ...bashFacts(output) };
    case 'read':
      return { ...(filePath ? readFacts(output, filePath, projectRoot) : undefined) };
    case 'skill':
      return skillFacts(output) ?? {};
    case 'webfetch':
      return { truncated: webfetchTruncated(output) };
    case 'question': {
      const questions = args.questions;
      const answers = Array.isArray(questions) && questions.every((q) => typeof (q as { question?: unknown } | null)?.question === 'string') ? answersFromText(questions as { question: string }[], output) : undefined;
      return answers ? { answers } : {};
    }
    case 'todowrite':
    case 'todoread':
      try {
        const todos: unknown = JSON.parse(output);
        return Array.isArray(todos) ? { todos } : {};
      } catch {
        return {};
      }
    default:
      return { ...(patch === undefined ? {} : { diff: patch }), truncated: resultTruncated(output) };
  }
}

/** OpenCode's words for a call the user refused, and for one a deny rule refused (its TUI strikes such a call through rather than drawing it as failed). */
const REFUSED = {
  rejected: 'The user rejected permission to use this specific tool call.',
  rule: 'The user has specified a rule which prevents you from using this specific tool call.',
};

/**
 * A failed call's `error` as OpenCode's parts give it: the message alone, without the error's class
 * (`ToolError: `, which the saved tool message keeps) or the `error: ` an MCP tool's failure starts
 * with; a refused permission led by OpenCode's words for it, Pantheon's reason after them.
 */
export function toolErrorText(text: string): string {
  const message = text.replace(/^(?:[A-Z][A-Za-z]*Error: |error: )/, '');
  const refusal = refusalOf(message);
  return refusal ? `${REFUSED[refusal]} (${message})` : message;
}
