import type { Argv, CommandModule } from 'yargs';

export interface DashboardArgs {
  attach?: string;
  port?: unknown;
  hostname?: unknown;
  open?: boolean;
  config?: string;
  debug: boolean;
}

export const dashboardCommand: CommandModule = {
  command: 'dashboard',
  describe: 'The live dashboard: lanes, limits, fallbacks and spend in the browser (starts a server unless given one)',
  builder: (y: Argv) =>
    y
      .option('attach', { type: 'string', describe: 'URL of a running `opencode serve` to show instead of starting one' })
      .option('port', { type: 'string', describe: 'Port of the server it starts (default: server.port, else a free one)' })
      .option('hostname', { type: 'string', describe: 'Address of the server it starts (default: server.hostname, else 127.0.0.1)' })
      .option('open', { type: 'boolean', default: true, describe: 'Open a browser when there is a display (--no-open: only print the URL)' })
      .example('$0 dashboard', 'Start a server on 127.0.0.1 and print the dashboard URL')
      .example('$0 dashboard --attach http://127.0.0.1:4096', 'The dashboard of a server that already runs'),
  handler: async (args) => {
    const { dashboardAction } = await import('../dashboard-action.ts');
    await dashboardAction(args as unknown as DashboardArgs);
  },
};
