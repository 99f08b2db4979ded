import type { Argv, CommandModule } from 'yargs';

export interface ServeArgs {
  port?: unknown;
  hostname?: unknown;
  cors?: unknown;
  config?: string;
  debug: boolean;
}

export const serveCommand: CommandModule = {
  command: 'serve',
  describe: 'Run the server: OpenCode’s HTTP API with every model request through the scheduler',
  builder: (y: Argv) =>
    y
      .option('port', { type: 'string', describe: 'Port to listen on (default: server.port, else a free one)' })
      .option('hostname', { type: 'string', describe: 'Address to bind (default: server.hostname, else 127.0.0.1)' })
      .option('cors', { type: 'string', array: true, describe: 'Browser origin allowed to call the server (repeatable; localhost pages always are)' })
      .example('$0 serve', 'Listen on 127.0.0.1 and a free port; the URL is printed on stdout')
      .example('OPENCODE_SERVER_PASSWORD=… $0 serve --hostname 0.0.0.0 --port 4096', 'Listen on every interface, behind HTTP Basic auth'),
  handler: async (args) => {
    const { serveAction } = await import('../serve-action.ts');
    await serveAction(args as unknown as ServeArgs);
  },
};
