/**
 * A server started for OpenCode's TUI (cli/tui/tui-action.ts) is tied to the process that started
 * it: its stdin is a pipe whose other end only that process holds. When the pipe closes (that
 * process has exited, even by SIGKILL: the kernel closes its end), the server stops, as it does on
 * SIGTERM. Without the tie, a launcher killed with SIGKILL left `opencode serve` running forever.
 * The launcher says so by an environment variable (not a flag: nothing for `--help` to show), which
 * the server takes out of its environment at once: its own children (MCP servers, plugins' commands)
 * are not tied to it.
 */

/** Set (to "1") by the TUI launcher on the server it starts, whose stdin is then a pipe from it. */
export const PARENT_PIPE_ENV = 'PANTHEON_PARENT_PIPE';

/** Whether this process was started tied to its parent; the variable is removed from `env` either way. */
export function takeParentPipe(env: NodeJS.ProcessEnv = process.env): boolean {
  const tied = env[PARENT_PIPE_ENV] === '1';
  delete env[PARENT_PIPE_ENV];
  return tied;
}

/**
 * Calls `gone` once when stdin ends or fails (the parent has exited or closed its end). Returns how
 * to stop watching, which lets go of stdin (a server that stops for another reason then exits).
 */
export function watchParent(gone: () => void): () => void {
  const stdin = process.stdin;
  let done = false;
  const end = (): void => {
    if (done) return;
    done = true;
    gone();
  };
  // Nothing is sent on the pipe; what comes is read and dropped.
  stdin.on('data', () => undefined);
  stdin.once('end', end);
  stdin.once('close', end);
  stdin.once('error', end);
  return () => {
    done = true;
    stdin.removeAllListeners('data');
    stdin.off('end', end);
    stdin.off('close', end);
    stdin.off('error', end);
    stdin.on('error', () => undefined);
    stdin.destroy();
  };
}
