import type { Argv, CommandModule } from 'yargs';
import { parseTimeout } from './run-flags.ts';

export interface DoctorArgs {
  check?: string[];
  json?: boolean;
  fix?: boolean;
  timeout?: number;
  config?: string;
}

export const doctorCommand: CommandModule = {
  command: 'doctor',
  describe: 'Check config, keys, providers, MCP servers, stores and runtime; exit 1 when something fails',
  builder: (y: Argv) =>
    y
      .option('check', { type: 'string', array: true, describe: 'Run only these groups (repeatable): config, auth, models, mcp, cache (cache, ledger and state store: SQLite or Redis), runtime' })
      .option('json', { type: 'boolean', describe: 'Print one JSON document {ok, checks, fixed}' })
      .option('fix', { type: 'boolean', describe: 'Repair what is safe (file modes, missing folders, stale ledger rows, in Redis too); never edits the config' })
      .option('timeout', { type: 'string', describe: 'Timeout of each provider probe in ms (default 3000)' })
      .example('$0 doctor', '')
      .example('$0 doctor --check models --check auth', '')
      .example('$0 doctor --fix', ''),
  handler: async (args) => {
    const timeout = parseTimeout(args.timeout);
    const { doctorAction } = await import('../doctor-actions.ts');
    await doctorAction({ ...(args as unknown as DoctorArgs), timeout });
  },
};
