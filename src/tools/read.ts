/**
 * `read {filePath, offset?, limit?}`: a text file with line numbers (`00042| text`), `limit` lines
 * (default 2000) from line `offset` (1-based), long lines cut at 2000 characters, at most 50 KB;
 * a note says how to read on. Binary files and folders are refused.
 */
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { authorize } from '../permissions/authorize.ts';
import { isBinaryFile } from './binary.ts';
import { isMissing, statIfExists } from './fs-util.ts';
import { resolveToolPath } from './resolve-path.ts';
import { ToolError } from './tool-error.ts';
import { MAX_LINE_CHARS, MAX_OUTPUT_BYTES, byteLength, cutLine } from './truncate.ts';
import type { BuiltinTool, ToolContext } from './types.ts';

export const DEFAULT_READ_LIMIT = 2000;

interface ReadInput {
  filePath: string;
  offset?: number;
  limit?: number;
}

async function suggestions(file: string): Promise<string[]> {
  const dir = path.dirname(file);
  const base = path.basename(file).toLowerCase();
  let entries: string[];
  try {
    entries = await fs.readdir(dir);
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
  return entries.filter((e) => e.toLowerCase().includes(base) || (e.length >= 3 && base.includes(e.toLowerCase()))).slice(0, 3);
}

async function statFile(file: string, shown: string): Promise<void> {
  const stat = await statIfExists(file);
  if (!stat) {
    const similar = await suggestions(file);
    const hint = similar.length ? ` Did you mean: ${similar.map((s) => path.join(path.dirname(shown), s)).join(', ')}?` : '';
    throw new ToolError('read', `file not found: ${shown}.${hint}`);
  }
  if (stat.isDirectory()) throw new ToolError('read', `${shown} is a folder; use the list tool to see what it holds.`);
  if (!stat.isFile()) throw new ToolError('read', `${shown} is not a regular file.`);
}

export async function readLines(file: string, offset: number, limit: number): Promise<{ lines: string[]; total: number; cutAtBytes: boolean }> {
  const stream = createReadStream(file, { encoding: 'utf8' });
  const reader = createInterface({ input: stream, crlfDelay: Infinity });
  const lines: string[] = [];
  let total = 0;
  let bytes = 0;
  let cutAtBytes = false;
  try {
    for await (const line of reader) {
      total++;
      if (total < offset || lines.length >= limit || cutAtBytes) continue;
      const text = `${String(total).padStart(5, '0')}| ${cutLine(total === 1 ? line.replace(/^\uFEFF/, '') : line, MAX_LINE_CHARS)}`;
      const size = byteLength(text) + 1;
      if (bytes + size > MAX_OUTPUT_BYTES && lines.length > 0) {
        cutAtBytes = true;
        continue;
      }
      bytes += size;
      lines.push(text);
    }
  } finally {
    reader.close();
    stream.destroy();
  }
  return { lines, total, cutAtBytes };
}

export const readTool: BuiltinTool<ReadInput> = {
  name: 'read',
  description:
    'Read a text file. filePath is relative to the project root (or absolute inside it). Lines come numbered as "00042| text". ' +
    `By default up to ${DEFAULT_READ_LIMIT} lines from the start; use offset (1-based line number) and limit (line count) for long files. ` +
    `Lines longer than ${MAX_LINE_CHARS} characters are cut. Binary files are refused.`,
  inputSchema: {
    type: 'object',
    properties: {
      filePath: { type: 'string', minLength: 1, description: 'The file to read.' },
      offset: { type: 'integer', minimum: 0, description: 'Line number to start from (1-based; 0 is taken as 1).' },
      limit: { type: 'integer', minimum: 1, description: `Number of lines to read (default ${DEFAULT_READ_LIMIT}).` },
    },
    required: ['filePath'],
    additionalProperties: false,
  },
  async run(input: ReadInput, ctx: ToolContext): Promise<string> {
    const target = await resolveToolPath(ctx, 'read', input.filePath);
    await authorize(ctx, { key: 'read', subject: target.rel });
    await statFile(target.abs, target.rel);
    if (await isBinaryFile(target.abs)) throw new ToolError('read', `${target.rel} is a binary file; read only reads text.`);
    const offset = Math.max(1, input.offset ?? 1);
    const limit = input.limit ?? DEFAULT_READ_LIMIT;
    const { lines, total, cutAtBytes } = await readLines(target.abs, offset, limit);
    if (total === 0) return `<file>\n(${target.rel} is empty)\n</file>`;
    if (offset > total) throw new ToolError('read', `offset ${offset} is past the end of ${target.rel} (${total} lines).`);
    const last = offset + lines.length - 1;
    let note = '';
    if (last < total) {
      const why = cutAtBytes ? `output cut at ${MAX_OUTPUT_BYTES / 1024} KB` : `limit ${limit}`;
      note = `\n\n(Showing lines ${offset}-${last} of ${total} (${why}). Call read with offset=${last + 1} to continue.)`;
    } else if (offset > 1) {
      note = `\n\n(End of file: ${total} lines.)`;
    }
    return `<file>\n${lines.join('\n')}${note}\n</file>`;
  },
};
