import type { Argv, CommandModule } from 'yargs';

export interface ModelsArgs {
  config?: string;
  provider?: string;
  json?: boolean;
  /** `--verbose` (OpenCode's): each model's `provider/model` line, then its metadata as OpenCode's JSON. */
  verbose?: boolean;
  /** `--refresh` (OpenCode's): the models.dev catalogue ships with Pantheon; said on stderr. */
  refresh?: boolean;
  /** `--table`: the table even when stdout is not a terminal. */
  table?: boolean;
}

export const modelsCommand: CommandModule = {
  command: 'models [provider]',
  describe: 'Configured models with their limits, rate limits, prices and the agents that use them (piped: one provider/model a line, as OpenCode)',
  builder: (y: Argv) =>
    y
      .positional('provider', { type: 'string', describe: 'Only this provider\'s models' })
      .option('json', { type: 'boolean', describe: 'Print one JSON document' })
      .option('verbose', { type: 'boolean', describe: 'Each model\'s provider/model line, then its metadata (costs, limits, capabilities) as OpenCode\'s JSON' })
      .option('refresh', { type: 'boolean', describe: 'OpenCode\'s models.dev refresh: Pantheon\'s catalogue ships with the package, so it is said and the list printed' })
      .option('table', { type: 'boolean', describe: 'The table even when stdout is not a terminal (piped, the list is one provider/model a line)' })
      .example('$0 models', 'On a terminal: the table; piped: one provider/model a line')
      .example('$0 models local --verbose', 'Each model with its metadata as JSON'),
  handler: async (args) => {
    const { modelsAction } = await import('../models-action.ts');
    await modelsAction(args as unknown as ModelsArgs);
  },
};
