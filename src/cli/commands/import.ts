import type { Argv, CommandModule } from 'yargs';

export interface ImportArgs {
  file: string;
}

export const importCommand: CommandModule = {
  command: 'import <file>',
  describe: 'Add a session from an `opencode export` file (OpenCode’s or Pantheon’s) or an OpenCode share link to this project',
  builder: (y: Argv) => y.positional('file', { type: 'string', describe: 'A JSON file, or a share link (https://…/share/<id>)' }),
  handler: async (args) => {
    const { importSession } = await import('../import-action.ts');
    await importSession(args as unknown as ImportArgs);
  },
};
