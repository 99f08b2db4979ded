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

export interface AgentCreateArgs {
  config?: string;
  path?: unknown;
  description?: unknown;
  mode?: unknown;
  permissions?: unknown;
  model?: unknown;
}

export const agentCommand: CommandModule = {
  command: 'agent',
  describe: 'List the agents, show one with where each setting came from, or create one',
  builder: (y: Argv) =>
    y
      .command({
        command: 'list',
        aliases: ['ls'],
        describe: 'Agents with their mode, model chain and description',
        builder: (b: Argv) =>
          b
            .option('json', { type: 'boolean', describe: 'Print one JSON document' })
            .option('all', { type: 'boolean', default: false, describe: 'Include disabled agents, and built-ins a plugin\'s config hook replaced' }),
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
      .command({
        command: 'create',
        describe: 'Have a model write a new agent (OpenCode\'s command): its file goes to PATH/agents/<name>.md',
        builder: (b: Argv) =>
          b
            .option('path', { type: 'string', describe: 'Folder the agent goes under (PATH/agents/): .opencode for the project, ~/.config/opencode for every project; asked on a terminal' })
            .option('description', { type: 'string', describe: 'What the agent should do' })
            .option('mode', { type: 'string', choices: ['all', 'primary', 'subagent'], describe: 'Agent mode' })
            .option('permissions', { type: 'string', alias: ['tools'], describe: 'Comma-separated permissions to allow (the others are denied; empty: all): bash, read, edit, glob, grep, webfetch, task, todowrite, websearch, lsp, skill' })
            .option('model', { type: 'string', alias: ['m'], describe: 'Model that writes the agent, provider/model (default: the config\'s model)' })
            .example('$0 agent create --path .opencode --description "reviews code for security problems" --mode subagent --permissions read,grep,glob', ''),
        handler: async (args) => {
          const { agentCreate } = await import('../agent-create-action.ts');
          await agentCreate(args as unknown as AgentCreateArgs);
        },
      })
      .demandCommand(1, 'Name an action: list, show or create.'),
  handler: () => undefined,
};
