/**
 * OpenCode's folder for temporary work outside the project (`/tmp/opencode`: the system's temp
 * folder's `opencode`), which its `bash` description names: created before the tools are offered,
 * and a path in it needs no `external_directory` approval, as in OpenCode — but only when the
 * folder is this user's own: a real folder (not a symlink), owned by this user, that no one else
 * may write. On a shared machine another user could make `/tmp/opencode` first, or make it a link
 * to a folder of this user's; the approval would then reach where it was never given.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { debugNote } from '../debug-note.ts';

export function scratchDir(): string {
  return path.join(os.tmpdir(), 'opencode');
}

/** Each folder checked, by path (the temp folder can change, in tests): its real path when it is this user's own, else undefined. */
const checked = new Map<string, Promise<string | undefined>>();

/** Whether the folder at `dir` is this user's own: not a link, a folder, owned by this user, writable by no one else. */
async function ownFolder(dir: string): Promise<string | undefined> {
  const stat = await fs.lstat(dir);
  const uid = process.getuid?.();
  if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o022) !== 0) {
    debugNote(`the scratch folder ${dir} is not this user's own (a link, another user's, or writable by others): paths in it are asked about as any outside the project`);
    return undefined;
  }
  return fs.realpath(dir);
}

/** Creates the folder (this user's alone) and checks it, once a process for each path; a failure is tried again next time and leaves the tools as they are. */
export function ensureScratchDir(): Promise<void> {
  const dir = scratchDir();
  let check = checked.get(dir);
  if (!check) {
    check = fs
      .mkdir(dir, { mode: 0o700 })
      .catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      })
      .then(() => ownFolder(dir))
      .catch(() => {
        checked.delete(dir);
        return undefined;
      });
    checked.set(dir, check);
  }
  return check.then(() => undefined);
}

/** Whether the real path `real` lies in the folder (itself included), the folder being this user's own. */
export async function inScratchDir(real: string): Promise<boolean> {
  const dir = await checked.get(scratchDir());
  if (dir === undefined) return false;
  const rel = path.relative(dir, real);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}
