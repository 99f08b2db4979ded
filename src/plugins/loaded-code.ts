/**
 * Whether this process has run a plugin's or custom tool's code. Such code may leave timers,
 * sockets or child processes that keep Node running after the command is done (OpenCode's process
 * exits regardless); the CLI then exits once its output is written.
 */
let ran = false;

export function markPluginCodeRan(): void {
  ran = true;
}

export function pluginCodeRan(): boolean {
  return ran;
}

/** Exits with `process.exitCode` once what was written to stdout and stderr has been handed over (pipes are asynchronous on macOS). */
export async function exitAfterOutput(): Promise<never> {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.writableLength > 0 && !stream.destroyed) await new Promise<void>((resolve) => stream.once('drain', resolve).once('close', resolve));
  }
  process.exit();
}
