import type { Argv, CommandModule } from 'yargs';

export interface SessionListArgs {
  json?: boolean;
  all?: boolean;
  /** `--format table|json` (OpenCode's): json prints OpenCode's list of sessions. */
  format?: unknown;
  /** `-n/--max-count N` (OpenCode's): only the N most recent. */
  maxCount?: unknown;
}

export interface SessionShowArgs {
  id: string;
  json?: boolean;
}

export interface SessionDeleteArgs {
  id: string;
}

export const sessionCommand: CommandModule = {
  command: 'session',
  describe: 'List, show and delete saved sessions (every `run` is one)',
  builder: (y: Argv) =>
    y
      .command({
        command: 'list',
        aliases: ['ls'],
        describe: 'Sessions of this project, newest first',
        builder: (b: Argv) =>
          b
            .option('max-count', { alias: 'n', type: 'string', describe: 'Only the N most recent sessions (0: all, as OpenCode)' })
            .option('format', { choices: ['table', 'json'] as const, default: 'table' as const, describe: 'json: OpenCode\'s list, one object per session ({id, title, updated, created, projectId, directory}, then Pantheon\'s agent, messageCount, usage, costUSD)' })
            .option('json', { type: 'boolean', describe: 'Pantheon\'s JSON document: {projectRoot, all, sessions, problems}' })
            .option('all', { type: 'boolean', default: false, describe: 'Sessions of every project' })
            .example('$0 session list -n 5 --format json', 'The 5 most recent sessions as OpenCode lists them'),
        handler: async (args) => {
          const { sessionList } = await import('../session-actions.ts');
          await sessionList(args as unknown as SessionListArgs);
        },
      })
      .command({
        command: 'show <id>',
        describe: 'One session: its details and messages',
        builder: (b: Argv) =>
          b
            .positional('id', { type: 'string', describe: 'Session id (ses_…), as `session list` shows it' })
            .option('json', { type: 'boolean', describe: 'Print the whole session as JSON' }),
        handler: async (args) => {
          const { sessionShow } = await import('../session-actions.ts');
          await sessionShow(args as unknown as SessionShowArgs);
        },
      })
      .command({
        command: 'delete <id>',
        describe: 'Delete a session, and the child sessions of its `task` calls with it',
        builder: (b: Argv) => b.positional('id', { type: 'string', describe: 'Session id (ses_…), as `session list` shows it' }),
        handler: async (args) => {
          const { sessionDelete } = await import('../session-actions.ts');
          await sessionDelete(args as unknown as SessionDeleteArgs);
        },
      })
      .demandCommand(1, 'Name an action: list, show or delete.'),
  handler: () => undefined,
};
