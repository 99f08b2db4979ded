/**
 * `edit {filePath, oldString, newString, replaceAll?}`: replaces text in a file. `oldString` must
 * occur exactly once unless `replaceAll`; otherwise the error says how many times it occurs. An
 * empty `oldString` creates a file that does not exist yet. CRLF files accept LF strings. The
 * config's formatters run on the changed file (format-written.ts), then its language servers report
 * its errors (lsp-diagnostics.ts). A call that asks first shows the change it would make (its diff)
 * with the question, and fails without asking when it could not be made.
 */
import fs from 'node:fs/promises';
import { writeFileAtomic } from '../fs-atomic.ts';
import { authorize } from '../permissions/authorize.ts';
import { isBinaryFile } from './binary.ts';
import { fileDiff, reportFileDiff } from './file-diff.ts';
import { statIfExists } from './fs-util.ts';
import { formatWritten } from './format-written.ts';
import { withFileLock } from './file-lock.ts';
import { diagnosticsNote } from './lsp-diagnostics.ts';
import { resolveToolPath } from './resolve-path.ts';
import { ToolError } from './tool-error.ts';
import { opencodeDescription, opencodeParameters } from './opencode-tools.ts';
import type { BuiltinTool, ToolContext } from './types.ts';

interface EditInput {
  filePath: string;
  oldString: string;
  newString: string;
  replaceAll?: boolean;
}

export function countOccurrences(text: string, needle: string): number {
  let count = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) count++;
  return count;
}

export const editTool: BuiltinTool<EditInput> = {
  name: 'edit',
  get description() {
    return opencodeDescription('edit');
  },
  get parameters() {
    return opencodeParameters('edit');
  },
  inputSchema: {
    type: 'object',
    properties: {
      filePath: { type: 'string', minLength: 1, description: 'The file to change.' },
      oldString: { type: 'string', description: 'The exact text to replace.' },
      newString: { type: 'string', description: 'The text to put in its place.' },
      replaceAll: { type: 'boolean', description: 'Replace every occurrence (default false).' },
    },
    required: ['filePath', 'oldString', 'newString'],
    additionalProperties: false,
  },
  async run(input: EditInput, ctx: ToolContext): Promise<string> {
    if (input.oldString === input.newString) throw new ToolError('edit', 'oldString and newString are the same; nothing to change.');
    const target = await resolveToolPath(ctx, 'edit', input.filePath);
    // The question shows the change (OpenCode's edit asks with its diff); the file is read again once approved.
    const preview = async () => {
      const change = await planEdit(input, target);
      const diff = await fileDiff(target.rel, change.before, change.after);
      return { filepath: target.rel, ...(diff?.patch === undefined ? {} : { diff: diff.patch }) };
    };
    await authorize(ctx, { key: 'edit', subject: target.rel, preview });
    return withFileLock(target.real, () => editFile(input, ctx, target));
  },
};

/** What an edit would make of the file: its text before (undefined: a file to create), after, and how many occurrences it replaces. */
async function planEdit(input: EditInput, target: { real: string; rel: string }): Promise<{ before: string | undefined; after: string; count: number; mode: number | undefined }> {
  const stat = await statIfExists(target.real);
  if (input.oldString === '') {
    if (stat) throw new ToolError('edit', `${target.rel} already exists; an empty oldString only creates new files. Use write to replace it whole.`);
    return { before: undefined, after: input.newString, count: 1, mode: undefined };
  }
  if (!stat) throw new ToolError('edit', `file not found: ${target.rel}. To create it, use write (or edit with an empty oldString).`);
  if (!stat.isFile()) throw new ToolError('edit', `${target.rel} is not a regular file.`);
  if (await isBinaryFile(target.real)) throw new ToolError('edit', `${target.rel} is a binary file.`);
  const text = await fs.readFile(target.real, 'utf8');
  let oldString = input.oldString;
  let newString = input.newString;
  let count = countOccurrences(text, oldString);
  if (count === 0 && text.includes('\r\n') && !oldString.includes('\r\n')) {
    oldString = oldString.replaceAll('\n', '\r\n');
    newString = newString.replaceAll('\r\n', '\n').replaceAll('\n', '\r\n');
    count = countOccurrences(text, oldString);
  }
  if (count === 0) {
    throw new ToolError('edit', `oldString was not found in ${target.rel}. Read the file again and copy the text exactly, including whitespace and indentation.`);
  }
  if (count > 1 && !input.replaceAll) {
    throw new ToolError(
      'edit',
      `oldString occurs ${count} times in ${target.rel}; it must occur exactly once. Add surrounding lines to make it unique, or set replaceAll: true to change all ${count}.`,
    );
  }
  const updated = input.replaceAll ? text.split(oldString).join(newString) : text.replace(oldString, () => newString);
  return { before: text, after: updated, count, mode: stat.mode & 0o7777 };
}

async function editFile(input: EditInput, ctx: ToolContext, target: { real: string; rel: string }): Promise<string> {
  const { before, after, count, mode } = await planEdit(input, target);
  if (before === undefined) {
    await writeFileAtomic(target.real, after);
    const formatted = await formatWritten(ctx, target.real, target.rel, after);
    await reportFileDiff(ctx, target.rel, undefined, formatted.text);
    return `Created ${target.rel}.${formatted.note}${await diagnosticsNote(ctx, target.real, false)}`;
  }
  await writeFileAtomic(target.real, after, mode);
  const formatted = await formatWritten(ctx, target.real, target.rel, after);
  await reportFileDiff(ctx, target.rel, before, formatted.text);
  return `Edited ${target.rel}: replaced ${count} occurrence${count === 1 ? '' : 's'}.${formatted.note}${await diagnosticsNote(ctx, target.real, false)}`;
}
