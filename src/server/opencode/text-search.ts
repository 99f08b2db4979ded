/**
 * OpenCode's `GET /find?pattern=`: lines of the folder's files that match a regular expression, in
 * the shape of ripgrep's JSON matches (which OpenCode passes on), at most FIND_TEXT_LIMIT of them as
 * OpenCode answers. Pantheon has no ripgrep: the pattern is a JavaScript regular expression, run by
 * the `grep` tool's engine over the files of the file search's bounded, cached walk (file-find.ts:
 * `.git`, `node_modules` and the root `.gitignore`'s entries skipped); binary files, files over
 * GREP_MAX_FILE_BYTES and symlinks are skipped, and no file is begun after SEARCH_BUDGET_MS. The
 * lines are tested in a worker thread (regex-search.ts): a pattern that takes over FILE_BUDGET_MS on
 * one file rejects with RegexTimeoutError, and the server goes on answering meanwhile. Offsets
 * are in bytes, as ripgrep gives them; a line over MAX_LINE_CHARS is cut (with `...`) as OpenCode
 * cuts it, and a line's submatches are at most MAX_SUBMATCHES.
 */
import path from 'node:path';
import { GREP_MAX_FILE_BYTES } from '../../tools/grep.ts';
import { searchFiles } from '../../tools/regex-search.ts';
import { listedEntries } from './file-find.ts';
import { thousands } from '../../icu-free.ts';

/** Matches one answer holds (OpenCode's limit). */
export const FIND_TEXT_LIMIT = 10;
const MAX_LINE_CHARS = 2000;
const MAX_SUBMATCHES = 100;
/** The longest a search reads files (what it found by then is answered). */
export const SEARCH_BUDGET_MS = 10_000;

export interface TextMatch {
  path: { text: string };
  lines: { text: string };
  line_number: number;
  absolute_offset: number;
  submatches: { match: { text: string }; start: number; end: number }[];
}

/** The first FIND_TEXT_LIMIT matches of `re` in the folder's files, shallow files first. */
export async function findText(projectRoot: string, directory: string, re: RegExp, options: { signal?: AbortSignal; log: (line: string) => void }): Promise<TextMatch[]> {
  const deadline = Date.now() + SEARCH_BUDGET_MS;
  const files = (await listedEntries(projectRoot, directory, options.log)).filter((entry) => !entry.endsWith('/'));
  const found = await searchFiles({
    source: re.source,
    flags: re.flags,
    files: files.map((file) => path.join(directory, file)),
    maxBytes: GREP_MAX_FILE_BYTES,
    keep: FIND_TEXT_LIMIT,
    keepChars: MAX_LINE_CHARS + 1,
    stopAfter: FIND_TEXT_LIMIT,
    submatches: MAX_SUBMATCHES,
    deadline,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (found.stopped === 'deadline') options.log(`text search: the search of ${directory} stopped at its ${thousands(SEARCH_BUDGET_MS)} ms deadline with ${found.total} matches`);
  return found.matches.map(({ file, line, text, end, offset, submatches }) => {
    const cut = text.length > MAX_LINE_CHARS ? `${text.slice(0, MAX_LINE_CHARS).replace(/[\uD800-\uDBFF]$/, '')}...` : `${text}${end}`;
    return { path: { text: files[file] as string }, lines: { text: cut }, line_number: line, absolute_offset: offset, submatches: submatches ?? [] };
  });
}
