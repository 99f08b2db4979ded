/**
 * OpenCode's `POST /experimental/control-plane/move-session`: a session moved to another folder of
 * its project. OpenCode's projects are repositories (their id is the first commit), so a project's
 * folders are its checkouts: its root and its copies (git worktrees). Pantheon keeps a session's
 * project root; moving it there changes that root, so the session is listed, and its turns run, in
 * the destination. Which folders qualify is decided here: the destination's project root (its git
 * root) must be a checkout of the same repository as the session's (the same git common dir).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { findGitRoot } from '../../config/discover.ts';
import { HttpError } from '../http-error.ts';
import { runGit } from './git-run.ts';

/** OpenCode's MoveSessionError: `{name: "MoveSessionError", data: {message}}`. */
export class MoveSessionError extends HttpError {
  constructor(message: string, hint: string) {
    super(400, 'MOVE_SESSION_FAILED', message, { hint, name: 'MoveSessionError' });
  }
}

const HINT = 'Name the project’s root or one of its copies (GET /project/{projectID}/directories lists them).';

/** The repository's shared git folder, real path, or undefined outside git. */
async function commonDir(root: string): Promise<string | undefined> {
  const result = await runGit(root, ['rev-parse', '--path-format=absolute', '--git-common-dir']);
  if (result.code !== 0) return undefined;
  const dir = result.stdout.toString('utf8').trim();
  return dir ? fs.realpath(dir).catch(() => dir) : undefined;
}

/** The project root a session of `sessionRoot` moves to for `directory`; refused unless it is a checkout of the same repository. */
export async function moveDestination(sessionRoot: string, directory: string): Promise<string> {
  if (!path.isAbsolute(directory)) throw new MoveSessionError(`body field "destination.directory": expected an absolute path, found ${JSON.stringify(directory.slice(0, 200))}.`, HINT);
  let real: string;
  try {
    real = await fs.realpath(directory);
  } catch {
    throw new MoveSessionError(`Destination directory ${JSON.stringify(directory.slice(0, 300))} does not exist.`, HINT);
  }
  if (!(await fs.stat(real)).isDirectory()) throw new MoveSessionError(`Destination ${JSON.stringify(directory.slice(0, 300))} is not a directory.`, HINT);
  const root = (await findGitRoot(real)) ?? real;
  if (root === sessionRoot) return root;
  const [from, to] = await Promise.all([commonDir(sessionRoot), commonDir(root)]);
  if (from === undefined || to === undefined || from !== to) throw new MoveSessionError(`Destination directory belongs to another project: ${root} is not a checkout of ${sessionRoot}’s repository.`, HINT);
  return root;
}
