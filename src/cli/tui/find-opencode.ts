/**
 * OpenCode's own binary, whose terminal UI `opencode` alone starts on Pantheon's server: the one
 * PANTHEON_OPENCODE_BIN names, else another `opencode` on the PATH (one that is not this package's),
 * else where OpenCode's install script puts it (`~/.opencode/bin/opencode`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PantheonError } from '../../errors.ts';

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

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
    if (!executable(named)) throw new PantheonError('USAGE', `PANTHEON_OPENCODE_BIN: expected OpenCode's executable, found "${named.slice(0, 200)}" (not an executable file).`, { hint: 'Point it at OpenCode\'s binary (for example ~/.opencode/bin/opencode), or unset it to search the PATH.' });
    return named;
  }
  const name = process.platform === 'win32' ? 'opencode.exe' : 'opencode';
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    if (executable(file) && !isPantheon(file, ownRoot)) return file;
  }
  const installed = path.join(env.HOME || os.homedir(), '.opencode', 'bin', name);
  return executable(installed) && !isPantheon(installed, ownRoot) ? installed : undefined;
}
