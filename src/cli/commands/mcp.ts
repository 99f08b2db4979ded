import type { Argv, CommandModule } from 'yargs';

export interface McpArgs {
  config?: string;
  debug: boolean;
  json?: boolean;
  name?: string;
  tool?: string;
  args?: unknown;
  timeout?: unknown;
}

export interface McpAddArgs {
  config?: string;
  name?: unknown;
  url?: unknown;
  header?: unknown;
  env?: unknown;
  project?: boolean;
}

const json = (b: Argv) => b.option('json', { type: 'boolean', describe: 'Print the result as JSON' });

export const mcpCommand: CommandModule = {
  command: 'mcp',
  describe: 'List MCP servers and their tools, call a tool, sign in with OAuth',
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
        describe: 'Sign in to a remote server with OAuth (a browser opens, or open the URL printed); `mcp auth list`: which servers are signed in',
        builder: (b: Argv) =>
          json(b)
            .positional('name', { type: 'string', describe: 'MCP server name, or `list` (`ls`)' })
            .option('timeout', { type: 'number', describe: 'Seconds to wait for the browser to come back (default 300)' })
            .example('$0 mcp auth linear', '')
            .example('$0 mcp auth list', ''),
        handler: async (args) => {
          const { mcpAuthList, mcpAuthLogin } = await import('../mcp-auth-actions.ts');
          // `list` as OpenCode's subcommand; a positional here, so that yargs does not take a server name for a mistyped `ls`.
          if (args.name === 'list' || args.name === 'ls') await mcpAuthList(args as unknown as McpArgs);
          else await mcpAuthLogin(args as unknown as McpArgs);
        },
      })
      .command({
        command: 'add [name]',
        describe: 'Add a server to the global config (--project: the project\'s), as OpenCode does: --url URL for a remote one, or the command after --',
        builder: (b: Argv) =>
          b
            // The local server's command line comes after `--`, kept apart (args['--']) from Pantheon's own arguments.
            .parserConfiguration({ 'populate--': true })
            .positional('name', { type: 'string', describe: 'MCP server name (asked on a terminal when left out)' })
            .option('url', { type: 'string', describe: 'URL of a remote MCP server' })
            .option('header', { type: 'string', array: true, describe: 'HTTP header for a remote server (KEY=VALUE, repeatable)' })
            .option('env', { type: 'string', array: true, describe: 'Environment variable for a local server (KEY=VALUE, repeatable)' })
            .option('project', { type: 'boolean', describe: 'Write the project\'s opencode.json instead of the global config' })
            .example('$0 mcp add docs --url https://example.com/mcp --header "Authorization=Bearer {env:DOCS_TOKEN}"', '')
            .example('$0 mcp add files -- npx -y @modelcontextprotocol/server-filesystem .', ''),
        handler: async (args) => {
          const { mcpAdd } = await import('../mcp-add-action.ts');
          await mcpAdd(args as unknown as McpAddArgs, (args['--'] as string[] | undefined) ?? []);
        },
      })
      .command({
        command: 'logout [name]',
        describe: 'Remove a server\u2019s OAuth credentials',
        builder: (b: Argv) => b.positional('name', { type: 'string', describe: 'MCP server name' }),
        handler: async (args) => {
          const { mcpLogout } = await import('../mcp-auth-actions.ts');
          await mcpLogout(args as unknown as McpArgs);
        },
      })
      .command({
        command: 'debug <name>',
        describe: 'Show a remote server\u2019s OAuth state (never a token) and what it answers',
        builder: (b: Argv) => b.positional('name', { type: 'string', describe: 'MCP server name' }),
        handler: async (args) => {
          const { mcpDebug } = await import('../mcp-auth-actions.ts');
          await mcpDebug(args as unknown as McpArgs);
        },
      })
      .demandCommand(1, 'Name an action: list, tools, call, add, auth, logout or debug.'),
  handler: () => undefined,
};
