import type { Argv, CommandModule } from 'yargs';

export interface StatsArgs {
  config?: string;
  days?: unknown;
  agent?: unknown;
  provider?: unknown;
  json?: boolean;
}

export const statsCommand: CommandModule = {
  command: 'stats',
  describe: 'Requests, tokens, cost, retries, fallbacks, rate-limit waits and cache savings by day, agent, provider and model',
  builder: (y: Argv) =>
    y
      .option('days', { type: 'string', describe: 'Only the last N days, today included (default: everything kept, 90 days)' })
      .option('agent', { type: 'string', describe: 'Only this agent\'s model calls' })
      .option('provider', { type: 'string', describe: 'Only this provider\'s model calls' })
      .option('json', { type: 'boolean', describe: 'Print one JSON document' })
      .example('$0 stats --days 7', 'The last week, with a bar chart of the cost per day')
      .example('$0 stats --agent oracle --json', 'One agent\'s figures as JSON'),
  handler: async (args) => {
    const { statsAction } = await import('../stats-action.ts');
    await statsAction(args as unknown as StatsArgs);
  },
};
