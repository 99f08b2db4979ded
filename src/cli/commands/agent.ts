import type { Argv, CommandModule } from 'yargs';

export interface AgentListArgs {
  config?: string;
  json?: boolean;
  all?: boolean;
}

export interface AgentShowArgs {
  config?: string;
  name: string;
  json?: boolean;
}

export const agentCommand: CommandModule = {
  command: 'agent',
  describe: 'List the agents, or show one with where each setting came from',
  builder: (y: Argv) =>
    y
      .command({
        command: 'list',
        aliases: ['ls'],
        describe: 'Agents with their mode, model chain and description',
        builder: (b: Argv) =>
          b
            .option('json', { type: 'boolean', describe: 'Print one JSON document' })
            .option('all', { type: 'boolean', default: false, describe: 'Include disabled agents' }),
        handler: async (args) => {
          const { agentList } = await import('../agent-actions.ts');
          await agentList(args as unknown as AgentListArgs);
        },
      })
      .command({
        command: 'show <name>',
        describe: 'One agent: model chain, permissions, tools, MCP servers, sampling, prompt, and their sources',
        builder: (b: Argv) =>
          b
            .positional('name', { type: 'string', describe: 'Agent name, as `agent list` shows it' })
            .option('json', { type: 'boolean', describe: 'Print one JSON document (with the whole prompt)' }),
        handler: async (args) => {
          const { agentShow } = await import('../agent-actions.ts');
          await agentShow(args as unknown as AgentShowArgs);
        },
      })
      .demandCommand(1, 'Name an action: list or show.'),
  handler: () => undefined,
};
