/**
 * `read {filePath, offset?, limit?}`: a text file with line numbers (`00042| text`), `limit` lines
 * (default 2000) from line `offset` (1-based), long lines cut at 2000 characters, at most 50 KB;
 * a note says how to read on. Binary files and folders are refused.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { authorize } from '../permissions/authorize.ts';
import { hasBinaryExtension, looksBinary } from './binary.ts';
import { isMissing, statIfExists } from './fs-util.ts';
import { instructionReminder, loadedByRead, nestedInstructions } from './nested-instructions.ts';
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

/** Line ends as readline finds them (`crlfDelay: Infinity`): `\n`, `\r\n`, or a `\r` alone. */
const LINE_END = /\r?\n|\r(?!\n)/g;
/** Bytes read at a time (a ReadStream's default). */
const CHUNK_BYTES = 64 * 1024;
/** Bytes that decide whether the file is binary (binary.ts). */
const SAMPLE_BYTES = 4096;

/**
 * The file's lines (numbered, cut) from `offset` for `limit` lines, read through one file handle in
 * chunks: lines split as readline splits them, a `\r\n` across two chunks being one line end, and
 * the last line counted only when it has text. Every line is counted (`total`), also past the
 * limit. `binary`: the first 4 KB look binary (nothing else is read).
 */
export async function readLines(file: string, offset: number, limit: number): Promise<{ lines: string[]; total: number; cutAtBytes: boolean; binary: boolean }> {
  const lines: string[] = [];
  let total = 0;
  let bytes = 0;
  let cutAtBytes = false;
  const take = (line: string): void => {
    total++;
    if (total < offset || lines.length >= limit || cutAtBytes) return;
    const text = `${String(total).padStart(5, '0')}| ${cutLine(total === 1 ? line.replace(/^\uFEFF/, '') : line, MAX_LINE_CHARS)}`;
    const size = byteLength(text) + 1;
    if (bytes + size > MAX_OUTPUT_BYTES && lines.length > 0) {
      cutAtBytes = true;
      return;
    }
    bytes += size;
    lines.push(text);
  };
  const handle = await fs.open(file, 'r');
  try {
    const decoder = new StringDecoder('utf8');
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    let rest = '';
    let sawReturn = false;
    for (let first = true; ; first = false) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, null);
      // A regular file's read comes back short only at its end: no further read to find it (one
      // thread-pool round trip less per call, and most files fit in one chunk).
      const last = bytesRead < CHUNK_BYTES;
      if (first && looksBinary(buffer.subarray(0, Math.min(bytesRead, SAMPLE_BYTES)))) return { lines, total, cutAtBytes, binary: true };
      let text = bytesRead > 0 ? decoder.write(buffer.subarray(0, bytesRead)) : '';
      if (last) text += decoder.end();
      // A \r that ended the last chunk already ended its line: a \n right after it is the same line end.
      if (sawReturn && text.startsWith('\n')) text = text.slice(1);
      if (text) {
        sawReturn = text.endsWith('\r');
        text = rest + text;
        let start = 0;
        LINE_END.lastIndex = 0;
        for (let m = LINE_END.exec(text); m; m = LINE_END.exec(text)) {
          take(text.slice(start, m.index));
          start = LINE_END.lastIndex;
        }
        rest = text.slice(start);
      }
      if (last) break;
    }
    if (rest) take(rest);
  } finally {
    await handle.close();
  }
  return { lines, total, cutAtBytes, binary: false };
}

/** What OpenCode's `read` keeps beside its answer: the first 20 lines, whether more were left out, the lines shown. */
export interface ReadFacts {
  preview: string;
  truncated: boolean;
  /** Instruction files the read brought in (a folder's own AGENTS.md: nested-instructions.ts). */
  loaded: string[];
  display: { type: 'file'; path: string; text: string; lineStart: number; lineEnd: number; totalLines: number; truncated: boolean };
}

const NUMBERED_LINE = /^(\d{5,})\| (.*)$/;
const SHOWING_NOTE = /^\(Showing lines \d+-\d+ of (\d+) /;
const END_NOTE = /^\(End of file: (\d+) lines\.\)$/;

/**
 * OpenCode's metadata of a `read` of `file`, read back from this tool's answer (below), so that a
 * saved session shows what the live one did; undefined when the text is not such an answer.
 */
export function readFacts(output: string, file: string, projectRoot: string): ReadFacts | undefined {
  // The file's own part ends at the first line `</file>` (each of its lines is numbered, or a note).
  const end = output.indexOf('\n</file>');
  if (!output.startsWith('<file>\n') || end < 0) return undefined;
  const loaded = loadedByRead(output, file, projectRoot);
  if (end + '\n</file>'.length !== output.length && loaded.length === 0) return undefined;
  const body = output.slice('<file>\n'.length, end).split('\n');
  const text: string[] = [];
  let first: number | undefined;
  let last = 0;
  let total: number | undefined;
  let truncated = false;
  for (const line of body) {
    const numbered = NUMBERED_LINE.exec(line);
    if (numbered && total === undefined) {
      last = Number(numbered[1]);
      first ??= last;
      text.push(numbered[2] as string);
      continue;
    }
    const showing = SHOWING_NOTE.exec(line);
    const end = END_NOTE.exec(line);
    if (showing) {
      total = Number(showing[1]);
      truncated = true;
    } else if (end) total = Number(end[1]);
  }
  const lineStart = first ?? 1;
  const totalLines = total ?? last;
  return {
    preview: text.slice(0, 20).join('\n'),
    truncated,
    loaded,
    display: { type: 'file', path: file, text: text.join('\n'), lineStart, lineEnd: first === undefined ? lineStart - 1 : last, totalLines, truncated },
  };
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
    const offset = Math.max(1, input.offset ?? 1);
    const limit = input.limit ?? DEFAULT_READ_LIMIT;
    const binary = () => new ToolError('read', `${target.rel} is a binary file; read only reads text.`);
    if (hasBinaryExtension(target.abs)) throw binary();
    const { lines, total, cutAtBytes, binary: isBinary } = await readLines(target.abs, offset, limit);
    if (isBinary) throw binary();
    const reminder = async (): Promise<string> => (ctx.loadedInstructions ? instructionReminder(await nestedInstructions(target.abs, ctx.projectRoot, ctx.loadedInstructions, ctx.env ?? process.env)) : '');
    if (total === 0) return `<file>\n(${target.rel} is empty)\n</file>${await reminder()}`;
    if (offset > total) throw new ToolError('read', `offset ${offset} is past the end of ${target.rel} (${total} lines).`);
    const last = offset + lines.length - 1;
    let note = '';
    if (last < total) {
      const why = cutAtBytes ? `output cut at ${MAX_OUTPUT_BYTES / 1024} KB` : `limit ${limit}`;
      note = `\n\n(Showing lines ${offset}-${last} of ${total} (${why}). Call read with offset=${last + 1} to continue.)`;
    } else if (offset > 1) {
      note = `\n\n(End of file: ${total} lines.)`;
    }
    return `<file>\n${lines.join('\n')}${note}\n</file>${await reminder()}`;
  },
};
