import type { Argv, CommandModule } from 'yargs';

export interface TuiArgs {
  project?: unknown;
  config?: string;
  debug: boolean;
  port?: unknown;
  hostname?: unknown;
  cors?: unknown;
  mdns?: boolean;
  'mdns-domain'?: unknown;
  model?: unknown;
  continue?: boolean;
  session?: unknown;
  fork?: boolean;
  prompt?: unknown;
  agent?: unknown;
  auto?: boolean;
  mini?: boolean;
  replay?: boolean;
  'replay-limit'?: unknown;
  'print-logs'?: unknown;
  'log-level'?: unknown;
}

/**
 * `opencode [project]` with OpenCode's flags: OpenCode's terminal UI, attached to a Pantheon server
 * started for it (cli/tui/tui-action.ts). Registered instead of the other commands when the command
 * line names none (main.ts), so that a mistyped command is still named as one.
 */
export const tuiCommand: CommandModule = {
  command: '$0 [project]',
  describe: "Start OpenCode's terminal UI on a Pantheon server (needs OpenCode installed)",
  builder: (y: Argv) =>
    y
      .positional('project', { type: 'string', describe: 'Path to start in (default: the current folder)' })
      .option('port', { type: 'string', describe: "The server's port (default: a free one)" })
      .option('hostname', { type: 'string', describe: "The server's address (default: 127.0.0.1)" })
      .option('cors', { type: 'string', array: true, describe: 'Browser origin allowed to call the server (repeatable)' })
      .option('mdns', { type: 'boolean', describe: "OpenCode's mDNS discovery: not available (said on stderr)" })
      .option('mdns-domain', { type: 'string', describe: "OpenCode's mDNS domain: not available" })
      .option('model', { alias: 'm', type: 'string', describe: 'The model to start with (provider/model)' })
      .option('continue', { alias: 'c', type: 'boolean', describe: 'Continue the last session' })
      .option('session', { alias: 's', type: 'string', describe: 'Session id to continue' })
      .option('fork', { type: 'boolean', describe: 'Fork the session when continuing (with --continue or --session)' })
      .option('prompt', { type: 'string', describe: "OpenCode's first prompt: not passed to an attached TUI (said on stderr)" })
      .option('agent', { type: 'string', describe: 'The agent to start with' })
      .option('auto', { type: 'boolean', describe: "OpenCode's auto-approval: not passed to an attached TUI (said on stderr)" })
      .option('mini', { type: 'boolean', describe: "OpenCode's minimal interface" })
      .option('replay', { type: 'boolean', describe: '--no-replay: no mini session history replay' })
      .option('replay-limit', { type: 'string', describe: 'Cap the mini replay to the newest N messages' }),
  handler: async (args) => {
    const { tuiAction } = await import('../tui/tui-action.ts');
    await tuiAction(args as unknown as TuiArgs);
  },
};
