/**
 * The bus a workflow task runs on: every event it (or a task it delegates to) emits is tagged
 * with the step id, counted into the task's state, then passed to the shared bus.
 */
import { EventBus, type EventInput } from '../events.ts';
import { WaitClock } from '../run/wait-clock.ts';
import { countEvent, type TaskState } from './task-state.ts';

export class TaskBus extends EventBus {
  readonly #shared: EventBus;
  readonly #task: TaskState;
  readonly #waits = new WaitClock();
  readonly #waitedBefore: number;

  constructor(shared: EventBus, task: TaskState) {
    super(shared.sessionID);
    this.#shared = shared;
    this.#task = task;
    this.#waitedBefore = task.waitedMs;
  }

  override emit(event: EventInput): void {
    countEvent(this.#task, event);
    this.#waits.handle(event.type, event.taskID ?? '', Date.now());
    this.#task.waitedMs = this.#waitedBefore + this.#waits.totalMs;
    this.#shared.emit({ ...event, stepID: this.#task.stepID } as EventInput);
  }
}
