/**
 * The bundle's side of its code cache (src/cli/bundle-cache.ts): the loader hands over a function
 * that writes the cache, and a command can write it early. `opencode serve` does so once it is
 * ready, before it changes V8's heap flags: V8 rejects a cache made under other flags, so a cache
 * written at exit was rejected by every later start and rewritten at every stop (docs/performance.md, issue #18).
 * A run tells it when it ran more than its command's usual path (codeCacheRan).
 */
let save: (() => void) | undefined;
/** What this process ran beyond its command's usual path (`tools`: a tool loop), for the loader. */
const ran = new Set<string>();

/** Called by the loader with the function that writes this process's cache (only when it is to write one). */
export function setCodeCacheSaver(saver: () => void): void {
  save = saver;
}

/** Writes the bundle's code cache now, holding what has run so far, if this process is to write one. */
export function saveCodeCacheNow(): void {
  save?.();
  save = undefined;
}

/**
 * Says this process ran code its command does not always run (`tools`: a run whose model called
 * tools). A cache written by a process that did not is written again at exit, holding that code too:
 * otherwise the first `run` (often a plain answer) would leave every later tool loop compiling its
 * tools, the SDK's tool steps and the provider's tool-call parsing again (bench/tool-loop.ts).
 */
export function codeCacheRan(what: string): void {
  ran.add(what);
}

/** What codeCacheRan was told, for the loader (src/cli/bundle-cache.ts). */
export function codeCacheRanList(): string[] {
  return [...ran];
}
