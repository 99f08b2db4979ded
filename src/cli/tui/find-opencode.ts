/**
 * OpenCode's own binary, whose terminal UI `opencode` alone starts on Pantheon's server (and
 * `opencode attach URL` on a running one): the one
 * PANTHEON_OPENCODE_BIN names, else another `opencode` on the PATH (one that is not this package's),
 * else where OpenCode's install script puts it (`~/.opencode/bin/opencode`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PantheonError } from '../../errors.ts';
import { findOnPath, isExecutableFile } from '../../executable.ts';

function realpath(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return file;
  }
}

/** Whether `file` is this package's own CLI (a PATH entry or link that leads back to Pantheon). */
function isPantheon(file: string, ownRoot: string): boolean {
  const rel = path.relative(ownRoot, realpath(file));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * The OpenCode binary to run, or undefined when there is none. `ownRoot` is this package's folder
 * (an `opencode` in it is Pantheon itself). A PANTHEON_OPENCODE_BIN that is not an executable file
 * is the user's mistake, said as such.
 */
export function findOpenCode(env: NodeJS.ProcessEnv, ownRoot: string): string | undefined {
  const named = env.PANTHEON_OPENCODE_BIN?.trim();
  if (named) {
    if (!isExecutableFile(named)) throw new PantheonError('USAGE', `PANTHEON_OPENCODE_BIN: expected OpenCode's executable, found "${named.slice(0, 200)}" (not an executable file).`, { hint: 'Point it at OpenCode\'s binary (for example ~/.opencode/bin/opencode), or unset it to search the PATH.' });
    return named;
  }
  const name = process.platform === 'win32' ? 'opencode.exe' : 'opencode';
  const onPath = findOnPath(name, env, (file) => !isPantheon(file, ownRoot));
  if (onPath) return onPath;
  const installed = path.join(env.HOME || os.homedir(), '.opencode', 'bin', name);
  return isExecutableFile(installed) && !isPantheon(installed, ownRoot) ? installed : undefined;
}

/** This package's folder: an `opencode` there is Pantheon itself. */
export function ownRoot(): string {
  const bin = process.argv[1] ?? '';
  try {
    return path.resolve(path.dirname(fs.realpathSync(bin)), '..');
  } catch {
    return path.resolve(path.dirname(bin), '..');
  }
}

/** OpenCode's binary, or a usage error (exit 2) saying it is needed for `what` (e.g. "`opencode attach` runs OpenCode's terminal UI") and how to install it. */
export function requireOpenCode(env: NodeJS.ProcessEnv, what: string): string {
  const bin = findOpenCode(env, ownRoot());
  if (bin) return bin;
  throw new PantheonError('USAGE', `${what}, and OpenCode is not installed here (Pantheon has no TUI of its own).`, {
    hint: 'Install OpenCode (https://opencode.ai; it need not come first on the PATH) or set PANTHEON_OPENCODE_BIN to its binary: Pantheon then runs its TUI (`opencode` on a Pantheon server started for it, `opencode attach URL` on a running one). `opencode run "…"` sends one message; `opencode --help` lists the commands.',
  });
}
