/**
 * Asynchronous prompts (`/api/v1/sessions/{id}/prompt_async`): each task is written to a journal
 * (`$XDG_DATA_HOME/pantheon/tasks.sqlite`, node:sqlite, WAL) before it is accepted, then run as a
 * session turn. A task is never lost: when a server starts, tasks another server accepted but never
 * began are run, and tasks that were running when their server died are marked failed (a half-run
 * turn is not run twice: its tools may have written files). Nothing here knows HTTP.
 */
import { randomBytes } from '../random-bytes.ts';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { isPantheonError } from '../errors.ts';
import { stateDir } from '../paths.ts';
import { retryBusy, useWal } from '../state/sqlite-busy.ts';
import { guideUsage, type GuideUsage } from './guide-usage.ts';
import type { Host } from './host.ts';
import type { PromptInput, PromptOutcome } from './sessions.ts';
import { makeDirSync } from '../make-dir.ts';
import { processAlive } from '../pid-lock.ts';

export type TaskStatus = 'pending' | 'processing' | 'completed' | 'failed';

export interface TaskRecord {
  id: string;
  sessionID: string;
  status: TaskStatus;
  createdAt: number;
  completedAt?: number;
  result?: { message_id: string; content: string; usage: GuideUsage; cost_usd?: number; model?: string };
  error?: { code: string; message: string };
  callbackURL?: string;
  /** The callback is to be signed (its secret lives only in the memory of the server that accepted it). */
  callbackSigned?: boolean;
}

/** How long opening the journal waits for another process's transaction. */
const BUSY_TIMEOUT_MS = 5000;

/** What the journal keeps of a prompt: the text and the choices, never attachments' bytes beyond the request. */
export type TaskInput = Pick<PromptInput, 'text' | 'agent' | 'model' | 'system' | 'temperature' | 'maxOutputTokens'>;

interface Row {
  id: string;
  session_id: string;
  input: string;
  status: TaskStatus;
  created_at: number;
  completed_at: number | null;
  result: string | null;
  error: string | null;
  callback_url: string | null;
  callback_signed: number;
  owner: number;
}

function toRecord(row: Row): TaskRecord {
  return {
    id: row.id,
    sessionID: row.session_id,
    status: row.status,
    createdAt: row.created_at,
    ...(row.completed_at === null ? {} : { completedAt: row.completed_at }),
    ...(row.result === null ? {} : { result: JSON.parse(row.result) as TaskRecord['result'] }),
    ...(row.error === null ? {} : { error: JSON.parse(row.error) as TaskRecord['error'] }),
    ...(row.callback_url === null ? {} : { callbackURL: row.callback_url }),
    ...(row.callback_signed ? { callbackSigned: true } : {}),
  };
}

/** The outcome of a turn as a task's result or error. */
function settle(outcome: PromptOutcome): Pick<TaskRecord, 'status' | 'result' | 'error'> {
  const { result } = outcome;
  if (result.status === 'success') {
    const model = result.servedBy.at(-1);
    return {
      status: 'completed',
      result: {
        message_id: outcome.turn.assistantMessageID,
        content: result.answer,
        usage: guideUsage(result),
        ...(result.costUSD === undefined ? {} : { cost_usd: result.costUSD }),
        ...(model ? { model } : {}),
      },
    };
  }
  const error = result.error;
  return { status: 'failed', error: { code: isPantheonError(error) ? error.code : result.status === 'cancelled' ? 'CANCELLED' : 'INTERNAL', message: error instanceof Error ? error.message : 'The turn failed.' } };
}

export class AsyncTasks {
  readonly #db: DatabaseSync;
  readonly #host: Host;
  readonly #running = new Set<Promise<void>>();
  /** Called whenever a task ends (webhooks subscribe). */
  onSettled: ((task: TaskRecord) => void) | undefined;


  constructor(host: Host, file = path.join(stateDir(host.env), 'tasks.sqlite')) {
    makeDirSync(path.dirname(file), 0o700);
    const db = new DatabaseSync(file, { timeout: BUSY_TIMEOUT_MS });
    this.#db = db;
    useWal(db, BUSY_TIMEOUT_MS);
    retryBusy(() => db.exec(`CREATE TABLE IF NOT EXISTS tasks (
      id TEXT PRIMARY KEY, session_id TEXT NOT NULL, input TEXT NOT NULL, status TEXT NOT NULL,
      created_at INTEGER NOT NULL, completed_at INTEGER, result TEXT, error TEXT, callback_url TEXT, callback_signed INTEGER NOT NULL DEFAULT 0, owner INTEGER NOT NULL)`), BUSY_TIMEOUT_MS);
    this.#host = host;
  }

  /** Journals the task (so it survives a crash from here on), then runs it in the background. */
  accept(sessionID: string, input: TaskInput, callback?: { url: string; signed: boolean }): TaskRecord {
    const id = `task_${randomBytes(12).toString('base64url')}`;
    const now = Date.now();
    this.#db
      .prepare('INSERT INTO tasks (id, session_id, input, status, created_at, callback_url, callback_signed, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(id, sessionID, JSON.stringify(input), 'pending', now, callback?.url ?? null, callback?.signed ? 1 : 0, process.pid);
    this.#spawn(id, sessionID, input);
    return this.get(id) as TaskRecord;
  }

  get(id: string): TaskRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM tasks WHERE id = ?').get(id) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  /**
   * After a start: tasks whose server is gone. Accepted but never begun → run now; begun → failed
   * (they may have run tools; the client asks again if it wants).
   */
  recover(): void {
    const rows = this.#db.prepare("SELECT * FROM tasks WHERE status IN ('pending', 'processing')").all() as unknown as Row[];
    for (const row of rows) {
      if (row.owner === process.pid || processAlive(row.owner)) continue;
      if (row.status === 'processing') {
        this.#finish(row.id, { status: 'failed', error: { code: 'INTERRUPTED', message: 'The server stopped while this task ran; it was not run again (its tools may have had effects). Send the prompt again.' } });
        continue;
      }
      // Claim it: only one recovering server takes a pending task.
      const claimed = this.#db.prepare("UPDATE tasks SET owner = ? WHERE id = ? AND status = 'pending' AND owner = ?").run(process.pid, row.id, row.owner);
      if (Number(claimed.changes) === 1) this.#spawn(row.id, row.session_id, JSON.parse(row.input) as TaskInput);
    }
  }

  #spawn(id: string, sessionID: string, input: TaskInput): void {
    const running = this.#run(id, sessionID, input).finally(() => this.#running.delete(running));
    this.#running.add(running);
  }

  async #run(id: string, sessionID: string, input: TaskInput): Promise<void> {
    try {
      const started = await this.#host.sessions.start(sessionID, input);
      this.#db.prepare("UPDATE tasks SET status = 'processing' WHERE id = ?").run(id);
      this.#finish(id, settle(await started.done));
    } catch (error) {
      this.#finish(id, { status: 'failed', error: { code: isPantheonError(error) ? error.code : 'INTERNAL', message: error instanceof Error ? error.message : String(error) } });
    }
  }

  #finish(id: string, outcome: Pick<TaskRecord, 'status' | 'result' | 'error'>): void {
    this.#db
      .prepare('UPDATE tasks SET status = ?, completed_at = ?, result = ?, error = ? WHERE id = ?')
      .run(outcome.status, Date.now(), outcome.result ? JSON.stringify(outcome.result) : null, outcome.error ? JSON.stringify(outcome.error) : null, id);
    const task = this.get(id);
    if (task) this.onSettled?.(task);
  }

  /** Waits for the tasks this process runs (the host drains turns first), then closes the journal. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#running]);
    this.#db.close();
  }
}
