import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PantheonError } from '../errors.ts';
import { fileBlock } from '../session/attached-files.ts';
import type { SessionFile } from '../session/store.ts';
import type { ResolvedModel } from '../providers/resolve-model.ts';
import { IMAGE_TYPES, MAX_TEXT_FILE, readFileFlag } from './file-flag.ts';

export type UserContent =
  | string
  | ({ type: 'text'; text: string } | { type: 'file'; data: Uint8Array; mediaType: string; filename?: string })[];

/** A file sent with the message rather than read from disk (a server request's file part). */
export interface InlineFile {
  /** What the message calls it (a file name or path). */
  name: string;
  data: Uint8Array;
  /** `image/png`, `text/plain`, …; default: from the name's extension. */
  mediaType?: string;
  /** Where it came from, for clients that show it (never read again). */
  url?: string;
  /** How errors name it (default `file NAME`; `--file NAME` for a file a remote `run --attach` sent). */
  label?: string;
}

async function read(file: string | InlineFile, cwd: string): Promise<{ name: string; label: string; data: Buffer; mediaType: string | undefined; shown: Omit<SessionFile, 'inlined'> }> {
  if (typeof file !== 'string') {
    const mediaType = file.mediaType?.startsWith('image/') ? file.mediaType : IMAGE_TYPES[path.extname(file.name).toLowerCase()];
    const shown = { filename: file.name, mime: mediaType ?? file.mediaType ?? 'text/plain', ...(file.url ? { url: file.url } : {}) };
    return { name: file.name, label: file.label ?? `file ${file.name}`, data: Buffer.from(file.data), mediaType, shown };
  }
  const { data, mediaType } = await readFileFlag(file, cwd);
  return { name: file, label: `--file ${file}`, data, mediaType, shown: { filename: file, mime: mediaType ?? 'text/plain', url: pathToFileURL(path.resolve(cwd, file)).href } };
}

/**
 * A part the server adds after the user's own, as OpenCode adds synthetic parts (an `@`-mentioned
 * MCP resource's head line and the text of each of its contents), or an image it holds, attached as
 * a file part; `fallback` is the text sent instead when the model does not take images.
 */
export type AddedPart = { type: 'text'; text: string } | { type: 'file'; name: string; data: Uint8Array; mediaType: string; fallback: string };

/**
 * The user's message with its files (`--file`s, or a request's): text files inline, images as file
 * parts when the model takes images; and the files as clients show them (SessionMessage.files).
 * Parts the server added (`added`) follow as items of their own, which `added` of the answer
 * indexes (SessionMessage.added): what the model gets as OpenCode sends its synthetic parts.
 */
export async function buildUserContent(message: string, files: readonly (string | InlineFile)[], head: ResolvedModel, cwd: string, added: readonly AddedPart[] = []): Promise<{ content: UserContent; files: SessionFile[]; added?: number[] }> {
  if (files.length === 0 && added.length === 0) return { content: message, files: [] };
  const built = await withFiles(message, files, head, cwd);
  if (added.length === 0) return built;
  // A message of a resource alone has no text of the user's (an empty text part is refused by some providers).
  const content = typeof built.content === 'string' ? (built.content ? [{ type: 'text' as const, text: built.content }] : []) : built.content;
  const indexes: number[] = [];
  for (const part of added) {
    indexes.push(content.length);
    if (part.type === 'text') content.push({ type: 'text', text: part.text });
    else if (head.acceptsImages) content.push({ type: 'file', data: part.data, mediaType: part.mediaType, filename: part.name });
    else content.push({ type: 'text', text: part.fallback });
  }
  return { content, files: built.files, added: indexes };
}

async function withFiles(message: string, files: readonly (string | InlineFile)[], head: ResolvedModel, cwd: string): Promise<{ content: UserContent; files: SessionFile[] }> {
  if (files.length === 0) return { content: message, files: [] };
  const parts: Exclude<UserContent, string> = [];
  const shown: SessionFile[] = [];
  let text = message;
  for (const file of files) {
    const { name, label, data, mediaType, shown: seen } = await read(file, cwd);
    if (mediaType) {
      if (!head.acceptsImages) {
        throw new PantheonError('USAGE', `${label}: ${head.label} does not take images.`, {
          hint: 'Use a model whose "modalities.input" lists "image", e.g. with --model.',
        });
      }
      parts.push({ type: 'file', data, mediaType, filename: path.basename(name) });
      shown.push(seen);
      continue;
    }
    if (data.includes(0)) throw new PantheonError('USAGE', `${label}: a binary file; only text and images can be attached.`);
    if (data.length > MAX_TEXT_FILE) throw new PantheonError('USAGE', `${label}: ${data.length} bytes is over the 1 MiB limit for inline files.`);
    const block = fileBlock(name, data.toString('utf8'));
    text += block;
    shown.push({ ...seen, inlined: block.length });
  }
  return { content: [{ type: 'text', text }, ...parts], files: shown };
}
