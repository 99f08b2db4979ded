/**
 * A `--file` read, by a local run and by `run --attach` alike (which sends it to the server): a
 * regular file of at most 1 MiB of text or 20 MiB of image, refused before anything is read
 * otherwise (a device such as /dev/zero, a FIFO, a folder, a file over the limit), with one sentence.
 */
import path from 'node:path';
import { readBoundedFile, TextFileError } from '../config/read-text.ts';
import { PantheonError } from '../errors.ts';

export const IMAGE_TYPES: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp' };
export const MAX_TEXT_FILE = 1024 * 1024;
/** The largest image providers take (OpenAI's and Anthropic's limits are about this). */
const MAX_IMAGE_FILE = 20 * 1024 * 1024;

/** The bytes of `--file file` (relative to `cwd`) and its image type, if it is an image. */
export async function readFileFlag(file: string, cwd: string): Promise<{ data: Buffer; mediaType: string | undefined }> {
  const full = path.resolve(cwd, file);
  const mediaType = IMAGE_TYPES[path.extname(full).toLowerCase()];
  const data = await readBoundedFile(full, mediaType ? MAX_IMAGE_FILE : MAX_TEXT_FILE).catch((error: unknown) => {
    const reason = error instanceof TextFileError ? error.reason : `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
    throw new PantheonError('USAGE', `--file ${file}: it ${reason}.`, { hint: 'Attach a text file of at most 1 MiB or an image of at most 20 MiB; the path is relative to the working directory.' });
  });
  return { data, mediaType };
}
