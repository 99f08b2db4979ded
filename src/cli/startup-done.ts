/**
 * The bundle's side of the start-up gate (src/cli/start-gate.ts): the loader hands over the
 * function that gives this process's slot back, and `opencode run` calls `startupDone()` once its
 * start-up is over (its first request sent or answered from the cache, a rate-limit wait begun, or
 * the run ended), so the next waiting run may start loading.
 */
let release: (() => void) | undefined;

/** Called by the loader with the function that gives the slot back. */
export function setStartupDone(fn: () => void): void {
  release = fn;
}

/** This process's start-up is over: the gate's slot goes back (once; nothing without one). */
export function startupDone(): void {
  const fn = release;
  release = undefined;
  fn?.();
}
