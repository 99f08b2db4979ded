/**
 * The bundle's side of its code cache (src/cli/bundle-cache.ts): the loader hands over a function
 * that writes the cache, and a command can write it early. `opencode serve` does so once it is
 * ready, before it changes V8's heap flags: V8 rejects a cache made under other flags, so a cache
 * written at exit was rejected by every later start and rewritten at every stop (README, issue #18).
 */
let save: (() => void) | undefined;

/** Called by the loader with the function that writes this process's cache (only when it is to write one). */
export function setCodeCacheSaver(saver: () => void): void {
  save = saver;
}

/** Writes the bundle's code cache now, holding what has run so far, if this process is to write one. */
export function saveCodeCacheNow(): void {
  save?.();
  save = undefined;
}
