/**
 * The pseudo-terminal library (`@lydell/node-pty`: node-pty with prebuilt binaries as npm packages,
 * one per platform), loaded on the first terminal a client opens, never at start-up. It is a native
 * module, so the CLI's bundle leaves it to Node's loader (scripts/build-cli.ts); a machine without
 * a binary for its platform gets one clear error when a terminal is asked for, and the server
 * serves everything else.
 */
import { createRequire } from 'node:module';
import { HttpError } from '../http-error.ts';

/** The part of node-pty's IPty the terminals use. */
export interface NativePty {
  readonly pid: number;
  onData(listener: (data: string) => void): { dispose(): void };
  onExit(listener: (event: { exitCode: number; signal?: number }) => void): { dispose(): void };
  write(data: string): void;
  resize(cols: number, rows: number): void;
  kill(signal?: string): void;
  pause(): void;
  resume(): void;
}

export interface SpawnOptions {
  name: string;
  cols: number;
  rows: number;
  cwd: string;
  env: Record<string, string>;
}

type Spawn = (file: string, args: string[], options: SpawnOptions) => NativePty;

export const PTY_PACKAGE = '@lydell/node-pty';

let loaded: { spawn: Spawn } | { error: string } | undefined;

/** node-pty's spawn, or a 501 saying why this machine cannot open terminals. */
export function ptySpawn(): Spawn {
  if (!loaded) {
    try {
      // PANTHEON_PTY_MODULE: another package in its place (tests name a missing one).
      const mod = createRequire(import.meta.url)(process.env.PANTHEON_PTY_MODULE || PTY_PACKAGE) as { spawn?: Spawn };
      loaded = typeof mod.spawn === 'function' ? { spawn: mod.spawn } : { error: `${PTY_PACKAGE} has no spawn function` };
    } catch (error) {
      // The first line of its message (the package's own names the missing binary package).
      loaded = { error: (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'unknown error' };
    }
  }
  if ('spawn' in loaded) return loaded.spawn;
  throw new HttpError(501, 'PTY_UNAVAILABLE', `Terminals are not available on this machine: ${PTY_PACKAGE} could not be loaded (${loaded.error.slice(0, 300)}).`, {
    hint: `Reinstall with npm without --omit=optional, so that the prebuilt binary of ${PTY_PACKAGE} for ${process.platform}-${process.arch} is installed.`,
  });
}
