import type { Argv, CommandModule } from 'yargs';

export interface AuthArgs {
  config?: string;
  provider?: string;
  keyStdin?: boolean;
  method?: string;
  verify?: boolean;
  json?: boolean;
}

export const authCommand: CommandModule = {
  command: 'auth',
  // OpenCode's name for it (`opencode providers login`), `auth` being its alias there.
  aliases: ['providers'],
  describe: "Log in to providers (API keys; GitHub Copilot's and ChatGPT's logins), list and remove them (OpenCode's auth.json)",
  builder: (y: Argv) =>
    y
      .command({
        command: 'login [provider]',
        describe: 'Save a provider API key (masked prompt, or --key-stdin)',
        builder: (b: Argv) =>
          b
            .positional('provider', { type: 'string', describe: 'Provider id, e.g. nvidia-nim (chosen from a list on a terminal when left out)' })
            .option('key-stdin', { type: 'boolean', default: false, describe: 'Read the key from stdin (surrounding whitespace is trimmed)' })
            .option('verify', { type: 'boolean', default: true, describe: 'Check the key with GET <baseURL>/models first (--no-verify to skip)' })
            .option('method', { alias: 'm', type: 'string', describe: "A plugin's login method, by its label (a project plugin's auth hook that logs in to the provider)" })
            .example('$0 auth login nvidia-nim', '')
            .example('printf %s "$KEY" | $0 auth login openrouter --key-stdin', ''),
        handler: async (args) => {
          const { authLogin } = await import('../auth-actions.ts');
          await authLogin(args as unknown as AuthArgs);
        },
      })
      .command({
        command: 'list',
        aliases: ['ls', 'status'],
        describe: 'Where each provider key comes from, masked; agents without one',
        builder: (b: Argv) => b.option('json', { type: 'boolean', describe: 'Print one JSON document' }),
        handler: async (args) => {
          const { authList } = await import('../auth-actions.ts');
          await authList(args as unknown as AuthArgs);
        },
      })
      .command({
        command: 'logout [provider]',
        describe: 'Remove a provider from auth.json (other entries kept)',
        builder: (b: Argv) => b.positional('provider', { type: 'string', describe: 'Provider id to remove' }),
        handler: async (args) => {
          const { authLogout } = await import('../auth-actions.ts');
          await authLogout(args as unknown as AuthArgs);
        },
      })
      .demandCommand(1, 'Name an action: login, list or logout.'),
  handler: () => undefined,
};
