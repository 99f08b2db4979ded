import type { Argv, CommandModule } from 'yargs';

export interface RunArgs {
  message?: string[];
  agent?: string;
  model?: string;
  file?: string[];
  format: 'default' | 'json';
  config?: string;
  cache: boolean;
  timeout?: number;
  debug: boolean;
}

export const runCommand: CommandModule = {
  command: 'run [message..]',
  describe: 'Run an agent on a message (piped stdin is appended) and stream the answer',
  builder: (y: Argv) =>
    y
      .positional('message', { type: 'string', array: true, describe: 'The message' })
      .option('agent', { alias: 'a', type: 'string', describe: 'Agent to run (default: default_agent)' })
      .option('model', { alias: 'm', type: 'string', describe: 'provider/model[:variant]: replaces the head of the agent\'s chain' })
      .option('file', { alias: 'f', type: 'string', array: true, describe: 'Attach a file (text inline, images as file parts); repeatable' })
      .option('format', { choices: ['default', 'json'] as const, default: 'default' as const, describe: 'default: text; json: one event per line' })
      .option('cache', { type: 'boolean', default: true, describe: 'Use the response cache (--no-cache to skip it)' })
      .option('timeout', { type: 'number', describe: 'Per-attempt timeout in ms (no response or no progress for this long)' })
      .example('$0 run --agent oracle "Review this design for scaling problems"', '')
      .example('git diff | $0 run -a momus "Review this change"', ''),
  handler: async (args) => {
    const { runAction } = await import('../run-action.ts');
    await runAction(args as unknown as RunArgs);
  },
};
