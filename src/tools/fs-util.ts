import type { Stats } from 'node:fs';
import fs from 'node:fs/promises';

/** The path (or a folder on it) does not exist. */
export function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** fs.stat, or undefined when the path does not exist (other errors are thrown). */
export async function statIfExists(p: string): Promise<Stats | undefined> {
  try {
    return await fs.stat(p);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/** fs.lstat (symlinks not followed), or undefined when the path does not exist. */
export async function lstatIfExists(p: string): Promise<Stats | undefined> {
  try {
    return await fs.lstat(p);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}
