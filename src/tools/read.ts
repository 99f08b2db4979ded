/**
 * `read {filePath, offset?, limit?}`, as OpenCode 1.18's: a text file in `<path>…</path>
 * <type>file</type> <content>` with each line numbered (`42: text`), `limit` lines (default 2000)
 * from line `offset` (1-based), long lines cut at 2000 characters, at most 50 KB; a note says how
 * to read on. A folder's entries, one a line (folders ending in `/`). Binary files are refused.
 * OpenCode's description, parameters and wording (data/opencode-tools/).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { authorize } from '../permissions/authorize.ts';
import { hasBinaryExtension, looksBinary } from './binary.ts';
import { isMissing, statIfExists } from './fs-util.ts';
import { instructionReminder, loadedByRead, nestedInstructions } from './nested-instructions.ts';
import { opencodeDescription, opencodeParameters } from './opencode-tools.ts';
import { resolveToolPath } from './resolve-path.ts';
import { ToolError } from './tool-error.ts';
import { MAX_LINE_CHARS, MAX_OUTPUT_BYTES, byteLength } from './truncate.ts';
import type { BuiltinTool, ToolContext } from './types.ts';

export const DEFAULT_READ_LIMIT = 2000;

interface ReadInput {
  filePath: string;
  offset?: number;
  limit?: number;
}

/** Up to 3 names in the missing file's folder that hold its name or that it holds (OpenCode's "did you mean"). */
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
  return entries
    .filter((e) => e.toLowerCase().includes(base) || base.includes(e.toLowerCase()))
    .map((e) => path.join(dir, e))
    .slice(0, 3);
}

async function notFound(file: string): Promise<ToolError> {
  const similar = await suggestions(file);
  return new ToolError('read', similar.length ? `File not found: ${file}\n\nDid you mean one of these?\n${similar.join('\n')}` : `File not found: ${file}`);
}

/** Names in code-unit order, case folded first (close to OpenCode's locale order without Intl). */
function byName(a: string, b: string): number {
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  if (la !== lb) return la < lb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A folder's entries as OpenCode's `read` lists them: sorted, folders (and links to folders) ending in `/`; `limit` from `offset`. */
async function readFolder(abs: string, offset: number, limit: number): Promise<string> {
  const dirents = await fs.readdir(abs, { withFileTypes: true });
  const names = await Promise.all(
    dirents.map(async (d) => {
      if (d.isDirectory()) return `${d.name}/`;
      if (!d.isSymbolicLink()) return d.name;
      const target = await statIfExists(path.join(abs, d.name));
      return target?.isDirectory() ? `${d.name}/` : d.name;
    }),
  );
  names.sort(byName);
  const shown = names.slice(offset - 1, offset - 1 + limit);
  const more = offset - 1 + shown.length < names.length;
  const note = more ? `\n(Showing ${shown.length} of ${names.length} entries. Use 'offset' parameter to read beyond entry ${offset + shown.length})` : `\n(${names.length} entries)`;
  return [`<path>${abs}</path>`, '<type>directory</type>', '<entries>', shown.join('\n'), note, '</entries>'].join('\n');
}

/** A line longer than 2000 characters, cut as OpenCode cuts it. */
export function cutReadLine(line: string): string {
  return line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}... (line truncated to ${MAX_LINE_CHARS} chars)` : line;
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
 * limit. `binary`: the first 4 KB look binary (nothing else is read). The lines come unnumbered,
 * cut as OpenCode cuts them (`cutReadLine`).
 */
export async function readLines(file: string, offset: number, limit: number): Promise<{ lines: string[]; total: number; cutAtBytes: boolean; binary: boolean }> {
  const lines: string[] = [];
  let total = 0;
  let bytes = 0;
  let cutAtBytes = false;
  const take = (line: string): void => {
    total++;
    if (total < offset || lines.length >= limit || cutAtBytes) return;
    const text = cutReadLine(total === 1 ? line.replace(/^\uFEFF/, '') : line);
    // As OpenCode counts: the lines' own bytes and the line ends between them.
    const size = byteLength(text) + (lines.length > 0 ? 1 : 0);
    if (bytes + size > MAX_OUTPUT_BYTES) {
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

const NUMBERED_LINE = /^(\d+): (.*)$/;
const SHOWING_NOTE = /^\(Showing lines \d+-\d+ of (\d+)\. /;
const CAPPED_NOTE = /^\(Output capped at /;
const END_NOTE = /^\(End of file - total (\d+) lines\)$/;
const CONTENT_START = '\n<type>file</type>\n<content>\n';
const CONTENT_END = '\n</content>';

/**
 * OpenCode's metadata of a `read` of `file`, read back from this tool's answer (below), so that a
 * saved session shows what the live one did; undefined when the text is not such an answer.
 */
export function readFacts(output: string, file: string, projectRoot: string): ReadFacts | undefined {
  // The file's own part ends at the first line `</content>` (each of its lines is numbered, or a note).
  const start = output.indexOf(CONTENT_START);
  const end = output.indexOf(CONTENT_END);
  if (!output.startsWith('<path>') || start < 0 || end < start) return undefined;
  const loaded = loadedByRead(output, file, projectRoot);
  if (end + CONTENT_END.length !== output.length && loaded.length === 0) return undefined;
  const body = output.slice(start + CONTENT_START.length, end).split('\n');
  const text: string[] = [];
  let first: number | undefined;
  let last = 0;
  let total: number | undefined;
  let truncated = false;
  for (const line of body) {
    const numbered = NUMBERED_LINE.exec(line);
    if (numbered && total === undefined && !truncated) {
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
    } else if (CAPPED_NOTE.test(line)) truncated = true;
    else if (end) total = Number(end[1]);
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
  get description() {
    return opencodeDescription('read');
  },
  get parameters() {
    return opencodeParameters('read');
  },
  inputSchema: {
    type: 'object',
    properties: {
      filePath: { type: 'string', minLength: 1, description: 'The absolute path to the file or directory to read' },
      offset: { type: 'integer', minimum: 0, description: 'The line number to start reading from (1-indexed)' },
      limit: { type: 'integer', minimum: 0, description: `The maximum number of lines to read (defaults to ${DEFAULT_READ_LIMIT})` },
    },
    required: ['filePath'],
    additionalProperties: false,
  },
  async run(input: ReadInput, ctx: ToolContext): Promise<string> {
    const target = await resolveToolPath(ctx, 'read', input.filePath);
    await authorize(ctx, { key: 'read', subject: target.rel });
    const stat = await statIfExists(target.abs);
    if (!stat) throw await notFound(target.abs);
    // `offset` 0 is 1, as OpenCode takes it.
    const offset = input.offset || 1;
    const limit = input.limit ?? DEFAULT_READ_LIMIT;
    if (stat.isDirectory()) return readFolder(target.abs, offset, limit);
    if (!stat.isFile()) throw new ToolError('read', `Cannot read ${target.abs}: not a regular file`);
    const binary = () => new ToolError('read', `Cannot read binary file: ${target.abs}`);
    if (hasBinaryExtension(target.abs)) throw binary();
    const { lines, total, cutAtBytes, binary: isBinary } = await readLines(target.abs, offset, limit);
    if (isBinary) throw binary();
    if (total < offset && !(total === 0 && offset === 1)) throw new ToolError('read', `Offset ${offset} is out of range for this file (${total} lines)`);
    const reminder = async (): Promise<string> => (ctx.loadedInstructions ? instructionReminder(await nestedInstructions(target.abs, ctx.projectRoot, ctx.loadedInstructions, ctx.env ?? process.env)) : '');
    const last = offset + lines.length - 1;
    let note: string;
    if (cutAtBytes) note = `(Output capped at ${MAX_OUTPUT_BYTES / 1024} KB. Showing lines ${offset}-${last}. Use offset=${last + 1} to continue.)`;
    else if (last < total) note = `(Showing lines ${offset}-${last} of ${total}. Use offset=${last + 1} to continue.)`;
    else note = `(End of file - total ${total} lines)`;
    const numbered = lines.map((line, i) => `${offset + i}: ${line}`).join('\n');
    return `<path>${target.abs}</path>\n<type>file</type>\n<content>\n${numbered}\n\n${note}\n</content>${await reminder()}`;
  },
};
