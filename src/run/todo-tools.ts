/**
 * OpenCode's `todowrite` and `todoread` tools: the agent's task list for the session, which it
 * writes whole (the list as it now stands) and reads back; prompts written for OpenCode
 * (oh-my-opencode's Sisyphus among them) plan and track their work with it. The list belongs to the
 * session: saved with it, read again by its next turn, shown by OpenCode's TUI (`todo.updated`
 * events from the `tool_use` events, `GET /session/{id}/todo`). Offered to the agent a turn runs,
 * not to the agents it delegates to (as in OpenCode).
 */
import type { Tool } from 'ai';
import type { JSONSchema7 } from 'ai';
import { authorize, type PermissionContext } from '../permissions/authorize.ts';
import { opencodeDescription, opencodeParameters } from '../tools/opencode-tools.ts';
import { MAX_TODO_CHARS, MAX_TODOS, TODO_PRIORITIES, TODO_STATUSES, type Todo, type TodoList } from './todo-list.ts';

/** OpenCode's description and parameters of `todowrite` (data/opencode-tools/), as the model sees them; the items are checked by checkTodos. */
export function todowriteDescription(): string {
  return opencodeDescription('todowrite');
}
export function todowriteParameters(): JSONSchema7 {
  return opencodeParameters('todowrite');
}
export const TODOREAD_INPUT_SCHEMA = { type: 'object', properties: {}, additionalProperties: false } as const;
export const TODOREAD_DESCRIPTION = "Read this session's task list (as todowrite last wrote it) to see what is done and what is next.";

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new Error(`${field}: expected a non-empty text`);
  if (value.length > MAX_TODO_CHARS) throw new Error(`${field}: at most ${MAX_TODO_CHARS} characters`);
  return value;
}

/**
 * The list a `todowrite` call gives, checked (the message says which item and field is wrong);
 * an item without a priority is `medium`, one without an id gets its position as id.
 */
export function checkTodos(input: unknown): Todo[] {
  const todos = (input as { todos?: unknown } | null)?.todos;
  if (!Array.isArray(todos)) throw new Error('todos: expected the list of items ({content, status, priority, id})');
  if (todos.length > MAX_TODOS) throw new Error(`todos: at most ${MAX_TODOS} items`);
  const ids = new Set<string>();
  return todos.map((raw, i) => {
    const item = (raw ?? {}) as Record<string, unknown>;
    const at = `todos[${i}]`;
    const content = text(item.content, `${at}.content`);
    const status = item.status as Todo['status'];
    if (!TODO_STATUSES.includes(status)) throw new Error(`${at}.status: expected one of ${TODO_STATUSES.join(', ')}`);
    const priority = (item.priority ?? 'medium') as Todo['priority'];
    if (!TODO_PRIORITIES.includes(priority)) throw new Error(`${at}.priority: expected one of ${TODO_PRIORITIES.join(', ')}`);
    const id = item.id === undefined ? String(i + 1) : text(item.id, `${at}.id`);
    if (ids.has(id)) throw new Error(`${at}.id: "${id.slice(0, 80)}" is given twice`);
    ids.add(id);
    return { id, content, status, priority };
  });
}

/** What both tools answer: the list as JSON, as OpenCode's do. */
function listText(todos: readonly Todo[]): string {
  return JSON.stringify(todos, null, 2);
}

/** `todowrite` and `todoread` over the session's list, behind the agent's permission for each. */
export async function createTodoTools(list: TodoList, permission: PermissionContext, offer: { write: boolean; read: boolean }): Promise<Record<string, Tool>> {
  const { tool, jsonSchema } = await import('../ai-sdk.ts');
  const tools: Record<string, Tool> = {};
  if (offer.write) {
    tools.todowrite = tool({
      description: todowriteDescription(),
      inputSchema: jsonSchema<{ todos: Todo[] }>(todowriteParameters()),
      execute: async (input) => {
        const todos = checkTodos(input);
        await authorize(permission, { key: 'todowrite', subject: 'todowrite', question: 'Allow updating the task list?' });
        list.set(todos);
        return listText(todos);
      },
    });
  }
  if (offer.read) {
    tools.todoread = tool({
      description: TODOREAD_DESCRIPTION,
      inputSchema: jsonSchema<Record<string, never>>(TODOREAD_INPUT_SCHEMA as never),
      execute: async () => {
        await authorize(permission, { key: 'todoread', subject: 'todoread', question: 'Allow reading the task list?' });
        return listText(list.todos);
      },
    });
  }
  return tools;
}
