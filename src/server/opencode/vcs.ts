/**
 * The project's git checkout as OpenCode's `GET /vcs` and `GET /project/current` report it: whether
 * the project is one, and the branch checked out (`HEAD` when detached, as `git rev-parse
 * --abbrev-ref HEAD` says). Read from `.git/HEAD` (a worktree's `.git` file points at its own),
 * without running git.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

/** HEAD is one short line; a larger file is not a HEAD. */
const MAX_HEAD_BYTES = 4096;

async function readSmall(file: string): Promise<string | undefined> {
  const handle = await fs.open(file, 'r').catch(() => undefined);
  if (!handle) return undefined;
  try {
    const buffer = Buffer.alloc(MAX_HEAD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, MAX_HEAD_BYTES, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

export interface GitCheckout {
  /** The project has a `.git` (a folder, or a worktree's file). */
  git: boolean;
  /** The branch checked out; undefined when HEAD cannot be read. */
  branch?: string;
}

export async function gitCheckout(projectRoot: string): Promise<GitCheckout> {
  const dotGit = path.join(projectRoot, '.git');
  const stat = await fs.stat(dotGit).catch(() => undefined);
  if (!stat) return { git: false };
  let gitDir = dotGit;
  if (stat.isFile()) {
    const pointer = /^gitdir:\s*(.+?)\s*$/m.exec((await readSmall(dotGit)) ?? '');
    if (!pointer) return { git: true };
    gitDir = path.resolve(projectRoot, pointer[1] as string);
  }
  const head = (await readSmall(path.join(gitDir, 'HEAD')))?.trim();
  if (!head) return { git: true };
  const ref = /^ref:\s*refs\/heads\/(.+)$/.exec(head);
  if (ref) return { git: true, branch: ref[1] as string };
  return /^[0-9a-f]{40,64}$/.test(head) ? { git: true, branch: 'HEAD' } : { git: true };
}
