/**
 * `grep {pattern, path?, include?}`: lines matching a JavaScript regular expression in the files
 * under a folder (found with tinyglobby; `include` globs such as "*.ts" or "*.{ts,tsx}" filter them
 * at any depth). Binary files, files over 1 MB and symlinks are skipped. Output `path:line: text`, at most
 * 100 matches. The lines are tested in a worker thread (regex-search.ts): a pattern that takes over
 * 2 s on one file is stopped with a tool error naming the file, and no file is begun after GREP_BUDGET_MS.
 */
import { authorize } from '../permissions/authorize.ts';
import { resultCount } from './result-count.ts';
import { checkPattern, findFiles, searchFolder } from './glob.ts';
import { RegexFailedError, RegexTimeoutError, searchFiles, SLOW_PATTERN_ADVICE } from './regex-search.ts';
import { displayPath } from './resolve-path.ts';
import { ToolError } from './tool-error.ts';
import { cutLine } from './truncate.ts';
import { opencodeDescription, opencodeParameters } from './opencode-tools.ts';
import type { BuiltinTool, ToolContext } from './types.ts';
import { thousands } from '../icu-free.ts';

export const GREP_LIMIT = 100;

/** How many matches an answer of this tool reports (all of them, not only those shown), and whether it shows fewer. */
export function grepMatches(output: string): { matches: number; truncated: boolean } {
  const { count, truncated } = resultCount(output, /\(Showing the first \d+ of (\d+) matches\./, { none: /^No matches found\./ });
  return { matches: count, truncated };
}
export const GREP_MAX_FILE_BYTES = 1024 * 1024;
const GREP_LINE_CHARS = 500;
/** The longest a search begins new files (regex-search.ts bounds each file to FILE_BUDGET_MS). */
export const GREP_BUDGET_MS = 20_000;

interface GrepInput {
  pattern: string;
  path?: string;
  include?: string;
}

function compile(pattern: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (error) {
    throw new ToolError('grep', `invalid regular expression ${JSON.stringify(pattern)}: ${(error as Error).message}`);
  }
}

/** "*.ts" matches at any depth, as in ripgrep's --glob; "src/*.ts" stays anchored. */
export function includeGlobs(include: string | undefined): string[] {
  const glob = include?.trim();
  if (!glob) return ['**/*'];
  checkPattern('grep', glob);
  return [glob.includes('/') ? glob : `**/${glob}`];
}

export const grepTool: BuiltinTool<GrepInput> = {
  name: 'grep',
  get description() {
    return opencodeDescription('grep');
  },
  get parameters() {
    return opencodeParameters('grep');
  },
  inputSchema: {
    type: 'object',
    properties: {
      pattern: { type: 'string', minLength: 1, description: 'A JavaScript regular expression.' },
      path: { type: 'string', description: 'The folder to search in (default: the project root).' },
      include: { type: 'string', description: 'Glob of files to search, e.g. "*.ts" or "*.{ts,tsx}".' },
    },
    required: ['pattern'],
    additionalProperties: false,
  },
  async run(input: GrepInput, ctx: ToolContext): Promise<string> {
    const re = compile(input.pattern);
    const patterns = includeGlobs(input.include);
    const dir = await searchFolder(ctx, 'grep', input.path);
    await authorize(ctx, { key: 'grep', subject: input.pattern });
    const files = (await findFiles(ctx, dir.abs, patterns)).sort();
    // Symlinks are not followed (as ripgrep without -L): their targets may lie outside the project.
    const search = { source: re.source, files, maxBytes: GREP_MAX_FILE_BYTES, keep: GREP_LIMIT, keepChars: GREP_LINE_CHARS + 1, deadline: Date.now() + GREP_BUDGET_MS, ...(ctx.signal ? { signal: ctx.signal } : {}) };
    const found = await searchFiles(search).catch((error: unknown) => {
      if (error instanceof RegexTimeoutError) throw new ToolError('grep', `the pattern ${JSON.stringify(input.pattern.slice(0, 200))} took over ${error.seconds} s on ${displayPath(ctx, error.file)} and was stopped; simplify it: ${SLOW_PATTERN_ADVICE}.`);
      if (error instanceof RegexFailedError) throw new ToolError('grep', `the pattern ${JSON.stringify(input.pattern.slice(0, 200))} could not be run: ${error.message}; simplify it: ${SLOW_PATTERN_ADVICE}.`);
      throw error;
    });
    const out = found.matches.map(({ file, line, text }) => `${displayPath(ctx, files[file] as string)}:${line}: ${cutLine(text, GREP_LINE_CHARS)}`);
    const matches = found.total;
    const skipped = found.large;
    const notes: string[] = [];
    if (matches > out.length) notes.push(`(Showing the first ${out.length} of ${matches} matches. Use a narrower pattern, path or include to see the others.)`);
    if (skipped > 0) notes.push(`(${skipped} file${skipped === 1 ? '' : 's'} over 1 MB not searched.)`);
    if (found.stopped === 'deadline') notes.push(`(The search stopped after ${GREP_BUDGET_MS / 1000} s with ${thousands(found.searched)} files searched; the others were not. Use a narrower path or include.)`);
    if (out.length === 0) return ['No matches found.', ...notes].join('\n');
    return [...out, ...(notes.length ? ['', ...notes] : [])].join('\n');
  },
};
