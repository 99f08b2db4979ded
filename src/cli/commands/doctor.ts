import type { CommandModule } from 'yargs';
import { doctorCommandLine, type DoctorArgs } from './doctor-flags.ts';
import { parseTimeout } from './run-flags.ts';

/** `opencode doctor` in the full CLI: every group and `--fix` (run-doctor.ts). */
export const doctorCommand: CommandModule = {
  ...doctorCommandLine,
  handler: async (args) => {
    const timeout = parseTimeout(args.timeout);
    const { doctorAction } = await import('../doctor-actions.ts');
    const { runDoctor } = await import('../../doctor/run-doctor.ts');
    await doctorAction({ ...(args as unknown as DoctorArgs), timeout }, runDoctor);
  },
};
