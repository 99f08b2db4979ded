/**
 * A Ctrl-C while a CLI command's plugins load still stops their `$` commands (their process groups,
 * which a terminal's signal does not reach). (That a plugin's leftovers do not keep the process
 * alive after the command: src/plugins/loaded-code.ts.)
 */
import { printErr } from '../cli/print.ts';

/** While the plugins load (nothing else listens for signals yet): a signal ends the run, stopping their commands. Returns how to stop listening. */
export function exitOnSignalWhileLoading(): () => void {
  const stop = (signal: NodeJS.Signals) => {
    printErr(`error: Interrupted (${signal}) while the project's plugins were loading.\n`);
    // process.exit runs the exit hooks ($'s process groups are killed there); a signal's default ending would not.
    process.exit(130);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  };
}
