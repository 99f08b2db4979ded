/**
 * The project's files as OpenCode's `GET /file` and `GET /file/content` give them. A `path` is
 * resolved against the request's folder and must stay inside it, as written (`..`, an absolute path
 * elsewhere) and where it really leads (a symlink out of the folder): otherwise a 403 naming the
 * parameter. A listing holds at most MAX_LIST_ENTRIES entries, a file read at most
 * MAX_CONTENT_BYTES bytes; a file served as it is (v2's `GET /api/fs/read/*`) is streamed, of any size.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { isMissing } from '../../tools/fs-util.ts';
import { isInside, realpathNearest } from '../../tools/resolve-path.ts';
import { HttpError } from '../http-error.ts';
import { gitCheckout } from './vcs.ts';
import { thousands } from '../../icu-free.ts';

/** Entries one `GET /file` answers at most (a folder with more is answered with its first ones, by name). */
export const MAX_LIST_ENTRIES = 5_000;
/** The largest file `GET /file/content` reads (a larger one is a 400 naming it). */
export const MAX_CONTENT_BYTES = 5 * 1024 * 1024;
/** The longest file name, and the longest path, the file systems take (Linux's NAME_MAX and PATH_MAX). */
const MAX_NAME_BYTES = 255;
const MAX_PATH_BYTES = 4_096;
/** How long git may take to say which entries are ignored. */
const GIT_TIMEOUT_MS = 10_000;

export interface ProjectPath {
  /** As written, resolved against the folder (symlinks not followed). */
  abs: string;
  /** Where it really leads. */
  real: string;
}

/** Where a route takes its path: `query parameter "path"`, or v2's file route's path. */
export type PathPlace = 'query parameter' | 'path parameter';

function refused(param: string, message: string, hint: string, place: PathPlace): HttpError {
  return new HttpError(403, 'PATH_OUTSIDE_PROJECT', `${place} "${param}": ${message}.`, { hint, details: { field: param } });
}

/** How a client's path is shown back: JSON-quoted, at most 200 characters. */
export function shown(given: string): string {
  return JSON.stringify(given.length > 200 ? `${given.slice(0, 200)}…` : given);
}

/** `given` resolved inside `directory`, or the 400/403 naming `param`. */
export async function projectPath(directory: string, given: string, param: string, place: PathPlace = 'query parameter'): Promise<ProjectPath> {
  if (given.includes('\0')) throw new HttpError(400, 'BAD_REQUEST', `${place} "${param}": a path cannot hold a NUL character.`, { details: { field: param } });
  const abs = path.resolve(directory, given);
  const hint = `Give a path inside the project folder ${directory} (relative to it, or absolute).`;
  if (!isInside(directory, abs)) throw refused(param, `${shown(given)} leads outside the project folder`, hint, place);
  // Longer than the file system takes (its calls would fail with ENAMETOOLONG): no such file could be there.
  const longest = Math.max(...abs.split(path.sep).map((part) => Buffer.byteLength(part)));
  if (longest > MAX_NAME_BYTES || Buffer.byteLength(abs) > MAX_PATH_BYTES) {
    throw new HttpError(400, 'BAD_REQUEST', `${place} "${param}": ${shown(given)} is too long for a path (at most ${thousands(MAX_NAME_BYTES)} bytes a name, ${thousands(MAX_PATH_BYTES)} in all).`, { hint, details: { field: param } });
  }
  const real = await realpathNearest(abs);
  if (!isInside(await realpathNearest(directory), real)) throw refused(param, `${shown(given)} leads outside the project folder through a symlink`, hint, place);
  return { abs, real };
}

export interface FileNode {
  name: string;
  path: string;
  absolute: string;
  type: 'file' | 'directory';
  ignored: boolean;
}

/** Which of `paths` (absolute, folders ending with `/`) the git checkout ignores (`git check-ignore --no-index`, every .gitignore); none outside one. */
async function ignoredOf(projectRoot: string, paths: string[]): Promise<Set<string>> {
  if (paths.length === 0 || !(await gitCheckout(projectRoot)).git) return new Set();
  return new Promise((resolve) => {
    const child = execFile('git', ['-c', 'core.fsmonitor=false', 'check-ignore', '--no-index', '-z', '--stdin'], { cwd: projectRoot, timeout: GIT_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (error, stdout) => {
      // Exit 1: none ignored; any other failure marks none (the listing stands without the flags).
      const code = (error as { code?: unknown } | null)?.code;
      resolve(error && code !== 1 ? new Set() : new Set(stdout.split('\0').filter(Boolean)));
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(paths.map((p) => `${p}\0`).join(''));
  });
}

/** The folder's files and folders (not symlinks, as OpenCode lists them), folders first, then by name; at most MAX_LIST_ENTRIES. */
export async function listFolder(instance: { directory: string; projectRoot: string }, given: string, options: { log: (line: string) => void; git: boolean }): Promise<{ nodes: FileNode[]; truncated: boolean }> {
  const target = await projectPath(instance.directory, given, 'path');
  const stat = await fs.stat(target.real).catch((error: unknown) => {
    if (isMissing(error)) return undefined;
    throw error;
  });
  if (!stat) throw new HttpError(404, 'NOT_FOUND', `query parameter "path": no folder ${shown(given)} in the project.`, { hint: 'GET /file?path= lists the project folder itself.', details: { field: 'path' } });
  if (!stat.isDirectory()) throw new HttpError(400, 'BAD_REQUEST', `query parameter "path": ${shown(given)} is a file, not a folder.`, { hint: 'GET /file/content?path=… reads a file.', details: { field: 'path' } });
  const entries: { name: string; dir: boolean }[] = [];
  let truncated = false;
  const dir = await fs.opendir(target.real, { bufferSize: 256 });
  try {
    for await (const entry of dir) {
      if (!entry.isFile() && !entry.isDirectory()) continue;
      if (entries.length >= MAX_LIST_ENTRIES) {
        truncated = true;
        break;
      }
      entries.push({ name: entry.name, dir: entry.isDirectory() });
    }
  } finally {
    await dir.close().catch(() => undefined);
  }
  if (truncated) options.log(`file list: ${target.abs} holds more than ${thousands(MAX_LIST_ENTRIES)} entries; the first ${thousands(MAX_LIST_ENTRIES)} read are answered`);
  entries.sort((a, b) => (a.dir === b.dir ? a.name.localeCompare(b.name) : a.dir ? -1 : 1));
  const rel = (abs: string): string => path.relative(instance.directory, abs).split(path.sep).join('/');
  const nodes = entries.map(({ name, dir: isDir }) => {
    const absolute = path.join(target.abs, name);
    return { name, path: isDir ? `${rel(absolute)}/` : rel(absolute), absolute, type: isDir ? ('directory' as const) : ('file' as const), ignored: false };
  });
  const ignored = !options.git ? new Set<string>() : await ignoredOf(instance.projectRoot, nodes.map((n) => (n.type === 'directory' ? `${n.absolute}/` : n.absolute)));
  for (const node of nodes) node.ignored = ignored.has(node.type === 'directory' ? `${node.absolute}/` : node.absolute);
  return { nodes, truncated };
}

export type FileContent = { type: 'text'; content: string } | { type: 'binary'; content: string; encoding: 'base64'; mimeType: string };

const MIME_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  bmp: 'image/bmp',
  ico: 'image/x-icon',
  avif: 'image/avif',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  pdf: 'application/pdf',
  zip: 'application/zip',
  gz: 'application/gzip',
  tar: 'application/x-tar',
  wasm: 'application/wasm',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  mp4: 'video/mp4',
  webm: 'video/webm',
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  otf: 'font/otf',
};

function mimeOf(file: string): string {
  return MIME_TYPES[path.extname(file).slice(1).toLowerCase()] ?? 'application/octet-stream';
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A file's content as OpenCode answers it: text (UTF-8 without NUL, trimmed as OpenCode trims it),
 * else base64 with its MIME type; a file that is not there is empty text.
 */
export async function readContent(directory: string, given: string): Promise<FileContent> {
  const target = await projectPath(directory, given, 'path');
  // Looked at before it is opened: opening a FIFO would wait for a writer.
  const stat = await fs.stat(target.real).catch((error: unknown) => {
    if (isMissing(error)) return undefined;
    throw error;
  });
  if (!stat) return { type: 'text', content: '' };
  if (stat.isDirectory()) throw new HttpError(400, 'BAD_REQUEST', `query parameter "path": ${shown(given)} is a folder, not a file.`, { hint: 'GET /file?path=… lists a folder.', details: { field: 'path' } });
  if (!stat.isFile()) throw new HttpError(400, 'BAD_REQUEST', `query parameter "path": ${shown(given)} is not a regular file.`, { details: { field: 'path' } });
  const tooLarge = (size: string) =>
    new HttpError(400, 'FILE_TOO_LARGE', `query parameter "path": ${shown(given)} is ${size} bytes, over the ${thousands(MAX_CONTENT_BYTES)} bytes GET /file/content reads.`, { hint: 'Read it in parts with the read tool, or open it on the machine itself.', details: { field: 'path' } });
  if (stat.size > MAX_CONTENT_BYTES) throw tooLarge(thousands(stat.size));
  const handle = await fs.open(target.real, 'r');
  try {
    // At most one byte past the cap is read: a file that grew past it since is refused, not read whole.
    let buffer = Buffer.alloc(stat.size + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length < buffer.length) continue;
      if (length > MAX_CONTENT_BYTES) break;
      const bigger = Buffer.alloc(Math.min(buffer.length * 2, MAX_CONTENT_BYTES + 1));
      buffer.copy(bigger);
      buffer = bigger;
    }
    if (length > MAX_CONTENT_BYTES) throw tooLarge(`more than ${thousands(MAX_CONTENT_BYTES)}`);
    const bytes = buffer.subarray(0, length);
    if (!bytes.includes(0)) {
      try {
        return { type: 'text', content: STRICT_UTF8.decode(bytes).trim() };
      } catch {
        // Not UTF-8: binary.
      }
    }
    return { type: 'binary', content: bytes.toString('base64'), encoding: 'base64', mimeType: mimeOf(target.real) };
  } finally {
    await handle.close();
  }
}

/** How much of a file is looked at to tell text from binary when serving it. */
const SNIFF_BYTES = 64 * 1024;

export interface ServedFile {
  /** Where it really is. */
  real: string;
  size: number;
  /** The MIME type of its extension for a known binary kind, else `text/plain; charset=utf-8` for UTF-8 text without NUL (its first 64 KiB), else `application/octet-stream`. */
  contentType: string;
}

/**
 * A file to serve as it is (v2's `GET /api/fs/read/*`), the path in the URL: inside the folder as
 * `projectPath` requires, a regular file (a folder or a device is a 400), there (a 404 otherwise).
 */
export async function fileToServe(directory: string, given: string): Promise<ServedFile> {
  const target = await projectPath(directory, given, 'path', 'path parameter');
  const stat = await fs.stat(target.real).catch((error: unknown) => {
    if (isMissing(error)) return undefined;
    throw error;
  });
  if (!stat) throw new HttpError(404, 'NOT_FOUND', `path parameter "path": no file ${shown(given)} in the project.`, { hint: 'GET /api/fs/list lists a folder’s files.', details: { field: 'path' } });
  if (stat.isDirectory()) throw new HttpError(400, 'BAD_REQUEST', `path parameter "path": ${shown(given)} is a folder, not a file.`, { hint: 'GET /api/fs/list?path=… lists a folder.', details: { field: 'path' } });
  if (!stat.isFile()) throw new HttpError(400, 'BAD_REQUEST', `path parameter "path": ${shown(given)} is not a regular file.`, { details: { field: 'path' } });
  const known = MIME_TYPES[path.extname(target.real).slice(1).toLowerCase()];
  if (known) return { real: target.real, size: stat.size, contentType: known };
  const handle = await fs.open(target.real, 'r');
  try {
    const head = Buffer.alloc(Math.min(stat.size, SNIFF_BYTES));
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const bytes = head.subarray(0, bytesRead);
    let text = !bytes.includes(0);
    if (text) {
      try {
        // `stream`: a character cut at the end of the sample is not a fault.
        new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: bytesRead < stat.size });
      } catch {
        text = false;
      }
    }
    return { real: target.real, size: stat.size, contentType: text ? 'text/plain; charset=utf-8' : 'application/octet-stream' };
  } finally {
    await handle.close();
  }
}
