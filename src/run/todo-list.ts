/**
 * A session's task list (OpenCode's todos), as `todowrite` leaves it: saved with the session, read
 * again by its next turn. Kept apart from the tools (todo-tools.ts), which a turn loads only when
 * its agent is offered them.
 */
export const TODO_STATUSES = ['pending', 'in_progress', 'completed', 'cancelled'] as const;
export const TODO_PRIORITIES = ['high', 'medium', 'low'] as const;

export interface Todo {
  id: string;
  content: string;
  status: (typeof TODO_STATUSES)[number];
  priority: (typeof TODO_PRIORITIES)[number];
}

/** The most items a list holds, and the longest an item's text or id may be. */
export const MAX_TODOS = 200;
export const MAX_TODO_CHARS = 4000;

/** A session's list, as a turn's tools change it. */
export class TodoList {
  #todos: Todo[];

  constructor(todos: readonly Todo[] = []) {
    this.#todos = [...todos];
  }

  get todos(): readonly Todo[] {
    return this.#todos;
  }

  set(todos: readonly Todo[]): void {
    this.#todos = [...todos];
  }
}
