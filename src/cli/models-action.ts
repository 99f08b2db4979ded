import { configuredModels, type ConfiguredModel, type EffectiveLimits } from '../agents/configured-models.ts';
import type { Config } from '../config/schema-types.ts';
import { readLearnedLimits } from '../core/learned-limits.ts';
import { learnedText } from '../scheduler/learned-text.ts';
import type { ModelsArgs } from './commands/models.ts';
import { printErr, printJson, printOut, printWarnings } from './print.ts';
import { jsonText, safeLine } from './terminal-text.ts';
import { table } from './table.ts';

function per(windowMs: number): string {
  if (windowMs === 60_000) return 'min';
  if (windowMs === 86_400_000) return 'day';
  return windowMs % 1000 === 0 ? `${windowMs / 1000} s` : `${windowMs} ms`;
}

/** `40/min (provider) · 1M tok/min (default) · 2 at once (model)`, or `-`. */
export function limitsText(l: EffectiveLimits): string {
  const parts = [
    ...l.windows.map((w) => `${w.maxRequests}/${per(w.windowMs)} (${w.scope})`),
    ...l.tokens.map((t) => `${t.maxTokens} tok/${per(t.windowMs)} (${t.scope})`),
    ...l.concurrency.map((c) => `${c.limit} at once (${c.scope})`),
  ];
  return parts.join(' · ') || '-';
}

function costText(m: ConfiguredModel): string {
  if (!m.cost || (m.cost.input === undefined && m.cost.output === undefined)) return '-';
  const usd = (n: number | undefined) => (n === undefined ? '?' : `$${n}`);
  return `${usd(m.cost.input)}/${usd(m.cost.output)}${m.cost.cache_read === undefined ? '' : ` (cached ${usd(m.cost.cache_read)})`}`;
}

function usedBy(m: ConfiguredModel): string {
  return [...m.agents, ...m.topLevel.map((k) => `(${k})`)].join(', ') || '-';
}

/** What `--refresh` gets: OpenCode downloads models.dev again; Pantheon's copy is part of the package. */
export const REFRESH_NOTE = 'note: --refresh: Pantheon\'s models.dev catalogue is a snapshot that ships with the package, so there is nothing to download; updating Pantheon (`npm install -g pantheon@latest`) brings a newer one\n';

/** `--verbose`, as OpenCode prints it: `provider/model`, then the model as OpenCode's API shows it (pretty JSON). */
async function printVerbose(config: Config, models: readonly ConfiguredModel[]): Promise<void> {
  const { modelView } = await import('../server/opencode/catalog-view.ts');
  const out: string[] = [];
  for (const m of models) {
    let view: unknown;
    try {
      view = modelView(config, m.provider, m.model, process.env);
    } catch {
      // A ref that does not resolve has no metadata; `config validate` says why.
      view = undefined;
    }
    // jsonText: a config's names may hold control characters, escaped as JSON escapes them.
    out.push(m.ref, ...(view === undefined ? [] : [jsonText(view, 2)]));
  }
  printOut(out.length ? `${out.join('\n')}\n` : '');
}

/** `opencode models [provider] [--json] [--verbose] [--refresh] [--table]`. */
export async function modelsAction(args: ModelsArgs): Promise<void> {
  if (args.refresh) printErr(REFRESH_NOTE);
  // With the plugins' hooks applied: a plugin's `provider` hook gives a provider's models, as in OpenCode.
  const loaded = await (await import('./cli-plugins.ts')).configWithPlugins(args.config);
  // The models GitHub Copilot offers the login in auth.json (its own list), as OpenCode lists them.
  // A person runs this to see the current list: a list kept over an hour is asked again and waited
  // for (at most 5 s), where the server answers with it at once; the kept one if Copilot does not answer.
  const wantsCopilot = args.provider === undefined || args.provider === 'github-copilot';
  const offered = wantsCopilot ? await import('../plugins/builtin/copilot-offered.ts').then(async (m) => {
    (await import('../plugins/builtin/copilot-models.ts')).waitForModelLists();
    return m.loginOffers(loaded.config);
  }) : {};
  const models = configuredModels(loaded.config, args.provider, offered);
  if (args.verbose && !args.json) {
    printWarnings(loaded.warnings);
    await printVerbose(loaded.config, models);
    return;
  }
  // Piped, as OpenCode prints them: scripts read one provider/model a line (`opencode models | grep …`).
  if (!args.json && !args.table && !process.stdout.isTTY) {
    printWarnings(loaded.warnings);
    printOut(models.map((m) => `${m.ref}\n`).join(''));
    return;
  }
  const now = Date.now();
  // An unreachable Redis state store leaves out what was learned, with a warning: the rest is config.
  let unread: string | undefined;
  const learned = await readLearnedLimits(process.env, now, loaded.config.state).catch((error: unknown) => {
    unread = error instanceof Error ? error.message : String(error);
    return [];
  });
  const learnedOf = (ref: string) => learned.filter((l) => l.model === ref);
  if (args.json) {
    printJson(models.map((m) => ({ ...m, learned: learnedOf(m.ref) })), 2);
    return;
  }
  printWarnings(loaded.warnings);
  if (unread !== undefined) printErr(`warning: learned limits not read from the state store: ${safeLine(unread)}\n`);
  if (models.length === 0) {
    printOut('No models configured. Set "model" or declare models under "provider" in opencode.json.\n');
    return;
  }
  const rows = models.map((m) => [
    m.ref + (m.variants.length ? ` [:${m.variants.join('|:')}]` : ''),
    m.limit?.context === undefined ? '-' : String(m.limit.context),
    m.limit?.output === undefined ? '-' : String(m.limit.output),
    limitsText(m.rateLimits),
    costText(m),
    usedBy(m),
  ]);
  printOut(table([['MODEL', 'CONTEXT', 'OUTPUT', 'RATE LIMITS', 'COST $/1M IN/OUT', 'USED BY'], ...rows]) + '\n');
  const lines = models.flatMap((m) => learnedOf(m.ref).map((l) => `  ${m.ref}  ${learnedText(l, now)}`));
  if (lines.length > 0) printOut(`\nLearned from the providers' answers (rateLimit.learn):\n${lines.join('\n')}\n`);
}
