/**
 * One change at a time to a file within a process: `edit` and `write` read, write and run the
 * formatters on a file under its lock, so that two calls of one step on the same file (the model
 * may send them in parallel) do not undo each other — a formatter runs for up to 30 s and writes
 * the text it read back over the file.
 */
const tails = new Map<string, Promise<void>>();

export async function withFileLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const before = tails.get(file) ?? Promise.resolve();
  let release: () => void = () => undefined;
  const mine = new Promise<void>((resolve) => (release = resolve));
  const tail = before.then(() => mine);
  tails.set(file, tail);
  await before;
  try {
    return await fn();
  } finally {
    release();
    if (tails.get(file) === tail) tails.delete(file);
  }
}
