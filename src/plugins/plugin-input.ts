/**
 * The front-end's part of each plugin's input: `client` (OpenCode's SDK client, answered by the
 * process's own server in-process), `serverUrl`, and `$` (Bun's shell on Node; output a plugin did
 * not make quiet goes to stderr, escaped — stdout may be `run --format json`'s). One client and one
 * `$` per plugin (Bun's `$.cwd()` changes that `$` in place).
 */
import { printErr } from '../cli/print.ts';
import type { InProcessServer } from './in-process-server.ts';
import type { PluginInputExtras } from './load-plugins.ts';

export function pluginInput(options: { directory: string; server: InProcessServer; env: NodeJS.ProcessEnv }): (signal: AbortSignal) => Promise<PluginInputExtras> {
  return async (signal) => {
    const [{ pluginClient, serverAuth }, { createBunShell }] = await Promise.all([import('./plugin-client.ts'), import('./bun-shell.ts')]);
    const auth = serverAuth(options.env);
    const made = pluginClient({ directory: options.directory, server: options.server, ...(auth ? { auth } : {}) });
    return {
      client: made.client,
      serverUrl: () => made.serverUrl,
      $: createBunShell({ cwd: options.directory, env: options.env, signal, output: (chunk) => printErr(chunk) }),
    };
  };
}
