/**
 * config: which files were read and in what order, whether they validate, unset variables, agents
 * that cannot reach any provider with a key, chains that never leave one provider, and the skill
 * registries of `skills.urls` (their index read now), and which of the language servers `lsp`
 * turns on can run in the project.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { addedByPlugin } from '../agents/provenance.ts';
import type { ConfigLayer } from '../config/layer.ts';
import type { ConfigWarning } from '../config/load.ts';
import { isPantheonError } from '../errors.ts';
import type { DoctorContext } from './context.ts';
import { keyHint, providerUsable, type Usage } from './usage.ts';
import { resultsFor, type CheckResult } from './types.ts';
import { formatDuration, listAgents, listNames, plural } from './words.ts';

const r = resultsFor('config');
const USER_KINDS = new Set(['global', 'global-oh-my-opencode', 'project', 'opencode-dir', 'markdown-agent', 'markdown-command', 'project-oh-my-opencode', 'pantheon', 'env', 'flag-config']);

function loadFailure(ctx: DoctorContext): CheckResult {
  const error = ctx.loadError;
  if (isPantheonError(error)) {
    return r.fail('valid', error.message, { details: error.details, ...(error.hint ? { hint: error.hint } : {}), ms: ctx.loadMs });
  }
  const message = error instanceof Error ? error.message : String(error);
  return r.fail('valid', `The config could not be loaded: ${message}`, { hint: 'Run `opencode config validate` for details.' });
}

function files(ctx: DoctorContext): CheckResult {
  const layers = ctx.loaded?.layers ?? [];
  const details = layers.map((l, i) => `${i + 1}. ${l.file ?? l.label}${l.file && l.label !== l.file ? ` (${l.label})` : ''}`);
  const own = layers.filter((l) => USER_KINDS.has(l.kind));
  if (own.length === 0) {
    return r.warn('files', `no config file found; ${plural(layers.length, 'built-in layer')} only`, {
      details,
      hint: 'Create one with `opencode config init --preset free-tier` (or local, oh-my-opencode).',
    });
  }
  return r.ok('files', `${plural(layers.length, 'layer')}, lowest precedence first; yours: ${own.map((l) => l.file ?? l.label).join(', ')}`, { details });
}

function where(w: ConfigWarning): string {
  return [w.file, w.path].filter(Boolean).join(' ');
}

function variables(warnings: readonly ConfigWarning[], pluginLabels: ReadonlySet<string>): CheckResult[] {
  const unset = warnings.filter((w) => w.code === 'ENV_UNSET');
  const others = warnings.filter((w) => w.code !== 'ENV_UNSET');
  const results: CheckResult[] = [];
  if (unset.length === 0) results.push(r.ok('variables', 'every {env:…} and ${…} variable is set'));
  else {
    const names = [...new Set(unset.map((w) => /^(\{env:[^}]+\}|\$\{[^}]+\})/.exec(w.message)?.[1] ?? w.message))];
    results.push(
      r.warn('variables', `${plural(names.length, 'variable is', 'variables are')} not set (used as empty): ${listNames(names)}`, {
        details: unset.map((w) => `${where(w)}: ${w.message}`),
        hint: 'Export them before running, or remove the references from the config.',
      }),
    );
  }
  for (const w of others) {
    const hint = w.file !== undefined && pluginLabels.has(w.file) ? 'The plugin named above set it: change its options, or override the value in your config.' : 'Edit the file named above.';
    results.push(r.warn('warning', `${where(w) ? `${where(w)}: ` : ''}${w.message}`, { hint }));
  }
  return results;
}

/**
 * Agents without a model or a key. Those a plugin's config hook added are named as its, and are a
 * warning rather than a failure: the user did not write them, and a run fails only if it uses them.
 */
function agentsWithoutKeys(usage: Usage, layers: readonly ConfigLayer[]): CheckResult[] {
  const pluginOf = (agent: string): string | undefined => addedByPlugin(layers, ['agent', agent]);
  const results: CheckResult[] = [];
  const isDefault = (agents: readonly string[]): boolean => usage.defaultAgent !== undefined && agents.includes(usage.defaultAgent);
  if (usage.noModel.length > 0) {
    const status = isDefault(usage.noModel) ? 'fail' : 'warn';
    const named = usage.noModel.map((agent) => {
      const plugin = pluginOf(agent);
      return plugin ? `${agent} (added by ${plugin})` : agent;
    });
    results.push(
      r[status]('agents', `${plural(usage.noModel.length, 'agent has', 'agents have')} no model: ${listNames(named)}`, {
        hint: 'Set a top-level "model" (and "fallbacks"), give the agents a "model", or extend a preset such as free-tier.',
      }),
    );
  }
  // Agents grouped by the providers their chain visits, when none of them surely has a key:
  // fail when every one surely needs a key it lacks, warn when some may need none.
  const stuck = new Map<string, { agents: string[]; unsure: boolean; providers: string; plugin: string | undefined }>();
  for (const { agent, chain } of usage.chains) {
    const providers = [...new Set(chain.map((ref) => ref.provider))];
    const usable = providers.map((id) => providerUsable(usage, id));
    if (usable.includes(true)) continue;
    const plugin = pluginOf(agent);
    const key = `${providers.join(', ')}\u0000${plugin ?? ''}`;
    const entry = stuck.get(key) ?? { agents: [], unsure: usable.includes(undefined) || plugin !== undefined, providers: providers.join(', '), plugin };
    entry.agents.push(agent);
    stuck.set(key, entry);
  }
  for (const { agents, unsure, providers, plugin } of stuck.values()) {
    const first = usage.providers.get(providers.split(', ')[0] ?? '');
    const message = `${listAgents(agents)}${plugin ? ` (added by ${plugin})` : ''}: no key for any provider in the chain (${providers})`;
    results.push(r[unsure ? 'warn' : 'fail']('credentials', message, first ? { hint: keyHint(first) } : {}));
  }
  if (results.length === 0 && usage.chains.length > 0) {
    results.push(r.ok('credentials', `${plural(usage.chains.length, 'agent')} can reach a provider with a key`));
  }
  return results;
}

function singleProviderChains(usage: Usage): CheckResult[] {
  const byProvider = new Map<string, string[]>();
  for (const { agent, chain } of usage.chains) {
    const providers = new Set(chain.map((ref) => ref.provider));
    if (providers.size !== 1) continue;
    const [only] = providers;
    if (only !== undefined) byProvider.set(only, [...(byProvider.get(only) ?? []), agent]);
  }
  const results = [...byProvider].map(([provider, agents]) =>
    r.warn('fallbacks', `a 429 on ${provider} leaves nowhere to go: the whole chain of ${listAgents(agents)} is on ${provider}`, {
      hint: 'Add a model on another provider to the agent\'s "fallbacks" (or the top-level "fallbacks").',
    }),
  );
  if (results.length === 0 && usage.chains.length > 0) results.push(r.ok('fallbacks', 'every chain reaches a second provider'));
  return results;
}

/** Why a registry's index could not be read, in a few words (fetch's own messages, which may hold the URL, are not shown). */
function readFailure(error: unknown, timeoutMs: number): string {
  if ((error as { name?: string } | undefined)?.name === 'TimeoutError') return `no answer in ${formatDuration(timeoutMs)}`;
  const code = (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  if (typeof code === 'string' && /^[A-Z_]{2,40}$/.test(code)) return code;
  if (error instanceof TypeError || !(error instanceof Error)) return 'the request failed';
  return error.message;
}

/** `skills.urls`: each registry's index read now, within the probe timeout: the skills it offers, or why it could not be read. */
async function skillRegistries(ctx: DoctorContext, urls: unknown): Promise<CheckResult[]> {
  if (!Array.isArray(urls) || urls.length === 0) return [];
  const { isRegistryUrl, readIndex, shownUrl, SKIPPED_WHY } = await import('../agents/skill-urls.ts');
  const hint = 'The URL must serve index.json as OpenCode reads it: {"skills": [{"name": …, "files": ["SKILL.md", …]}]}, each file under <URL>/<name>/.';
  return Promise.all(
    urls.map(async (url: unknown, i) => {
      if (!isRegistryUrl(url)) return r.warn('skills', `skills.urls[${i}] is not an http(s) URL; it is left out`, { hint: 'Give the registry’s address, e.g. "https://example.com/skills".' });
      const started = performance.now();
      try {
        const index = await readIndex(url, ctx.fetch, ctx.probeTimeoutMs);
        const ms = Math.round(performance.now() - started);
        const names = index.skills.map((s) => s.name);
        const message = `${shownUrl(url)}: ${plural(names.length, 'skill')}${names.length ? ` (${listNames(names)})` : ''}`;
        if (index.skipped === 0) return r.ok('skills', message, { ms });
        return r.warn('skills', `${message}; ${plural(index.skipped, 'entry', 'entries')} skipped (${SKIPPED_WHY})`, { ms, hint });
      } catch (error) {
        return r.warn('skills', `${shownUrl(url)}: its index could not be read (${readFailure(error, ctx.probeTimeoutMs)}); the skills kept from before, if any, are used`, { hint });
      }
    }),
  );
}

/**
 * `lsp`: which of the servers it turns on can run in the project (their program found at its root;
 * Pantheon downloads none). A server the config gives a command for that is not found is a warning.
 */
async function languageServers(ctx: DoctorContext, setting: unknown, projectRoot: string): Promise<CheckResult[]> {
  if (setting !== true && (setting === null || typeof setting !== 'object')) return [];
  const { configuredServers } = await import('../lsp/lsp.ts');
  const { which } = await import('../format/builtin-formatters.ts');
  const given = new Set(setting === true ? [] : Object.keys(setting as object));
  const found: string[] = [];
  const missing: string[] = [];
  const givenMissing: string[] = [];
  for (const server of configuredServers(setting)) {
    const launch = await server.launch(projectRoot, { projectRoot, env: ctx.env }).catch(() => undefined);
    const program = launch?.command[0];
    const there = program !== undefined && (path.isAbsolute(program) ? existsSync(program) : (await which(program, { directory: projectRoot, projectRoot, env: ctx.env }, true)) !== undefined);
    if (there) found.push(server.id);
    else if (given.has(server.id)) givenMissing.push(server.id);
    else missing.push(server.id);
  }
  const why = 'Pantheon downloads none: put a server’s program on the PATH or in node_modules/.bin';
  const message = `language servers: ${found.length ? `${listNames(found)} can run` : 'none can run'}${missing.length ? `; ${plural(missing.length, 'built-in')} not found (${why})` : ''}`;
  if (givenMissing.length === 0) return [r.ok('lsp', message)];
  return [r.warn('lsp', `${message}; ${listNames(givenMissing)}: the program of its "command" is not found, so it does not run`, { hint: 'Fix lsp.<name>.command, or install the program.' })];
}

/**
 * OpenCode's plugins and custom tools of the project, as the context loaded them (their functions
 * ran; an npm plugin neither OpenCode nor Pantheon installed is not installed here), and what went
 * wrong with their `config` hooks.
 */
function plugins(ctx: DoctorContext): CheckResult[] {
  const host = ctx.plugins;
  // Only the built-in plugins (GitHub Copilot's, the ChatGPT login): the program's, which the auth checks speak of.
  if (!host || (host.sources.length === 0 && host.tools.size === 0)) return [];
  const failed = host.sources.filter((s) => s.problem !== undefined);
  const tools = [...host.tools.keys()];
  const plugins = host.sources.filter((s) => s.kind === 'plugin' && s.problem === undefined).length;
  const logins = [...new Set(host.authProviders?.({ builtins: false }) ?? [])];
  const changed = (ctx.loaded?.layers ?? []).filter((l) => l.kind === 'plugin-hook');
  const configured = changed.length ? `; the config as ${changed.length === 1 ? 'its config hook leaves' : 'their config hooks leave'} it is checked (${whatChanged(changed.map((l) => l.data))})` : '';
  const message = `plugins: ${plural(plugins, 'plugin')} loaded${tools.length ? `, custom tools ${listNames(tools)}` : ''}${logins.length ? `, logins for ${listNames(logins)}` : ''}${configured}`;
  const hookWarnings = ctx.pluginWarnings.map((text) => r.warn('plugins', text, { hint: 'Fix the plugin, or its entry in the config’s `plugin` list; docs/plugins.md says what a config hook may change.' }));
  if (failed.length === 0) return [r.ok('plugins', message), ...hookWarnings];
  const hint = 'Fix the file or the config’s `plugin` entry; docs/plugins.md says where plugins are found and how they load.';
  return [r.warn('plugins', `${message}; ${plural(failed.length, 'did', 'did')} not load:`), ...failed.map((s, i) => r.warn('plugins', s.problem ?? '', i === failed.length - 1 ? { hint } : {})), ...hookWarnings];
}

/** What the plugins' config hooks set, by top-level key: `agent: a, b; mcp: c`. */
function whatChanged(parts: readonly Record<string, unknown>[]): string {
  const byKey = new Map<string, Set<string>>();
  for (const data of parts) {
    for (const [key, value] of Object.entries(data)) {
      const names = byKey.get(key) ?? new Set<string>();
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) for (const name of Object.keys(value)) names.add(name);
      byKey.set(key, names);
    }
  }
  return [...byKey].map(([key, names]) => (names.size ? `${key}: ${listNames([...names])}` : key)).join('; ');
}

export async function checkConfig(ctx: DoctorContext): Promise<CheckResult[]> {
  if (!ctx.loaded || !ctx.usage) return [loadFailure(ctx)];
  return [
    files(ctx),
    r.ok('valid', 'valid against schema/config.json', { ms: ctx.loadMs }),
    ...variables(ctx.loaded.warnings, new Set(ctx.loaded.layers.filter((l) => l.kind === 'plugin-hook').map((l) => l.label))),
    ...agentsWithoutKeys(ctx.usage, ctx.loaded.layers),
    ...singleProviderChains(ctx.usage),
    ...(await skillRegistries(ctx, (ctx.loaded.config as { skills?: { urls?: unknown } }).skills?.urls)),
    ...(await languageServers(ctx, ctx.loaded.config.lsp, ctx.loaded.projectRoot)),
    ...plugins(ctx),
  ];
}
