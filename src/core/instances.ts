/**
 * A long-lived process's projects: one instance per project directory, each with its config (loaded
 * as a CLI run in that folder would load it), its scheduler and cache over the one shared ledger,
 * its MCP servers, started once and kept until the process ends, and its language servers (started
 * by the first file an edit touches; stopped with the instance).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { loadConfig, type LoadedConfig } from '../config/load.ts';
import { PantheonError } from '../errors.ts';
import { openRuntime } from '../run/runtime.ts';
import type { Ledger } from '../scheduler/ledger.ts';
import { closeMcpOf, openMcp, type McpServers } from './mcp-servers.ts';
import { closeLspOf } from '../lsp/live.ts';
import type { TurnServices } from './session-turn.ts';
import { printErr } from '../cli/print.ts';
import { isPure } from '../plugins/pure.ts';
import type { PluginHost } from '../plugins/types.ts';
import type { InProcessServer } from '../plugins/in-process-server.ts';

export interface Instance extends TurnServices {
  /** The folder the instance was asked for (absolute, symlinks resolved). */
  directory: string;
  projectRoot: string;
  loaded: LoadedConfig;
  mcp?: McpServers;
  /** Stops feeding the project's events to its plugins. */
  stopPluginEvents?: () => void;
}

export interface InstancesOptions {
  /** The folder of the default instance (the server's working directory). */
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The ledger every instance's scheduler shares. */
  ledger: Ledger;
  /** `--config PATH`, applied in every instance. */
  configPath?: string;
  /** Instances kept at most; the least recently used idle one is closed beyond that. */
  max?: number;
  /** The config of `cwd` as the host already loaded it (for its ledger): its instance's first opening uses it instead of loading it again. */
  loaded?: LoadedConfig;
  /** Feeds a project's events, as OpenCode's bus carries them, to its plugins' `event` hooks (the host's); returns how to stop. */
  pluginEvents?: (projectRoot: string, publish: PluginHost['publish']) => () => void;
  /**
   * The instance of `cwd` as its caller opened it (a run's: its config, runtime and MCP servers, for
   * its plugins' in-process server): used as it is, and never closed here (the caller closes it).
   */
  lent?: Instance;
  /** What the projects' plugins' `client` calls (src/plugins/plugin-client.ts): the process's own server, in-process. */
  server?: InProcessServer;
}

const DEFAULT_MAX = 32;

async function openInstance(directory: string, options: InstancesOptions, preloaded?: LoadedConfig): Promise<Instance> {
  let loaded = preloaded ?? (await loadConfig({ cwd: directory, env: options.env, ...(options.configPath ? { configPath: options.configPath } : {}) }));
  // The plugins first: their `config` hooks may change the config the rest is opened with.
  const plugins = await instancePlugins(directory, loaded, options);
  if (plugins?.has('config')) loaded = await (await import('../plugins/config-hook.ts')).withPluginConfig(loaded, plugins, (text) => printErr(`warning: ${text}\n`));
  if (plugins?.providerHooks?.().length) loaded = await (await import('../plugins/provider-hook.ts')).withPluginProviders(loaded, plugins, options.env, (text) => printErr(`warning: ${text}\n`));
  let runtime: Awaited<ReturnType<typeof openRuntime>>;
  let mcp: McpServers | undefined;
  try {
    [runtime, mcp] = await Promise.all([openRuntime(loaded.config, { env: options.env, ledger: options.ledger }), openMcp(loaded.config, loaded.projectRoot)]);
  } catch (error) {
    // The instance does not open: its plugins, loaded already, are disposed (a retry loads them again).
    await plugins?.dispose();
    throw error;
  }
  const stopFeed = plugins?.has('event') ? options.pluginEvents?.(loaded.projectRoot, (event) => plugins.publish(event)) : undefined;
  return { directory, projectRoot: loaded.projectRoot, loaded, config: loaded.config, runtime, ...(mcp ? { mcp } : {}), ...(plugins ? { plugins } : {}), ...(stopFeed ? { stopPluginEvents: stopFeed } : {}) };
}

/** The project's OpenCode plugins and custom tools (none under OPENCODE_PURE but the tools); each that fails to load is a warning on stderr. */
async function instancePlugins(directory: string, loaded: LoadedConfig, options: InstancesOptions): Promise<PluginHost | undefined> {
  const [{ openPlugins }, { pluginInput }] = await Promise.all([import('../plugins/load-plugins.ts'), import('../plugins/plugin-input.ts')]);
  const server = options.server;
  const opening = openPlugins({
    layers: loaded.layers,
    directory,
    projectRoot: loaded.projectRoot,
    env: options.env,
    pure: isPure(options.env),
    ...(server ? { extras: pluginInput({ directory, server, env: options.env }) } : {}),
    warn: (text) => printErr(`warning: ${text}\n`),
  });
  // Meanwhile a plugin's client call about this project is answered at once (it would wait for the instance, which waits for the plugin).
  server?.loading?.(directory, opening);
  return opening;
}

async function closeInstance(instance: Instance): Promise<void> {
  instance.stopPluginEvents?.();
  await Promise.allSettled([instance.runtime.close(), closeMcpOf(instance), closeLspOf(instance.config, instance.projectRoot), instance.plugins?.dispose()]);
}

/** The instances of one process, by directory; opened on first use, at most once each. */
export class Instances {
  readonly #options: InstancesOptions;
  readonly #open = new Map<string, Promise<Instance>>();
  readonly #busy = new Map<string, number>();
  /** Instances disposed while a request held them, by directory: closed once it is idle. */
  readonly #retired = new Map<string, Promise<Instance>[]>();
  /** The working directory, resolved once: most requests name no directory, and each lookup was two file-system calls. */
  #cwd: Promise<string> | undefined;
  /** The working directory as `#cwd` resolved it. */
  #cwdReal: string | undefined;
  /** `options.loaded`, until the working directory's instance is first opened. */
  #preloaded: LoadedConfig | undefined;

  constructor(options: InstancesOptions) {
    this.#options = options;
    this.#preloaded = options.loaded;
    if (options.lent) this.#open.set(options.lent.directory, Promise.resolve(options.lent));
  }

  /** Closes an instance, unless it is the one lent (its caller closes it). */
  #close = (instance: Instance): Promise<void> => (instance === this.#options.lent ? Promise.resolve() : closeInstance(instance));

  get defaultDirectory(): string {
    return this.#options.cwd;
  }

  /**
   * The instance of `directory` (default: the process's working directory). A folder that does not
   * exist, or a config there that does not load, is a usage error naming it.
   */
  get(directory?: string): Promise<Instance> {
    // Most requests: the working directory's instance, open already, handed over as it is (an
    // async function returning it would add turns of the microtask queue to every request).
    const opening = directory === undefined && this.#cwdReal !== undefined ? this.#open.get(this.#cwdReal) : undefined;
    if (opening) return this.#used(this.#cwdReal as string, opening);
    return this.#get(directory);
  }

  /** Most recently used last, so eviction takes the oldest. */
  #used(dir: string, opening: Promise<Instance>): Promise<Instance> {
    this.#open.delete(dir);
    this.#open.set(dir, opening);
    return opening;
  }

  async #get(directory: string | undefined): Promise<Instance> {
    const dir = await this.resolve(directory);
    let opening = this.#open.get(dir);
    if (opening) return this.#used(dir, opening);
    // The host's own load of the working directory's config serves its first opening only (a reopening reads the files again).
    const preloaded = dir === this.#options.cwd ? this.#preloaded : undefined;
    if (preloaded) this.#preloaded = undefined;
    opening = openInstance(dir, this.#options, preloaded);
    this.#open.set(dir, opening);
    opening.catch(() => {
      if (this.#open.get(dir) === opening) this.#open.delete(dir);
    });
    await this.#evict();
    return opening;
  }

  /** Runs `fn` with the instance held (it is not evicted meanwhile). */
  async use<T>(instance: Instance, fn: () => Promise<T>): Promise<T> {
    this.#busy.set(instance.directory, (this.#busy.get(instance.directory) ?? 0) + 1);
    try {
      return await fn();
    } finally {
      const left = (this.#busy.get(instance.directory) ?? 1) - 1;
      if (left > 0) this.#busy.set(instance.directory, left);
      else {
        this.#busy.delete(instance.directory);
        const retired = this.#retired.get(instance.directory);
        this.#retired.delete(instance.directory);
        for (const opening of retired ?? []) void opening.then(this.#close, () => undefined);
      }
    }
  }

  /**
   * Forgets the instance of `directory` (OpenCode's `POST /instance/dispose`): the next request
   * opens it again, its config read anew. It is closed (MCP servers stopped) at once, or once the
   * requests holding it are done. Whether there was one open.
   */
  async dispose(directory: string): Promise<boolean> {
    const opening = this.#open.get(directory);
    if (!opening) return false;
    this.#open.delete(directory);
    if (this.#busy.has(directory)) this.#retired.set(directory, [...(this.#retired.get(directory) ?? []), opening]);
    else await opening.then(this.#close, () => undefined);
    return true;
  }

  /** The instances opened so far (those that loaded). */
  async list(): Promise<Instance[]> {
    const settled = await Promise.allSettled([...this.#open.values()]);
    return settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  }

  /** An absolute, existing folder for `directory` (relative to the process's working directory). */
  resolve(directory?: string): Promise<string> {
    if (directory !== undefined) return this.#resolve(directory);
    this.#cwd ??= this.#resolve(undefined).then(
      (real) => (this.#cwdReal = real),
      (error: unknown) => {
        this.#cwd = undefined;
        throw error;
      },
    );
    return this.#cwd;
  }

  async #resolve(directory: string | undefined): Promise<string> {
    const wanted = path.resolve(this.#options.cwd, directory ?? '.');
    let real: string;
    try {
      real = await fs.realpath(wanted);
    } catch {
      throw new PantheonError('DIRECTORY_NOT_FOUND', `The directory ${wanted} does not exist.`, { hint: 'Give an existing project folder (x-opencode-directory header or ?directory=).' });
    }
    if (!(await fs.stat(real)).isDirectory()) {
      throw new PantheonError('DIRECTORY_NOT_FOUND', `${wanted} is not a directory.`, { hint: 'Give a project folder, not a file.' });
    }
    return real;
  }

  async #evict(): Promise<void> {
    const max = this.#options.max ?? DEFAULT_MAX;
    for (const [dir, opening] of this.#open) {
      if (this.#open.size <= max) return;
      if (dir === this.#options.cwd || this.#busy.has(dir)) continue;
      this.#open.delete(dir);
      await opening.then(this.#close, () => undefined);
    }
  }

  /** Closes every instance: MCP servers stopped, caches closed (the shared ledger is the caller's). */
  async close(): Promise<void> {
    const all = [...this.#open.values(), ...[...this.#retired.values()].flat()];
    this.#open.clear();
    this.#retired.clear();
    await Promise.allSettled(all.map((opening) => opening.then(this.#close)));
  }
}
