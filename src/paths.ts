import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** XDG base directories, read from the environment each call so tests can point them at temp dirs. */
export function xdgConfigHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
}
export function xdgDataHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
}
export function xdgCacheHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
}

/** Pantheon's own state: sessions, workflow journals, the rate-limit ledger. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(xdgDataHome(env), 'pantheon');
}
/** Pantheon's cache folder. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(xdgCacheHome(env), 'pantheon');
}
/** OpenCode's global config folder (shared with OpenCode). */
export function globalConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(xdgConfigHome(env), 'opencode');
}
/** OpenCode's credential store (shared with OpenCode). */
export function authFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(xdgDataHome(env), 'opencode', 'auth.json');
}

/** Expands a leading `~` to the home directory. */
export function expandHome(p: string): string {
  if (p === '~') return os.homedir();
  if (p.startsWith('~/')) return path.join(os.homedir(), p.slice(2));
  return p;
}

/**
 * The package root (where schema/ and presets/ live): the nearest folder above this module with a
 * package.json — from src/, dist/ (tsc) or the bundle's dist/cli/ chunks alike.
 */
export const packageRoot = findPackageRoot(import.meta.dirname);

function findPackageRoot(from: string): string {
  for (let dir = from; ; ) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(from, '..');
    dir = up;
  }
}
