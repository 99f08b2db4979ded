import type { Argv, CommandModule } from 'yargs';

export interface ExportArgs {
  sessionID?: string;
  sanitize?: boolean;
}

export const exportCommand: CommandModule = {
  command: 'export [sessionID]',
  describe: 'Print a session as JSON, as OpenCode’s `opencode export` does (the newest of this project without an id)',
  builder: (y: Argv) =>
    y
      .positional('sessionID', { type: 'string', describe: 'Session id (ses_…), as `session list` shows it' })
      .option('sanitize', { type: 'boolean', describe: 'Redact what was said and read (texts, tool input and output, file names), keep the shape' }),
  handler: async (args) => {
    const { exportSession } = await import('../export-action.ts');
    await exportSession(args as unknown as ExportArgs);
  },
};
