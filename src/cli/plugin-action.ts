/** `opencode plugin <module>`: plugins/add-plugin.ts, said as OpenCode says it (one line each). */
import { loadConfig } from '../config/load.ts';
import { PantheonError } from '../errors.ts';
import { addPlugin } from '../plugins/add-plugin.ts';
import type { PluginArgs } from './commands/plugin.ts';
import { oneValue } from './one-value.ts';
import { printErr, printOut } from './print.ts';
import { safeLine } from './terminal-text.ts';

export async function pluginAction(args: PluginArgs): Promise<void> {
  const spec = oneValue(args.module, 'module', 'npm module name', 'Add one plugin at a time.') ?? '';
  const loaded = await loadConfig({ ...(args.config ? { configPath: args.config } : {}) });
  // Ctrl-C stops npm (nothing half-installed is kept) and writes nothing.
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  try {
    const done = await addPlugin({ spec, global: Boolean(args.global), force: Boolean(args.force), loaded, cwd: process.cwd(), env: process.env, signal: controller.signal }).catch((error: unknown) => {
      throw controller.signal.aborted ? new PantheonError('CANCELLED', 'Interrupted; nothing was installed or written.') : error;
    });
    const said = { added: 'Added to', replaced: 'Replaced in', unchanged: 'Already configured in' }[done.change];
    printOut(`${said} ${safeLine(done.file)}\n`);
    printOut(`Installed ${safeLine(done.plugin.name)}${done.plugin.version ? ` ${safeLine(done.plugin.version)}` : ''}\n`);
    printOut(`Scope: ${args.global ? 'global' : 'local'} (${safeLine(done.folder)})\n`);
    if (done.change === 'unchanged' && !args.force) printErr('hint: --force replaces the entry with this spec (another version).\n');
  } finally {
    process.off('SIGINT', stop);
  }
}
