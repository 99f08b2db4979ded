/**
 * `serve` and `dashboard` run for hours, and what their Node starts with lasts as long. V8's memory
 * reducer shrinks the heap a few seconds after a process goes quiet; a server that has been idle
 * once answered every gateway request ~0.1 ms slower afterwards (p50, measured side by side:
 * docs/performance.md), for ~12 MiB less resident memory while it waits. Node takes `--no-memory-reducer` on
 * its command line only (NODE_OPTIONS refuses it; set at run time it comes after the heap that
 * reads it), so a server's process replaces itself, before it loads anything, with one started
 * with it: `process.execve`, the same pid, file descriptors, environment and arguments, for one
 * more Node start-up (~25 ms). Where execve is missing (Windows; Node before 22.15) or fails, the
 * server runs as it is.
 */
const SERVERS = new Set(['serve', 'dashboard']);
export const SERVER_NODE_FLAGS: readonly string[] = ['--no-memory-reducer'];

/** Restarts this process with SERVER_NODE_FLAGS when `command` is a server's and its Node lacks them; returns when it does not. */
export function restartWithServerFlags(command: string, argv: readonly string[]): void {
  if (!SERVERS.has(command)) return;
  const missing = SERVER_NODE_FLAGS.filter((flag) => !process.execArgv.includes(flag));
  const script = process.argv[1];
  const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }).execve;
  if (!missing.length || !script || typeof execve !== 'function' || process.platform === 'win32') return;
  try {
    execve.call(process, process.execPath, [process.execPath, ...process.execArgv, ...missing, script, ...argv], process.env);
  } catch {
    // Not replaced (the call refused, or the system's exec failed): serve as this process is.
  }
}
