/** `opencode doctor`'s flags and words, shared by the full CLI (doctor.ts) and the doctor bundle (src/cli/doctor-main.ts). */
import type { Argv, CommandModule } from 'yargs';

export interface DoctorArgs {
  check?: string[];
  json?: boolean;
  fix?: boolean;
  timeout?: number;
  config?: string;
}

/** The command's line: its name, words and flags; the handler is the full CLI's or the doctor bundle's (src/cli/doctor-main.ts). */
export const doctorCommandLine: Omit<CommandModule, 'handler'> = {
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
};
