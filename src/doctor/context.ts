/**
 * What every check shares: the loaded config (or why it did not load), the providers agents use,
 * the auth store, the clock, the probe timeout and the signal that ends the run.
 */
import { loadConfig, type LoadedConfig } from '../config/load.ts';
import type { PluginHost } from '../plugins/types.ts';
import { configSecrets, headerSecrets } from '../config/secrets.ts';
import { readAuthStore } from '../providers/credentials.ts';
import { collectUsage, type Usage } from './usage.ts';
import { DEFAULT_PROBE_TIMEOUT_MS, type DoctorOptions } from './types.ts';

export interface DoctorContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  configPath: string | undefined;
  fetch: typeof globalThis.fetch;
  now: () => number;
  probeTimeoutMs: number;
  /** Aborted when the run's bound is reached: probes stop and clean up. */
  signal: AbortSignal;
  /** Milliseconds left before the run's bound (at least 1). */
  remainingMs: () => number;
  /** The config as the plugins' `config` hooks left it, as a run uses it. */
  loaded: LoadedConfig | undefined;
  /** The project's plugins and custom tools (loaded without installing anything); disposed by `closeContext`. */
  plugins: PluginHost | undefined;
  /** What went wrong with the plugins or their `config` hooks, a sentence each. */
  pluginWarnings: string[];
  /** Why the config did not load (a PantheonError such as CONFIG_INVALID, usually). */
  loadError: unknown;
  loadMs: number;
  usage: Usage | undefined;
  /** The auth store's entries; empty when it is missing or unreadable. */
  store: ReturnType<typeof readAuthStore>;
  storeError: unknown;
}

function readStore(env: NodeJS.ProcessEnv): { store: DoctorContext['store']; storeError: unknown } {
  try {
    return { store: readAuthStore(env), storeError: undefined };
  } catch (error) {
    return { store: {}, storeError: error };
  }
}

/** Loads what the selected checks need; never throws for a bad config or store (checks report them). */
export async function createContext(
  opts: DoctorOptions,
  bound: { signal: AbortSignal; deadline: number },
  needsConfig: boolean,
): Promise<DoctorContext> {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const now = opts.now ?? Date.now;
  const { store, storeError } = readStore(env);
  let loaded: LoadedConfig | undefined;
  let loadError: unknown;
  let usage: Usage | undefined;
  let plugins: PluginHost | undefined;
  const pluginWarnings: string[] = [];
  const started = performance.now();
  if (needsConfig) {
    try {
      loaded = await loadConfig({ cwd, env, ...(opts.configPath ? { configPath: opts.configPath } : {}) });
      ({ plugins, loaded } = await withPlugins(loaded, cwd, env, pluginWarnings));
      usage = collectUsage(loaded.config, env, store);
    } catch (error) {
      loadError = error;
    }
  }
  return {
    cwd,
    env,
    configPath: opts.configPath,
    fetch: opts.fetch ?? globalThis.fetch,
    now,
    probeTimeoutMs: opts.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS,
    signal: bound.signal,
    remainingMs: () => Math.max(1, Math.floor(bound.deadline - performance.now())),
    loaded,
    plugins,
    pluginWarnings,
    loadError,
    loadMs: performance.now() - started,
    usage,
    store,
    storeError,
  };
}

/**
 * The project's plugins, loaded as a run loads them (their functions run; an npm plugin neither
 * OpenCode nor Pantheon installed is not installed here), and the config as their `config` hooks
 * leave it: the agents, MCP servers and providers a plugin adds are checked as the config's own.
 */
async function withPlugins(given: LoadedConfig, cwd: string, env: NodeJS.ProcessEnv, warnings: string[]): Promise<{ plugins: PluginHost | undefined; loaded: LoadedConfig }> {
  const [{ openPlugins }, { isPure }] = await Promise.all([import('../plugins/load-plugins.ts'), import('../plugins/pure.ts')]);
  const plugins = await openPlugins({ layers: given.layers, directory: cwd, projectRoot: given.projectRoot, env, pure: isPure(env), install: false });
  const warn = (text: string): number => warnings.push(text);
  const configured = plugins?.has('config') ? await (await import('../plugins/config-hook.ts')).withPluginConfig(given, plugins, warn, { checked: true }) : given;
  const loaded = plugins?.providerHooks?.().length ? await (await import('../plugins/provider-hook.ts')).withPluginProviders(configured, plugins, env, warn) : configured;
  return { plugins, loaded };
}

/** Disposes what the context opened (the plugins). */
export async function closeContext(ctx: DoctorContext | undefined): Promise<void> {
  await ctx?.plugins?.dispose();
}

/** Every secret the run could meet (keys in the auth store and the environment, and the config's: secrets.ts), to scrub from output. */
export function knownSecrets(ctx: DoctorContext): string[] {
  const secrets: (string | undefined)[] = [];
  for (const entry of Object.values(ctx.store)) secrets.push(entry?.key);
  for (const info of ctx.usage?.providers.values() ?? []) secrets.push(info.credential.key, ...headerSecrets(info.headers));
  secrets.push(...configSecrets(ctx.loaded?.config));
  return [...new Set(secrets.filter((s): s is string => typeof s === 'string'))];
}
