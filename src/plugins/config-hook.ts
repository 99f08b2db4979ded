/**
 * The plugins' `config` hooks (OpenCode calls them once its plugins are loaded, with the config,
 * which they may change: add agents, commands, MCP servers, …): given a copy of the loaded config;
 * what they leave is checked as a loaded config is and used, unless it is not valid.
 */
import { replacedConfig, type LoadedConfig } from '../config/load.ts';
import type { PluginHost } from './types.ts';

export async function withPluginConfig(loaded: LoadedConfig, plugins: PluginHost | undefined, warn: (text: string) => void): Promise<LoadedConfig> {
  if (!plugins?.configure) return loaded;
  const draft = structuredClone(loaded.config) as Record<string, unknown>;
  const before = JSON.stringify(draft);
  for (const failure of await plugins.configure(draft)) warn(`A plugin's config hook failed: ${failure}; the config is used as that hook left it.`);
  if (JSON.stringify(draft) === before) return loaded;
  const result = replacedConfig(loaded, draft);
  if ('loaded' in result) return result.loaded;
  const more = result.problems.length > 1 ? ` (and ${result.problems.length - 1} more)` : '';
  warn(`The plugins' config hooks left the config invalid: ${result.problems[0]}${more}; their changes are not used.`);
  return loaded;
}
