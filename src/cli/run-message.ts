import { PantheonError } from '../errors.ts';
import type { RunArgs } from './commands/run-flags.ts';
import { readPipedStdin } from './stdin.ts';

/** The message of `opencode run`: the arguments, then piped stdin; none is a usage error (with `--command` they are its arguments, which may be none). */
export async function runMessage(args: Pick<RunArgs, 'message' | 'command'>): Promise<string> {
  const piped = await readPipedStdin();
  const message = [(args.message ?? []).join(' '), piped].filter((s) => s && s.trim()).join('\n\n');
  if (!message.trim() && args.command === undefined) {
    throw new PantheonError('USAGE', 'run: no message given.', { hint: 'Pass it as an argument (opencode run "…") or pipe it on stdin.' });
  }
  return message;
}
