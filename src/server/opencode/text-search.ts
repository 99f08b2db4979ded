/**
 * OpenCode's `GET /find?pattern=`: lines of the folder's files that match a regular expression, in
 * the shape of ripgrep's JSON matches (which OpenCode passes on), at most FIND_TEXT_LIMIT of them as
 * OpenCode answers. Pantheon has no ripgrep: the pattern is a JavaScript regular expression, run by
 * the `grep` tool's engine over the files of the file search's bounded, cached walk (file-find.ts:
 * `.git`, `node_modules` and the root `.gitignore`'s entries skipped); binary files, files over
 * GREP_MAX_FILE_BYTES and symlinks are skipped, and the search stops at SEARCH_BUDGET_MS. Offsets
 * are in bytes, as ripgrep gives them; a line over MAX_LINE_CHARS is cut (with `...`) as OpenCode
 * cuts it, and a line's submatches are at most MAX_SUBMATCHES.
 */
import path from 'node:path';
import { isBinaryFile } from '../../tools/binary.ts';
import { lstatIfExists } from '../../tools/fs-util.ts';
import { GREP_MAX_FILE_BYTES, grepFile } from '../../tools/grep.ts';
import { listedEntries } from './file-find.ts';

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

function submatchesOf(text: string, pattern: RegExp): TextMatch['submatches'] {
  const all = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
  const out: TextMatch['submatches'] = [];
  for (let m = all.exec(text); m && out.length < MAX_SUBMATCHES; m = all.exec(text)) {
    const start = Buffer.byteLength(text.slice(0, m.index), 'utf8');
    out.push({ match: { text: m[0] }, start, end: start + Buffer.byteLength(m[0], 'utf8') });
    // An empty match would be found again at the same place.
    if (m[0] === '') all.lastIndex++;
  }
  return out;
}

/** The first FIND_TEXT_LIMIT matches of `re` in the folder's files, shallow files first. */
export async function findText(projectRoot: string, directory: string, re: RegExp, options: { signal?: AbortSignal; log: (line: string) => void }): Promise<TextMatch[]> {
  const deadline = Date.now() + SEARCH_BUDGET_MS;
  const files = (await listedEntries(projectRoot, directory, options.log)).filter((entry) => !entry.endsWith('/'));
  const out: TextMatch[] = [];
  for (const file of files) {
    if (out.length >= FIND_TEXT_LIMIT) break;
    options.signal?.throwIfAborted();
    if (Date.now() > deadline) {
      options.log(`text search: the search of ${directory} stopped at its ${SEARCH_BUDGET_MS.toLocaleString('en-US')} ms deadline with ${out.length} matches`);
      break;
    }
    const abs = path.join(directory, file);
    // Symlinks are not followed (as ripgrep without -L): their targets may lie outside the project.
    const stat = await lstatIfExists(abs);
    if (!stat?.isFile() || stat.size > GREP_MAX_FILE_BYTES) continue;
    if (await isBinaryFile(abs).catch(() => true)) continue;
    await grepFile(abs, re, ({ line, text, end, offset }) => {
      const cut = text.length > MAX_LINE_CHARS ? `${text.slice(0, MAX_LINE_CHARS).replace(/[\uD800-\uDBFF]$/, '')}...` : `${text}${end}`;
      out.push({ path: { text: file }, lines: { text: cut }, line_number: line, absolute_offset: offset, submatches: submatchesOf(text, re) });
      return out.length < FIND_TEXT_LIMIT;
    }).catch(() => undefined);
  }
  return out;
}
