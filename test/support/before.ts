/**
 * `await before(wanted, other, message)`: `wanted`'s value, or a clear failure when `other` settles
 * first — for a wait on an event that does not come if the timing differs (a rate-limit wait that
 * never happens because the window had already passed), which would otherwise hang until the test's
 * timeout. `other` is what happens when the event does not come (the reply arriving, say).
 */
export function before<T>(wanted: Promise<T>, other: Promise<unknown>, message: string): Promise<T> {
  const instead = other.then(
    () => Promise.reject(new Error(message)),
    (error: unknown) => Promise.reject(new Error(`${message} (${error instanceof Error ? error.message : String(error)})`)),
  );
  instead.catch(() => undefined);
  return Promise.race([wanted, instead]);
}
