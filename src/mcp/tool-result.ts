/**
 * Turns an MCP tool result into the text a model gets: text parts joined, images and audio as a
 * short note (their bytes would only waste the context window and most providers take no files
 * in tool results), resources as their text or URI, structured content as JSON when there is no
 * text. Results longer than the limit are cut, with a note saying so.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** Results longer than this many characters are truncated (about 32 KB). */
export const MAX_RESULT_CHARS = 32 * 1024;

type Part = CallToolResult['content'][number];

function sizeOfBase64(data: string): string {
  const bytes = Math.floor((data.length * 3) / 4);
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KB`;
}

function partText(part: Part): string {
  switch (part.type) {
    case 'text':
      return part.text;
    case 'image':
    case 'audio':
      return `[${part.type}: ${part.mimeType}, ${sizeOfBase64(part.data)}; not shown]`;
    case 'resource': {
      const r = part.resource;
      if ('text' in r && typeof r.text === 'string') return `[resource ${r.uri}]\n${r.text}`;
      const blob = 'blob' in r && typeof r.blob === 'string' ? `, ${sizeOfBase64(r.blob)}` : '';
      return `[resource ${r.uri}: ${r.mimeType ?? 'binary'}${blob}; not shown]`;
    }
    case 'resource_link':
      return `[resource link: ${part.name} ${part.uri}${part.description ? ` (${part.description})` : ''}]`;
    default:
      return `[${String((part as { type?: unknown }).type)} content]`;
  }
}

/** The result as one text (before truncation). */
export function resultText(result: Pick<CallToolResult, 'content' | 'structuredContent'>): string {
  const parts = (result.content ?? []).map(partText);
  const hasText = (result.content ?? []).some((p) => p.type === 'text');
  if (!hasText && result.structuredContent !== undefined) parts.push(JSON.stringify(result.structuredContent));
  return parts.join('\n');
}

/** Whether a result's text was cut by truncateResult (its note ends it): OpenCode's `metadata.truncated`. */
export function resultTruncated(text: string): boolean {
  return /\n\[truncated: showing the first \d+ of \d+ characters\]$/.test(text);
}

/** Cuts `text` to `max` characters with a note on what was left out. */
export function truncateResult(text: string, max: number = MAX_RESULT_CHARS): { text: string; truncated: boolean } {
  if (text.length <= max) return { text, truncated: false };
  const note = `\n[truncated: showing the first ${max} of ${text.length} characters]`;
  return { text: text.slice(0, max) + note, truncated: true };
}
