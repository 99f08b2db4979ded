/**
 * A server started for OpenCode's TUI (cli/tui/tui-action.ts) is tied to the process that started
 * it: its stdin is a pipe whose other end only that process holds. When the pipe closes (that
 * process has exited, even by SIGKILL: the kernel closes its end), the server stops, as it does on
 * SIGTERM. Without the tie, a launcher killed with SIGKILL left `opencode serve` running forever.
 * The launcher also names on the pipe the TUI it started (a line `hangup PID`): when the pipe
 * closes, that process is sent SIGHUP, as a terminal's hang-up would (OpenCode's TUI then restores
 * the terminal and exits), rather than left drawing a server that is gone.
 * The launcher says so by an environment variable (not a flag: nothing for `--help` to show), which
 * the server takes out of its environment at once: its own children (MCP servers, plugins' commands)
 * are not tied to it.
 */

/** Set (to "1") by the TUI launcher on the server it starts, whose stdin is then a pipe from it. */
export const PARENT_PIPE_ENV = 'PANTHEON_PARENT_PIPE';

/** The line the parent writes on the pipe to have `pid` hung up when it is gone. */
export function hangupLine(pid: number): string {
  return `hangup ${pid}\n`;
}

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
  let text = '';
  const hangups = new Set<number>();
  const end = (): void => {
    if (done) return;
    done = true;
    for (const pid of hangups) {
      try {
        process.kill(pid, 'SIGHUP');
      } catch {
        // Gone already.
      }
    }
    gone();
  };
  stdin.setEncoding('utf8').on('data', (chunk: string) => {
    // Bounded: a line is short, and nothing else is sent.
    text = (text + chunk).slice(-4096);
    let at: number;
    while ((at = text.indexOf('\n')) >= 0) {
      const pid = /^hangup (\d{1,10})$/.exec(text.slice(0, at))?.[1];
      if (pid && Number(pid) > 1) hangups.add(Number(pid));
      text = text.slice(at + 1);
    }
  });
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
