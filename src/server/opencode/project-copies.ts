/**
 * OpenCode's project copies (`/experimental/project/{projectID}/copy`): folders holding another
 * checkout of the project, made by a strategy. OpenCode 1.18.33 has one, `git_worktree`: a git
 * worktree of the project's `HEAD`, detached, at `<directory>/<name>`. Its registry of a project's
 * folders is refreshed from `git worktree list` (at its start and on `…/copy/refresh`), so every
 * worktree of the repository is a copy; Pantheon reads `git worktree list` each time instead, so the
 * copies are always those (the sandbox worktrees of /experimental/worktree among them), and refresh
 * has nothing to do. The git work is worktrees.ts's.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { HttpError } from '../http-error.ts';
import { gitComplaint, runGit, type GitResult } from './git-run.ts';
import { gitCheckout } from './vcs.ts';
import { randomName, real, worktreeList } from './worktrees.ts';

/** OpenCode's one strategy. */
export const GIT_WORKTREE = 'git_worktree';
/** Names tried (`<name>`, `<name>-2`, … `<name>-10`), as OpenCode. */
const NAME_TRIES = 10;

/** OpenCode's ProjectCopyError: `{name: "ProjectCopyError", data: {message, forceRequired?}}`. */
export class ProjectCopyError extends HttpError {
  constructor(message: string, hint: string, forceRequired?: boolean) {
    super(400, 'PROJECT_COPY_FAILED', message, { hint, name: 'ProjectCopyError', ...(forceRequired === undefined ? {} : { details: { forceRequired } }) });
  }
}

const quoted = (text: string) => JSON.stringify(text.slice(0, 300));

async function git(cwd: string, args: string[], fail: (result: GitResult) => Error, timeoutMs?: number): Promise<void> {
  const result = await runGit(cwd, args, timeoutMs === undefined ? {} : { timeoutMs });
  if (result.code !== 0) throw fail(result);
}

/** The repository's worktrees other than its primary checkout (real paths). */
async function copies(projectRoot: string): Promise<string[]> {
  const list = await worktreeList(projectRoot, (r) => new ProjectCopyError(`The project's git worktrees could not be read: ${gitComplaint(r)}.`, 'Run `git worktree list` in the project to see why.'));
  return list.slice(1).map((w) => w.path);
}

/** The project's folders as OpenCode lists them (`GET /project/{projectID}/directories`): its copies, then its root. */
export async function projectDirectories(projectRoot: string): Promise<{ directory: string; strategy?: string }[]> {
  const root = [{ directory: projectRoot }];
  if (!(await gitCheckout(projectRoot)).git) return root;
  return [...(await copies(projectRoot).catch(() => [])).map((directory) => ({ directory, strategy: GIT_WORKTREE })), ...root];
}

/** A new copy of the project in `directory` (made when missing; relative to the project's root), named `name` or at random. */
export async function createCopy(projectRoot: string, input: { strategy: string; directory: string; name?: string }): Promise<{ directory: string }> {
  if (input.strategy.trim() !== GIT_WORKTREE) throw new ProjectCopyError(`Project copy strategy unavailable: ${quoted(input.strategy)}.`, `The one strategy is "${GIT_WORKTREE}".`);
  if (!(await gitCheckout(projectRoot)).git) throw new ProjectCopyError(`Project copy directory unavailable: ${projectRoot} is not in a git repository.`, 'Run `git init` and make a first commit in the project.');
  const name = input.name ?? randomName();
  if (!name.trim() || name === '.' || name === '..' || /[\\/\0]/.test(name)) throw new ProjectCopyError(`body field "name": expected a folder name, found ${quoted(name)}.`, 'Give a name without "/" or "\\" (the copy is made in `directory`), or leave it out for a random one.');
  const parent = path.resolve(projectRoot, input.directory);
  try {
    await fs.mkdir(parent, { recursive: true });
  } catch (error) {
    throw new ProjectCopyError(`Invalid project copy directory: ${parent} could not be made (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, 'Give a folder the server may write in.');
  }
  let destination: string | undefined;
  for (let i = 1; i <= NAME_TRIES && !destination; i++) {
    const candidate = path.join(parent, i === 1 ? name : `${name}-${i}`);
    if ((await fs.lstat(candidate).catch(() => undefined)) === undefined) destination = candidate;
  }
  if (!destination) throw new ProjectCopyError(`Project copy destination already exists: ${path.join(parent, `${name}-${NAME_TRIES}`)}.`, 'Give another name, or remove copies no longer used (DELETE /experimental/project/{projectID}/copy).');
  const failed = (r: GitResult) => new ProjectCopyError(`The project copy could not be made: ${gitComplaint(r)}.`, 'A repository needs a first commit before it can have worktrees.');
  await git(projectRoot, ['worktree', 'add', '--detach', '--no-checkout', destination, 'HEAD'], failed);
  await git(destination, ['reset', '--hard'], failed, 60_000);
  return { directory: await real(destination) };
}

/** Removes a copy (`git worktree remove`, `--force` when asked); a copy with changes needs `force` (`forceRequired`). */
export async function removeCopy(projectRoot: string, input: { directory: string; force: boolean }): Promise<void> {
  const wanted = path.resolve(projectRoot, input.directory);
  if ((await fs.stat(wanted).catch(() => undefined))?.isDirectory() !== true) throw new ProjectCopyError(`Project copy directory unavailable: ${wanted} is not a folder.`, 'Name a folder that GET /project/{projectID}/directories lists with a strategy.');
  const target = await real(wanted);
  if (!(await gitCheckout(projectRoot)).git || !(await copies(projectRoot)).includes(target)) {
    throw new ProjectCopyError(`Invalid project copy directory: ${target} is not a copy of this project (the project's root, or no worktree of its repository): nothing was removed.`, 'Name a folder that GET /project/{projectID}/directories lists with a strategy.');
  }
  const result = await runGit(projectRoot, ['worktree', 'remove', ...(input.force ? ['--force'] : []), target]);
  if (result.code !== 0) {
    const complaint = gitComplaint(result);
    const forceRequired = !input.force && /modified or untracked files|use --force/i.test(complaint);
    throw new ProjectCopyError(`The project copy could not be removed: ${complaint}.`, forceRequired ? 'Send `force: true` to remove it with its changes.' : 'Run `git worktree remove` on it to see why.', forceRequired);
  }
}
