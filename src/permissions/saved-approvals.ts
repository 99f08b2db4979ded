/**
 * What "always" answers through OpenCode's v2 reply route approved, per project, kept across
 * restarts as OpenCode's PermissionV2 keeps them (its database's `permission` table, by project):
 * `$XDG_DATA_HOME/pantheon/permissions/<project id>.json`, `{"version": 1, "projectRoot": "…",
 * "approvals": [{"id": "psv_…", "action": "bash", "resource": "git status *", "time": ms}]}`, oldest
 * first. Every server of the machine reads the same file: it sees what another one (or an earlier
 * run of it) saved. (v1's answers, the TUI's, are held in memory: core/permission-asks.ts.)
 *
 * A change takes effect in memory at once and is written in the background, one at a time per
 * project and under a lock across processes (`.<id>.json.lock`, src/pid-lock.ts): the file is read
 * again under the lock and the change applied to what it holds then, so another process's changes
 * are kept; then it is replaced atomically (mode 0600). The list is read again when the file
 * changed (another process wrote it). At most MAX_SAVED_APPROVALS per project: beyond that the
 * oldest go, with a warning. A file that cannot be parsed is moved aside (`….corrupt-<ms>`) with one
 * warning naming both files, and the project's approvals start empty; it is never written over.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { printErr } from '../cli/print.ts';
import { safeLine } from '../cli/terminal-text.ts';
import { writeFileAtomic } from '../fs-atomic.ts';
import { makeDir } from '../make-dir.ts';
import { stateDir } from '../paths.ts';
import { withPidLock } from '../pid-lock.ts';
import { ascendingId } from '../session/ids.ts';
import { approvedBy, type PermissionRequest } from './authorize.ts';
import type { PermissionTable } from './rules.ts';

/** Approvals kept per project (OpenCode keeps every one; a bound keeps each check and write small). */
export const MAX_SAVED_APPROVALS = 1000;
/** A file bigger than this is not one Pantheon wrote (1000 approvals take far less). */
const MAX_FILE_BYTES = 8 * 1024 * 1024;
/** A lock older than this is a leftover whoever holds it (a write takes milliseconds). */
const LOCK_STALE_MS = 10_000;

/** One pattern an `always` answer approved in a project. */
export interface StoredApproval {
  id: string;
  /** The permission key (`bash`, `edit`, …). */
  action: string;
  /** The pattern approved (`git status *`, `*`, …). */
  resource: string;
  /** When it was approved (ms). */
  time: number;
}

/** The id of a project's file: OpenCode v2's project id as Pantheon makes it (GET /project). */
export function approvalsKey(projectRoot: string): string {
  return createHash('sha256').update(projectRoot).digest('hex').slice(0, 16);
}

/** The folder of every project's saved approvals. */
export function approvalsDir(env: NodeJS.ProcessEnv): string {
  return path.join(stateDir(env), 'permissions');
}

/** The file of a project's saved approvals. */
export function approvalsFile(env: NodeJS.ProcessEnv, projectRoot: string): string {
  return path.join(approvalsDir(env), `${approvalsKey(projectRoot)}.json`);
}

function lockOf(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.lock`);
}

type Read = { ok: true; list: StoredApproval[]; stamp: string } | { ok: false; why: string };

function isApproval(value: unknown): value is StoredApproval {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return typeof v.id === 'string' && v.id.startsWith('psv') && typeof v.action === 'string' && v.action !== '' && typeof v.resource === 'string' && typeof v.time === 'number';
}

/** What identifies one version of a file: a write replaces it (a new inode). */
function stampOf(stat: fs.Stats): string {
  return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
}

/** A file's text when it is a regular file of at most MAX_FILE_BYTES, else undefined. */
function smallText(file: string): string | undefined {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat?.isFile() || stat.size > MAX_FILE_BYTES) return undefined;
  return fs.readFileSync(file, 'utf8');
}

/** The approvals a file holds; `[]` when it is missing. */
function readFile(file: string, projectRoot: string): Read {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, list: [], stamp: 'missing' };
    return { ok: false, why: `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'unknown error'})` };
  }
  let text: string;
  let stamp: string;
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) return { ok: false, why: 'is not a regular file' };
    if (stat.size > MAX_FILE_BYTES) return { ok: false, why: `is ${stat.size} bytes, more than such a file ever holds` };
    stamp = stampOf(stat);
    text = fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { ok: false, why: 'is not valid JSON' };
  }
  const d = data as { version?: unknown; projectRoot?: unknown; approvals?: unknown };
  if (data === null || typeof data !== 'object' || Array.isArray(data) || d.version !== 1 || !Array.isArray(d.approvals)) {
    return { ok: false, why: 'is not a saved-approvals file (expected {"version": 1, "projectRoot", "approvals": [...]})' };
  }
  if (d.projectRoot !== projectRoot) return { ok: false, why: 'belongs to another project folder' };
  const bad = d.approvals.findIndex((a) => !isApproval(a));
  if (bad >= 0) return { ok: false, why: `has an approval that is not {id: "psv_…", action, resource, time} (approvals[${bad}])` };
  return { ok: true, list: (d.approvals as StoredApproval[]).map(({ id, action, resource, time }) => ({ id, action, resource, time })), stamp };
}

/** A file's list beyond the bound (written by hand): the newest kept (the file keeps the rest until it is next written). */
function trimmed(list: StoredApproval[]): StoredApproval[] {
  return list.length <= MAX_SAVED_APPROVALS ? list : list.slice(list.length - MAX_SAVED_APPROVALS);
}

interface Project {
  /** The approvals as they stand for this process (the file's, with this process's changes). */
  list: StoredApproval[];
  /** The file's version `list` was read from or last written as. */
  stamp: string;
  /** Changes of this process not written yet (the file is not read again meanwhile). */
  pending: number;
  /** The file could not be read and could not be moved aside either: it is never written. */
  blocked: boolean;
}

/** The saved approvals of every project, as one process sees them (see the module comment). */
export class SavedApprovals {
  readonly #env: NodeJS.ProcessEnv;
  readonly #projects = new Map<string, Project>();
  /** The write under way per project: the next one waits for it. */
  readonly #writing = new Map<string, Promise<void>>();
  /** Where warnings go (one line each): stderr unless told otherwise (a server's log). */
  warn: (line: string) => void = (line) => printErr(`${line}\n`);

  constructor(env: NodeJS.ProcessEnv) {
    this.#env = env;
  }

  /** A warning, its folder names made safe for a terminal. */
  #say(line: string): void {
    this.warn(safeLine(line));
  }

  /** A project's approvals, oldest first: read from its file the first time, and again whenever another process changed it. */
  list(projectRoot: string): readonly StoredApproval[] {
    return this.#project(projectRoot).list;
  }

  /**
   * Approves `resources` of `action` in a project (those not approved already), at once in memory;
   * `written` settles once the file holds them (never rejects: a failed write is a warning).
   */
  add(projectRoot: string, action: string, resources: readonly string[]): { added: StoredApproval[]; written: Promise<void> } {
    const project = this.#project(projectRoot);
    const added: StoredApproval[] = [];
    const time = Date.now();
    for (const resource of new Set(resources)) {
      if (!project.list.some((a) => a.action === action && a.resource === resource)) added.push({ id: ascendingId('psv'), action, resource, time });
    }
    if (added.length === 0) return { added, written: this.#writing.get(projectRoot) ?? Promise.resolve() };
    project.list = this.#capped(projectRoot, [...project.list, ...added]);
    const written = this.#write(projectRoot, (onDisk) => {
      const fresh = added.filter((a) => !onDisk.some((o) => o.action === a.action && o.resource === a.resource));
      return this.#capped(projectRoot, [...onDisk, ...fresh]);
    });
    return { added, written };
  }

  /**
   * Takes back approval `id`, of the project named or of any (its file found among every project's);
   * resolves, once the file is written, with whether there was one.
   */
  async remove(id: string, projectRoot?: string): Promise<boolean> {
    const root = projectRoot ?? this.#ownerOf(id);
    if (root === undefined) return false;
    const project = this.#project(root);
    const before = project.list.length;
    project.list = project.list.filter((a) => a.id !== id);
    if (project.list.length === before) return false;
    await this.#write(root, (onDisk) => onDisk.filter((a) => a.id !== id));
    return true;
  }

  /** The project whose approvals hold `id`: those read already, else each project's file. */
  #ownerOf(id: string): string | undefined {
    for (const [root, project] of this.#projects) if (project.list.some((a) => a.id === id)) return root;
    let names: string[];
    try {
      names = fs.readdirSync(approvalsDir(this.#env)).filter((n) => /^[0-9a-f]{16}\.json$/.test(n));
    } catch {
      return undefined;
    }
    for (const name of names) {
      try {
        const text = smallText(path.join(approvalsDir(this.#env), name));
        if (text === undefined || !text.includes(JSON.stringify(id))) continue;
        const root = (JSON.parse(text) as { projectRoot?: unknown }).projectRoot;
        // Read again when it changed since (another process saved it).
        if (typeof root === 'string' && approvalsKey(root) === name.slice(0, 16) && this.#project(root).list.some((a) => a.id === id)) return root;
      } catch {
        // Unreadable or broken: its own project's read reports it.
      }
    }
    return undefined;
  }

  /** The project folder whose approvals file is `<key>.json` (approvalsKey), if there is one. */
  rootOf(key: string): string | undefined {
    for (const root of this.#projects.keys()) if (approvalsKey(root) === key) return root;
    if (!/^[0-9a-f]{16}$/.test(key)) return undefined;
    try {
      const root = (JSON.parse(smallText(path.join(approvalsDir(this.#env), `${key}.json`)) ?? '') as { projectRoot?: unknown }).projectRoot;
      return typeof root === 'string' && approvalsKey(root) === key ? root : undefined;
    } catch {
      // Missing, or broken (reported when its project reads it).
      return undefined;
    }
  }

  /** Every project with a file of saved approvals (their folders), for listings across projects. */
  projects(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(approvalsDir(this.#env)).filter((n) => /^[0-9a-f]{16}\.json$/.test(n));
    } catch {
      return [...this.#projects.keys()];
    }
    const roots = new Set(this.#projects.keys());
    for (const name of names) {
      try {
        const root = (JSON.parse(smallText(path.join(approvalsDir(this.#env), name)) ?? '') as { projectRoot?: unknown }).projectRoot;
        if (typeof root === 'string' && approvalsKey(root) === name.slice(0, 16)) roots.add(root);
      } catch {
        // Unreadable or broken: reported when its project reads it.
      }
    }
    return [...roots];
  }

  /** The project's state, read from its file when first asked for or when the file changed since. */
  #project(projectRoot: string): Project {
    const known = this.#projects.get(projectRoot);
    if (known && (known.pending > 0 || known.blocked)) return known;
    const file = approvalsFile(this.#env, projectRoot);
    if (known) {
      let stamp = 'missing';
      try {
        stamp = stampOf(fs.statSync(file));
      } catch {
        // Gone (removed by hand): read below as empty.
      }
      if (stamp === known.stamp) return known;
    }
    const read = readFile(file, projectRoot);
    const project: Project = read.ok ? { list: trimmed(read.list), stamp: read.stamp, pending: 0, blocked: false } : this.#broken(file, read.why);
    this.#projects.set(projectRoot, project);
    return project;
  }

  /** A file that cannot be read: moved aside (never written over), one warning; the project starts empty. */
  #broken(file: string, why: string): Project {
    const aside = `${file}.corrupt-${Date.now()}`;
    try {
      fs.renameSync(file, aside);
    } catch {
      this.#say(`warning: the saved permission approvals file ${file} ${why}, and it could not be moved aside; this project's "always" approvals start empty and are kept only until the process ends (move or fix the file to keep new ones).`);
      return { list: [], stamp: 'blocked', pending: 0, blocked: true };
    }
    this.#say(`warning: the saved permission approvals file ${file} ${why}; it was moved to ${aside} and this project's "always" approvals start empty.`);
    return { list: [], stamp: 'missing', pending: 0, blocked: false };
  }

  /** `list` with at most MAX_SAVED_APPROVALS, the newest kept; a warning when some go. */
  #capped(projectRoot: string, list: StoredApproval[]): StoredApproval[] {
    if (list.length <= MAX_SAVED_APPROVALS) return list;
    const dropped = list.length - MAX_SAVED_APPROVALS;
    this.#say(`warning: the project ${projectRoot} has more than ${MAX_SAVED_APPROVALS} saved "always" approvals; the oldest ${dropped} ${dropped === 1 ? 'was' : 'were'} dropped.`);
    return list.slice(dropped);
  }

  /** Applies `change` to the file as it is now, under its lock, after this process's earlier writes of it. */
  #write(projectRoot: string, change: (onDisk: StoredApproval[]) => StoredApproval[]): Promise<void> {
    const project = this.#project(projectRoot);
    if (project.blocked) return Promise.resolve();
    project.pending += 1;
    const file = approvalsFile(this.#env, projectRoot);
    const run = async () => {
      await makeDir(path.dirname(file));
      await withPidLock(lockOf(file), async () => {
        const read = readFile(file, projectRoot);
        let onDisk = read.ok ? read.list : project.list;
        if (!read.ok) {
          // Broken since it was read (by hand): moved aside, and this process's list is what is written; never written over when it cannot be moved.
          if (this.#broken(file, read.why).blocked) {
            project.blocked = true;
            return;
          }
          onDisk = project.list;
        }
        const next = change(onDisk);
        await writeFileAtomic(file, `${JSON.stringify({ version: 1, projectRoot, approvals: next }, null, 2)}\n`, 0o600);
        project.stamp = stampOf(fs.statSync(file));
        // The last change under way: the list is now the file's (with other processes' changes); an earlier one leaves the list, which holds the later changes too.
        if (project.pending === 1) project.list = next;
      }, { staleMs: LOCK_STALE_MS });
    };
    const previous = this.#writing.get(projectRoot) ?? Promise.resolve();
    const written = previous
      .then(run)
      .catch((error: unknown) => {
        this.#say(`warning: could not save this project's "always" approvals to ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); they hold until the process ends.`);
      })
      .finally(() => {
        project.pending -= 1;
        if (this.#writing.get(projectRoot) === written) this.#writing.delete(projectRoot);
      });
    this.#writing.set(projectRoot, written);
    return written;
  }
}

/** Each list of saved approvals as a permission table (the config's shape), made once per list: a change makes a new list. */
const tables = new WeakMap<readonly StoredApproval[], PermissionTable>();

/** Whether the project's saved approvals allow a call (one its rules would ask about). */
export function savedApproves(store: SavedApprovals, projectRoot: string, request: PermissionRequest): boolean {
  const list = store.list(projectRoot);
  if (list.length === 0) return false;
  let table = tables.get(list);
  if (table === undefined) {
    const made: Record<string, Record<string, 'allow'>> = {};
    for (const s of list) (made[s.action] ??= {})[s.resource] = 'allow';
    table = made as PermissionTable;
    tables.set(list, table);
  }
  return approvedBy(table, request);
}
