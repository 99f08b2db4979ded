/**
 * Creates a folder and any missing parents, as `mkdir -p` does. Node's own `{ recursive: true }`
 * loops forever where a file system answers mkdir with ENOENT although the parent exists (/proc,
 * /sys: `cache.store: "/proc/x/c.sqlite"` held `run` until SIGKILL). Here each level is tried at most
 * twice, so such a path fails at once with its ENOENT. A file in the way fails with EEXIST naming
 * that file, as Node's does. Callback API only (`node:fs/promises` costs the start-up path ~1 MiB),
 * built-ins by process.getBuiltinModule (no ES facade: the launcher's bundle-cache.ts uses it).
 */
const fs = process.getBuiltinModule('node:fs');
const path = process.getBuiltinModule('node:path');

const code = (error: unknown) => (error as NodeJS.ErrnoException).code;
/** A missing parent (ENOENT) or a file where a parent should be (ENOTDIR): try the parent first. */
const parentFirst = (error: unknown) => code(error) === 'ENOENT' || code(error) === 'ENOTDIR';

function existingFolderSync(dir: string, error: unknown): void {
  if (code(error) !== 'EEXIST' || !fs.statSync(dir).isDirectory()) throw error;
}

/** `mkdir -p dir`, blocking; `mode` applies to every folder it creates. */
export function makeDirSync(dir: string, mode?: number): void {
  try {
    fs.mkdirSync(dir, { mode });
    return;
  } catch (error) {
    if (!parentFirst(error)) return existingFolderSync(dir, error);
    const parent = path.dirname(dir);
    if (parent === dir) throw error;
    makeDirSync(parent, mode);
  }
  try {
    fs.mkdirSync(dir, { mode });
  } catch (error) {
    existingFolderSync(dir, error);
  }
}

const mkdir = (dir: string, mode: number | undefined) => new Promise<void>((resolve, reject) => fs.mkdir(dir, { mode }, (error) => (error ? reject(error) : resolve())));
/** Whether `dir` is a folder; a link to nothing rejects with stat's ENOENT, as statSync throws it. */
const isFolder = (dir: string) => new Promise<boolean>((resolve, reject) => fs.stat(dir, (error, stat) => (error ? reject(error) : resolve(stat.isDirectory()))));

async function existingFolder(dir: string, error: unknown): Promise<void> {
  if (code(error) !== 'EEXIST' || !(await isFolder(dir))) throw error;
}

/** `mkdir -p dir`; `mode` applies to every folder it creates. */
export async function makeDir(dir: string, mode?: number): Promise<void> {
  try {
    await mkdir(dir, mode);
    return;
  } catch (error) {
    if (!parentFirst(error)) return existingFolder(dir, error);
    const parent = path.dirname(dir);
    if (parent === dir) throw error;
    await makeDir(parent, mode);
  }
  try {
    await mkdir(dir, mode);
  } catch (error) {
    await existingFolder(dir, error);
  }
}
