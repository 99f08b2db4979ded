/**
 * `serve` and `dashboard` run for hours, and what their Node starts with lasts as long:
 * - `--no-memory-reducer`: V8's memory reducer shrinks the heap a few seconds after a process goes
 *   quiet; a server that has been idle once answered every gateway request ~0.1 ms slower
 *   afterwards (p50, measured side by side: docs/performance.md), for ~12 MiB less resident memory
 *   while it waits.
 * - `--min-semi-space-size=4` (MiB): after a quiet spell V8 also shrinks the young generation to
 *   its 1 MiB minimum, and a server loaded again collected it 255 times in its first 2,500
 *   requests (~120 ms of pauses) where one that had kept the 4 MiB it grows to under load
 *   collected it 64 times (~65 ms); 4 is what the gateway grows to by itself, so resident memory
 *   stays as it was (larger sizes made fewer but longer pauses, and cost memory).
 * Node takes `--no-memory-reducer` on its command line only (NODE_OPTIONS refuses it; set at run
 * time it comes after the heap that reads it), so a server's process replaces itself, before it
 * loads anything, with one started with them: `process.execve`, the same pid, file descriptors,
 * environment and arguments, for one more Node start-up (~25 ms). Where execve is missing
 * (Windows; Node before 22.15) or fails, the server runs as it is. A flag of the same name the
 * user gave Node already (its command line or NODE_OPTIONS) is theirs and stays.
 */
const SERVERS = new Set(['serve', 'dashboard']);
export const SERVER_NODE_FLAGS: readonly string[] = ['--no-memory-reducer', '--min-semi-space-size=4'];

/** A Node or V8 flag's name, however spelt: `--min_semi_space_size=8` and `--memory-reducer` name the flags above. */
const flagName = (flag: string) => (flag.split('=')[0] as string).replace(/_/g, '-').replace(/^--no-/, '--');

/** Whether the user gave Node a flag of `flag`'s name (however spelt, on its command line or in NODE_OPTIONS): then it is theirs. */
export function nodeFlagGiven(flag: string): boolean {
  const name = flagName(flag);
  return [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((given) => flagName(given) === name);
}

/** Restarts this process with SERVER_NODE_FLAGS when `command` is a server's and its Node lacks them; returns when it does not. */
export function restartWithServerFlags(command: string, argv: readonly string[]): void {
  if (!SERVERS.has(command)) return;
  const missing = SERVER_NODE_FLAGS.filter((flag) => !nodeFlagGiven(flag));
  const script = process.argv[1];
  const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }).execve;
  if (!missing.length || !script || typeof execve !== 'function' || process.platform === 'win32') return;
  try {
    execve.call(process, process.execPath, [process.execPath, ...process.execArgv, ...missing, script, ...argv], process.env);
  } catch {
    // Not replaced (the call refused, or the system's exec failed): serve as this process is.
  }
}
