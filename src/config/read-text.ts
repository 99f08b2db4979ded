/**
 * Reads a text file the config pipeline names (a config file, an `extends` target, a `{file:}`
 * reference) in bounded time and memory: regular files only (a FIFO, a device such as /dev/zero
 * or /dev/urandom, a socket or a directory is refused before it is opened), at most `maxBytes`,
 * opened non-blocking so that nothing can make a read wait for a writer. A byte-order mark
 * (UTF-8, UTF-16LE, UTF-16BE) selects the encoding and is not part of the text.
 */
import fs from 'node:fs';
import { close, fstat, open, read, stat as statFile } from './fs-calls.ts';
import { thousands } from '../icu-free.ts';

/** Config files: far above any real config (200,000 agents are about 6 MiB). */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;
/** `{file:…}` references: prompts, keys and instructions. */
export const MAX_FILE_REF_BYTES = 1024 * 1024;

export type ReadProblem = 'missing' | 'directory' | 'special' | 'too-large' | 'unreadable';

/** Why a file could not be read: `reason` completes "<file> …" (e.g. `is a FIFO, not a regular file`). */
export class TextFileError extends Error {
  readonly problem: ReadProblem;
  readonly reason: string;
  constructor(problem: ReadProblem, reason: string, cause?: unknown) {
    super(reason, cause === undefined ? undefined : { cause });
    this.name = 'TextFileError';
    this.problem = problem;
    this.reason = reason;
  }
}

/** `1 MiB`, `16 MiB`, `512 KiB`. */
export function sizeText(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

function typeProblem(stat: fs.Stats): TextFileError | undefined {
  if (stat.isFile()) return undefined;
  const what = stat.isDirectory()
    ? 'a folder'
    : stat.isFIFO()
      ? 'a FIFO (named pipe)'
      : stat.isCharacterDevice()
        ? 'a character device'
        : stat.isBlockDevice()
          ? 'a block device'
          : stat.isSocket()
            ? 'a socket'
            : 'something other than a file';
  return new TextFileError(stat.isDirectory() ? 'directory' : 'special', `is ${what}, not a regular file`);
}

function tooLarge(size: number, maxBytes: number): TextFileError {
  return new TextFileError('too-large', `is larger than the ${sizeText(maxBytes)} limit (${thousands(size)} bytes)`);
}

function fromErrno(error: unknown): TextFileError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new TextFileError('missing', 'does not exist', error);
  if (code === 'ELOOP') return new TextFileError('unreadable', 'is a symbolic link that loops', error);
  return new TextFileError('unreadable', `cannot be read (${code ?? (error as Error).message})`, error);
}

/**
 * Checks, without opening it, that `file` is a regular file of at most `maxBytes` (symbolic
 * links followed); throws a TextFileError otherwise.
 */
export async function checkTextFile(file: string, maxBytes: number): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = await statFile(file);
  } catch (error) {
    throw fromErrno(error);
  }
  const problem = typeProblem(stat);
  if (problem) throw problem;
  if (stat.size > maxBytes) throw tooLarge(stat.size, maxBytes);
}

/** Decodes a file's bytes: UTF-16 (either order) or UTF-8 by byte-order mark, UTF-8 without one; the mark is dropped. */
export function decodeText(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return Buffer.from(bytes.buffer, bytes.byteOffset + 3, bytes.byteLength - 3).toString('utf8');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/** A text without its leading byte-order mark (as decoded by another reader, e.g. cosmiconfig's). */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Reads a regular file of at most `maxBytes` as text (see the module comment); throws a TextFileError. */
export async function readTextFile(file: string, maxBytes: number): Promise<string> {
  return decodeText(await readBoundedFile(file, maxBytes));
}

/** The bytes of a regular file of at most `maxBytes`, read as `readTextFile` reads (see the module comment); throws a TextFileError. */
export async function readBoundedFile(file: string, maxBytes: number): Promise<Buffer> {
  await checkTextFile(file, maxBytes);
  let fd: number;
  try {
    // Non-blocking: had the file been swapped for a FIFO since the check, open would not wait.
    fd = await open(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw fromErrno(error);
  }
  try {
    const problem = typeProblem(await fstat(fd));
    if (problem) throw problem;
    // Read at most one byte past the limit: a file that grew since the check is still refused.
    const buffer = Buffer.alloc(Math.min(maxBytes + 1, 64 * 1024));
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const bytesRead = await read(fd, buffer);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw tooLarge(total, maxBytes);
      chunks.push(Buffer.from(buffer.subarray(0, bytesRead)));
    }
    return Buffer.concat(chunks, total);
  } catch (error) {
    throw error instanceof TextFileError ? error : fromErrno(error);
  } finally {
    await close(fd);
  }
}
