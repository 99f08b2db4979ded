/**
 * An MCP resource mentioned in a prompt (OpenCode's TUI's `@` menu sends it as a file part whose
 * `source` is `{type: "resource", clientName, uri}`), as the text the model gets, as OpenCode
 * sends it: `Reading MCP resource: NAME (URI)`, then the text of each of its contents. Bounded: at
 * most MAX_RESOURCE_CHARS of text (the rest cut with a note); an image up to MAX_RESOURCE_IMAGE_BYTES
 * is attached, any other binary content is a one-line note; a read that fails is one sentence in
 * the text (the turn goes on).
 */
import type { InlineFile } from '../../run/user-content.ts';

/** The part of `resources/read`'s answer used here (lenient: a server's answer is checked field by field). */
export interface ReadResourceResult {
  contents?: unknown;
}

export const MAX_RESOURCE_CHARS = 256 * 1024;
export const MAX_RESOURCE_IMAGE_BYTES = 8 * 1024 * 1024;
const IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

function size(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}

export async function resourceText(name: string, uri: string, read: (() => Promise<ReadResourceResult>) | undefined): Promise<{ text: string; attachments: InlineFile[] }> {
  const head = `Reading MCP resource: ${name} (${uri})`;
  let result: ReadResourceResult;
  try {
    if (!read) throw new Error('the project has no MCP servers');
    result = await read();
  } catch (error) {
    return { text: `Failed to read MCP resource ${name}: ${oneLine(error instanceof Error ? error.message : String(error))}`, attachments: [] };
  }
  const texts = [head];
  const attachments: InlineFile[] = [];
  let left = MAX_RESOURCE_CHARS;
  for (const item of Array.isArray(result.contents) ? (result.contents as unknown[]) : []) {
    if (!item || typeof item !== 'object') continue;
    const c = item as { uri?: unknown; mimeType?: unknown; text?: unknown; blob?: unknown };
    const where = typeof c.uri === 'string' && c.uri ? c.uri : uri;
    if (typeof c.text === 'string' && c.text) {
      if (left <= 0) continue;
      const kept = c.text.length > left ? `${c.text.slice(0, left)}\n[truncated: showing the first ${left} of ${c.text.length} characters of ${where}]` : c.text;
      left -= c.text.length;
      texts.push(kept);
    } else if (typeof c.blob === 'string' && c.blob) {
      const mime = typeof c.mimeType === 'string' && c.mimeType ? c.mimeType : 'application/octet-stream';
      const bytes = Math.floor((c.blob.replace(/=+$/, '').length * 3) / 4);
      if (IMAGES.has(mime) && bytes <= MAX_RESOURCE_IMAGE_BYTES) {
        texts.push(`[Binary MCP resource attached: ${where} (${mime})]`);
        attachments.push({ name: where, data: Buffer.from(c.blob, 'base64'), mediaType: mime });
      } else texts.push(`[Binary MCP resource omitted: ${where} (${mime}, ${size(bytes)})${IMAGES.has(mime) ? ` exceeds ${size(MAX_RESOURCE_IMAGE_BYTES)}` : ' is not an image'}]`);
    }
  }
  if (texts.length === 1) texts.push(`[MCP resource ${uri} has no content]`);
  return { text: texts.join('\n\n'), attachments };
}
