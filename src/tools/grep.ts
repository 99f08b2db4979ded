/**
 * `grep {pattern, path?, include?}`: lines matching a JavaScript regular expression in the files
 * under a folder (found with tinyglobby; `include` globs such as "*.ts" or "*.{ts,tsx}" filter them
 * at any depth). Binary files, files over 1 MB and symlinks are skipped. Output `path:line: text`, at most
 * 100 matches.
 */
import fs from 'node:fs/promises';
import { authorize } from '../permissions/authorize.ts';
import { isBinaryFile } from './binary.ts';
import { lstatIfExists } from './fs-util.ts';
import { resultCount } from './result-count.ts';
import { checkPattern, findFiles, searchFolder } from './glob.ts';
import { displayPath } from './resolve-path.ts';
import { ToolError } from './tool-error.ts';
import { cutLine } from './truncate.ts';
import type { BuiltinTool, ToolContext } from './types.ts';

export const GREP_LIMIT = 100;

/** How many matches an answer of this tool reports (all of them, not only those shown), and whether it shows fewer. */
export function grepMatches(output: string): { matches: number; truncated: boolean } {
  const { count, truncated } = resultCount(output, /\(Showing the first \d+ of (\d+) matches\./, { none: /^No matches found\./ });
  return { matches: count, truncated };
}
export const GREP_MAX_FILE_BYTES = 1024 * 1024;
const GREP_LINE_CHARS = 500;

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

/** A line of a file that matched: its number (from 1), its text and its end (`\n`, `\r\n`, or none at the file's end), and the byte offset where it starts. */
export interface LineMatch {
  line: number;
  text: string;
  end: string;
  offset: number;
}

/**
 * The lines of `file` that `re` matches, in order, to `onMatch` (which returns false to stop the
 * search). The file is read whole: callers skip files over GREP_MAX_FILE_BYTES. A line's end is
 * `\n` or `\r\n`; the `\r` is not part of the text matched.
 */
export async function grepFile(file: string, re: RegExp, onMatch: (match: LineMatch) => boolean | void): Promise<void> {
  const text = (await fs.readFile(file)).toString('utf8');
  let offset = 0;
  let n = 0;
  for (let start = 0; start < text.length; ) {
    const end = text.indexOf('\n', start);
    const raw = end === -1 ? text.slice(start) : text.slice(start, end);
    n++;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (re.test(line) && onMatch({ line: n, text: line, end: end === -1 ? '' : `${raw.slice(line.length)}\n`, offset }) === false) return;
    if (end === -1) break;
    offset += Buffer.byteLength(raw, 'utf8') + 1;
    start = end + 1;
  }
}

export const grepTool: BuiltinTool<GrepInput> = {
  name: 'grep',
  description:
    'Search file contents with a JavaScript regular expression (e.g. "function\\s+\\w+", "TODO|FIXME") under path (default: the project root). ' +
    'include filters files by glob ("*.ts", "*.{ts,tsx}"; matched at any depth). Returns "path:line: text" lines, ' +
    `paths relative to the project root, at most ${GREP_LIMIT} matches. Skips binary files, files over 1 MB, .git, node_modules and .gitignore'd files.`,
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
    const out: string[] = [];
    let matches = 0;
    let skipped = 0;
    for (const file of files) {
      ctx.signal?.throwIfAborted();
      // Symlinks are not followed (as ripgrep without -L): their targets may lie outside the project.
      const stat = await lstatIfExists(file);
      if (!stat?.isFile()) continue;
      if (stat.size > GREP_MAX_FILE_BYTES) {
        skipped++;
        continue;
      }
      const shown = displayPath(ctx, file);
      try {
        if (await isBinaryFile(file)) continue;
        await grepFile(file, re, ({ line, text }) => {
          matches++;
          if (out.length < GREP_LIMIT) out.push(`${shown}:${line}: ${cutLine(text, GREP_LINE_CHARS)}`);
        });
      } catch (error) {
        // Gone since the listing (another call's write renames its temporary file into place): nothing to search.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
    }
    const notes: string[] = [];
    if (matches > out.length) notes.push(`(Showing the first ${out.length} of ${matches} matches. Use a narrower pattern, path or include to see the others.)`);
    if (skipped > 0) notes.push(`(${skipped} file${skipped === 1 ? '' : 's'} over 1 MB not searched.)`);
    if (out.length === 0) return ['No matches found.', ...notes].join('\n');
    return [...out, ...(notes.length ? ['', ...notes] : [])].join('\n');
  },
};
