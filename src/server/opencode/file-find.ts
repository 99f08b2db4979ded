/**
 * OpenCode's file search (`GET /find/file`, and v2's `GET /api/fs/find`): what its TUI's `@`
 * mention offers as one types. The folder's files and the folders that hold them (`.git`,
 * `node_modules` and the root `.gitignore`'s entries skipped, as the `glob` tool skips them), listed
 * once and kept for a few seconds per folder (one listing shared by the requests of a burst of
 * keystrokes), ranked against the query by fuzzysort, as OpenCode ranks them. Folders end with `/`.
 */
import path from 'node:path';
import { ignoreGlobs } from '../../tools/ignore.ts';

export type EntryKind = 'file' | 'directory';

export interface FindQuery {
  query: string;
  /** Files only, folders only, or both (undefined). */
  kind?: EntryKind;
  limit: number;
}

/** How long a listing answers the searches of a folder. */
const LISTING_TTL_MS = 5_000;
/** The most entries a listing keeps (a folder with more is searched in its first ones). */
export const MAX_ENTRIES = 200_000;

interface Listing {
  at: number;
  entries: Promise<string[]>;
}

const listings = new Map<string, Listing>();

/** The folder's files and folders, relative, with `/` after a folder's name; shallow ones first. */
async function list(projectRoot: string, directory: string): Promise<string[]> {
  const { glob } = await import('tinyglobby');
  const files = await glob(['**'], { cwd: directory, dot: true, onlyFiles: true, followSymbolicLinks: false, ignore: await ignoreGlobs(projectRoot, directory) });
  const dirs = new Set<string>();
  const out: string[] = [];
  for (const file of files) {
    if (out.length >= MAX_ENTRIES) break;
    out.push(file);
    for (let at = file.lastIndexOf('/'); at > 0; at = file.lastIndexOf('/', at - 1)) {
      const dir = `${file.slice(0, at)}/`;
      if (dirs.has(dir)) break;
      dirs.add(dir);
    }
  }
  const all = [...dirs, ...out].slice(0, MAX_ENTRIES);
  const depth = (entry: string): number => entry.split('/').length - (entry.endsWith('/') ? 1 : 0);
  return all.sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
}

function listingOf(projectRoot: string, directory: string): Promise<string[]> {
  const key = path.resolve(directory);
  const now = Date.now();
  const known = listings.get(key);
  if (known && now - known.at < LISTING_TTL_MS) return known.entries;
  const entries = list(projectRoot, directory);
  listings.set(key, { at: now, entries });
  // A failed listing is not kept for the next search.
  entries.catch(() => listings.delete(key));
  // Few folders are searched at once; old listings go with the next new one.
  for (const [other, listing] of listings) if (now - listing.at >= LISTING_TTL_MS) listings.delete(other);
  return entries;
}

/** The entries of `directory` that best match the query (all of them, shallow first, when it is empty). */
export async function findEntries(projectRoot: string, directory: string, find: FindQuery): Promise<string[]> {
  const entries = await listingOf(projectRoot, directory);
  const wanted = find.kind === undefined ? entries : entries.filter((e) => e.endsWith('/') === (find.kind === 'directory'));
  const query = find.query.trim();
  if (query === '') return wanted.slice(0, find.limit);
  const { default: fuzzysort } = await import('fuzzysort');
  // Any match ranked (fuzzysort's default leaves out the weak ones: `srvidx` would not find `src/server/index.ts`).
  return fuzzysort.go(query, wanted, { limit: find.limit, threshold: 0 }).map((r) => r.target);
}
