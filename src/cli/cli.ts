import { exitAfterOutput, pluginCodeRan } from '../plugins/loaded-code.ts';
import { abandonBackgroundWork } from '../background-work.ts';
import yargs, { type CommandModule } from 'yargs';
import { setDebugSink } from '../debug-note.ts';
import { PantheonError } from '../errors.ts';
import { completionArgv } from './completion-shell.ts';
import { applyLogFlags, LOG_OPTIONS } from './log-flags.ts';
import { exitWhenOutputCloses } from './output-closed.ts';
import { oneValue } from './one-value.ts';
import { renderError } from './render-error.ts';
import { NO_COMMAND, usageError } from './usage-error.ts';
import { version } from './version.ts';

/**
 * Thrown by a command of a partial bundle (src/cli/attach-main.ts, doctor-main.ts) when the parsed
 * arguments are not its to run, before it has done anything: the loader then runs the full CLI
 * with the same argv.
 */
export class NotThisBundle extends Error {}

/** Runs a partial bundle's command; resolves `false` (having done nothing) when it threw NotThisBundle. */
export async function runPartialCli(argv: string[], command: CommandModule): Promise<boolean> {
  try {
    await runCli(argv, [command]);
    return true;
  } catch (error) {
    if (error instanceof NotThisBundle) return false;
    throw error;
  }
}

/** `--config PATH` names one file: given empty or twice, it is a usage error rather than ignored or an internal error. */
function checkConfigFlag(args: { config?: unknown }): void {
  const value = oneValue(args.config, '--config', 'config file', 'Give --config once; the files it would layer can `extends` one another.');
  if (value !== undefined && value.trim() === '') {
    throw new PantheonError('USAGE', '--config: expected a config file, found nothing.', { hint: 'For example --config ./team.jsonc, or leave it out.' });
  }
}

/** Builds the yargs parser for `commands`: parsing only; each command's handler lazily imports the core it needs. */
export function buildCli(argv: string[], commands: readonly CommandModule[]) {
  let cli = yargs(argv)
    .scriptName('opencode')
    .usage("$0 <command> [options]\n\nPantheon: multi-agent LLM orchestration with rate limits, retries and fallback chains for OpenCode-style configs.\n`opencode [project]` alone starts OpenCode's own terminal UI (when OpenCode is installed) on a Pantheon server.")
    .option('config', { type: 'string', describe: 'Config file applied above every discovered file', global: true })
    .option('debug', { type: 'boolean', describe: 'Show stack traces and internal details', global: true, default: false })
    .options(LOG_OPTIONS)
    .middleware(checkConfigFlag, true)
    .middleware(applyLogFlags, true);
  for (const command of commands) cli = cli.command(command);
  return cli
    .demandCommand(1, NO_COMMAND)
    .strict()
    .recommendCommands()
    .completion('completion', 'Print a shell completion script: `completion bash` or `completion zsh` (else $SHELL picks)')
    .version(version)
    .alias('h', 'help')
    .alias('v', 'version')
    .wrap(process.stdout.isTTY ? Math.min(120, process.stdout.columns) : null)
    .fail((message, error) => {
      if (error) throw error;
      throw usageError(message, argv);
    });
}

/**
 * yargs renders a command's whole help text right after starting its handler, in case the handler
 * fails later and help is shown; Pantheon renders its own errors and never shows that text, so the
 * rendering (~10% of a `run`'s start-up CPU) is skipped. `--help` still renders help when asked.
 */
function skipHelpCache<T>(cli: T): T {
  type Internals = { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } };
  const usage = (cli as Internals).getInternalMethods?.().getUsageInstance?.();
  if (usage?.cacheHelpMessage) usage.cacheHelpMessage = () => undefined;
  return cli;
}

/** Parse `argv` with `commands`, run, render errors once, set the exit code. */
export async function runCli(argv: string[], commands: readonly CommandModule[]): Promise<void> {
  exitWhenOutputCloses();
  const debug = argv.includes('--debug');
  if (debug) setDebugSink((text) => process.stderr.write(`debug: ${text}\n`));
  const json = argv.includes('--json') || argv.includes('--format=json') || argv.join(' ').includes('--format json');
  try {
    await skipHelpCache(buildCli(completionArgv(argv, process.env), commands)).parseAsync();
  } catch (error) {
    if (error instanceof NotThisBundle) throw error;
    const { text, exitCode } = renderError(error, { debug, json });
    if (json && exitCode !== 0) process.stdout.write(text);
    else process.stderr.write(text);
    process.exitCode = exitCode;
  }
  // The command is done: what it started behind its work (a Copilot model list refreshed behind the kept one) is abandoned, not waited for.
  abandonBackgroundWork('the command ended');
  // A plugin's timers, sockets or processes would keep Node running after the command is done (OpenCode's process exits).
  if (pluginCodeRan()) await exitAfterOutput();
}
