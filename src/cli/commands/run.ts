import type { CommandModule } from 'yargs';
import { PantheonError } from '../../errors.ts';
import { runArgsOf, runCommandLine } from './run-flags.ts';

export type { RunArgs } from './run-flags.ts';

/** `--dir PATH` for a local run: an existing folder (the run then works as if started there). */
async function checkedDir(dir: string): Promise<string> {
  const { stat } = await import('node:fs/promises');
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new PantheonError('USAGE', `--dir ${dir}: no such folder.`, { hint: 'Give the project folder to run in.' });
  return dir;
}

export const runCommand: CommandModule = {
  ...runCommandLine,
  handler: async (args) => {
    const { run, attach } = runArgsOf(args);
    if (attach !== undefined) {
      const { attachAction } = await import('../attach-action.ts');
      await attachAction({ ...run, attach });
      return;
    }
    if (run.dir !== undefined) process.chdir(await checkedDir(run.dir));
    const { runAction } = await import('../run-action.ts');
    await runAction(run);
  },
};
