import path from 'node:path';
import { findGitRoot } from '../config/discover.ts';

/** The project a session belongs to: the git root of `cwd`, or `cwd` outside a repository (as config discovery does). */
export async function projectRootOf(cwd: string = process.cwd()): Promise<string> {
  const dir = path.resolve(cwd);
  return (await findGitRoot(dir)) ?? dir;
}
