/** Telling binary files from text: known extensions first, then a look at the first bytes. */
import fs from 'node:fs/promises';
import path from 'node:path';

/** Extensions of binary files (lower case, no dot); regex-search.ts's worker is given them too. */
export const BINARY_EXTENSION_LIST: readonly string[] = (
  'png jpg jpeg gif bmp ico webp tif tiff psd heic avif pdf zip gz tgz bz2 xz zst 7z rar tar jar war ear ' +
  'class exe dll so dylib o a lib obj bin dat wasm pyc pyo node sqlite db mp3 mp4 m4a mov avi mkv webm ' +
  'wav flac ogg ttf otf woff woff2 eot doc docx xls xlsx ppt pptx odt ods odp'
).split(' ');
const BINARY_EXTENSIONS = new Set(BINARY_EXTENSION_LIST);

export function hasBinaryExtension(file: string): boolean {
  return BINARY_EXTENSIONS.has(path.extname(file).slice(1).toLowerCase());
}

/** A NUL byte, or more than 30 % control characters, in the sample means binary. */
export function looksBinary(sample: Uint8Array): boolean {
  if (sample.length === 0) return false;
  let odd = 0;
  for (const byte of sample) {
    if (byte === 0) return true;
    if (byte < 9 || (byte > 13 && byte < 32)) odd++;
  }
  return odd / sample.length > 0.3;
}

/** Reads up to 4 KB of the file to decide. */
export async function isBinaryFile(file: string): Promise<boolean> {
  if (hasBinaryExtension(file)) return true;
  const handle = await fs.open(file, 'r');
  try {
    const buffer = new Uint8Array(4096);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return looksBinary(buffer.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}
