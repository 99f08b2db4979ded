/**
 * Entry point of the doctor bundle (dist/bin/doctor.cjs, scripts/build-cli.ts): `opencode doctor
 * --check …` with only the groups that need no provider, MCP or store code (config, auth, runtime;
 * src/doctor/light-doctor.ts). It holds the parser (the same flags and rules as the full CLI), the
 * config loader and the auth store, a third of the full CLI's file. The loader
 * (src/cli/bundle-cache.ts) picks it for `doctor` with `--check` and without `--fix`, help or
 * version; when the parsed groups include another one, it throws NotThisBundle before doing
 * anything and the loader runs the full CLI with the same argv.
 */
import type { CommandModule } from 'yargs';
import { parseGroups } from '../doctor/run-checks.ts';
import { NotThisBundle, runPartialCli } from './cli.ts';
import { doctorCommandLine, type DoctorArgs } from './commands/doctor-flags.ts';
import { parseTimeout } from './commands/run-flags.ts';

const lightDoctor: CommandModule = {
  ...doctorCommandLine,
  handler: async (args) => {
    const doctorArgs = args as unknown as DoctorArgs;
    // A bad timeout or group name is the same usage error here as in the full CLI, in the same order.
    const timeout = parseTimeout(args.timeout);
    const { lightGroups, runLightDoctor } = await import('../doctor/light-doctor.ts');
    if (!lightGroups(parseGroups(doctorArgs.check), Boolean(doctorArgs.fix))) throw new NotThisBundle('doctor needs the full CLI');
    const { doctorAction } = await import('./doctor-actions.ts');
    await doctorAction({ ...doctorArgs, timeout }, runLightDoctor);
  },
};

/** Runs doctor's light groups; resolves `false` (having done nothing) when argv asks for more. */
export function main(argv: string[]): Promise<boolean> {
  return runPartialCli(argv, lightDoctor);
}
