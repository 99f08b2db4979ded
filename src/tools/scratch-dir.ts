/**
 * OpenCode's folder for temporary work outside the project (`/tmp/opencode`: the system's temp
 * folder's `opencode`), which its `bash` description names: created before the tools are offered,
 * and a path in it needs no `external_directory` approval, as in OpenCode.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export function scratchDir(): string {
  return path.join(os.tmpdir(), 'opencode');
}

let made: Promise<void> | undefined;

/** Creates the folder (once a process; a failure is tried again next time and leaves the tools as they are). */
export function ensureScratchDir(): Promise<void> {
  made ??= fs.mkdir(scratchDir(), { recursive: true }).then(
    () => undefined,
    () => {
      made = undefined;
    },
  );
  return made;
}

/** Whether the real path `real` lies in the folder (itself included). */
export async function inScratchDir(real: string): Promise<boolean> {
  let dir: string;
  try {
    dir = await fs.realpath(scratchDir());
  } catch {
    return false;
  }
  const rel = path.relative(dir, real);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}
