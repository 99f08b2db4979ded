/**
 * A project's OpenCode plugins and custom tools, found and started as OpenCode 1.18 does:
 * - plugins: the config's `plugin` entries (every layer's, a later layer's entry of the same
 *   package replacing an earlier one; `file://` URLs, paths relative to the config file naming
 *   them, npm packages), then the `plugin/` and `plugins/` folders' `*.ts` and `*.js` files of
 *   OpenCode's config folders (config-dirs.ts); every export of a plugin module is a plugin function
 *   (or `{server}`), called with OpenCode's input and the entry's options, and returns its hooks;
 * - custom tools: the `tool/` and `tools/` folders' `*.ts` and `*.js` files, each export that is a
 *   tool definition named after its file (`default`) or `<file>_<export>`; then the plugins' `tool`
 *   hooks.
 * Nothing is loaded when there is nothing to load (one directory read per config folder). A
 * plugin that fails to load is left out with one sentence saying why; the others go on.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import type { ConfigLayer } from '../config/layer.ts';
import { safeLine } from '../cli/terminal-text.ts';
import { debugNote } from '../debug-note.ts';
import { BUILTIN_PLUGINS, builtinsEnabled, type BuiltinPlugin } from './builtin/index.ts';
import { pluginFolders } from './config-dirs.ts';
import { markPluginCodeRan } from './loaded-code.ts';
import { orStalled } from './stalled.ts';
import { npmPluginKey, resolveNpmPlugin, skippedByOpenCode } from './npm-plugins.ts';
import type { PluginAuthHook, PluginEvent, PluginHooks, PluginHost, PluginProviderHook, PluginSource, PluginToolDefinition, TriggerHook } from './types.ts';

/** What a plugin function gets besides the fields made here (`client`, `serverUrl`, `$`: the front-end's). */
export interface PluginInputExtras {
  client?: unknown;
  /** Read each time a plugin reads `serverUrl` (the listening server's, once it listens). */
  serverUrl?: () => URL;
  $?: unknown;
}

export interface OpenPluginsOptions {
  /** The config's layers, lowest first (their `plugin` entries, and the files they came from). */
  layers: readonly Pick<ConfigLayer, 'data' | 'file'>[];
  /** The folder the plugins run for (a run's working directory, a server instance's). */
  directory: string;
  projectRoot: string;
  env: NodeJS.ProcessEnv;
  /** `--pure` / `OPENCODE_PURE`: no plugins (custom tools still load, as in OpenCode). */
  pure?: boolean;
  /** The front-end's part of each plugin's input, made for each plugin (its `$` is stopped with the plugins: `signal`). */
  extras?: (signal: AbortSignal) => Promise<PluginInputExtras>;
  /** Whether an npm plugin in neither OpenCode's cache nor Pantheon's is installed (default true; doctor: false). */
  install?: boolean;
  /** Told once per plugin or tool file that failed, in one sentence. */
  warn?: (message: string) => void;
  /** The built-in plugins (builtin/index.ts; default: all, unless OPENCODE_DISABLE_DEFAULT_PLUGINS). */
  builtins?: readonly BuiltinPlugin[];
}

/** How long a plugin's function may take to give its hooks. */
const START_MS = 30_000;
/** How long every `dispose` together (with the event hooks still at work) may take. */
const DISPOSE_MS = 5_000;
/** The event hooks at work that dispose waits for, at most (a hook that never ends must not grow a server's memory). */
const MAX_HANDLING = 64;
const SOURCE_FILE = /\.(?:ts|js|mts|mjs)$/;

interface Origin {
  spec: string;
  /** An absolute file, or an npm package spec. */
  target: string;
  file: boolean;
  options: Record<string, unknown>;
}

/** The config's `plugin` entries, every layer's, a later layer's entry for the same package or file replacing the earlier. */
function configOrigins(options: OpenPluginsOptions): Origin[] {
  const byKey = new Map<string, Origin>();
  for (const layer of options.layers) {
    const list = layer.data.plugin;
    if (!Array.isArray(list)) continue;
    const base = layer.file ? path.dirname(layer.file) : options.directory;
    for (const entry of list) {
      const [spec, opts] = Array.isArray(entry) ? entry : [entry, undefined];
      if (typeof spec !== 'string' || !spec) continue;
      const pluginOptions = opts && typeof opts === 'object' && !Array.isArray(opts) ? (opts as Record<string, unknown>) : {};
      let target = spec;
      let file = true;
      if (spec.startsWith('file://')) target = fileURLToPath(spec);
      else if (spec.startsWith('./') || spec.startsWith('../')) target = path.resolve(base, spec);
      else if (path.isAbsolute(spec)) target = spec;
      else if (skippedByOpenCode(spec)) continue;
      else file = false;
      const key = file ? target : npmPluginKey(spec);
      byKey.delete(key);
      byKey.set(key, { spec, target, file, options: pluginOptions });
    }
  }
  return [...byKey.values()];
}

/** The `*.ts`/`*.js` files of `names` folders in each config folder, by folder then name. */
async function folderFiles(folders: readonly string[], names: readonly string[]): Promise<string[]> {
  const found = await Promise.all(
    folders.flatMap((folder) =>
      names.map(async (name) => {
        const dir = path.join(folder, name);
        const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
        return entries
          .filter((e) => (e.isFile() || e.isSymbolicLink()) && SOURCE_FILE.test(e.name) && !e.name.endsWith('.d.ts'))
          .map((e) => path.join(dir, e.name))
          .sort();
      }),
    ),
  );
  return found.flat();
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]?.slice(0, 500) ?? '';
}

/** The plugin functions of a module: every distinct export, each a function or `{server}` (OpenCode refuses a module with anything else). */
function pluginFunctions(mod: Record<string, unknown>): ((input: unknown, options?: unknown) => unknown)[] {
  const seen = new Set<unknown>();
  const found: ((input: unknown, options?: unknown) => unknown)[] = [];
  for (const value of Object.values(mod)) {
    if (seen.has(value)) continue;
    seen.add(value);
    const fn = typeof value === 'function' ? value : value && typeof value === 'object' && typeof (value as { server?: unknown }).server === 'function' ? (value as { server: unknown }).server : undefined;
    if (typeof fn !== 'function') throw new TypeError('an export is not a plugin function (every export of a plugin module must be one)');
    found.push(fn as (input: unknown, options?: unknown) => unknown);
  }
  return found;
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
    timer.unref();
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * The project's plugins and custom tools, and the built-in plugins (loaded when their provider is
 * first used: PluginHost.loadBuiltins); undefined when it has none of them.
 */
export async function openPlugins(options: OpenPluginsOptions): Promise<PluginHost | undefined> {
  const pure = options.pure === true;
  const builtins = options.builtins ?? (builtinsEnabled(options.env) ? BUILTIN_PLUGINS : []);
  const folders = pluginFolders(options.directory, options.projectRoot, options.env);
  const [pluginFiles, toolFiles] = await Promise.all([pure ? [] : folderFiles(folders, ['plugin', 'plugins']), folderFiles(folders, ['tool', 'tools'])]);
  const origins = pure ? [] : [...configOrigins(options), ...pluginFiles.map((file) => ({ spec: file, target: file, file: true, options: {} }))];
  const stop = new AbortController();
  // The plugins' input (OpenCode's PluginInput), made for each plugin: the project is read once, when the first needs it.
  let project: Promise<Record<string, unknown>> | undefined;
  const inputOf = async (): Promise<Record<string, unknown>> => {
    project ??= projectOf(options.projectRoot);
    const [shown, extras] = await Promise.all([project, options.extras?.(stop.signal) ?? ({} as PluginInputExtras)]);
    return {
      project: shown,
      directory: options.directory,
      worktree: options.projectRoot,
      experimental_workspace: { register: () => undefined },
      get serverUrl() {
        return extras.serverUrl?.() ?? new URL('http://localhost:4096');
      },
      client: extras.client,
      $: extras.$,
    };
  };
  if (origins.length === 0 && toolFiles.length === 0) {
    if (builtins.length === 0) return undefined;
    return new LoadedPlugins({ directory: options.directory, worktree: options.projectRoot, sources: [], tools: new Map(), hooks: [], stop, builtins, inputOf, ...(options.warn ? { warn: options.warn } : {}) });
  }

  const zod = (await import('zod')) as unknown as Record<string, unknown>;
  const { installModuleHooks } = await import('./module-hooks.ts');
  installModuleHooks(zod);

  const sources: PluginSource[] = [];
  const tools = new Map<string, PluginToolDefinition>();
  const hooks: PluginHooks[] = [];
  /** The plugins' `tool` hooks' tools, in load order (after the folders' tools). */
  const pluginTools: [string, PluginToolDefinition][] = [];
  const fail = (source: PluginSource, message: string) => {
    source.problem = message;
    options.warn?.(message);
  };

  for (const file of toolFiles) {
    const source: PluginSource = { kind: 'tools', spec: file };
    sources.push(source);
    try {
      const mod = (markPluginCodeRan(), await import(pathToFileURL(file).href)) as Record<string, unknown>;
      const base = path.basename(file, path.extname(file));
      const { isToolDefinition } = await import('./plugin-tools.ts');
      for (const [name, value] of Object.entries(mod)) {
        if (isToolDefinition(value)) tools.set(name === 'default' ? base : `${base}_${name}`, value);
      }
    } catch (error) {
      fail(source, `The custom tool file ${file} did not load: ${messageOf(error)}.`);
    }
  }

  for (const origin of origins) {
    const source: PluginSource = { kind: 'plugin', spec: origin.spec };
    sources.push(source);
    let entry: string;
    try {
      entry = origin.file ? pathToFileURL(origin.target).href : pathToFileURL((await resolveNpmPlugin(origin.spec, { env: options.env, install: options.install !== false })).entry).href;
    } catch (error) {
      // npm-plugins.ts says what went wrong in a sentence of its own.
      fail(source, messageOf(error));
      continue;
    }
    try {
      const mod = (markPluginCodeRan(), await import(entry)) as Record<string, unknown>;
      const input = await inputOf();
      for (const fn of pluginFunctions(mod)) {
        const returned = await within(orStalled(Promise.resolve(fn(input, origin.options)), 'its plugin function'), START_MS, 'its plugin function');
        if (!returned || typeof returned !== 'object') continue;
        const read = await hooksOf(returned as Record<string, unknown>);
        hookOrigins.set(read.hooks, origin.spec);
        hooks.push(read.hooks);
        pluginTools.push(...read.tools);
      }
    } catch (error) {
      fail(source, `The plugin ${origin.spec} did not load: ${messageOf(error)}.`);
    }
  }
  for (const [name, def] of pluginTools) tools.set(name, def);
  debugNote(`plugins: ${hooks.length} plugin${hooks.length === 1 ? '' : 's'} and ${tools.size} custom tool${tools.size === 1 ? '' : 's'} for ${options.directory}\n`);
  return new LoadedPlugins({ directory: options.directory, worktree: options.projectRoot, sources, tools, hooks, stop, builtins, inputOf, ...(options.warn ? { warn: options.warn } : {}) });
}

/** Which plugin (its file, or the config's entry) returned each external plugin's hooks: `configure` names it. */
const hookOrigins = new WeakMap<PluginHooks, string>();

/** The hooks Pantheon reads of a plugin's returned object (OpenCode's `Hooks`). */
const HOOK_NAMES = ['dispose', 'event', 'config', 'auth', 'provider', 'chat.message', 'chat.params', 'chat.headers', 'permission.ask', 'command.execute.before', 'tool.execute.before', 'tool.execute.after', 'shell.env', 'tool.definition', 'experimental.chat.messages.transform', 'experimental.chat.system.transform', 'experimental.session.compacting', 'experimental.compaction.autocontinue', 'experimental.text.complete'];

/**
 * What a plugin returned, read once while it loads (a getter or a Proxy that throws fails its load,
 * not a later turn): its hooks, bound to the object that gave them, and its tools.
 */
async function hooksOf(returned: Record<string, unknown>): Promise<{ hooks: PluginHooks; tools: [string, PluginToolDefinition][] }> {
  const hooks: PluginHooks = {};
  for (const name of HOOK_NAMES) {
    const value = returned[name];
    if (typeof value === 'function') hooks[name] = value.bind(returned);
    else if (value !== undefined) hooks[name] = value;
  }
  const given = returned.tool;
  const found: [string, PluginToolDefinition][] = [];
  if (given && typeof given === 'object') {
    const { isToolDefinition } = await import('./plugin-tools.ts');
    for (const [name, def] of Object.entries(given)) if (isToolDefinition(def)) found.push([name, def]);
  }
  return { hooks, tools: found };
}

/** OpenCode's `Project` for the plugins' input. */
async function projectOf(projectRoot: string): Promise<Record<string, unknown>> {
  const { projectId } = await import('../session/project-id.ts');
  const git = await fs.stat(path.join(projectRoot, '.git')).then(
    () => true,
    () => false,
  );
  const now = Date.now();
  return { id: projectId(projectRoot), worktree: projectRoot, ...(git ? { vcs: 'git' } : {}), time: { created: now, updated: now }, sandboxes: [] };
}

interface HostParts {
  directory: string;
  worktree: string;
  sources: PluginSource[];
  tools: Map<string, PluginToolDefinition>;
  /** The external plugins' hooks, in load order. */
  hooks: PluginHooks[];
  stop: AbortController;
  builtins: readonly BuiltinPlugin[];
  /** A plugin's input, made for each. */
  inputOf: () => Promise<Record<string, unknown>>;
  warn?: (message: string) => void;
}

/** A built-in plugin of the host: its hooks once loaded. */
interface Builtin {
  plugin: BuiltinPlugin;
  loading?: Promise<void>;
  hooks?: PluginHooks;
}

class LoadedPlugins implements PluginHost {
  readonly directory: string;
  readonly worktree: string;
  readonly sources: readonly PluginSource[];
  readonly tools: ReadonlyMap<string, PluginToolDefinition>;
  /** Every plugin's hooks in load order: the built-ins loaded so far, then the external plugins'. */
  #hooks: readonly PluginHooks[];
  readonly #external: readonly PluginHooks[];
  readonly #builtins: readonly Builtin[];
  readonly #inputOf: () => Promise<Record<string, unknown>>;
  readonly #warn: ((message: string) => void) | undefined;
  #disposed = false;

  readonly #stop: AbortController;

  constructor(parts: HostParts) {
    this.#stop = parts.stop;
    this.directory = parts.directory;
    this.worktree = parts.worktree;
    this.sources = parts.sources;
    this.tools = parts.tools;
    this.#hooks = parts.hooks;
    this.#external = parts.hooks;
    this.#builtins = parts.builtins.map((plugin) => ({ plugin }));
    this.#inputOf = parts.inputOf;
    this.#warn = parts.warn;
  }

  /**
   * Loads the built-in plugins of `providerId` (every one without it), once each: their hooks join
   * the host's, before the external plugins' (OpenCode loads its internal plugins first). One that
   * fails to load is one warning, and the provider goes on without it.
   */
  loadBuiltins(providerId?: string): Promise<void> {
    const wanted = this.#builtins.filter((b) => providerId === undefined || b.plugin.provider === providerId);
    if (wanted.length === 0 || this.#disposed) return Promise.resolve();
    return Promise.all(wanted.map((b) => (b.loading ??= this.#loadBuiltin(b)))).then(() => undefined);
  }

  async #loadBuiltin(builtin: Builtin): Promise<void> {
    try {
      const [fn, input] = await Promise.all([builtin.plugin.load(), this.#inputOf()]);
      const returned = await within(orStalled(Promise.resolve(fn(input)), 'its plugin function'), START_MS, 'its plugin function');
      if (returned && typeof returned === 'object') builtin.hooks = (await hooksOf(returned as Record<string, unknown>)).hooks;
    } catch (error) {
      const message = `The built-in plugin for ${builtin.plugin.provider} did not load: ${messageOf(error)}.`;
      this.#warn?.(message);
      debugNote(`plugins: ${safeLine(message)}\n`);
    }
    this.#hooks = [...this.#builtins.flatMap((b) => (b.hooks ? [b.hooks] : [])), ...this.#external];
  }

  /** The providers the built-ins serve. */
  builtinProviders(): string[] {
    return this.#builtins.map((b) => b.plugin.provider);
  }

  has(hook: TriggerHook | 'config' | 'event'): boolean {
    return this.#hooks.some((h) => typeof h[hook] === 'function');
  }

  async trigger<O extends object>(hook: TriggerHook, input: unknown, output: O): Promise<O> {
    for (const h of this.#hooks) {
      const fn = h[hook];
      if (typeof fn === 'function') await orStalled(Promise.resolve((fn as (i: unknown, o: O) => unknown).call(h, input, output)), `the ${hook} hook`);
    }
    return output;
  }

  authHooks(providerId: string): PluginAuthHook[] {
    return this.#hooks.flatMap((h) => (h.auth && typeof h.auth === 'object' && h.auth.provider === providerId ? [h.auth] : []));
  }

  providerHooks(providerId?: string): PluginProviderHook[] {
    return this.#hooks.flatMap((h) => (h.provider && typeof h.provider === 'object' && (providerId === undefined || (h.provider as PluginProviderHook).id === providerId) ? [h.provider as PluginProviderHook] : []));
  }

  authProviders(options: { builtins?: boolean } = {}): string[] {
    const external = this.#external.flatMap((h) => (h.auth && typeof h.auth === 'object' && typeof h.auth.provider === 'string' ? [h.auth.provider] : []));
    return options.builtins === false ? external : [...this.builtinProviders(), ...external];
  }

  async configure(config: Record<string, unknown>, after?: (plugin: string) => void): Promise<string[]> {
    const failed: string[] = [];
    for (const h of this.#hooks) {
      if (typeof h.config !== 'function') continue;
      try {
        await within(orStalled(Promise.resolve(h.config.call(h, config)), 'it'), START_MS, 'a plugin\u2019s config hook');
      } catch (error) {
        failed.push(messageOf(error));
      }
      after?.(hookOrigins.get(h) ?? 'a built-in plugin');
    }
    return failed;
  }

  /** The event hooks at work (at most MAX_HANDLING followed): dispose waits for them before stopping their commands. */
  readonly #handling = new Set<Promise<unknown>>();
  #seq = 0;
  readonly #prefix = `evt_${Date.now().toString(16)}p`;

  publish(event: { type: string; properties: Record<string, unknown>; id?: string }): void {
    if (this.#disposed) return;
    let payload: PluginEvent | undefined;
    for (const h of this.#hooks) {
      if (typeof h.event !== 'function') continue;
      if (!payload) {
        this.#seq += 1;
        payload = { id: event.id ?? `${this.#prefix}${this.#seq.toString(16).padStart(8, '0')}`, type: event.type, properties: event.properties };
      }
      try {
        const handled = Promise.resolve(h.event.call(h, { event: payload })).catch((error: unknown) => debugNote(`plugins: an event hook failed on ${event.type}: ${safeLine(messageOf(error))}\n`));
        if (this.#handling.size < MAX_HANDLING) {
          this.#handling.add(handled);
          void handled.finally(() => this.#handling.delete(handled));
        }
      } catch (error) {
        debugNote(`plugins: an event hook failed on ${event.type}: ${safeLine(messageOf(error))}\n`);
      }
    }
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    const all = this.#hooks.filter((h) => typeof h.dispose === 'function').map((h) => Promise.resolve().then(() => (h.dispose as () => unknown).call(h)));
    // The event hooks still at work finish too (a notification on session.idle, OpenCode's example), within the same bound.
    await within(orStalled(Promise.allSettled([...all, ...this.#handling]), 'the plugins\u2019 dispose'), DISPOSE_MS, 'the plugins\u2019 dispose').catch(() => undefined);
    // Their shells' commands still running are stopped.
    this.#stop.abort();
  }
}
