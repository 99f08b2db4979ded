/**
 * An MCP resource mentioned in a prompt (OpenCode's TUI's `@` menu sends it as a file part whose
 * `source` is `{type: "resource", clientName, uri}`), as the parts OpenCode 1.18 adds to the user's
 * message in its place, each a synthetic text part (which its TUI does not show) and an item of its
 * own for the model: `Reading MCP resource: NAME (URI)`, then the text of each of its contents; an
 * image (PNG, JPEG, GIF, WebP) up to MAX_RESOURCE_IMAGE_BYTES is `[Binary MCP resource attached: …]`
 * and a file part, any other binary content a one-line note, in OpenCode's words. Bounded: at most
 * MAX_RESOURCE_CHARS of text for one resource, its notes included (the rest cut with a note), at
 * most MAX_RESOURCE_CONTENTS of its contents (the others counted in one note: a server may send
 * thousands), each content's URI and type in a note cut to a line's length. A read that fails is one
 * sentence (`Failed to read MCP resource NAME: …`) and the turn goes on, where OpenCode fails the
 * whole prompt.
 */
import type { AddedPart } from '../../run/user-content.ts';

/** The part of `resources/read`'s answer used here (lenient: a server's answer is checked field by field). */
export interface ReadResourceResult {
  contents?: unknown;
}

export const MAX_RESOURCE_CHARS = 256 * 1024;
export const MAX_RESOURCE_IMAGE_BYTES = 8 * 1024 * 1024;
/** The most contents of one resource made parts (a text, an image, a note each). */
export const MAX_RESOURCE_CONTENTS = 64;
const IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/** A size as OpenCode writes it in these notes (`12 B`, `4 KB`, `9 MB`: rounded up). */
function size(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${Math.ceil(bytes / 1024)} KB` : `${Math.ceil(bytes / 1024 / 1024)} MB`;
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}

/** A server's URI or media type as a note names it: at most 200 characters. */
function shortly(text: string): string {
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

/** The bytes a base64 text holds (its padding and whitespace not counted). */
function decodedBytes(blob: string): number {
  const text = blob.replace(/\s/g, '');
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((text.length * 3) / 4) - pad);
}

export async function resourceParts(name: string, uri: string, read: (() => Promise<ReadResourceResult>) | undefined): Promise<AddedPart[]> {
  let result: ReadResourceResult;
  try {
    if (!read) throw new Error('the project has no MCP servers');
    result = await read();
  } catch (error) {
    return [{ type: 'text', text: `Failed to read MCP resource ${name}: ${oneLine(error instanceof Error ? error.message : String(error))}` }];
  }
  const parts: AddedPart[] = [{ type: 'text', text: `Reading MCP resource: ${name} (${uri})` }];
  // What is left of the resource's text (its notes count too) and of its contents.
  let left = MAX_RESOURCE_CHARS;
  let taken = 0;
  let skipped = 0;
  const note = (text: string): void => {
    parts.push({ type: 'text', text });
    left -= text.length;
  };
  const contents = Array.isArray(result.contents) ? (result.contents as unknown[]) : [result.contents];
  for (const item of contents) {
    if (!item || typeof item !== 'object') continue;
    const c = item as { uri?: unknown; mimeType?: unknown; text?: unknown; blob?: unknown };
    if (!(typeof c.text === 'string' && c.text) && !(typeof c.blob === 'string' && c.blob)) continue;
    if (taken >= MAX_RESOURCE_CONTENTS || left <= 0) {
      skipped++;
      continue;
    }
    taken++;
    const where = shortly(typeof c.uri === 'string' && c.uri ? c.uri : uri);
    if (typeof c.text === 'string' && c.text) {
      const kept = c.text.length > left ? `${c.text.slice(0, left)}\n[truncated: showing the first ${left} of ${c.text.length} characters of ${where}]` : c.text;
      left -= c.text.length;
      parts.push({ type: 'text', text: kept });
    } else if (typeof c.blob === 'string' && c.blob) {
      const mime = shortly(typeof c.mimeType === 'string' && c.mimeType ? c.mimeType : 'application/octet-stream');
      const bytes = decodedBytes(c.blob);
      if (!IMAGES.has(mime)) note(`[Binary MCP resource omitted: ${where} (${mime}, ${size(bytes)}) is not a supported attachment type]`);
      else if (bytes > MAX_RESOURCE_IMAGE_BYTES) note(`[Binary MCP resource omitted: ${where} (${mime}, ${size(bytes)}) exceeds ${size(MAX_RESOURCE_IMAGE_BYTES)}]`);
      else {
        note(`[Binary MCP resource attached: ${where} (${mime})]`);
        parts.push({ type: 'file', name: where, data: Buffer.from(c.blob, 'base64'), mediaType: mime, fallback: `[Binary MCP resource omitted: ${where} (${mime}, ${size(bytes)}): the model does not take images]` });
      }
    }
  }
  if (skipped > 0) parts.push({ type: 'text', text: `[${skipped} more contents of ${shortly(uri)} left out: at most ${MAX_RESOURCE_CONTENTS} contents and ${MAX_RESOURCE_CHARS} characters of a resource are sent]` });
  return parts;
}
