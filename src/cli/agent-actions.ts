import path from 'node:path';
import { describeAgent, listAgents, type AgentDetails, type AgentSummary } from '../agents/describe-agent.ts';
import { agentNames } from '../agents/resolve-agent.ts';
import type { LoadedConfig } from '../config/load.ts';
import type { PermissionRule } from '../config/schema-types.ts';
import { PantheonError } from '../errors.ts';
import type { AgentListArgs, AgentShowArgs } from './commands/agent.ts';
import { printJson, printOut, printWarnings } from './print.ts';
import { table } from './table.ts';

const PROMPT_LINES = 6;

/** After the name of a built-in a plugin's config hook replaced (`agent list --all`, `agent show`). */
const REPLACED = " (replaced by a plugin's config hook)";

function chainText(a: AgentSummary): string {
  if (a.chainSource === 'agent') return a.chain.join(' → ');
  return a.chain.length ? `top-level model (${a.chain.join(' → ')})` : 'top-level model (none set)';
}

/** `opencode agent list [--json] [--all]`. */
async function configWithPlugins(configPath: string | undefined): Promise<LoadedConfig> {
  return (await import('./cli-plugins.ts')).configWithPlugins(configPath);
}

export async function agentList(args: AgentListArgs): Promise<void> {
  const loaded = await configWithPlugins(args.config);
  const agents = listAgents(loaded.config, args.all, loaded.layers, loaded.leftByPlugins);
  if (args.json) {
    printJson(agents, 2);
    return;
  }
  printWarnings(loaded.warnings);
  const rows = agents.map((a) => [a.name + (a.disabled ? ' (disabled)' : '') + (a.replaced ? REPLACED : ''), a.mode, chainText(a), a.description ?? '', sourceText(a.source)]);
  printOut(table([['NAME', 'MODE', 'MODEL', 'DESCRIPTION', 'FROM'], ...rows]) + '\n');
}

/** A layer label for a table: a file below the working directory relative to it. */
function sourceText(source: string): string {
  if (!path.isAbsolute(source)) return source;
  const relative = path.relative(process.cwd(), source);
  return relative.startsWith('..') ? source : relative;
}

function ruleText(rule: PermissionRule): string {
  if (typeof rule === 'string') return rule;
  return Object.entries(rule)
    .map(([pattern, action]) => `"${pattern}": ${action}`)
    .join(', ');
}

function showText(d: AgentDetails): string {
  const o = d.origins;
  const rows: string[][] = [
    ['mode', d.mode, o.mode ?? ''],
    ['model chain', chainText(d), o.model ?? ''],
    ...(d.chain.length > 1 ? [['fallbacks', d.chain.slice(1).join(' → '), o.fallbacks ?? '']] : []),
    ['temperature', d.temperature === undefined ? '—' : String(d.temperature), o.temperature ?? ''],
    ['top_p', d.top_p === undefined ? '—' : String(d.top_p), o.top_p ?? ''],
    ['steps', String(d.steps), o.steps ?? ''],
    ['variant', d.variant ?? '—', d.variant ? (o.variant ?? '') : ''],
    ['model options', Object.keys(d.options).length ? JSON.stringify(d.options) : '—', Object.keys(d.options).length ? (o.options ?? '') : ''],
    ['tools', d.tools.join(', ') || '(none)', o.tools ?? ''],
    ['mcp servers', d.mcp.join(', ') || '(none)', o.mcp ?? ''],
    ...Object.entries(d.permission).map(([key, p]) => [`permission.${key}`, ruleText(p.rule), p.from]),
  ];
  const head = `${d.name}${d.disabled ? ' (disabled)' : ''}${d.replaced ? REPLACED : ''}${d.description ? ` — ${d.description}` : ''}`;
  // Kept in the config for the built-in workflows that name it; OpenCode has no such agent then.
  const note = d.replaced ? ['', 'Only the built-in workflows run it: `run --agent` runs the default agent instead, and the server and `acp` do not offer it, as OpenCode has no such agent then.'] : [];
  const lines = (d.prompt ?? '').split('\n');
  const prompt = d.prompt
    ? [`prompt (${o.prompt}):`, ...lines.slice(0, PROMPT_LINES).map((l) => `  ${l}`.trimEnd()), ...(lines.length > PROMPT_LINES ? [`  … ${lines.length - PROMPT_LINES} more lines (--json shows the whole prompt)`] : [])]
    : ["prompt: (none) — its calls get OpenCode's base prompt for their model's family (docs/agents.md, \"The system prompt\")"];
  return [head, ...note, '', table([['SETTING', 'VALUE', 'FROM'], ...rows]), '', ...prompt].join('\n') + '\n';
}

/** `opencode agent show NAME [--json]`. */
export async function agentShow(args: AgentShowArgs): Promise<void> {
  const loaded = await configWithPlugins(args.config);
  if (!loaded.config.agent?.[args.name]) {
    const names = agentNames(loaded.config, loaded.leftByPlugins);
    throw new PantheonError('UNKNOWN_AGENT', `agent show: no agent named "${args.name}".`, {
      hint: names.length ? `Available agents: ${names.join(', ')}.` : 'Define one under "agent" in opencode.json.',
    });
  }
  const { BUILTIN_TOOL_NAMES } = await import('../tools/index.ts');
  const details = describeAgent(loaded.config, args.name, loaded.layers, BUILTIN_TOOL_NAMES, loaded.leftByPlugins);
  if (args.json) {
    printJson(details, 2);
    return;
  }
  printWarnings(loaded.warnings);
  printOut(showText(details));
}
