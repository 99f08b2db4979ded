/**
 * One-time work of a process moved into its first wait for a model: once the first request's body
 * is written and the model has kept the process waiting for IDLE_MS, the work runs then, while the
 * answer is still being made. A model that answers sooner (a local one) finds the process free to
 * read its answer at once, and the work is done where it falls, as before.
 *
 * The work: the first web stream that a pipe lets go of (the AI SDK's step streams, at the end of
 * a run's first step) makes Node build the error that every released writer and reader shares; it
 * cleans that error's stack with a regular expression from a V8 context of its own, which Node
 * creates then, once per process: ~2 ms of CPU that fell between a tool loop's first answer and its
 * next request (docs/performance.md).
 */
const IDLE_MS = 20;

let state: 'before' | 'waiting' | 'done' = 'before';
let timer: NodeJS.Timeout | undefined;

function releaseOnce(): void {
  timer = undefined;
  state = 'done';
  new WritableStream().getWriter().releaseLock();
}

/** The first request's body is written: the work runs if no answer has come IDLE_MS from now. */
export function requestWritten(): void {
  if (state !== 'before') return;
  state = 'waiting';
  timer = setTimeout(releaseOnce, IDLE_MS);
  timer.unref();
}

/** An answer (or a failure) came: what has not run yet is left to where it falls. */
export function answerArrived(): void {
  if (state !== 'waiting' || !timer) return;
  clearTimeout(timer);
  timer = undefined;
  state = 'done';
}
