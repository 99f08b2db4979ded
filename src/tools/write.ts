/**
 * `write {filePath, content}`: creates or replaces a file, creating its folders; atomic (a temp
 * file renamed over the target), keeping an existing file's mode; then the config's formatters run on
 * it (format-written.ts), and its language servers report errors (lsp-diagnostics.ts). Governed by
 * `permission.edit`.
 */
import type { Stats } from 'node:fs';
import fs from 'node:fs/promises';
import { writeFileAtomic } from '../fs-atomic.ts';
import { authorize } from '../permissions/authorize.ts';
import { isBinaryFile } from './binary.ts';
import { fileDiff, MAX_TEXT_BYTES, reportFileDiff } from './file-diff.ts';
import { statIfExists } from './fs-util.ts';
import { formatWritten } from './format-written.ts';
import { withFileLock } from './file-lock.ts';
import { diagnosticsNote } from './lsp-diagnostics.ts';
import { resolveToolPath } from './resolve-path.ts';
import { ToolError } from './tool-error.ts';
import { byteLength } from './truncate.ts';
import { opencodeDescription, opencodeParameters } from './opencode-tools.ts';
import type { BuiltinTool, ToolContext } from './types.ts';

interface WriteInput {
  filePath: string;
  content: string;
}

/** A file's text, or undefined when it is not a regular text file small enough to diff. */
async function textOf(file: string, stat: Stats): Promise<string | undefined> {
  if (!stat.isFile() || stat.size > MAX_TEXT_BYTES || (await isBinaryFile(file))) return undefined;
  return fs.readFile(file, 'utf8').catch(() => undefined);
}

export const writeTool: BuiltinTool<WriteInput> = {
  name: 'write',
  get description() {
    return opencodeDescription('write');
  },
  get parameters() {
    return opencodeParameters('write');
  },
  inputSchema: {
    type: 'object',
    properties: {
      filePath: { type: 'string', minLength: 1, description: 'The file to write.' },
      content: { type: 'string', description: 'The full new content of the file.' },
    },
    required: ['filePath', 'content'],
    additionalProperties: false,
  },
  async run(input: WriteInput, ctx: ToolContext): Promise<string> {
    const target = await resolveToolPath(ctx, 'write', input.filePath);
    // The question shows the change (OpenCode's write asks with its diff): what the file holds now, when it is text.
    const preview = async () => {
      const existing = await statIfExists(target.real);
      const before = existing ? await textOf(target.real, existing) : undefined;
      const diff = existing && before === undefined ? undefined : await fileDiff(target.rel, before, input.content);
      return { filepath: target.rel, ...(diff?.patch === undefined ? {} : { diff: diff.patch }) };
    };
    await authorize(ctx, { key: 'edit', tool: 'write', subject: target.rel, preview });
    return withFileLock(target.real, () => writeFile(input, ctx, target));
  },
};

async function writeFile(input: WriteInput, ctx: ToolContext, target: { real: string; rel: string }): Promise<string> {
  const existing = await statIfExists(target.real);
  if (existing?.isDirectory()) throw new ToolError('write', `${target.rel} is a folder.`);
  // What it held, for the diff: read only when someone listens.
  const listened = ctx.onFileDiff !== undefined;
  const before = listened && existing ? await textOf(target.real, existing) : undefined;
  await writeFileAtomic(target.real, input.content, existing ? existing.mode & 0o7777 : 0o644);
  const formatted = await formatWritten(ctx, target.real, target.rel, input.content);
  if (listened && (existing === undefined || before !== undefined)) await reportFileDiff(ctx, target.rel, before, formatted.text);
  return `${existing ? 'Overwrote' : 'Created'} ${target.rel} (${byteLength(input.content)} bytes).${formatted.note}${await diagnosticsNote(ctx, target.real, true)}`;
}
