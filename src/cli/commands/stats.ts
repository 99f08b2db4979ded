import type { Argv, CommandModule } from 'yargs';

export interface StatsArgs {
  config?: string;
  days?: unknown;
  agent?: unknown;
  provider?: unknown;
  json?: boolean;
  /** `--models [N]` (OpenCode's): the MODEL table's N busiest models. */
  models?: unknown;
  /** `--tools [N]` (OpenCode's): a TOOL table of the N most used tools, from saved sessions. */
  tools?: unknown;
  /** `--project [PATH|ID]` (OpenCode's): only that project's sessions; empty: this project. */
  project?: unknown;
}

export const statsCommand: CommandModule = {
  command: 'stats',
  describe: 'Requests, tokens, cost, retries, fallbacks, rate-limit waits and cache savings by day, agent, provider and model',
  builder: (y: Argv) =>
    y
      .option('days', { type: 'string', describe: 'Only the last N days, today included (default: everything kept, 90 days)' })
      .option('agent', { type: 'string', describe: 'Only this agent\'s model calls' })
      .option('provider', { type: 'string', describe: 'Only this provider\'s model calls' })
      .option('models', { type: 'string', describe: 'OpenCode\'s: the MODEL table (always shown here) with only the N busiest models; no N: all' })
      .option('tools', { type: 'string', describe: 'Add a TOOL table of the N most used tools, counted from saved sessions; no N: all' })
      .option('project', { type: 'string', describe: 'Only the calls of one project\'s sessions: a folder or a projectId (as `session list --format json` shows); empty (--project \'\'): this project' })
      .option('json', { type: 'boolean', describe: 'Print one JSON document' })
      .example('$0 stats --days 7', 'The last week, with a bar chart of the cost per day')
      .example('$0 stats --agent oracle --json', 'One agent\'s figures as JSON')
      .example('$0 stats --project "" --models 3 --tools 5', 'This project: its 3 busiest models and 5 most used tools'),
  handler: async (args) => {
    const { statsAction } = await import('../stats-action.ts');
    await statsAction(args as unknown as StatsArgs);
  },
};
