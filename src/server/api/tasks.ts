/** The server's async task journal (opened, and recovered, once per server) and a task as /api/v1 shows it. */
import { AsyncTasks, type TaskRecord } from '../../core/async-tasks.ts';
import type { ServerState } from '../state.ts';
import { webhooksOf } from './webhooks.ts';

const journals = new WeakMap<ServerState, Promise<AsyncTasks>>();

/** The journal of `state`'s host: opened on first use, tasks orphaned by a dead server recovered, callbacks wired. */
export function tasksOf(state: ServerState): Promise<AsyncTasks> {
  let found = journals.get(state);
  if (!found) {
    found = (async () => {
      const tasks = new AsyncTasks(state.host);
      const hooks = await webhooksOf(state);
      tasks.onSettled = (task) => hooks.taskSettled(task, taskView(task));
      tasks.recover();
      return tasks;
    })();
    journals.set(state, found);
  }
  return found;
}

/** Closes the journal if it was opened (after the host has drained its turns). */
export async function closeTasks(state: ServerState): Promise<void> {
  const found = journals.get(state);
  if (found) await (await found).close();
}

export function taskView(task: TaskRecord) {
  return {
    task_id: task.id,
    session_id: task.sessionID,
    status: task.status,
    created_at: new Date(task.createdAt).toISOString(),
    ...(task.completedAt === undefined ? {} : { completed_at: new Date(task.completedAt).toISOString() }),
    ...(task.result ? { result: task.result } : {}),
    ...(task.error ? { error: task.error } : {}),
  };
}
