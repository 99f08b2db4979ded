import type { Argv, CommandModule } from 'yargs';

export interface McpArgs {
  config?: string;
  debug: boolean;
  json?: boolean;
  name?: string;
  tool?: string;
  args?: unknown;
}

const json = (b: Argv) => b.option('json', { type: 'boolean', describe: 'Print the result as JSON' });

export const mcpCommand: CommandModule = {
  command: 'mcp',
  describe: 'List MCP servers and their tools, or call a tool',
  builder: (y: Argv) =>
    y
      .command({
        command: 'list',
        aliases: ['ls'],
        describe: 'Start the enabled servers; show the state of each',
        builder: json,
        handler: async (args) => {
          const { mcpList } = await import('../mcp-actions.ts');
          await mcpList(args as unknown as McpArgs);
        },
      })
      .command({
        command: 'tools [name]',
        describe: 'The tools of a server (default: all) as the model sees them',
        builder: (b: Argv) => json(b).positional('name', { type: 'string', describe: 'MCP server name' }),
        handler: async (args) => {
          const { mcpTools } = await import('../mcp-actions.ts');
          await mcpTools(args as unknown as McpArgs);
        },
      })
      .command({
        command: 'call <name> <tool>',
        describe: 'Call one tool and print its result (for debugging)',
        builder: (b: Argv) =>
          json(b)
            .positional('name', { type: 'string', describe: 'MCP server name' })
            .positional('tool', { type: 'string', describe: 'Tool name, as the server names it or as exposed (<server>_<tool>)' })
            .option('args', { type: 'string', describe: 'Arguments as a JSON object (default {})' })
            .example('$0 mcp call memory read_graph', '')
            .example(`$0 mcp call everything echo --args '{"message":"hi"}'`, ''),
        handler: async (args) => {
          const { mcpCall } = await import('../mcp-actions.ts');
          await mcpCall(args as unknown as McpArgs);
        },
      })
      .command({
        command: 'auth [name]',
        describe: 'Explain how to authenticate a remote server (Pantheon has no MCP OAuth: a token goes in its headers)',
        builder: (b: Argv) => b.positional('name', { type: 'string', describe: 'MCP server name' }),
        handler: async (args) => {
          const { mcpAuth } = await import('../mcp-actions.ts');
          await mcpAuth(args as unknown as McpArgs);
        },
      })
      .demandCommand(1, 'Name an action: list, tools, call or auth.'),
  handler: () => undefined,
};
