import type { Argv, CommandModule } from 'yargs';

export interface AttachTuiArgs {
  url?: unknown;
  dir?: unknown;
  continue?: boolean;
  session?: unknown;
  fork?: boolean;
  password?: unknown;
  username?: unknown;
  mini?: boolean;
  replay?: boolean;
  'replay-limit'?: unknown;
  config?: string;
  'print-logs'?: unknown;
  'log-level'?: unknown;
  debug: boolean;
}

/** `opencode attach URL`: OpenCode's TUI on a running server (cli/tui/tui-attach.ts); needs OpenCode installed. */
export const attachCommand: CommandModule = {
  command: 'attach <url>',
  describe: "Attach OpenCode's terminal UI to a running server, Pantheon's or OpenCode's (needs OpenCode installed)",
  builder: (y: Argv) =>
    y
      .positional('url', { type: 'string', describe: 'The server, e.g. http://127.0.0.1:4096 (what `opencode serve` prints)' })
      .option('dir', { type: 'string', describe: 'Folder to run in (on the server, when it runs elsewhere)' })
      .option('continue', { alias: 'c', type: 'boolean', describe: 'Continue the last session' })
      .option('session', { alias: 's', type: 'string', describe: 'Session id to continue' })
      .option('fork', { type: 'boolean', describe: 'Fork the session when continuing (with --continue or --session)' })
      .option('password', { alias: 'p', type: 'string', describe: "The server's Basic auth password (default: OPENCODE_SERVER_PASSWORD); passed in the TUI's environment, never printed" })
      .option('username', { alias: 'u', type: 'string', describe: "The server's Basic auth user (default: OPENCODE_SERVER_USERNAME, else opencode)" })
      .option('mini', { type: 'boolean', describe: "OpenCode's minimal interface" })
      .option('replay', { type: 'boolean', describe: '--no-replay: no mini session history replay' })
      .option('replay-limit', { type: 'string', describe: 'Cap the mini replay to the newest N messages' })
      .example('$0 attach http://127.0.0.1:4096', "OpenCode's TUI on the `opencode serve` listening there")
      .example('OPENCODE_SERVER_PASSWORD=… $0 attach https://box.example:4096 --dir /srv/app -c', 'Continue the last session of a project on another machine'),
  handler: async (args) => {
    const { tuiAttachAction } = await import('../tui/tui-attach.ts');
    await tuiAttachAction(args as unknown as AttachTuiArgs);
  },
};
