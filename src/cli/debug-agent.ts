/**
 * `opencode debug agent NAME [--tool ID --params JSON]`: the agent's resolved configuration in
 * OpenCode's field names (as `GET /agent` answers it), the plugins' config hooks applied (a built-in
 * one replaced is no agent here, as OpenCode has none then); with `--tool`, one built-in tool run as that
 * agent: its `tools` and `permission` apply, an `ask` is put to the person on a terminal (as `run`
 * does) and refused elsewhere unless `--auto`.
 */
import { agentNames, agentSettings } from '../agents/resolve-agent.ts';
import { deniedOutright, toolEnabled } from '../agents/tool-filter.ts';
import { configSecrets, secretMasker } from '../config/secrets.ts';
import { PantheonError } from '../errors.ts';
import type { DebugArgs } from './commands/debug.ts';
import { oneValue } from './one-value.ts';
import { printJson, printWarnings } from './print.ts';
import { safeText } from './terminal-text.ts';

function paramsOf(args: DebugArgs, tool: string): Record<string, unknown> {
  const text = oneValue(args.params, '--params', 'JSON object', 'Give --params once, with every argument in it.');
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new PantheonError('USAGE', '--params: expected a JSON object, found text that is not JSON.', {
      hint: `For example --params '{"filePath":"README.md"}' (Pantheon reads JSON only, not a JavaScript object literal); \`opencode debug agent NAME --tool ${tool}\` with no --params sends {}.`,
    });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new PantheonError('USAGE', `--params: expected a JSON object, found ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}.`, { hint: 'For example --params \'{"filePath":"README.md"}\'.' });
  }
  return value as Record<string, unknown>;
}

/** What the call is about, as OpenCode titles it: its path, pattern, command or URL. */
function titleOf(input: Record<string, unknown>): string {
  for (const key of ['filePath', 'path', 'pattern', 'command', 'url']) if (typeof input[key] === 'string') return input[key];
  return '';
}

export async function debugAgent(args: DebugArgs): Promise<void> {
  // The config as the plugins' config hooks leave it, as OpenCode's `debug agent` reads its agents.
  const loaded = await (await import('./cli-plugins.ts')).configWithPlugins(args.config);
  const config = loaded.config;
  const name = args.name as string;
  const replaced = loaded.leftByPlugins;
  const { agentsView } = await import('../server/opencode/catalog-view.ts');
  const view = (agentsView(config, replaced) as { name: string }[]).find((a) => a.name === name);
  if (!view) {
    const names = agentNames(config, replaced);
    const why = replaced?.includes(name) ? " (a plugin's config hook replaced it)" : config.agent?.[name]?.disable === true ? ' (it is disabled)' : '';
    throw new PantheonError('UNKNOWN_AGENT', `debug agent: no agent named "${name}"${why}.`, {
      hint: names.length ? `Available agents: ${names.join(', ')}; \`opencode agent list\` shows them.` : 'Define one under "agent" in opencode.json.',
    });
  }
  const tool = oneValue(args.tool, '--tool', 'tool', 'Run one tool at a time.');
  if (tool === undefined) {
    if (args.params !== undefined) throw new PantheonError('USAGE', 'debug agent: --params needs --tool.', { hint: 'Name the tool to run, e.g. --tool read --params \'{"filePath":"README.md"}\'.' });
    printWarnings(loaded.warnings);
    printJson(view, 2);
    return;
  }
  const { BUILTIN_TOOLS, BUILTIN_TOOL_NAMES, executeTool, isToolError } = await import('../tools/index.ts');
  if (!Object.hasOwn(BUILTIN_TOOLS, tool)) {
    throw new PantheonError('USAGE', `--tool: expected a built-in tool (${BUILTIN_TOOL_NAMES.join(', ')}), found "${tool}".`, {
      hint: tool.includes('_') ? 'An MCP server\'s tool runs with `opencode mcp call SERVER TOOL --args JSON`.' : 'OpenCode\'s other tools (task, todowrite, skill, …) run only inside a turn: `opencode run --agent NAME "…"`.',
    });
  }
  const input = paramsOf(args, tool);
  const settings = agentSettings(config, name);
  if (!toolEnabled(settings.tools, tool)) {
    throw new PantheonError('USAGE', `Agent "${name}" does not have the ${tool} tool: its tools turn it off.`, { hint: `\`opencode agent show ${name}\` shows its tools and where they are set.` });
  }
  if (deniedOutright(settings.permission, tool)) {
    throw new PantheonError('USAGE', `Agent "${name}" may not use ${tool}: its permission denies it.`, { hint: `\`opencode agent show ${name}\` shows its permissions and where they are set.` });
  }
  const { inputProblems } = await import('../tools/validate-input.ts');
  const problem = inputProblems(BUILTIN_TOOLS[tool] as Parameters<typeof inputProblems>[0], input);
  if (problem) throw new PantheonError('USAGE', `--params: ${problem}`, { hint: 'Fix the arguments; the tool did not run.' });
  const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY);
  const ask = interactive ? (await import('../permissions/ask.ts')).ttyConfirm() : undefined;
  const secrets = configSecrets(config);
  let output: string;
  try {
    output = await executeTool(tool, input, {
      projectRoot: loaded.projectRoot,
      permission: settings.permission,
      auto: Boolean(args.auto),
      interactive,
      ...(ask ? { confirm: (question: string) => ask(safeText(question)) } : {}),
      askHint: 'not approved: no terminal to ask on; pass --auto to approve it, or run the command in a terminal',
      secrets,
    });
  } catch (error) {
    const { isPermissionDenied } = await import('../permissions/authorize.ts');
    if (isPermissionDenied(error)) {
      throw new PantheonError('TOOL_FAILED', `Agent "${name}" was refused ${tool}: ${error.message.replace(/[.\s]+$/, '')}.`, { hint: `The agent's permission decides (\`opencode agent show ${name}\`); --auto approves an \`ask\`.` });
    }
    if (isToolError(error)) throw new PantheonError('TOOL_FAILED', error.message, { hint: 'The tool ran and failed; this is what the model would be told.' });
    throw error;
  }
  // A file a tool read may hold the config's keys: masked, as everywhere Pantheon prints.
  const mask = secretMasker(secrets);
  printJson({ tool, input, result: { title: titleOf(input), output: mask(output), metadata: {} } }, 2);
}
