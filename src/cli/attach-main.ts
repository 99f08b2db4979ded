/**
 * Entry point of the attach bundle (dist/bin/attach.cjs, scripts/build-cli.ts): `opencode run
 * --attach URL …` as a thin client. It holds the parser (the same flags and rules as the full CLI:
 * src/cli/cli.ts, `runCommandLine`), the HTTP client and the renderers, and none of the config,
 * the AI SDK, the scheduler or SQLite, so it is a tenth of the full bundle to read and compile.
 * The loader (src/cli/bundle-cache.ts) picks it only when argv names `run` and `--attach` without
 * help or version flags; if the parsed arguments still turn out not to be an attached run (e.g.
 * `run -- --attach` is a message), it throws NotThisBundle before doing anything and the loader
 * runs the full CLI with the same argv.
 */
import type { CommandModule } from 'yargs';
import { NotThisBundle, runPartialCli } from './cli.ts';
import { runArgsOf, runCommandLine } from './commands/run-flags.ts';

const attachedRun: CommandModule = {
  ...runCommandLine,
  handler: async (args) => {
    const { run, attach } = runArgsOf(args);
    if (attach === undefined) throw new NotThisBundle('not an attached run');
    const { attachAction } = await import('./attach-action.ts');
    await attachAction({ ...run, attach });
  },
};

/** Runs an attached run; resolves `false` (having done nothing) when argv is not one. */
export function main(argv: string[]): Promise<boolean> {
  return runPartialCli(argv, attachedRun);
}
