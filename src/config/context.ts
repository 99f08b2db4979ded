import path from 'node:path';
import type { ConfigWarning } from './layer.ts';
import { defaultPresetsDir } from './presets.ts';

/** What one load shares between its steps. */
export interface LoadContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  presetsDir: string;
  warnings: ConfigWarning[];
  /** `{file:}` targets read during this load. */
  fileCache: Map<string, Promise<string>>;
  /** Absolute paths of config files already applied (each file applies once). */
  applied: Set<string>;
}

export interface ContextOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  presetsDir?: string;
}

export function createContext(opts: ContextOptions): LoadContext {
  return {
    cwd: path.resolve(opts.cwd ?? process.cwd()),
    env: opts.env ?? process.env,
    presetsDir: path.resolve(opts.presetsDir ?? defaultPresetsDir),
    warnings: [],
    fileCache: new Map(),
    applied: new Set(),
  };
}
