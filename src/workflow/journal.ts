/**
 * The workflow journal: every run and every task's state, in one SQLite file
 * (`$XDG_DATA_HOME/pantheon/workflows.sqlite`, WAL mode, each write in its own `BEGIN IMMEDIATE`
 * transaction). A task row is written when the task starts and again when it ends, so a process
 * killed at any moment leaves the last committed state, never a torn one; SQLite's journal
 * guarantees that much under SIGKILL.
 */
import { randomBytes } from '../random-bytes.ts';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { StatementSync } from 'node:sqlite';
import { PantheonError } from '../errors.ts';
import { stateDir } from '../paths.ts';
import { retryBusy, useWal } from '../state/sqlite-busy.ts';
import type { TaskState } from './task-state.ts';
import { makeDirSync } from '../make-dir.ts';

export type RunStatus = 'running' | 'success' | 'failed' | 'cancelled';

export interface RunRecord {
  id: string;
  workflow: string;
  inputs: Record<string, string>;
  status: RunStatus;
  startedAt: number;
  /** When the run last ended (success, failed, cancelled); absent while running or after a crash. */
  endedAt?: number;
}

const SCHEMA_VERSION = 1;
const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, workflow TEXT NOT NULL, inputs TEXT NOT NULL, status TEXT NOT NULL, started_at INTEGER NOT NULL, ended_at INTEGER, seq INTEGER NOT NULL) STRICT;
CREATE INDEX IF NOT EXISTS runs_workflow ON runs (workflow, seq);
CREATE TABLE IF NOT EXISTS tasks (run_id TEXT NOT NULL, task_id TEXT NOT NULL, ord INTEGER NOT NULL, state TEXT NOT NULL, PRIMARY KEY (run_id, task_id)) STRICT;
PRAGMA user_version = ${SCHEMA_VERSION};
`;

const SQL = {
  insertRun: 'INSERT INTO runs (id, workflow, inputs, status, started_at, ended_at, seq) VALUES (?, ?, ?, ?, ?, NULL, (SELECT COALESCE(MAX(seq), 0) + 1 FROM runs))',
  run: 'SELECT id, workflow, inputs, status, started_at, ended_at FROM runs WHERE id = ?',
  runs: 'SELECT id, workflow, inputs, status, started_at, ended_at FROM runs ORDER BY seq DESC',
  runsOf: 'SELECT id, workflow, inputs, status, started_at, ended_at FROM runs WHERE workflow = ? ORDER BY seq DESC',
  unfinished: "SELECT id, workflow, inputs, status, started_at, ended_at FROM runs WHERE workflow = ? AND status <> 'success' ORDER BY seq DESC LIMIT 1",
  allUnfinished: "SELECT id, workflow, inputs, status, started_at, ended_at FROM runs WHERE workflow = ? AND status <> 'success' ORDER BY seq DESC",
  setStatus: 'UPDATE runs SET status = ?, ended_at = ? WHERE id = ?',
  upsertTask:
    'INSERT INTO tasks (run_id, task_id, ord, state) VALUES (?, ?, (SELECT COUNT(*) FROM tasks WHERE run_id = ?), ?) ON CONFLICT (run_id, task_id) DO UPDATE SET state = excluded.state',
  tasks: 'SELECT state FROM tasks WHERE run_id = ? ORDER BY ord',
} as const;
type Statements = { -readonly [K in keyof typeof SQL]: StatementSync };

interface RunRow {
  id: string;
  workflow: string;
  inputs: string;
  status: string;
  started_at: number;
  ended_at: number | null;
}

/** A row's JSON text parsed; a row that is not JSON (a damaged or hand-edited journal) is STORE_ERROR naming the run. */
function parseRow<T>(text: string, runId: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new PantheonError('STORE_ERROR', `The workflow journal has a damaged run ${runId}: its ${what} not JSON (${(error as Error).message}).`, {
      hint: 'Start a new run; the other runs are unaffected.',
      cause: error,
    });
  }
}

function toRecord(row: RunRow): RunRecord {
  return {
    id: row.id,
    workflow: row.workflow,
    inputs: parseRow<Record<string, string>>(row.inputs, row.id, 'inputs are'),
    status: row.status as RunStatus,
    startedAt: row.started_at,
    ...(row.ended_at === null ? {} : { endedAt: row.ended_at }),
  };
}

/** Where the journal lives by default. */
export function journalPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(stateDir(env), 'workflows.sqlite');
}

/** `wr_` + time (base 36, sortable) + 6 random hex digits. */
export function newRunId(now: number = Date.now()): string {
  return `wr_${now.toString(36)}${randomBytes(3).toString('hex')}`;
}

function storeError(file: string, error: unknown): PantheonError {
  if (error instanceof PantheonError) return error;
  const message = error instanceof Error ? error.message : String(error);
  // SQLITE_NOTADB, SQLITE_CORRUPT: the file itself is damaged, and no permission change helps.
  const damaged = /file is not a database|database disk image is malformed/i.test(message);
  return new PantheonError('STORE_ERROR', `The workflow journal ${file} could not be used: ${message}`, {
    hint: damaged ? `The file is damaged: move it aside (its runs can then no longer be shown or resumed) and run again.` : 'Check that the folder is writable.',
    cause: error,
  });
}

export interface JournalOptions {
  path?: string;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  busyTimeoutMs?: number;
}

export class Journal {
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #q: Statements;
  readonly #now: () => number;

  /** Opens (creating if needed) the journal under the state folder of `env`. */
  static open(env?: NodeJS.ProcessEnv): Journal {
    return new Journal(env ? { env } : {});
  }

  constructor(opts: JournalOptions = {}) {
    this.path = opts.path ?? journalPath(opts.env);
    this.#now = opts.now ?? Date.now;
    let db: DatabaseSync | undefined;
    try {
      makeDirSync(path.dirname(this.path), 0o700);
      const busyMs = opts.busyTimeoutMs ?? 5000;
      db = new DatabaseSync(this.path, { timeout: busyMs });
      useWal(db, busyMs);
      db.exec('PRAGMA synchronous = NORMAL');
      const opened = db;
      const { user_version: version } = retryBusy(() => opened.prepare('PRAGMA user_version').get() as { user_version: number }, busyMs);
      if (version > SCHEMA_VERSION) throw new PantheonError('STORE_ERROR', `The workflow journal ${this.path} was written by a newer Pantheon.`, { hint: 'Upgrade Pantheon.' });
      if (version < SCHEMA_VERSION) this.#tx(opened, () => opened.exec(SCHEMA));
      const q: Partial<Statements> = {};
      for (const name of Object.keys(SQL) as (keyof typeof SQL)[]) q[name] = db.prepare(SQL[name]);
      this.#q = q as Statements;
      this.#db = db;
    } catch (error) {
      if (db?.isOpen) db.close();
      throw storeError(this.path, error);
    }
  }

  #tx<T>(db: DatabaseSync, work: () => T): T {
    db.exec('BEGIN IMMEDIATE');
    try {
      const out = work();
      db.exec('COMMIT');
      return out;
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw storeError(this.path, error);
    }
  }

  createRun(workflow: string, inputs: Record<string, string>, id: string = newRunId(this.#now())): RunRecord {
    const startedAt = this.#now();
    this.#tx(this.#db, () => this.#q.insertRun.run(id, workflow, JSON.stringify(inputs), 'running', startedAt));
    return { id, workflow, inputs: { ...inputs }, status: 'running', startedAt };
  }

  /** Marks a run running again (resume). */
  reopenRun(runId: string): RunRecord {
    this.#tx(this.#db, () => this.#q.setStatus.run('running', null, runId));
    return this.getRun(runId).run;
  }

  /** Writes the task's current state (insert or replace), atomically. */
  recordTask(runId: string, task: TaskState): void {
    this.recordTasks(runId, [task]);
  }

  /** Writes several tasks' states in one transaction: all of them or none. */
  recordTasks(runId: string, tasks: readonly TaskState[]): void {
    this.#tx(this.#db, () => {
      for (const task of tasks) this.#q.upsertTask.run(runId, task.taskID, runId, JSON.stringify(task));
    });
  }

  getRun(runId: string): { run: RunRecord; tasks: TaskState[] } {
    const row = this.#q.run.get(runId) as RunRow | undefined;
    if (!row) {
      throw new PantheonError('USAGE', `No workflow run ${JSON.stringify(runId)}.`, { hint: 'List runs with `opencode workflow list`.' });
    }
    const tasks = (this.#q.tasks.all(runId) as { state: string }[]).map((r) => parseRow<TaskState>(r.state, runId, 'task state is'));
    return { run: toRecord(row), tasks };
  }

  /** The newest run of `workflow` that did not succeed (running, crashed, failed or cancelled). */
  latestUnfinished(workflow: string): RunRecord | undefined {
    const row = this.#q.unfinished.get(workflow) as RunRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** Every run of `workflow` that did not succeed, newest first. */
  unfinishedRuns(workflow: string): RunRecord[] {
    return (this.#q.allUnfinished.all(workflow) as unknown as RunRow[]).map(toRecord);
  }

  /** Runs, newest first; of one workflow when given. */
  listRuns(workflow?: string): RunRecord[] {
    return this.listRunsChecked(workflow).runs;
  }

  /** Runs, newest first, and the runs whose rows are damaged (each a STORE_ERROR), which are left out. */
  listRunsChecked(workflow?: string): { runs: RunRecord[]; damaged: PantheonError[] } {
    const rows = (workflow === undefined ? this.#q.runs.all() : this.#q.runsOf.all(workflow)) as unknown as RunRow[];
    const runs: RunRecord[] = [];
    const damaged: PantheonError[] = [];
    for (const row of rows) {
      try {
        runs.push(toRecord(row));
      } catch (error) {
        damaged.push(storeError(this.path, error));
      }
    }
    return { runs, damaged };
  }

  finishRun(runId: string, status: Exclude<RunStatus, 'running'>): void {
    this.#tx(this.#db, () => this.#q.setStatus.run(status, this.#now(), runId));
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
