/**
 * A plugin's promise that can no longer settle: a hook, a plugin function or a custom tool that
 * awaits something nothing will ever do (a promise never resolved, with no timer, socket or child
 * left to resolve it). Node would end the process there (exit 13, "unsettled top-level await",
 * nothing said about the plugin); instead, once the event loop is empty, each such promise fails
 * with a sentence saying so, and the work it was called for fails as for any other error of it.
 */

/** The plugins' promises being waited on, each with how to fail it. */
const waiting = new Set<() => void>();

function failAll(): void {
  for (const fail of [...waiting]) fail();
}

/** `promise`, or a failure naming `what` once nothing is left that could settle it. */
export function orStalled<T>(promise: Promise<T>, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const done = (): void => {
      waiting.delete(fail);
      if (waiting.size === 0) process.off('beforeExit', failAll);
    };
    const fail = (): void => {
      done();
      reject(new Error(`${what} never finished (nothing left could settle its promise)`));
    };
    if (waiting.size === 0) process.on('beforeExit', failAll);
    waiting.add(fail);
    promise.then(
      (value) => {
        done();
        resolve(value);
      },
      (error: unknown) => {
        done();
        reject(error as Error);
      },
    );
  });
}
