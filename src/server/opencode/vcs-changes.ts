/**
 * OpenCode's `/vcs/status`, `/vcs/diff`, `/vcs/diff/raw` and `/vcs/apply`, as OpenCode 1.18 answers
 * them: the files `git status` lists (renames as a deletion and an addition, untracked files as
 * added), their added and deleted lines, their patches against `HEAD` (mode `git`) or against where
 * the branch left the default branch (mode `branch`), and a patch applied to the working tree.
 * Paths are relative to the repository's root, as git's porcelain gives them; nothing outside a git
 * checkout (`[]`, or `""` for the raw diff).
 *
 * Bounded where OpenCode is not: at most MAX_VCS_FILES files (the rest left out, `truncated` says
 * so), MAX_PATCH_BYTES of patches in all (as OpenCode: a file past that gets an empty patch), git's
 * output capped and timed (git-run.ts), and no git started for an untracked file after
 * UNTRACKED_BUDGET_MS (its patch is empty).
 */
import path from 'node:path';
import { HttpError } from '../http-error.ts';
import { gitComplaint, runGit, type GitResult } from './git-run.ts';
import { lineCount } from './git-status.ts';
import { gitCheckout } from './vcs.ts';

export type VcsStatus = 'added' | 'deleted' | 'modified';

export interface VcsFileStatus {
  file: string;
  additions: number;
  deletions: number;
  status: VcsStatus;
}

export interface VcsFileDiff extends VcsFileStatus {
  patch: string;
}

export interface Listed<T> {
  files: T[];
  /** Files were left out (over MAX_VCS_FILES), or patches emptied (over MAX_PATCH_BYTES). */
  truncated: boolean;
}

/** Files one answer lists at most. */
export const MAX_VCS_FILES = 2_000;
/** Patch text one answer holds at most (OpenCode's cap). */
export const MAX_PATCH_BYTES = 10_000_000;
/** After this long, an untracked file's patch is not asked of git (each is one git run). */
const UNTRACKED_BUDGET_MS = 15_000;
/** OpenCode's default context: the whole file. */
const WHOLE_FILE = 2_147_483_647;

interface Item {
  file: string;
  /** git status's two letters (`??` untracked), or diff's status letter. */
  code: string;
  status: VcsStatus;
}

/** OpenCode's reading of a status code. */
function statusOf(code: string): VcsStatus {
  if (code === '??') return 'added';
  if (code.includes('U')) return 'modified';
  if (code.includes('A') && !code.includes('D')) return 'added';
  if (code.includes('D') && !code.includes('A')) return 'deleted';
  return 'modified';
}

function failed(what: string, result: GitResult): HttpError {
  return new HttpError(500, 'GIT_FAILED', `The folder's ${what} could not be read: ${gitComplaint(result)}.`, { hint: 'Run `git status` in the folder to see why.' });
}

/** A git that must answer: its output (records cut by `-z`; a cut-off last one is dropped). */
async function records(cwd: string, args: string[], what: string): Promise<{ fields: string[]; truncated: boolean }> {
  const result = await runGit(cwd, args);
  if (result.code !== 0 && !result.truncated) throw failed(what, result);
  const fields = result.stdout.toString('utf8').split('\0');
  // The text after the last NUL is a record cut short (or nothing).
  fields.pop();
  return { fields, truncated: result.truncated };
}

async function statusItems(cwd: string): Promise<{ items: Item[]; truncated: boolean }> {
  const { fields, truncated } = await records(cwd, ['status', '--porcelain=v1', '--untracked-files=all', '--no-renames', '-z', '--', '.'], 'git status');
  const items: Item[] = [];
  for (const field of fields) {
    const file = field.slice(3);
    if (!file) continue;
    const code = field.slice(0, 2);
    items.push({ file, code, status: statusOf(code) });
  }
  return { items, truncated };
}

async function diffItems(cwd: string, ref: string): Promise<{ items: Item[]; truncated: boolean }> {
  const { fields, truncated } = await records(cwd, ['diff', '--no-ext-diff', '--no-textconv', '--no-renames', '--name-status', '-z', ref, '--', '.'], 'git diff');
  const items: Item[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const code = fields[i] as string;
    const file = fields[i + 1] as string;
    if (code && file) items.push({ file, code, status: statusOf(code) });
  }
  return { items, truncated };
}

type Counts = Map<string, { additions: number; deletions: number }>;

async function numstat(cwd: string, ref: string): Promise<Counts> {
  const { fields } = await records(cwd, ['diff', '--no-ext-diff', '--no-textconv', '--no-renames', '--numstat', '-z', ref, '--', '.'], 'git diff');
  const counts: Counts = new Map();
  for (const field of fields) {
    const [added, deleted, file] = field.split('\t');
    if (!file || added === undefined || deleted === undefined) continue;
    // A binary file's counts are `-` (OpenCode counts them 0).
    counts.set(file, { additions: Number.parseInt(added, 10) || 0, deletions: Number.parseInt(deleted, 10) || 0 });
  }
  return counts;
}

async function hasHead(cwd: string): Promise<boolean> {
  return (await runGit(cwd, ['rev-parse', '--verify', '-q', 'HEAD'])).code === 0;
}

/** The folder's repository, or undefined outside one (OpenCode's `project.vcs !== "git"`). */
async function repository(projectRoot: string): Promise<string | undefined> {
  return (await gitCheckout(projectRoot)).git ? projectRoot : undefined;
}

function byName<T extends { file: string }>(list: readonly T[]): T[] {
  return [...list].sort((a, b) => a.file.localeCompare(b.file));
}

function capped<T>(list: readonly T[]): { list: T[]; truncated: boolean } {
  return list.length > MAX_VCS_FILES ? { list: list.slice(0, MAX_VCS_FILES), truncated: true } : { list: [...list], truncated: false };
}

/** An added file's lines when git has no count for it (an untracked one): read here, as /file/status counts them. */
async function countsOf(root: string, item: Item, counts: Counts): Promise<{ additions: number; deletions: number }> {
  const known = counts.get(item.file);
  if (known) return known;
  if (item.status === 'added') return { additions: await lineCount(path.join(root, item.file)), deletions: 0 };
  return { additions: 0, deletions: 0 };
}

/** `GET /vcs/status`: the changed files with their line counts, by name. */
export async function vcsStatus(projectRoot: string, directory: string): Promise<Listed<VcsFileStatus>> {
  const root = await repository(projectRoot);
  if (!root) return { files: [], truncated: false };
  const ref = (await hasHead(directory)) ? 'HEAD' : undefined;
  const [status, counts] = await Promise.all([statusItems(directory), ref ? numstat(directory, ref) : new Map() as Counts]);
  const { list, truncated } = capped(byName(status.items));
  const files: VcsFileStatus[] = [];
  for (const item of list) files.push({ file: item.file, ...(await countsOf(root, item, counts)), status: item.status });
  return { files, truncated: truncated || status.truncated };
}

/** OpenCode's patch of a file it has no patch for (too large, or past the cap): a header without hunks. */
export function emptyPatch(file: string): string {
  return `Index: ${file}\n${'='.repeat(67)}\n--- ${file}\n+++ ${file}\n`;
}

function unquote(value: string): string {
  if (!value.startsWith('"')) return value.split('\t')[0] as string;
  let out = '';
  for (let i = 1; i < value.length; i++) {
    const char = value[i] as string;
    if (char === '"') return out;
    if (char !== '\\') {
      out += char;
      continue;
    }
    const next = value[++i] ?? '';
    out += next === 't' ? '\t' : next === 'n' ? '\n' : next === 'r' ? '\r' : next;
  }
  return out;
}

function diffPath(value: string | undefined): string | undefined {
  if (!value || value === '/dev/null') return undefined;
  const file = unquote(value);
  return file.startsWith('a/') || file.startsWith('b/') ? file.slice(2) : file;
}

/** The file a patch of one file is about: its `+++` path, else its `---` path, else its header's second path. */
function fileOfChunk(chunk: string): string | undefined {
  const found = diffPath(/^\+\+\+ (.+)$/m.exec(chunk)?.[1]) ?? diffPath(/^--- (.+)$/m.exec(chunk)?.[1]);
  if (found) return found;
  const header = /^diff --git (.+)$/m.exec(chunk)?.[1] ?? '';
  const at = header.indexOf(' b/');
  return at < 0 ? undefined : diffPath(header.slice(at + 1));
}

/** git's patch of many files cut into one per file (a cut-off last one dropped), by file. */
function splitPatch(text: string, truncated: boolean): Map<string, string> {
  const starts: number[] = [];
  for (const match of text.matchAll(/(?:^|\n)diff --git /g)) starts.push(match[0].startsWith('\n') ? match.index + 1 : match.index);
  const chunks = starts.map((start, i) => text.slice(start, starts[i + 1] ?? text.length));
  if (truncated) chunks.pop();
  const byFile = new Map<string, string>();
  for (const chunk of chunks) {
    const file = fileOfChunk(chunk);
    if (file !== undefined) byFile.set(file, (byFile.get(file) ?? '') + chunk);
  }
  return byFile;
}

function unified(context: number | undefined): string {
  return `--unified=${context ?? WHOLE_FILE}`;
}

/** An untracked (or, without a commit, any) file's patch: git's diff of it against nothing. */
async function newFilePatch(cwd: string, file: string, context: number | undefined, maxBytes: number): Promise<string | undefined> {
  const result = await runGit(cwd, ['diff', '--no-index', '--patch', '--no-ext-diff', '--no-textconv', '--no-renames', unified(context), '--', '/dev/null', file], { maxBytes });
  // `--no-index` exits 1 when the files differ: that is the answer.
  if (result.truncated || result.timedOut || (result.code !== 0 && result.code !== 1)) return undefined;
  return result.stdout.toString('utf8') || undefined;
}

async function patchesOf(cwd: string, root: string, ref: string | undefined, items: readonly Item[], counts: Counts, context: number | undefined, batch: { patches: Map<string, string>; truncated: boolean }): Promise<Listed<VcsFileDiff>> {
  const { list, truncated: tooMany } = capped(byName(items));
  const files: VcsFileDiff[] = [];
  const deadline = performance.now() + UNTRACKED_BUDGET_MS;
  let total = 0;
  // Once MAX_PATCH_BYTES are spent, every later file gets an empty patch (as OpenCode's cap does).
  let full = false;
  let late = false;
  for (const item of list) {
    const stat = await countsOf(root, item, counts);
    let patch = full ? undefined : batch.patches.get(item.file);
    if (!full && patch === undefined && (item.code === '??' || !ref)) {
      // Each is a git run of its own: none after the budget.
      if (performance.now() < deadline) patch = await newFilePatch(cwd, item.file, context, MAX_PATCH_BYTES - total);
      else late = true;
    }
    if (patch !== undefined) {
      if (total + Buffer.byteLength(patch) > MAX_PATCH_BYTES) {
        patch = undefined;
        full = true;
      } else {
        total += Buffer.byteLength(patch);
        full = total >= MAX_PATCH_BYTES;
      }
    }
    files.push({ file: item.file, patch: patch ?? emptyPatch(item.file), additions: stat.additions, deletions: stat.deletions, status: item.status });
  }
  return { files, truncated: tooMany || full || late || batch.truncated };
}

async function againstRef(cwd: string, root: string, ref: string, context: number | undefined): Promise<Listed<VcsFileDiff>> {
  const [diffed, counts, status] = await Promise.all([diffItems(cwd, ref), numstat(cwd, ref), statusItems(cwd)]);
  const seen = new Set(diffed.items.map((i) => i.file));
  const items = [...diffed.items, ...status.items.filter((i) => i.code === '??' && !seen.has(i.file))];
  const result = await runGit(cwd, ['diff', '--patch', '--no-ext-diff', '--no-textconv', '--no-renames', unified(context), ref, '--', '.'], { maxBytes: MAX_PATCH_BYTES });
  if (result.code !== 0 && !result.truncated) throw failed('git diff', result);
  const listed = await patchesOf(cwd, root, ref, items, counts, context, { patches: splitPatch(result.stdout.toString('utf8'), result.truncated), truncated: result.truncated });
  return { ...listed, truncated: listed.truncated || diffed.truncated || status.truncated };
}

/** The repository's default branch as OpenCode finds it: the remote's HEAD, else init.defaultBranch, main or master among the branches. */
export async function defaultBranch(cwd: string): Promise<{ name: string; ref: string } | undefined> {
  const text = async (args: string[]) => {
    const r = await runGit(cwd, args, { maxBytes: 1024 * 1024 });
    return r.code === 0 ? r.stdout.toString('utf8').trim() : undefined;
  };
  const remotes = (await text(['remote']))?.split('\n').filter(Boolean) ?? [];
  const remote = remotes.includes('origin') ? 'origin' : remotes.length === 1 ? remotes[0] : remotes.includes('upstream') ? 'upstream' : remotes[0];
  if (remote) {
    const head = (await text(['symbolic-ref', `refs/remotes/${remote}/HEAD`]))?.replace(/^refs\/remotes\//, '');
    const name = head?.startsWith(`${remote}/`) ? head.slice(remote.length + 1) : '';
    if (head && name) return { name, ref: head };
  }
  const branches = (await text(['for-each-ref', '--format=%(refname:short)', 'refs/heads']))?.split('\n').filter(Boolean) ?? [];
  const configured = await text(['config', 'init.defaultBranch']);
  for (const name of [configured, 'main', 'master']) if (name && branches.includes(name)) return { name, ref: name };
  return undefined;
}

/** `GET /vcs/diff`: each changed file with its patch (`context` lines around changes; default the whole file). */
export async function vcsDiff(projectRoot: string, directory: string, mode: 'git' | 'branch', context: number | undefined): Promise<Listed<VcsFileDiff>> {
  const root = await repository(projectRoot);
  if (!root) return { files: [], truncated: false };
  if (mode === 'git') {
    if (await hasHead(directory)) return againstRef(directory, root, 'HEAD', context);
    const status = await statusItems(directory);
    const listed = await patchesOf(directory, root, undefined, status.items, new Map(), context, { patches: new Map(), truncated: false });
    return { ...listed, truncated: listed.truncated || status.truncated };
  }
  const base = await defaultBranch(directory);
  if (!base || base.ref.startsWith('-')) return { files: [], truncated: false };
  const current = await runGit(directory, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
  if (current.code === 0 && current.stdout.toString('utf8').trim() === base.name) return { files: [], truncated: false };
  const merged = await runGit(directory, ['merge-base', base.ref, 'HEAD']);
  const at = merged.code === 0 ? merged.stdout.toString('utf8').trim() : '';
  if (!/^[0-9a-f]{40,64}$/.test(at)) return { files: [], truncated: false };
  return againstRef(directory, root, at, context);
}

/**
 * `GET /vcs/diff/raw`: one patch of the uncommitted changes (against `HEAD`, three lines of context),
 * then each untracked file's. At most MAX_PATCH_BYTES: whole files' patches only (`truncated`).
 */
export async function vcsDiffRaw(projectRoot: string, directory: string): Promise<{ text: string; truncated: boolean }> {
  if (!(await repository(projectRoot))) return { text: '', truncated: false };
  const [head, status] = await Promise.all([hasHead(directory), statusItems(directory)]);
  let truncated = status.truncated;
  let tracked = '';
  if (head) {
    const result = await runGit(directory, ['diff', '--patch', '--no-ext-diff', '--no-textconv', '--no-renames', '--unified=3', 'HEAD', '--', '.'], { maxBytes: MAX_PATCH_BYTES });
    if (result.code !== 0 && !result.truncated) throw failed('git diff', result);
    tracked = result.stdout.toString('utf8');
    if (result.truncated) {
      // Whole files' patches only: up to the last file's start.
      tracked = tracked.slice(0, Math.max(0, tracked.lastIndexOf('\ndiff --git ') + 1));
      truncated = true;
    }
  }
  const parts = tracked ? [tracked] : [];
  let total = Buffer.byteLength(tracked);
  const deadline = performance.now() + UNTRACKED_BUDGET_MS;
  const untracked = status.items.filter((i) => i.code === '??');
  for (const [n, item] of untracked.entries()) {
    if (truncated || n >= MAX_VCS_FILES || performance.now() > deadline) {
      truncated = true;
      break;
    }
    const patch = await newFilePatch(directory, item.file, 3, MAX_PATCH_BYTES - total);
    if (patch === undefined) continue;
    total += Buffer.byteLength(patch);
    parts.push(patch);
  }
  return { text: parts.join('\n'), truncated };
}

export class VcsApplyError extends HttpError {
  constructor(message: string, reason: 'non-git' | 'not-clean', hint: string, detail?: string) {
    super(400, 'VCS_APPLY_FAILED', detail ? `${message}: ${detail}.` : `${message}.`, { hint, details: { reason, ...(detail ? { detail } : {}) }, name: 'VcsApplyError' });
  }
}

/** The paths a patch names (git's own reading of it), to refuse one that leads outside the folder. */
async function patchPaths(cwd: string, patch: string): Promise<string[] | string> {
  const result = await runGit(cwd, ['apply', '--numstat', '-z', '-'], { stdin: patch, maxBytes: 4 * 1024 * 1024 });
  if (result.code !== 0) return gitComplaint(result);
  const paths: string[] = [];
  const fields = result.stdout.toString('utf8').split('\0');
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] as string;
    if (!field) continue;
    const [, , name] = field.split('\t');
    // A rename: `added\tdeleted\t` then the two paths as their own fields.
    if (name === '') paths.push(fields[++i] ?? '', fields[++i] ?? '');
    else if (name !== undefined) paths.push(name);
  }
  return paths;
}

/**
 * `POST /vcs/apply`: the patch applied to the working tree with `git apply`, after `git apply
 * --check` found every hunk applies (a failing patch changes nothing). A patch that names a path
 * outside the folder (absolute, or through `..`) is refused before git is asked to apply it.
 */
export async function vcsApply(projectRoot: string, directory: string, patch: string): Promise<{ applied: true }> {
  if (!(await repository(projectRoot))) {
    throw new VcsApplyError("Patch can't be applied because the project is not git-based", 'non-git', 'Run `git init` in the project, or apply the patch with `patch -p1`.');
  }
  const notClean = (detail?: string) => new VcsApplyError("Patch can't be applied", 'not-clean', 'Check that the patch was made against the files as they are now (`git apply --check` says which hunk fails).', detail);
  const paths = await patchPaths(directory, patch);
  if (typeof paths === 'string') throw notClean(paths);
  const outside = paths.find((p) => p === '' || path.isAbsolute(p) || p.split(/[\\/]/).includes('..'));
  if (outside !== undefined) throw notClean(`the patch names ${JSON.stringify(outside.slice(0, 200))}, outside the project folder`);
  const check = await runGit(directory, ['apply', '--check', '-'], { stdin: patch });
  if (check.code !== 0) throw notClean(gitComplaint(check));
  const applied = await runGit(directory, ['apply', '-'], { stdin: patch });
  if (applied.code !== 0) throw notClean(gitComplaint(applied));
  return { applied: true };
}
