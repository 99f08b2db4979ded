/**
 * The reader of the CLI's output went away (`opencode run --format json | head -5`): every write
 * after that fails with EPIPE, which Node raises as an unhandled error with a stack trace. Stop as
 * `git log | head` does instead: at once, quietly, with 141 (128 + SIGPIPE, the status of a process
 * the pipe's signal ended). What is on disk stays whole: sessions and journals are written
 * atomically, and the ledger flushes its deferred writes on exit.
 */
export const OUTPUT_CLOSED_EXIT = 141;

let watching = false;

export function exitWhenOutputCloses(): void {
  if (watching) return;
  watching = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      process.exit(OUTPUT_CLOSED_EXIT);
    });
  }
}
