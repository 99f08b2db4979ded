/**
 * A glob over the file system with a bound on the work it does: at most `entries` directory
 * entries read and `ms` milliseconds, at most `files` matches kept. `instructions: ["/**"]` would
 * otherwise walk every file of the machine (and read each one). The walk stops at whichever bound
 * comes first and says so; what it found until then is returned, sorted.
 */
import fs from "node:fs";
import { thousands } from "../icu-free.ts";

export interface GlobBounds {
  /** Directory entries read at most (files and folders, every folder's listing counted). */
  entries: number;
  /** Time spent walking at most. */
  ms: number;
  /** Matches kept at most. */
  files: number;
}

export const DEFAULT_GLOB_BOUNDS: GlobBounds = {
  entries: 50_000,
  ms: 3_000,
  files: 200,
};

export interface BoundedGlob {
  files: string[];
  /** Set when a bound stopped the walk or cut the matches: which one, in words. */
  stoppedBy?: string;
}

const MAX_IN_FLIGHT = 8;

type ReaddirCallback = (
  error: NodeJS.ErrnoException | null,
  entries: fs.Dirent[],
) => void;

export async function boundedGlob(
  dir: string,
  pattern: string,
  bounds: GlobBounds = DEFAULT_GLOB_BOUNDS,
): Promise<BoundedGlob> {
  const { glob } = await import("tinyglobby");
  const stop = new AbortController();
  let read = 0;
  let stoppedBy: string | undefined;
  const halt = (why: string): void => {
    if (stop.signal.aborted) return;
    stoppedBy = why;
    stop.abort();
    next();
  };
  const timer = setTimeout(
    () =>
      halt(
        `it took longer than ${thousands(bounds.ms / 1000)} s`,
      ),
    bounds.ms,
  );
  // At most a few listings are in flight (the walker asks for every folder it sees at once, and
  // asked-for listings cannot be taken back); once a bound is reached, every folder still waiting
  // reads as empty, so the walk winds down at once.
  const waiting: (() => void)[] = [];
  let inFlight = 0;
  const next = (): void => {
    if (stop.signal.aborted) waiting.splice(0).forEach((run) => run());
    else if (inFlight < MAX_IN_FLIGHT) waiting.shift()?.();
  };
  const readdir = (
    folder: string,
    options: { withFileTypes: true },
    done: ReaddirCallback,
  ): void => {
    waiting.push(() => {
      if (stop.signal.aborted) return done(null, []);
      inFlight++;
      fs.readdir(folder, options, (error, entries) => {
        inFlight--;
        if (stop.signal.aborted) done(null, []);
        else {
          read += entries?.length ?? 0;
          if (read > bounds.entries)
            halt(
              `it read more than ${thousands(bounds.entries)} directory entries`,
            );
          done(error, entries ?? []);
        }
        next();
      });
    });
    next();
  };
  // Symbolic links are resolved (as OpenCode follows them) until a bound is reached, then left alone.
  const stat = (
    file: string,
    done: (error: NodeJS.ErrnoException | null, stats?: fs.Stats) => void,
  ): void => {
    if (stop.signal.aborted)
      return done(
        Object.assign(new Error("search stopped"), { code: "ENOENT" }),
      );
    fs.stat(file, done);
  };
  const realpath = (
    file: string,
    done: (error: NodeJS.ErrnoException | null, resolved?: string) => void,
  ): void => {
    if (stop.signal.aborted)
      return done(
        Object.assign(new Error("search stopped"), { code: "ENOENT" }),
      );
    fs.realpath(file, done);
  };
  try {
    const found = await glob([pattern], {
      cwd: dir,
      absolute: true,
      onlyFiles: true,
      dot: true,
      signal: stop.signal,
      fs: {
        readdir: readdir as unknown as typeof fs.readdir,
        stat: stat as unknown as typeof fs.stat,
        realpath: realpath as unknown as typeof fs.realpath,
      },
    });
    found.sort();
    if (found.length > bounds.files) {
      stoppedBy ??= `it matched more than ${thousands(bounds.files)} files`;
      return { files: found.slice(0, bounds.files), stoppedBy };
    }
    return stoppedBy ? { files: found, stoppedBy } : { files: found };
  } finally {
    clearTimeout(timer);
  }
}
