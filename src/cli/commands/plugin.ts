import type { Argv, CommandModule } from 'yargs';

export interface PluginArgs {
  config?: string;
  module?: unknown;
  global?: boolean;
  force?: boolean;
}

export const pluginCommand: CommandModule = {
  command: 'plugin <module>',
  aliases: ['plug'],
  describe: "Install an npm plugin and add it to the config's plugin list (OpenCode's command)",
  builder: (y: Argv) =>
    y
      .positional('module', { type: 'string', describe: 'npm module name, optionally @version' })
      .option('global', { alias: 'g', type: 'boolean', default: false, describe: "Add it to the global config (~/.config/opencode) instead of the project's .opencode/" })
      .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Replace an entry for the same package (another version)' })
      .example('$0 plugin opencode-wakatime', '')
      .example('$0 plugin -g @scope/name@1.2.0', ''),
  handler: async (args) => {
    const { pluginAction } = await import('../plugin-action.ts');
    await pluginAction(args as unknown as PluginArgs);
  },
};
