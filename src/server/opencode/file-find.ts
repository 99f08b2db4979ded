/**
 * OpenCode's file search (`GET /find/file`, and v2's `GET /api/fs/find`): what its TUI's `@`
 * mention offers as one types. The folder's files and the folders that hold them (`.git`,
 * `node_modules` and the root `.gitignore`'s entries skipped, as the `glob` tool skips them), listed
 * once and kept for a few seconds per folder (one listing shared by the requests of a burst of
 * keystrokes), ranked against the query by fuzzysort, as OpenCode ranks them. Folders end with `/`.
 *
 * A listing is bounded, whatever folder a client names (`?directory=/` is a folder too): the walk
 * stops once it has read MAX_ENTRIES entries or at its deadline, WALK_BUDGET_MS after it was asked
 * for (what it found by then is searched, and the server's log says so); it reads READS_AT_ONCE
 * folders at a time, and the ones it had yet to read are dropped unread when it stops; at most
 * WALKS_AT_ONCE folders are walked at once (the others wait their turn within their own deadline);
 * at most MAX_LISTINGS listings are kept, each let go LISTING_TTL_MS after its time is over. The
 * fuzzysort form of the entries (about 1 KB each) belongs to the listing and goes with it (fuzzysort's
 * own cache, which keeps every string ever searched, is emptied after each search), the next listing
 * of the folder reusing the forms of the paths still there, as OpenCode's index does.
 * `PANTHEON_FIND_MAX_ENTRIES` and `PANTHEON_FIND_BUDGET_MS` lower the two bounds (for tests).
 */
import nodeFs from 'node:fs';
import path from 'node:path';
import type { Prepared } from 'fuzzysort';
import { ignoreGlobs } from '../../tools/ignore.ts';
import { thousands } from '../../icu-free.ts';

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
export const MAX_ENTRIES = 100_000;
/** The longest a listing walks, from when it was asked for (a folder that takes longer is searched in what was found). */
const WALK_BUDGET_MS = 3_000;
/** Folders one walk reads at once (the rest wait in it, dropped when it stops). */
const READS_AT_ONCE = 4;
/** Walks at once (of different folders: one folder's walk is shared). */
const WALKS_AT_ONCE = 2;
/** Listings kept at once (the oldest let go first). */
const MAX_LISTINGS = 4;
/** Entries prepared for fuzzysort between two turns of the event loop. */
const PREPARE_SLICE = 2_000;

interface Listing {
  at: number;
  entries: Promise<string[]>;
  /** Fuzzysort's form of the entries, by entry, made at the first search with a query. */
  prepared?: Promise<Map<string, Prepared>>;
  /** The one of the listing this one replaced, until this one's is made. */
  previous?: Promise<Map<string, Prepared>>;
}

const listings = new Map<string, Listing>();

/** At most `width` tasks at once, the others in order; a finished task's turn passes on without deepening the stack. */
class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly width: number;
  constructor(width: number) {
    this.width = width;
  }
  run(task: (done: () => void) => void): void {
    let finished = false;
    const done = (): void => {
      if (finished) return;
      finished = true;
      const next = this.waiting.shift();
      if (next) queueMicrotask(next);
      else this.active--;
    };
    if (this.active < this.width) {
      this.active++;
      task(done);
    } else this.waiting.push(() => task(done));
  }
}

const walks = new Gate(WALKS_AT_ONCE);

/** A positive whole number from the environment, else `fallback` (and never above it). */
function bound(name: string, fallback: number): number {
  const given = Number(process.env[name]);
  return Number.isSafeInteger(given) && given > 0 ? Math.min(given, fallback) : fallback;
}

type Log = (line: string) => void;

/** The folder's files, relative, walked within the bounds (see the file's comment); why it stopped early, if it did. */
async function walk(projectRoot: string, directory: string, bounds: { deadline: number; budget: number; maxEntries: number }): Promise<{ files: string[]; cut?: string }> {
  const { deadline, budget, maxEntries } = bounds;
  const { glob } = await import('tinyglobby');
  const ignore = await ignoreGlobs(projectRoot, directory);
  return new Promise((resolve, reject) => {
    walks.run((done) => {
      const stop = new AbortController();
      let cut: string | undefined;
      let seen = 0;
      const end = (why: string): void => {
        if (stop.signal.aborted) return;
        cut = why;
        stop.abort();
      };
      const timer = setTimeout(() => end(`at its ${thousands(budget)} ms deadline`), Math.max(0, deadline - Date.now()));
      timer.unref();
      const reads = new Gate(READS_AT_ONCE);
      // fdir (under tinyglobby) reads every folder it finds at once; here they wait their turn, and
      // once the walk stops the waiting ones answer empty without touching the disk.
      const readdir = (dir: string, options: { withFileTypes: true }, callback: (error: NodeJS.ErrnoException | null, entries: nodeFs.Dirent[]) => void): void => {
        reads.run((next) => {
          if (stop.signal.aborted) {
            next();
            callback(null, []);
            return;
          }
          nodeFs.readdir(dir, options, (error, entries) => {
            next();
            seen += entries?.length ?? 0;
            callback(error, entries ?? []);
            if (seen >= maxEntries) end(`at ${thousands(maxEntries)} entries`);
          });
        });
      };
      glob(['**'], { cwd: directory, dot: true, onlyFiles: true, followSymbolicLinks: false, ignore, signal: stop.signal, fs: { readdir: readdir as unknown as typeof nodeFs.readdir } }).then(
        (files) => {
          clearTimeout(timer);
          done();
          resolve({ files, ...(cut ? { cut } : {}) });
        },
        (error: unknown) => {
          clearTimeout(timer);
          done();
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  });
}

/** The folder's files and folders, relative, with `/` after a folder's name; shallow ones first. */
async function list(projectRoot: string, directory: string, log: Log | undefined): Promise<string[]> {
  const maxEntries = bound('PANTHEON_FIND_MAX_ENTRIES', MAX_ENTRIES);
  const budget = bound('PANTHEON_FIND_BUDGET_MS', WALK_BUDGET_MS);
  const { files, cut } = await walk(projectRoot, directory, { deadline: Date.now() + budget, budget, maxEntries });
  const dirs = new Set<string>();
  const out: string[] = [];
  for (const file of files) {
    if (out.length >= maxEntries) break;
    out.push(file);
    for (let at = file.lastIndexOf('/'); at > 0; at = file.lastIndexOf('/', at - 1)) {
      const dir = `${file.slice(0, at)}/`;
      if (dirs.has(dir)) break;
      dirs.add(dir);
    }
  }
  const all = [...dirs, ...out].slice(0, maxEntries);
  if (cut) log?.(`file search: the walk of ${directory} stopped ${cut}; its ${thousands(all.length)} entries are searched`);
  const depth = (entry: string): number => entry.split('/').length - (entry.endsWith('/') ? 1 : 0);
  return all
    .map((entry) => ({ entry, depth: depth(entry) }))
    .sort((a, b) => a.depth - b.depth || (a.entry < b.entry ? -1 : a.entry > b.entry ? 1 : 0))
    .map((e) => e.entry);
}

function listingOf(projectRoot: string, directory: string, log: Log | undefined): Listing {
  const key = path.resolve(directory);
  const now = Date.now();
  const known = listings.get(key);
  if (known && now - known.at < LISTING_TTL_MS) return known;
  const entries = list(projectRoot, directory, log);
  // The last listing's prepared entries serve again for the paths still there.
  const previous = known?.prepared ?? known?.previous;
  const listing: Listing = { at: now, entries, ...(previous ? { previous } : {}) };
  listings.delete(key);
  listings.set(key, listing);
  const forget = (): void => {
    if (listings.get(key) === listing) listings.delete(key);
  };
  // A failed listing is not kept for the next search; a stale one is let go a little after its time.
  entries.catch(forget);
  setTimeout(forget, 2 * LISTING_TTL_MS).unref();
  // The oldest go first when too many folders are searched at once.
  for (const [other] of listings) {
    if (listings.size <= MAX_LISTINGS) break;
    listings.delete(other);
  }
  return listing;
}

/** Fuzzysort's form of each entry, made once per listing a slice at a time (the server answers meanwhile). */
async function preparedOf(listing: Listing): Promise<Map<string, Prepared>> {
  const { default: fuzzysort } = await import('fuzzysort');
  const entries = await listing.entries;
  const previous = await listing.previous?.catch(() => undefined);
  delete listing.previous;
  const prepared = new Map<string, Prepared>();
  for (let at = 0; at < entries.length; at += PREPARE_SLICE) {
    if (at > 0) await new Promise((resolve) => setImmediate(resolve));
    for (const entry of entries.slice(at, at + PREPARE_SLICE)) prepared.set(entry, previous?.get(entry) ?? fuzzysort.prepare(entry));
  }
  return prepared;
}

/** The folder's files and folders as the search lists them (the same bounded walk, kept as briefly): relative, folders ending with `/`, shallow ones first. */
export function listedEntries(projectRoot: string, directory: string, log?: Log): Promise<string[]> {
  return listingOf(projectRoot, directory, log).entries;
}

/** The entries of `directory` that best match the query (all of them, shallow first, when it is empty). */
export async function findEntries(projectRoot: string, directory: string, find: FindQuery, log?: Log): Promise<string[]> {
  const listing = listingOf(projectRoot, directory, log);
  const query = find.query.trim();
  const wanted = (entry: string): boolean => find.kind === undefined || entry.endsWith('/') === (find.kind === 'directory');
  if (query === '') return (await listing.entries).filter(wanted).slice(0, find.limit);
  const { default: fuzzysort } = await import('fuzzysort');
  listing.prepared ??= preparedOf(listing);
  const targets = [...(await listing.prepared).values()].filter((p) => wanted(p.target));
  // Any match ranked (fuzzysort's default leaves out the weak ones: `srvidx` would not find `src/server/index.ts`).
  const found = fuzzysort.go(query, targets, { limit: find.limit, threshold: 0 }).map((r) => r.target);
  // The targets are the listing's, let go with it; fuzzysort's own caches are emptied (they keep every string searched).
  fuzzysort.cleanup();
  return found;
}
