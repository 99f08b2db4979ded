import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from './random-bytes.ts';
import { makeDir, makeDirSync } from './make-dir.ts';

/**
 * Writes a file atomically: a temp file in the same folder, fsync, then rename over the target.
 * A crash leaves either the old file or the new one, never half of one.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle;
  try {
    handle = await fs.open(tmp, 'wx', mode);
  } catch (error) {
    // The folder is made only when it is missing (not a mkdir on every save).
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await makeDir(dir);
    handle = await fs.open(tmp, 'wx', mode);
  }
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (error) {
    await fs.rm(tmp, { force: true });
    throw error;
  }
}

/**
 * writeFileAtomic's same steps (temp file, write, fsync, close, rename) as blocking calls, for a
 * process with nothing else to do meanwhile (`opencode run` saving its session after the answer):
 * five system calls on the main thread instead of five thread-pool round trips, each of which waits
 * for a thread and then for the event loop on a loaded machine.
 */
export function writeFileAtomicSync(file: string, data: string, mode = 0o644): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd;
  try {
    fd = fsSync.openSync(tmp, 'wx', mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    makeDirSync(dir);
    fd = fsSync.openSync(tmp, 'wx', mode);
  }
  try {
    fsSync.writeFileSync(fd, data);
    fsSync.fsyncSync(fd);
  } finally {
    fsSync.closeSync(fd);
  }
  try {
    fsSync.renameSync(tmp, file);
  } catch (error) {
    fsSync.rmSync(tmp, { force: true });
    throw error;
  }
}

/**
 * Writes a new file atomically, never over an existing one: a temp file in the same folder
 * (written and synced), then hard-linked to its name, which fails with EEXIST when the name is
 * taken (even by a file made meanwhile); the temp file is removed either way.
 */
export async function writeFileNew(file: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const dir = path.dirname(file);
  await makeDir(dir);
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(tmp, 'wx', mode);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.link(tmp, file);
  } finally {
    await fs.rm(tmp, { force: true });
  }
}
