/**
 * Tool calls as ACP shows them, following OpenCode's `acp`: a kind for the editor's icon (`bash`
 * executes, `edit`/`write` edit, `grep`/`glob` search, `read` reads, `webfetch` fetches, `task`
 * thinks), a title (the command, the file, the pattern), the files it touches as locations
 * (absolute), its output as text content and, for an edit, a diff the editor can draw.
 */
import path from 'node:path';
import type { ToolCallContent, ToolCallLocation, ToolKind } from '@agentclientprotocol/sdk';
import { toolTitle } from '../server/opencode/message-view.ts';

type Args = Record<string, unknown>;

function argsOf(input: unknown): Args {
  return input !== null && typeof input === 'object' && !Array.isArray(input) ? (input as Args) : {};
}

function text(args: Args, key: string): string | undefined {
  const value = args[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function toolKind(tool: string): ToolKind {
  switch (tool.toLowerCase()) {
    case 'bash':
    case 'shell':
      return 'execute';
    case 'webfetch':
      return 'fetch';
    case 'edit':
    case 'write':
    case 'patch':
    case 'apply_patch':
    case 'multiedit':
      return 'edit';
    case 'grep':
    case 'glob':
      return 'search';
    case 'read':
      return 'read';
    case 'task':
      return 'think';
    default:
      return 'other';
  }
}

export function toolCallTitle(tool: string, input: unknown, projectRoot: string): string {
  return toolTitle(tool, input, projectRoot) || tool;
}

function absolute(file: string, projectRoot: string): string {
  return path.isAbsolute(file) ? file : path.resolve(projectRoot, file);
}

/** The files a call touches (a command's working folder: the project). */
export function toolLocations(tool: string, input: unknown, projectRoot: string): ToolCallLocation[] {
  const args = argsOf(input);
  switch (tool.toLowerCase()) {
    case 'bash':
      return [{ path: absolute(text(args, 'workdir') ?? text(args, 'cwd') ?? '.', projectRoot) }];
    case 'read':
    case 'edit':
    case 'write': {
      const file = text(args, 'filePath') ?? text(args, 'filepath');
      if (!file) return [];
      const line = typeof args.offset === 'number' && tool === 'read' ? { line: args.offset } : {};
      return [{ path: absolute(file, projectRoot), ...line }];
    }
    case 'grep':
    case 'glob':
    case 'list': {
      const dir = text(args, 'path');
      return dir ? [{ path: absolute(dir, projectRoot) }] : [];
    }
    default:
      return [];
  }
}

/** What an edit or write changes, as ACP's diff: the edit's old and new strings, a write's whole new text. */
export function toolDiff(tool: string, input: unknown, projectRoot: string, patch?: string): ToolCallContent[] {
  const args = argsOf(input);
  const file = text(args, 'filePath') ?? text(args, 'filepath');
  if (!file) return [];
  const where = absolute(file, projectRoot);
  if (tool === 'edit' && typeof args.oldString === 'string' && typeof args.newString === 'string') return [{ type: 'diff', path: where, oldText: args.oldString, newText: args.newString }];
  if (tool === 'write' && typeof args.content === 'string') {
    // A new file has no old text; an overwritten one's is not known here (the patch shows the change).
    const created = patch === undefined || patch.includes('--- /dev/null');
    return [{ type: 'diff', path: where, ...(created ? { oldText: null } : {}), newText: args.content }];
  }
  return [];
}

/** A tool's output (a string, or anything JSON) as text. */
export function outputText(output: unknown): string {
  if (output === undefined || output === null) return '';
  if (typeof output === 'string') return output;
  try {
    return JSON.stringify(output, null, 2);
  } catch {
    return String(output);
  }
}

/** `todowrite`'s list as ACP's plan entries. */
export function planEntries(input: unknown): { content: string; priority: 'high' | 'medium' | 'low'; status: 'pending' | 'in_progress' | 'completed' }[] | undefined {
  const todos = argsOf(input).todos;
  if (!Array.isArray(todos)) return undefined;
  return todos.flatMap((t) => {
    const todo = argsOf(t);
    const content = text(todo, 'content');
    if (!content) return [];
    const priority = todo.priority === 'high' || todo.priority === 'low' ? todo.priority : 'medium';
    const status = todo.status === 'in_progress' || todo.status === 'completed' ? todo.status : 'pending';
    return [{ content, priority, status }];
  });
}
