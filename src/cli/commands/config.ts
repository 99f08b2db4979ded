import type { Argv, CommandModule } from 'yargs';

interface ConfigArgs {
  config?: string;
  debug: boolean;
  json?: boolean;
  file?: string;
  preset?: unknown;
  force?: boolean;
  out?: unknown;
}

export const configCommand: CommandModule = {
  command: 'config',
  describe: 'Validate, show or create configuration',
  builder: (y: Argv) =>
    y
      .command({
        command: 'validate [file]',
        describe: 'Check the merged configuration (or one FILE) against the schema; exit 2 when invalid',
        builder: (b: Argv) =>
          b
            .positional('file', { type: 'string', describe: 'A config file to check on its own (with its extends)' })
            .option('json', { type: 'boolean', describe: 'Print the result as JSON' }),
        handler: async (args) => {
          const { configValidate } = await import('../config-actions.ts');
          await configValidate(args as unknown as ConfigArgs);
        },
      })
      .command({
        command: 'show',
        describe: 'Print the merged configuration, secrets masked, with where each value came from',
        builder: (b: Argv) => b.option('json', { type: 'boolean', describe: 'Print the merged configuration as JSON' }),
        handler: async (args) => {
          const { configShow } = await import('../config-actions.ts');
          await configShow(args as unknown as ConfigArgs);
        },
      })
      .command({
        command: 'init',
        describe: 'Write a commented opencode.jsonc that extends a preset',
        builder: (b: Argv) =>
          b
            .option('preset', { type: 'string', demandOption: true, describe: 'Preset to start from: default, oh-my-opencode, free-tier, local' })
            .option('force', { type: 'boolean', default: false, describe: 'Overwrite an existing file' })
            .option('out', { type: 'string', default: 'opencode.jsonc', describe: 'File to write (.jsonc keeps comments; .json is plain JSON)' }),
        handler: async (args) => {
          const { configInit } = await import('../config-actions.ts');
          await configInit(args as unknown as ConfigArgs);
        },
      })
      .demandCommand(1, 'Name an action: validate, show or init.'),
  handler: () => undefined,
};
