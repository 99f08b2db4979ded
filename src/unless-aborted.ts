/**
 * A wait that a cancelled turn does not sit through: the work goes on (nothing here stops it), but
 * whoever awaits it is released with the signal's reason at once (a plugin's hook, a custom tool,
 * an MCP server still starting when the turn is cancelled or the server's drain grace runs out).
 */
/** `promise`, unless `signal` is aborted first (then the signal's reason). */
export function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('The turn was cancelled.');
}
