/**
 * The config as something else changed it (OpenCode's plugins' `config` and `provider` hooks):
 * checked as a loaded config is, its `mode` folded into `agent`, frozen.
 */
import { deepFreeze } from './freeze.ts';
import { foldModes, type LoadedConfig } from './load.ts';
import type { Config } from './schema-types.ts';
import { validateConfigObject } from './validate.ts';

/** The problems when `next` is not valid (the loaded config is then kept by the caller). */
export function replacedConfig(loaded: LoadedConfig, next: Record<string, unknown>): { loaded: LoadedConfig } | { problems: string[] } {
  const problems = validateConfigObject(next);
  if (problems.length > 0) return { problems };
  foldModes(next);
  return { loaded: { ...loaded, config: deepFreeze(next as Config) } };
}
