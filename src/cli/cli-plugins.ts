/**
 * The project's OpenCode plugins in a CLI process (`run`, `workflow run`): loaded first, since their
 * `config` hooks may change the config everything else reads; their clients answered by OpenCode's
 * API over the process's own core once it is open (until then, log lines only). A plugin or tool
 * file that fails to load is a warning on stderr.
 */
import type { LoadedConfig } from '../config/load.ts';
import type { McpServers } from '../core/mcp-servers.ts';
import { isPure } from '../plugins/pure.ts';
import type { PendingRunServer } from '../plugins/run-server.ts';
import type { PluginHost } from '../plugins/types.ts';
import type { Runtime } from '../run/runtime.ts';
import { printErr } from './print.ts';

export interface CliPlugins {
  /** The plugins and custom tools; undefined when the project has none. */
  plugins: PluginHost | undefined;
  /** The config as the plugins' `config` hooks left it. */
  loaded: LoadedConfig;
  /** Hands the plugins' clients the process's core, once open. */
  serve(core: { runtime: Runtime; mcp?: McpServers; configPath?: string }): Promise<void>;
  /** Disposes the plugins, then closes their clients' server. */
  close(): Promise<void>;
}

export async function cliPlugins(given: LoadedConfig): Promise<CliPlugins> {
  const { openPlugins } = await import('../plugins/load-plugins.ts');
  let server: PendingRunServer | undefined;
  /** Opens the clients' server over the process's core: at `serve`, or when a built-in plugin loaded later makes the server. */
  let openServer: ((pending: PendingRunServer) => Promise<void>) | undefined;
  const warn = (text: string) => printErr(`warning: ${text}\n`);
  // Until the command listens for them, a signal ends it here (a plugin's function may take its time), their `$` commands stopped.
  const { exitOnSignalWhileLoading } = await import('../plugins/run-exit.ts');
  const listening = exitOnSignalWhileLoading();
  const plugins = await openPlugins({
    layers: given.layers,
    directory: process.cwd(),
    projectRoot: given.projectRoot,
    env: process.env,
    pure: isPure(process.env),
    // Their clients' server, made with the first plugin.
    extras: async (signal) => {
      const [{ pendingRunServer }, { pluginInput }] = await Promise.all([import('../plugins/run-server.ts'), import('../plugins/plugin-input.ts')]);
      if (!server) {
        server = pendingRunServer();
        await openServer?.(server);
      }
      return pluginInput({ directory: process.cwd(), server, env: process.env })(signal);
    },
    warn,
  }).finally(listening);
  const configured = plugins?.has('config') ? await (await import('../plugins/config-hook.ts')).withPluginConfig(given, plugins, warn) : given;
  // Then their `provider` hooks' models, as OpenCode builds its provider list from the config the hooks left.
  const loaded = plugins?.providerHooks?.().length ? await (await import('../plugins/provider-hook.ts')).withPluginProviders(configured, plugins, process.env, warn) : configured;
  let closed = false;
  return {
    plugins,
    loaded,
    async serve(core) {
      if (!plugins) return;
      openServer = async (pending) => {
        const [{ runServer }, { version }] = await Promise.all([import('../plugins/run-server.ts'), import('./version.ts')]);
        pending.open(runServer({ env: process.env, ...(core.configPath ? { configPath: core.configPath } : {}), loaded, runtime: core.runtime, ...(core.mcp ? { mcp: core.mcp } : {}), plugins, version }));
      };
      if (server) await openServer(server);
    },
    async close() {
      if (closed) return;
      closed = true;
      await plugins?.dispose();
      await server?.close();
    },
  };
}

/**
 * The config as a run would see it: with the plugins' `config` and `provider` hooks applied (they
 * may add agents and models, as OpenCode's `agent list` and `models` show them), the plugins
 * disposed once it is read.
 */
export async function configWithPlugins(configPath: string | undefined): Promise<LoadedConfig> {
  const { loadConfig } = await import('../config/load.ts');
  const plugins = await cliPlugins(await loadConfig({ ...(configPath ? { configPath } : {}) }));
  await plugins.close();
  return plugins.loaded;
}
