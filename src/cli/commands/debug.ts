import type { Argv, CommandModule } from 'yargs';
import type * as DebugActions from '../debug-actions.ts';

export interface DebugArgs {
  config?: string;
  json?: boolean;
  name?: string;
  tool?: unknown;
  params?: unknown;
  auto?: boolean;
  file?: string;
}

/** OpenCode's `debug` actions that have no Pantheon counterpart, with the one sentence each answers. */
export const DEBUG_NOT_HERE: Readonly<Record<string, { describe: string; sentence: string; hint: string }>> = {
  rg: {
    describe: 'OpenCode\'s ripgrep utilities (Pantheon searches in-process: `debug agent NAME --tool grep|glob`)',
    sentence: 'Pantheon does not use ripgrep: its grep and glob tools search in-process.',
    hint: 'Run one as an agent would: `opencode debug agent build --tool grep --params \'{"pattern":"TODO"}\'` (or --tool glob).',
  },
  file: {
    describe: 'OpenCode\'s file utilities (Pantheon: `debug agent NAME --tool read|list|glob`)',
    sentence: 'Pantheon has no separate file debugging commands: its read, list and glob tools are the file system as agents see it.',
    hint: 'Run one as an agent would: `opencode debug agent build --tool read --params \'{"filePath":"README.md"}\'` (or --tool list, --tool glob).',
  },
  snapshot: {
    describe: 'OpenCode\'s snapshot utilities (Pantheon keeps no snapshots)',
    sentence: 'Pantheon keeps no snapshots of the work tree: a session records each file edit\'s diff instead.',
    hint: '`opencode session show ID` lists a session\'s messages; git shows what changed.',
  },
  v2: {
    describe: 'OpenCode\'s v2 catalogue and built-in plugins (Pantheon loads OpenCode\'s plugins, not its v2 catalogue)',
    sentence: 'Pantheon has no v2 plugin catalogue: it loads OpenCode\'s plugins and custom tools (docs/plugins.md), not its built-in v2 ones.',
    hint: '`opencode doctor` lists the project\'s plugins and custom tools and what did not load; `opencode models` the models the config can use.',
  },
};

const json = (b: Argv) => b.option('json', { type: 'boolean', describe: 'Print one JSON document' });
/** The actions that print JSON anyway take `--json` too (errors then come as JSON on stdout). */
const alwaysJson = (b: Argv) => b.option('json', { type: 'boolean', describe: 'Accepted: the output is JSON anyway' });

function action(command: string, describe: string, run: (actions: typeof DebugActions, args: DebugArgs) => Promise<void>, builder: (b: Argv) => Argv = (b) => b): CommandModule {
  return {
    command,
    describe,
    builder,
    handler: async (args) => {
      const actions = await import('../debug-actions.ts');
      await run(actions, args as unknown as DebugArgs);
    },
  };
}

export const debugCommand: CommandModule = {
  command: 'debug',
  describe: 'OpenCode\'s troubleshooting commands, answered by Pantheon: config, paths, agent, skill, info, startup, scrap, wait, lsp diagnostics',
  builder: (y: Argv) => {
    let cli = y
      .command(action('config', 'The resolved (merged) configuration as JSON, secrets redacted', (a, args) => a.debugConfig(args), alwaysJson))
      .command(action('paths', 'Pantheon\'s folders: home, data, cache, config, state, auth', (a, args) => a.debugPaths(args), json))
      .command(
        action(
          'agent <name>',
          'An agent\'s resolved configuration as JSON; with --tool, run one tool as that agent (its permissions apply)',
          (a, args) => a.debugAgent(args),
          (b) =>
            alwaysJson(b)
              .positional('name', { type: 'string', describe: 'Agent name, as `agent list` shows it' })
              .option('tool', { type: 'string', describe: 'Tool id to execute (a built-in: read, list, glob, grep, write, edit, bash, webfetch)' })
              .option('params', { type: 'string', describe: 'Tool params as a JSON object (default {})' })
              .option('auto', { type: 'boolean', default: false, describe: 'Approve the call when the agent\'s permission says `ask`' })
              .example(`$0 debug agent build --tool read --params '{"filePath":"opencode.json"}'`, ''),
        ),
      )
      .command(action('skill', 'The skills found, as OpenCode lists them (name, description, location, content)', (a, args) => a.debugSkill(args), alwaysJson))
      .command(action('info', 'Versions, platform and the config files found', (a, args) => a.debugInfo(args), json))
      .command(action('startup', 'Pantheon\'s start-up phases, measured in this process (ms)', (a, args) => a.debugStartup(args), json))
      .command(action('scrap', 'The known projects (every folder with saved sessions) as JSON', (a, args) => a.debugScrap(args), alwaysJson))
      .command(action('wait', 'Wait until interrupted (for debugging)', (a) => a.debugWait()))
      .command({
        command: 'lsp',
        describe: 'OpenCode\'s LSP utilities: `diagnostics <file>` (the config\'s language servers, as `edit` and `write` run them)',
        builder: (b: Argv) =>
          b
            .command(action('diagnostics <file>', 'A file\'s diagnostics from the config\'s language servers, as JSON (every file they reported on)', (a, args) => a.debugLspDiagnostics(args), (c) => alwaysJson(c).positional('file', { type: 'string', describe: 'The file (relative to the current folder)' })))
            .command({ command: 'symbols [args..]', describe: 'OpenCode\'s workspace symbol search (not in Pantheon)', builder: (c: Argv) => c.strict(false), handler: async () => (await import('../debug-actions.ts')).debugLspSymbols() })
            .command({ command: 'document-symbols [args..]', describe: 'OpenCode\'s document symbols (not in Pantheon)', builder: (c: Argv) => c.strict(false), handler: async () => (await import('../debug-actions.ts')).debugLspSymbols() })
            .demandCommand(1, 'Name an action: diagnostics <file>.'),
        handler: () => undefined,
      });
    for (const [name, what] of Object.entries(DEBUG_NOT_HERE)) {
      cli = cli.command({
        command: `${name} [args..]`,
        describe: what.describe,
        builder: (b: Argv) => b.strict(false),
        handler: async () => {
          const { debugNotHere } = await import('../debug-actions.ts');
          debugNotHere(name);
        },
      });
    }
    return cli.demandCommand(1, 'Name an action: config, paths, agent, skill, info, startup, scrap, wait or lsp.');
  },
  handler: () => undefined,
};
