import { loadConfig } from '../config/load.ts';
import { readStats } from '../core/stats-sources.ts';
import type { StatsFigures, StatsReport } from '../core/stats.ts';
import { MAX_STATS_DAYS, parseStatsDays, statsSince } from '../core/stats.ts';
import { countToolCalls } from '../core/stats-tools.ts';
import { projectId } from '../session/project-id.ts';
import { projectRootOf } from '../session/project-root.ts';
import { SessionStore, type SessionSummary } from '../session/store.ts';
import path from 'node:path';
import { PantheonError } from '../errors.ts';
import type { StatsArgs } from './commands/stats.ts';
import { printErr, printJson, printOut, printWarnings } from './print.ts';
import { table } from './table.ts';
import { safeLine } from './terminal-text.ts';
import { thousands } from '../icu-free.ts';

/** `--days N`: a whole number of days from 1 to 3650, or undefined when not given. */
export function parseDays(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const text = String(Array.isArray(value) ? value[value.length - 1] : value).trim();
  const days = parseStatsDays(text);
  if (days === undefined) {
    const shown = text.length > 40 ? `${text.slice(0, 39)}…` : text;
    throw new PantheonError('USAGE', `--days: expected a whole number of days from 1 to ${thousands(MAX_STATS_DAYS)}, found ${JSON.stringify(shown)}.`, {
      hint: 'For example --days 7 (today and the 6 days before it).',
    });
  }
  return days;
}

/** `--agent NAME` / `--provider ID`: the last one given (as for `--days`); an empty one is a usage error. */
export function parseFilter(value: unknown, flag: '--agent' | '--provider'): string | undefined {
  if (value === undefined) return undefined;
  const text = String(Array.isArray(value) ? value[value.length - 1] : value).trim();
  if (text === '') {
    const [what, example] = flag === '--agent' ? ['an agent name', '--agent oracle'] : ['a provider id', '--provider nvidia-nim'];
    throw new PantheonError('USAGE', `${flag}: expected ${what}, found nothing.`, { hint: `For example ${example}.` });
  }
  return text;
}

/** `--models [N]` / `--tools [N]`: a whole number from 1 on, or everything when given without one. */
export function parseTop(value: unknown, flag: '--models' | '--tools'): number | undefined {
  if (value === undefined) return undefined;
  const text = String(Array.isArray(value) ? value[value.length - 1] : value).trim();
  if (text === '') return Infinity;
  const n = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1)) {
    const shown = text.length > 40 ? `${text.slice(0, 39)}\u2026` : text;
    const what = flag === '--models' ? 'models' : 'tools';
    throw new PantheonError('USAGE', `${flag}: expected a whole number of ${what} from 1 on (or nothing, for all), found ${JSON.stringify(shown)}.`, {
      hint: `For example ${flag} 5 (the 5 ${flag === '--models' ? 'busiest models' : 'most used tools'}).`,
    });
  }
  return n;
}

/** `--project`: empty is this project (as OpenCode's empty string), else a projectId of a saved session's project, else a folder. */
export async function projectOf(value: unknown, sessions: readonly SessionSummary[]): Promise<string | undefined> {
  if (value === undefined) return undefined;
  const text = String(Array.isArray(value) ? value[value.length - 1] : value).trim();
  if (text === '') return projectRootOf(process.cwd());
  const byId = sessions.find((s) => projectId(s.projectRoot) === text);
  return byId ? byId.projectRoot : path.resolve(text);
}

/** Width of the longest bar of the chart, in characters. */
const BAR_WIDTH = 24;

const count = (n: number): string => thousands(n);

export function usdText(n: number): string {
  if (n === 0) return '$0';
  if (n >= 0.01) return `$${n.toFixed(2)}`;
  return `$${n.toPrecision(2)}`;
}

function secondsText(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${count(Math.round(ms / 1000))} s`;
}

/** A bar of `value` against `max`: whole blocks, and a thin one for anything above zero that rounds to none. */
export function bar(value: number, max: number, width: number = BAR_WIDTH): string {
  if (value <= 0 || max <= 0) return '';
  const eighths = Math.round((value / max) * width * 8);
  const partial = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
  return '█'.repeat(Math.floor(eighths / 8)) + (partial[eighths % 8] ?? '') || '▏';
}

function waitsText(f: StatsFigures): string {
  return f.rateLimitWaits === 0 ? '0' : `${count(f.rateLimitWaits)} (${secondsText(f.waitedMs)})`;
}

function summary(r: StatsReport): string {
  const t = r.totals;
  const period = r.days === null ? (r.byDay.length ? `everything kept (${r.from} to ${r.to})` : 'everything kept') : `the last ${r.days === 1 ? 'day' : `${r.days} days`} (${r.from} to ${r.to})`;
  const filters = [r.filters.agent !== undefined ? `agent ${r.filters.agent}` : '', r.filters.provider !== undefined ? `provider ${r.filters.provider}` : ''].filter(Boolean);
  const zone = r.timeZone === 'local' ? 'local time' : r.timeZone;
  return [
    safeLine(`Model calls in ${period}, days in ${zone}${filters.length ? `, ${filters.join(', ')}` : ''}:`),
    `  ${count(t.requests)} requests (${count(t.cacheHits)} from the cache) · ${count(t.inputTokens)} tokens in, ${count(t.outputTokens)} out · ${usdText(t.costUSD)} spent · ${usdText(t.savedUSD)} saved by the cache`,
    `  ${count(t.retries)} retries · ${count(t.fallbacks)} fallbacks · ${waitsText(t)} rate-limit waits`,
  ].join('\n');
}

/** One row per day with a bar of the cost (or of the tokens, when nothing had a price). */
function chart(r: StatsReport): string {
  const byCost = r.byDay.some((d) => d.costUSD > 0);
  const value = (f: StatsFigures): number => (byCost ? f.costUSD : f.inputTokens + f.outputTokens);
  const max = Math.max(0, ...r.byDay.map(value));
  const rows = r.byDay.map((d) => [d.day, count(d.requests), count(d.inputTokens + d.outputTokens), usdText(d.costUSD), bar(value(d), max)]);
  return table([['DAY', 'REQUESTS', 'TOKENS', 'COST', byCost ? 'BAR (COST)' : 'BAR (TOKENS)'], ...rows], new Set([1, 2, 3]));
}

function breakdown(title: string, groups: Record<string, StatsFigures>, top?: number): string {
  // `--models N`: the busiest first, then only N of them (as OpenCode sorts its model usage).
  const entries = top === undefined ? Object.entries(groups) : Object.entries(groups).sort((a, b) => b[1].requests - a[1].requests).slice(0, top);
  const rows = entries.map(([name, f]) => [
    safeLine(name, 200),
    count(f.requests),
    count(f.cacheHits),
    count(f.inputTokens),
    count(f.outputTokens),
    usdText(f.costUSD),
    usdText(f.savedUSD),
    count(f.retries),
    count(f.fallbacks),
    waitsText(f),
  ]);
  return table([[title, 'REQUESTS', 'CACHED', 'IN', 'OUT', 'COST', 'SAVED', 'RETRIES', 'FALLBACKS', 'WAITS'], ...rows], new Set([1, 2, 3, 4, 5, 6, 7, 8]));
}

/** The TOOL table: calls of each tool, their share and a bar. */
function toolsTable(tools: readonly ToolCount[]): string {
  if (tools.length === 0) return 'No tool calls in the saved sessions of this period.';
  const total = tools.reduce((sum, t) => sum + t.calls, 0);
  const max = Math.max(...tools.map((t) => t.calls));
  const rows = tools.map((t) => [safeLine(t.name, 200), count(t.calls), `${((t.calls / total) * 100).toFixed(1)}%`, bar(t.calls, max)]);
  return table([['TOOL', 'CALLS', 'SHARE', 'BAR'], ...rows], new Set([1, 2]));
}

/** A tool and how often it was called (`--tools`). */
export interface ToolCount {
  name: string;
  calls: number;
}

/** The report for people: a summary, the days with a bar chart, tables by agent, provider and model, and with `--tools` a tool table. */
export function statsText(r: StatsReport, view: { models?: number; tools?: readonly ToolCount[] } = {}): string {
  const parts = [summary(r)];
  if (r.byDay.length > 0) parts.push(chart(r));
  if (r.totals.requests > 0) {
    parts.push(breakdown('AGENT', r.byAgent), breakdown('PROVIDER', r.byProvider), breakdown('MODEL', r.byModel, view.models));
  } else if (r.notes.length === 0) {
    parts.push('No model calls recorded in this period. `opencode run` and `opencode workflow run` record every call.');
  }
  if (view.tools) parts.push(toolsTable(view.tools));
  return `${parts.join('\n\n')}\n`;
}

/** `opencode stats [--days N] [--agent NAME] [--provider ID] [--models [N]] [--tools [N]] [--project [P]] [--json]`. */
export async function statsAction(args: StatsArgs): Promise<void> {
  const days = parseDays(args.days);
  const agent = parseFilter(args.agent, '--agent');
  const provider = parseFilter(args.provider, '--provider');
  const models = parseTop(args.models, '--models');
  const toolsTop = parseTop(args.tools, '--tools');
  const loaded = await loadConfig({ ...(args.config ? { configPath: args.config } : {}) });
  const store = args.project === undefined && toolsTop === undefined ? undefined : SessionStore.open(process.env);
  const listed = args.project === undefined || !store ? [] : (await store.list()).sessions;
  const projectRoot = await projectOf(args.project, listed);
  const project = projectRoot === undefined ? undefined : { projectRoot, sessions: new Set(listed.filter((s) => s.projectRoot === projectRoot).map((s) => s.id)) };
  const now = Date.now();
  const report = await readStats({
    config: loaded.config,
    env: process.env,
    now,
    ...(days === undefined ? {} : { days }),
    ...(project === undefined ? {} : { project }),
    ...(loaded.config.budget?.timeZone ? { timeZone: loaded.config.budget.timeZone } : {}),
    ...(agent !== undefined ? { agent } : {}),
    ...(provider !== undefined ? { provider } : {}),
  });
  if (project !== undefined && project.sessions.size === 0) report.notes.push(`No saved sessions in ${projectRoot}; \`opencode session list --all\` shows the projects that have some.`);
  const tools =
    toolsTop === undefined || !store
      ? undefined
      : (await countToolCalls(store, { since: statsSince(now, days), ...(agent === undefined ? {} : { agent }), ...(projectRoot === undefined ? {} : { projectRoot }) }))
          .slice(0, toolsTop)
          .map(([name, calls]) => ({ name, calls }));
  if (args.json) {
    printJson(tools ? { ...report, tools } : report, 2);
    return;
  }
  printWarnings(loaded.warnings);
  printOut(statsText(report, { ...(models === undefined ? {} : { models }), ...(tools ? { tools } : {}) }));
  for (const note of report.notes) printErr(`note: ${safeLine(note)}\n`);
}
