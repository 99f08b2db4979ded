import { buildCli as buildWith, runCli } from './cli.ts';
export { codeCacheRanList, setCodeCacheSaver } from './code-cache.ts';
export { setStartupDone } from './startup-done.ts';
import { agentCommand } from './commands/agent.ts';
import { attachCommand } from './commands/attach.ts';
import { authCommand } from './commands/auth.ts';
import { configCommand } from './commands/config.ts';
import { doctorCommand } from './commands/doctor.ts';
import { exportCommand } from './commands/export.ts';
import { importCommand } from './commands/import.ts';
import { mcpCommand } from './commands/mcp.ts';
import { pluginCommand } from './commands/plugin.ts';
import { tuiCommand } from './commands/tui.ts';
import { namesNoCommand } from './usage-error.ts';
import { modelsCommand } from './commands/models.ts';
import { runCommand } from './commands/run.ts';
import { serveCommand } from './commands/serve.ts';
import { acpCommand } from './commands/acp.ts';
import { dashboardCommand } from './commands/dashboard.ts';
import { debugCommand } from './commands/debug.ts';
import { sessionCommand } from './commands/session.ts';
import { statsCommand } from './commands/stats.ts';
import { workflowCommand } from './commands/workflow.ts';

/** Every command, in the order `--help` lists them. */
const COMMANDS = [runCommand, workflowCommand, serveCommand, attachCommand, acpCommand, dashboardCommand, configCommand, doctorCommand, authCommand, sessionCommand, exportCommand, importCommand, mcpCommand, pluginCommand, agentCommand, modelsCommand, statsCommand, debugCommand];

/** Builds the yargs parser of the whole CLI. */
export function buildCli(argv: string[]) {
  return buildWith(argv, COMMANDS);
}

/** Entry point of the CLI bundle (dist/bin/opencode.cjs): parse, run, render errors once, set the exit code. */
export async function main(argv: string[]): Promise<void> {
  // `opencode` alone or with a folder (and OpenCode's TUI flags): OpenCode's TUI on a Pantheon server.
  await runCli(argv, namesNoCommand(argv) ? [tuiCommand] : COMMANDS);
}
