import { loadConfig } from '../config/load.ts';
import { readStats } from '../core/stats-sources.ts';
import type { StatsFigures, StatsReport } from '../core/stats.ts';
import { MAX_STATS_DAYS, parseStatsDays } from '../core/stats.ts';
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

function breakdown(title: string, groups: Record<string, StatsFigures>): string {
  const rows = Object.entries(groups).map(([name, f]) => [
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

/** The report for people: a summary, the days with a bar chart, and tables by agent, provider and model. */
export function statsText(r: StatsReport): string {
  const parts = [summary(r)];
  if (r.byDay.length > 0) parts.push(chart(r));
  if (r.totals.requests > 0) {
    parts.push(breakdown('AGENT', r.byAgent), breakdown('PROVIDER', r.byProvider), breakdown('MODEL', r.byModel));
  } else if (r.notes.length === 0) {
    parts.push('No model calls recorded in this period. `opencode run` and `opencode workflow run` record every call.');
  }
  return `${parts.join('\n\n')}\n`;
}

/** `opencode stats [--days N] [--agent NAME] [--provider ID] [--json]`. */
export async function statsAction(args: StatsArgs): Promise<void> {
  const days = parseDays(args.days);
  const agent = parseFilter(args.agent, '--agent');
  const provider = parseFilter(args.provider, '--provider');
  const loaded = await loadConfig({ ...(args.config ? { configPath: args.config } : {}) });
  const report = await readStats({
    config: loaded.config,
    env: process.env,
    now: Date.now(),
    ...(days === undefined ? {} : { days }),
    ...(loaded.config.budget?.timeZone ? { timeZone: loaded.config.budget.timeZone } : {}),
    ...(agent !== undefined ? { agent } : {}),
    ...(provider !== undefined ? { provider } : {}),
  });
  if (args.json) {
    printJson(report, 2);
    return;
  }
  printWarnings(loaded.warnings);
  printOut(statsText(report));
  for (const note of report.notes) printErr(`note: ${safeLine(note)}\n`);
}
