/** File-mode helpers shared by the auth and state checks and by `--fix`. */
import fs from 'node:fs/promises';

/** `0644` */
export function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

/** The permission bits of a path, or undefined when it does not exist (or a parent is not a folder). */
export async function modeOf(file: string): Promise<number | undefined> {
  try {
    return (await fs.stat(file)).mode & 0o777;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** True when group or others have any access. */
export function isShared(mode: number): boolean {
  return (mode & 0o077) !== 0;
}

/** Sets `wanted` when the path exists and group or others have access; returns a sentence saying so, or undefined. */
export async function tightenMode(file: string, wanted: number, what: string): Promise<string | undefined> {
  const mode = await modeOf(file);
  if (mode === undefined || !isShared(mode)) return undefined;
  await fs.chmod(file, wanted);
  return `${what} ${file}: mode ${octal(mode)} → ${octal(wanted)}`;
}
