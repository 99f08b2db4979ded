import path from 'node:path';
import { readBoundedFile, TextFileError } from '../config/read-text.ts';
import { PantheonError } from '../errors.ts';
import type { ResolvedModel } from '../providers/resolve-model.ts';

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

const IMAGE_TYPES: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp' };
const MAX_TEXT_FILE = 1024 * 1024;
/** The largest image providers take (OpenAI's and Anthropic's limits are about this). */
const MAX_IMAGE_FILE = 20 * 1024 * 1024;

async function read(file: string | InlineFile, cwd: string): Promise<{ name: string; label: string; data: Buffer; mediaType: string | undefined }> {
  if (typeof file !== 'string') {
    const mediaType = file.mediaType?.startsWith('image/') ? file.mediaType : IMAGE_TYPES[path.extname(file.name).toLowerCase()];
    return { name: file.name, label: file.label ?? `file ${file.name}`, data: Buffer.from(file.data), mediaType };
  }
  const full = path.resolve(cwd, file);
  const mediaType = IMAGE_TYPES[path.extname(full).toLowerCase()];
  // A device, a FIFO or a file larger than the limit is refused before anything is read.
  const data = await readBoundedFile(full, mediaType ? MAX_IMAGE_FILE : MAX_TEXT_FILE).catch((error: unknown) => {
    const reason = error instanceof TextFileError ? error.reason : `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
    throw new PantheonError('USAGE', `--file ${file}: it ${reason}.`, { hint: 'Attach a text file of at most 1 MiB or an image of at most 20 MiB; the path is relative to the working directory.' });
  });
  return { name: file, label: `--file ${file}`, data, mediaType };
}

/** The user's message with its files (`--file`s, or a request's): text files inline, images as file parts when the model takes images. */
export async function buildUserContent(message: string, files: readonly (string | InlineFile)[], head: ResolvedModel, cwd: string): Promise<UserContent> {
  if (files.length === 0) return message;
  const parts: Exclude<UserContent, string> = [];
  let text = message;
  for (const file of files) {
    const { name, label, data, mediaType } = await read(file, cwd);
    if (mediaType) {
      if (!head.acceptsImages) {
        throw new PantheonError('USAGE', `${label}: ${head.label} does not take images.`, {
          hint: 'Use a model whose "modalities.input" lists "image", e.g. with --model.',
        });
      }
      parts.push({ type: 'file', data, mediaType, filename: path.basename(name) });
      continue;
    }
    if (data.includes(0)) throw new PantheonError('USAGE', `${label}: a binary file; only text and images can be attached.`);
    if (data.length > MAX_TEXT_FILE) throw new PantheonError('USAGE', `${label}: ${data.length} bytes is over the 1 MiB limit for inline files.`);
    text += `\n\n<file path="${name}">\n${data.toString('utf8')}\n</file>`;
  }
  return [{ type: 'text', text }, ...parts];
}
