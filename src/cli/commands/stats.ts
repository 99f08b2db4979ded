import type { Argv, CommandModule } from 'yargs';
import { PantheonError } from '../../errors.ts';

export interface StatsArgs {
  config?: string;
  days?: unknown;
  agent?: string;
  provider?: string;
  json?: boolean;
}

/** The longest period `--days` accepts (the usage log itself keeps 90 days; sessions may go further back). */
export const MAX_DAYS = 3650;

/** `--days N`: a whole number of days from 1 to 3650, or undefined when not given. */
export function parseDays(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const text = String(Array.isArray(value) ? value[value.length - 1] : value).trim();
  const days = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(days) || days < 1 || days > MAX_DAYS) {
    const shown = text.length > 40 ? `${text.slice(0, 39)}…` : text;
    throw new PantheonError('USAGE', `--days: expected a whole number of days from 1 to ${MAX_DAYS.toLocaleString('en-US')}, found ${JSON.stringify(shown)}.`, {
      hint: 'For example --days 7 (today and the 6 days before it).',
    });
  }
  return days;
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
