import type { Argv, CommandModule } from 'yargs';

export interface AcpArgs {
  cwd?: unknown;
  port?: unknown;
  hostname?: unknown;
  config?: string;
  debug: boolean;
}

export const acpCommand: CommandModule = {
  command: 'acp',
  describe: 'Start the Agent Client Protocol server (JSON-RPC on stdin/stdout) for editors: Zed, JetBrains, Neovim',
  builder: (y: Argv) =>
    y
      .option('cwd', { type: 'string', describe: 'Working directory: the project of sessions that name none (default: the current one)' })
      .option('port', { type: 'string', describe: 'OpenCode\u2019s: the port of its internal server. Pantheon runs none for ACP; accepted and ignored' })
      .option('hostname', { type: 'string', describe: 'OpenCode\u2019s: the address of its internal server; accepted and ignored' })
      .option('mdns', { type: 'boolean', describe: 'OpenCode\u2019s; accepted and ignored', hidden: true })
      .option('mdns-domain', { type: 'string', describe: 'OpenCode\u2019s; accepted and ignored', hidden: true })
      .option('cors', { type: 'string', array: true, describe: 'OpenCode\u2019s; accepted and ignored', hidden: true })
      .example('$0 acp', 'What an editor runs: "agent_servers": {"OpenCode": {"command": "opencode", "args": ["acp"]}} in Zed\u2019s settings')
      .epilogue('Only protocol messages go to stdout; warnings and errors go to stderr. See docs/acp.md.'),
  handler: async (args) => {
    const { acpAction } = await import('../acp-action.ts');
    await acpAction(args as unknown as AcpArgs);
  },
};
