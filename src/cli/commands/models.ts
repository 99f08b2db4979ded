import type { Argv, CommandModule } from 'yargs';

export interface ModelsArgs {
  config?: string;
  provider?: string;
  json?: boolean;
}

export const modelsCommand: CommandModule = {
  command: 'models [provider]',
  describe: 'Configured models with their limits, rate limits, prices and the agents that use them',
  builder: (y: Argv) =>
    y
      .positional('provider', { type: 'string', describe: 'Only this provider\'s models' })
      .option('json', { type: 'boolean', describe: 'Print one JSON document' }),
  handler: async (args) => {
    const { modelsAction } = await import('../models-action.ts');
    await modelsAction(args as unknown as ModelsArgs);
  },
};
