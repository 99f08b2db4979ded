import yargs from 'yargs';
import { setDebugSink } from '../debug-note.ts';
import { renderError } from './render-error.ts';
import { usageError } from './usage-error.ts';
import { agentCommand } from './commands/agent.ts';
import { authCommand } from './commands/auth.ts';
import { configCommand } from './commands/config.ts';
import { doctorCommand } from './commands/doctor.ts';
import { mcpCommand } from './commands/mcp.ts';
import { modelsCommand } from './commands/models.ts';
import { runCommand } from './commands/run.ts';
import { serveCommand } from './commands/serve.ts';
import { dashboardCommand } from './commands/dashboard.ts';
import { sessionCommand } from './commands/session.ts';
import { statsCommand } from './commands/stats.ts';
import { workflowCommand } from './commands/workflow.ts';
import { version } from './version.ts';

/** Builds the yargs parser: parsing only; each command's handler lazily imports the core it needs. */
export function buildCli(argv: string[]) {
  return yargs(argv)
    .scriptName('opencode')
    .usage('$0 <command> [options]\n\nPantheon: multi-agent LLM orchestration with rate limits, retries and fallback chains for OpenCode-style configs.')
    .option('config', { type: 'string', describe: 'Config file applied above every discovered file', global: true })
    .option('debug', { type: 'boolean', describe: 'Show stack traces and internal details', global: true, default: false })
    .command(runCommand)
    .command(workflowCommand)
    .command(serveCommand)
    .command(dashboardCommand)
    .command(configCommand)
    .command(doctorCommand)
    .command(authCommand)
    .command(sessionCommand)
    .command(mcpCommand)
    .command(agentCommand)
    .command(modelsCommand)
    .command(statsCommand)
    .demandCommand(1, 'Name a command; `opencode --help` lists them.')
    .strict()
    .recommendCommands()
    .completion('completion', 'Print a bash/zsh completion script')
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

/** Entry point: parse, run, render errors once, set the exit code. */
export async function main(argv: string[]): Promise<void> {
  const debug = argv.includes('--debug');
  if (debug) setDebugSink((text) => process.stderr.write(`debug: ${text}\n`));
  const json = argv.includes('--json') || argv.includes('--format=json') || argv.join(' ').includes('--format json');
  try {
    await skipHelpCache(buildCli(argv)).parseAsync();
  } catch (error) {
    const { text, exitCode } = renderError(error, { debug, json });
    if (json && exitCode !== 0) process.stdout.write(text);
    else process.stderr.write(text);
    process.exitCode = exitCode;
  }
}
