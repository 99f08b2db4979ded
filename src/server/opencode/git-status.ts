/**
 * OpenCode's `GET /file/status`: the files of the folder that differ from the last commit (staged
 * or not: `git diff HEAD`), with their added and removed lines, and the untracked ones (not
 * ignored) as added, every line counted. Paths relative to the folder; nothing outside a git
 * checkout. Bounded: git gets GIT_TIMEOUT_MS, the answer holds at most MAX_STATUS_FILES files (then
 * git is stopped: `gitRecords`), and an untracked file's lines are counted only up to
 * COUNT_MAX_BYTES (a larger or binary one counts 0).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { looksBinary } from '../../tools/binary.ts';
import { HttpError } from '../http-error.ts';
import { thousands } from '../../icu-free.ts';
import { gitComplaint, gitRecords, runGit } from './git-run.ts';

export interface FileStatus {
  path: string;
  added: number;
  removed: number;
  status: 'added' | 'deleted' | 'modified';
}

export interface FileStatusAnswer {
  files: FileStatus[];
  /** True when the folder has more changed or untracked files than MAX_STATUS_FILES (the first ones are answered). */
  truncated: boolean;
}

/** Files one answer lists at most. */
export const MAX_STATUS_FILES = 2_000;
/** An untracked file larger than this counts 0 lines (its lines are not read). */
const COUNT_MAX_BYTES = 1024 * 1024;
/** Git's empty tree: what a repository without a commit yet is compared with. */
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

class GitFailed extends Error {}

/** A short answer of git's (rev-parse). */
async function git(cwd: string, args: string[]): Promise<string> {
  const result = await runGit(cwd, args, { maxBytes: 64 * 1024 }).catch((error: unknown) => {
    throw new GitFailed(`git could not be run: ${(error as Error).message}`);
  });
  if (result.code !== 0) throw new GitFailed(`git ${args[0]} failed: ${result.truncated ? 'its output was too large' : gitComplaint(result)}`);
  return result.stdout.toString('utf8');
}

/** The first `max` records of git's `-z` output, and whether there were more. */
async function records(cwd: string, args: string[], max: number): Promise<{ records: string[]; more: boolean }> {
  return gitRecords(cwd, args, max).catch((error: unknown) => {
    throw new GitFailed((error as Error).message);
  });
}

/** A text file's lines (0 for a binary one, or one over COUNT_MAX_BYTES), as git's numstat counts an added file's. */
export async function lineCount(file: string): Promise<number> {
  const stat = await fs.lstat(file).catch(() => undefined);
  if (!stat?.isFile() || stat.size === 0 || stat.size > COUNT_MAX_BYTES) return 0;
  const bytes = await fs.readFile(file).catch(() => undefined);
  if (!bytes || looksBinary(bytes.subarray(0, 4096))) return 0;
  let lines = 0;
  for (const byte of bytes) if (byte === 10) lines++;
  return bytes[bytes.length - 1] === 10 ? lines : lines + 1;
}

/**
 * The folder's changes since the last commit, then its untracked files; [] outside a git checkout.
 * At most MAX_STATUS_FILES of them: git's output is read only that far (`truncated` says there was more).
 */
export async function fileStatus(directory: string, log: (line: string) => void): Promise<FileStatusAnswer> {
  try {
    const inside = await git(directory, ['rev-parse', '--is-inside-work-tree']).catch(() => 'false');
    if (inside.trim() !== 'true') return { files: [], truncated: false };
    const base = (await git(directory, ['rev-parse', '--verify', '-q', 'HEAD']).catch(() => EMPTY_TREE)).trim() || EMPTY_TREE;
    const diff = ['diff', '--no-ext-diff', '--no-textconv', '--no-renames', '--relative', '-z'];
    // Both lists are in git's path order: the first N files of one are the first N of the other.
    const [names, counts] = await Promise.all([records(directory, [...diff, '--name-status', base, '--'], 2 * MAX_STATUS_FILES), records(directory, [...diff, '--numstat', base, '--'], MAX_STATUS_FILES)]);
    const numbers = new Map<string, { added: number; removed: number }>();
    for (const record of counts.records) {
      const [added, removed, file] = record.split('\t');
      if (file === undefined || removed === undefined || added === undefined) continue;
      // Binary files: `-` (OpenCode counts them 0).
      numbers.set(file, { added: Number.parseInt(added, 10) || 0, removed: Number.parseInt(removed, 10) || 0 });
    }
    const out: FileStatus[] = [];
    const fields = names.records;
    for (let i = 0; i + 1 < fields.length && out.length < MAX_STATUS_FILES; i += 2) {
      const code = fields[i] as string;
      const file = fields[i + 1] as string;
      if (!code || !file) continue;
      const status = code.startsWith('A') ? 'added' : code.startsWith('D') ? 'deleted' : 'modified';
      out.push({ path: file, ...(numbers.get(file) ?? { added: 0, removed: 0 }), status });
    }
    let truncated = names.more;
    if (!truncated) {
      const untracked = await records(directory, ['ls-files', '--others', '--exclude-standard', '-z'], MAX_STATUS_FILES - out.length);
      truncated = untracked.more;
      for (const file of untracked.records) {
        if (file) out.push({ path: file, added: await lineCount(path.join(directory, file)), removed: 0, status: 'added' });
      }
    }
    if (truncated) log(`file status: ${directory} has more changed files than the ${thousands(MAX_STATUS_FILES)} answered`);
    return { files: out, truncated };
  } catch (error) {
    if (!(error instanceof GitFailed)) throw error;
    // A git that fails (too slow, a repository it cannot read) is said so, not answered as a clean folder.
    throw new HttpError(500, 'GIT_FAILED', `The folder's git status could not be read: ${error.message}.`, { hint: 'Run `git status` in the folder to see why.' });
  }
}
