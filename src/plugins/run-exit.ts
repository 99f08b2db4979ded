/**
 * A Ctrl-C while a CLI command's plugins load still stops their `$` commands (their process groups,
 * which a terminal's signal does not reach). (That a plugin's leftovers do not keep the process
 * alive after the command: src/plugins/loaded-code.ts.)
 */
import { printErr } from '../cli/print.ts';

/**
 * While the plugins load (nothing else listens for signals yet): a signal ends the process, stopping
 * their commands (`during`: what was under way; SIGTERM's exit code). Returns how to stop listening.
 */
export function exitOnSignalWhileLoading(during = "the project's plugins were loading", termCode = 130): () => void {
  const stop = (signal: NodeJS.Signals) => {
    printErr(`error: Interrupted (${signal}) while ${during}.\n`);
    // process.exit runs the exit hooks ($'s process groups are killed there); a signal's default ending would not.
    process.exit(signal === 'SIGTERM' ? termCode : 130);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  };
}
