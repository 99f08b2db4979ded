import os from 'node:os';
import path from 'node:path';

/**
 * Home and XDG folders read from an injected environment (not the process's), so that loading
 * config in tests, or for another user's environment, never touches the real home folder.
 */
export function homeDir(env: NodeJS.ProcessEnv): string {
  return env.HOME || os.homedir();
}

/** Expands a leading `~` (alone or followed by `/`) to `env.HOME`. */
export function expandTilde(p: string, env: NodeJS.ProcessEnv): string {
  if (p === '~') return homeDir(env);
  if (p.startsWith('~/')) return path.join(homeDir(env), p.slice(2));
  return p;
}

/** OpenCode's global config folder: `$XDG_CONFIG_HOME/opencode`, default `~/.config/opencode`. */
export function globalConfigFolder(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || path.join(homeDir(env), '.config');
  return path.join(base, 'opencode');
}

/** `p` resolved against `base` after `~` expansion. */
export function resolveUserPath(p: string, base: string, env: NodeJS.ProcessEnv): string {
  return path.resolve(base, expandTilde(p, env));
}
