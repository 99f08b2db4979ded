/**
 * OpenCode's sandbox worktrees (`/experimental/worktree`): git worktrees of the project, each on a
 * branch `opencode/<name>`, in OpenCode's folder for them, `$XDG_DATA_HOME/opencode/worktree/<project
 * id>/<name>`. Listed, made (its files checked out before the answer; `startCommand` then run with
 * `bash -lc` in it, in the background, bounded by START_TIMEOUT_MS), reset to the default branch,
 * and removed with their branch.
 *
 * Safer than OpenCode where OpenCode is dangerous: only a worktree in that folder is removed or
 * reset (OpenCode deletes any folder named that is not a worktree); the primary checkout never.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { xdgDataHome } from '../../paths.ts';
import { randomBytes } from '../../random-bytes.ts';
import { HttpError } from '../http-error.ts';
import { projectId } from './catalog-view.ts';
import { gitComplaint, runGit, type GitResult } from './git-run.ts';
import { defaultBranch } from './vcs-changes.ts';
import { gitCheckout } from './vcs.ts';

export interface WorktreeInfo {
  name: string;
  branch?: string;
  directory: string;
}

/** How long a worktree's start command may run. */
const START_TIMEOUT_MS = 10 * 60_000;
/** Names tried before giving up (OpenCode's count). */
const NAME_TRIES = 26;
const ADJECTIVES = ['brave', 'calm', 'clever', 'curious', 'eager', 'gentle', 'happy', 'jolly', 'kind', 'lucky', 'merry', 'nimble', 'quick', 'quiet', 'shiny', 'sunny', 'swift', 'tidy', 'witty', 'zesty'];
const NOUNS = ['canyon', 'comet', 'falcon', 'forest', 'harbor', 'island', 'knight', 'lagoon', 'meadow', 'mountain', 'nebula', 'orchid', 'otter', 'pixel', 'planet', 'river', 'rocket', 'summit', 'tiger', 'willow'];

export class WorktreeError extends HttpError {
  constructor(name: string, message: string, hint: string) {
    super(400, 'WORKTREE_FAILED', message, { hint, name });
  }
}

const NOT_GIT = () => new WorktreeError('WorktreeNotGitError', 'Worktrees are only supported for git projects.', 'Run `git init` and make a first commit in the project.');

/** OpenCode's folder of the project's worktrees. */
export function worktreeFolder(env: NodeJS.ProcessEnv, projectRoot: string): string {
  return path.join(xdgDataHome(env), 'opencode', 'worktree', projectId(projectRoot));
}

/** A name as OpenCode makes one of what a client sent: lower case, letters and digits joined by `-`. */
export function slugOf(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
}

export function randomName(): string {
  const [a = 0, b = 0] = randomBytes(2);
  return `${ADJECTIVES[a % ADJECTIVES.length]}-${NOUNS[b % NOUNS.length]}`;
}

export async function real(file: string): Promise<string> {
  return path.normalize(await fs.realpath(path.resolve(file)).catch(() => path.resolve(file)));
}

async function requireGit(projectRoot: string): Promise<void> {
  if (!(await gitCheckout(projectRoot)).git) throw NOT_GIT();
}

async function git(cwd: string, args: string[], fail: (result: GitResult) => Error, timeoutMs?: number): Promise<GitResult> {
  const result = await runGit(cwd, args, timeoutMs === undefined ? {} : { timeoutMs });
  if (result.code !== 0) throw fail(result);
  return result;
}

/** The repository's worktrees (`git worktree list --porcelain`), real paths, the primary first. */
export async function worktreeList(projectRoot: string, fail: (result: GitResult) => Error): Promise<{ path: string; branch?: string }[]> {
  const result = await git(projectRoot, ['worktree', 'list', '--porcelain', '-z'], fail);
  const list: { path: string; branch?: string }[] = [];
  for (const line of result.stdout.toString('utf8').split('\0')) {
    if (line.startsWith('worktree ')) list.push({ path: await real(line.slice('worktree '.length)) });
    else if (line.startsWith('branch ') && list.length) (list[list.length - 1] as { branch?: string }).branch = line.slice('branch '.length).replace(/^refs\/heads\//, '');
  }
  return list;
}

/** The project's worktrees in OpenCode's folder, by directory. */
export async function listWorktrees(env: NodeJS.ProcessEnv, projectRoot: string): Promise<string[]> {
  if (!(await gitCheckout(projectRoot)).git) return [];
  const folder = await real(worktreeFolder(env, projectRoot));
  const list = await worktreeList(projectRoot, (r) => new WorktreeError('WorktreeListFailedError', `The project's git worktrees could not be read: ${gitComplaint(r)}.`, 'Run `git worktree list` in the project to see why.'));
  return list.filter((w) => path.dirname(w.path) === folder).map((w) => w.path);
}

/** Runs a worktree's start command in the background (its output dropped, its failure logged). */
function runStartCommand(directory: string, command: string, log: (line: string) => void): void {
  const child = spawn('bash', ['-lc', command], { cwd: directory, stdio: 'ignore', timeout: START_TIMEOUT_MS, killSignal: 'SIGKILL' });
  child.on('error', (error) => log(`worktree ${directory}: its start command could not be run: ${error.message}`));
  child.on('exit', (code, signal) => {
    if (code !== 0) log(`worktree ${directory}: its start command failed (${signal ? `stopped by ${signal}` : `exit code ${String(code)}`})`);
  });
  child.unref();
}

/** A new worktree on a new branch `opencode/<name>`, its files checked out. */
export async function createWorktree(env: NodeJS.ProcessEnv, projectRoot: string, input: { name?: string; startCommand?: string }, log: (line: string) => void): Promise<WorktreeInfo> {
  await requireGit(projectRoot);
  const folder = worktreeFolder(env, projectRoot);
  await fs.mkdir(folder, { recursive: true });
  const wanted = input.name ? slugOf(input.name) : '';
  let info: WorktreeInfo | undefined;
  for (let i = 0; i < NAME_TRIES && !info; i++) {
    const name = wanted ? (i === 0 ? wanted : `${wanted}-${randomName()}`) : randomName();
    const directory = path.join(folder, name);
    const taken = (await fs.stat(directory).catch(() => undefined)) !== undefined || (await runGit(projectRoot, ['show-ref', '--verify', '--quiet', `refs/heads/opencode/${name}`])).code === 0;
    if (!taken) info = { name, branch: `opencode/${name}`, directory };
  }
  if (!info) throw new WorktreeError('WorktreeNameGenerationFailedError', 'Failed to generate a unique worktree name.', 'Give another name, or remove worktrees no longer used (DELETE /experimental/worktree).');
  const made = info;
  const failed = (r: GitResult) => new WorktreeError('WorktreeCreateFailedError', `The worktree could not be made: ${gitComplaint(r)}.`, 'A repository needs a first commit before it can have worktrees.');
  await git(projectRoot, ['worktree', 'add', '--no-checkout', '-b', made.branch as string, made.directory], failed);
  await git(made.directory, ['reset', '--hard'], failed, 60_000);
  const command = input.startCommand?.trim();
  if (command) runStartCommand(made.directory, command, log);
  return made;
}

/** The worktree `directory` names, if it is one of the project's in OpenCode's folder (not the primary checkout). */
async function ownWorktree(env: NodeJS.ProcessEnv, projectRoot: string, directory: string, errorName: string): Promise<{ path: string; branch?: string } | undefined> {
  const target = await real(directory);
  const list = await worktreeList(projectRoot, (r) => new WorktreeError(errorName, `The project's git worktrees could not be read: ${gitComplaint(r)}.`, 'Run `git worktree list` in the project to see why.'));
  if (list[0]?.path === target || target === (await real(projectRoot))) {
    throw new WorktreeError(errorName, errorName === 'WorktreeResetFailedError' ? 'Cannot reset the primary workspace.' : 'Cannot remove the primary workspace.', 'Name a worktree that GET /experimental/worktree lists.');
  }
  const found = list.find((w) => w.path === target);
  if (found && path.dirname(found.path) !== (await real(worktreeFolder(env, projectRoot)))) {
    throw new WorktreeError(errorName, `${JSON.stringify(directory.slice(0, 300))} is a worktree OpenCode did not make: it is left alone.`, 'Remove it with `git worktree remove`.');
  }
  return found;
}

/** Removes a worktree of OpenCode's folder and its branch; one that is not there is done already (true, as OpenCode). */
export async function removeWorktree(env: NodeJS.ProcessEnv, projectRoot: string, directory: string): Promise<void> {
  await requireGit(projectRoot);
  const found = await ownWorktree(env, projectRoot, directory, 'WorktreeRemoveFailedError');
  if (!found) {
    if ((await fs.stat(directory).catch(() => undefined)) === undefined) return;
    throw new WorktreeError('WorktreeRemoveFailedError', `${JSON.stringify(directory.slice(0, 300))} is not a worktree of this project: nothing was removed.`, 'Name a directory that GET /experimental/worktree lists.');
  }
  const failed = (r: GitResult) => new WorktreeError('WorktreeRemoveFailedError', `The worktree could not be removed: ${gitComplaint(r)}.`, 'Run `git worktree remove --force` on it to see why.');
  await git(projectRoot, ['worktree', 'remove', '--force', found.path], failed);
  await fs.rm(found.path, { recursive: true, force: true });
  if (found.branch) await git(projectRoot, ['branch', '-D', found.branch], failed);
}

/** Puts a worktree of OpenCode's folder back to the default branch: its files as that branch has them, untracked ones removed. */
export async function resetWorktree(env: NodeJS.ProcessEnv, projectRoot: string, directory: string): Promise<void> {
  await requireGit(projectRoot);
  const found = await ownWorktree(env, projectRoot, directory, 'WorktreeResetFailedError');
  if (!found) throw new WorktreeError('WorktreeResetFailedError', 'Worktree not found.', 'Name a directory that GET /experimental/worktree lists.');
  const base = await defaultBranch(projectRoot);
  if (!base || base.ref.startsWith('-')) throw new WorktreeError('WorktreeResetFailedError', 'Default branch not found.', 'Give the repository a `main` or `master` branch, or set init.defaultBranch.');
  const failed = (what: string) => (r: GitResult) => new WorktreeError('WorktreeResetFailedError', `${what}: ${gitComplaint(r)}.`, 'Run the same git command in the worktree to see why.');
  const slash = base.ref.indexOf('/');
  if (base.ref !== base.name && slash > 0) await git(projectRoot, ['fetch', base.ref.slice(0, slash), base.ref.slice(slash + 1)], failed(`Failed to fetch ${base.ref}`), 120_000);
  await git(found.path, ['reset', '--hard', base.ref], failed('Failed to reset worktree to target'), 60_000);
  await git(found.path, ['clean', '-ffdx'], failed('Failed to clean worktree'), 60_000);
  const status = await git(found.path, ['status', '--porcelain=v1'], failed('Failed to read git status'));
  const left = status.stdout.toString('utf8').trim();
  if (left) throw new WorktreeError('WorktreeResetFailedError', `Worktree reset left local changes: ${left.split('\n').slice(0, 5).join('; ')}.`, 'Look at `git status` in the worktree.');
}
