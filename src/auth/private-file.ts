import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from '../random-bytes.ts';
import { makeDir } from '../make-dir.ts';

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/** Creates the folder (mode 0700) or narrows an existing one to 0700; its parents are created as usual. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await makeDir(path.dirname(dir));
  await makeDir(dir, PRIVATE_DIR_MODE);
  const stat = await fs.stat(dir);
  if ((stat.mode & 0o777) !== PRIVATE_DIR_MODE) await fs.chmod(dir, PRIVATE_DIR_MODE);
}

/** The file a write should replace: the target of a symlink (so a linked auth.json stays linked), else the path. */
async function writeTarget(file: string): Promise<string> {
  try {
    return await fs.realpath(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return file;
    throw error;
  }
}

/**
 * Writes a secret file atomically: a temp file of mode 0600 beside it (set explicitly, whatever the
 * umask), fsync, then rename over the target, in a folder of mode 0700. A crash leaves the old file
 * or the new one; an existing file with looser permissions ends up 0600.
 */
export async function writePrivateFile(file: string, data: string): Promise<void> {
  const target = await writeTarget(file);
  const dir = path.dirname(target);
  await ensurePrivateDir(dir);
  const tmp = path.join(dir, `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(tmp, 'wx', PRIVATE_FILE_MODE);
  try {
    await handle.chmod(PRIVATE_FILE_MODE);
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await fs.rm(tmp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await fs.rename(tmp, target);
  } catch (error) {
    await fs.rm(tmp, { force: true });
    throw error;
  }
}
