import fs from 'node:fs/promises';
import path from 'node:path';
import { PantheonError } from '../errors.ts';
import type { ResolvedModel } from '../providers/resolve-model.ts';

export type UserContent =
  | string
  | ({ type: 'text'; text: string } | { type: 'file'; data: Uint8Array; mediaType: string; filename?: string })[];

const IMAGE_TYPES: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp' };
const MAX_TEXT_FILE = 1_000_000;

/** The user's message with `--file`s: text files inline, images as file parts when the model takes images. */
export async function buildUserContent(message: string, files: string[], head: ResolvedModel, cwd: string): Promise<UserContent> {
  if (files.length === 0) return message;
  const parts: Exclude<UserContent, string> = [];
  let text = message;
  for (const file of files) {
    const full = path.resolve(cwd, file);
    const data = await fs.readFile(full).catch((error: NodeJS.ErrnoException) => {
      throw new PantheonError('USAGE', `--file ${file}: cannot read it (${error.code ?? error.message}).`, { hint: 'Check the path; it is relative to the working directory.' });
    });
    const mediaType = IMAGE_TYPES[path.extname(full).toLowerCase()];
    if (mediaType) {
      if (!head.acceptsImages) {
        throw new PantheonError('USAGE', `--file ${file}: ${head.label} does not take images.`, {
          hint: 'Use a model whose "modalities.input" lists "image", e.g. with --model.',
        });
      }
      parts.push({ type: 'file', data, mediaType, filename: path.basename(full) });
      continue;
    }
    if (data.includes(0)) throw new PantheonError('USAGE', `--file ${file}: a binary file; only text and images can be attached.`);
    if (data.length > MAX_TEXT_FILE) throw new PantheonError('USAGE', `--file ${file}: ${data.length} bytes is over the 1 MB limit for inline files.`);
    text += `\n\n<file path="${file}">\n${data.toString('utf8')}\n</file>`;
  }
  return [{ type: 'text', text }, ...parts];
}
