/**
 * Images and PDFs a tool hands the model beside its text (an MCP resource read: mcp/resource-tools.ts),
 * sent as OpenCode 1.18.33 sends them to an OpenAI-compatible provider: after the tool message that
 * answers the call, a user message `Attached media from tool result:` with the files (in the step's
 * next model calls of the turn); for a model that does not take that kind of file, OpenCode's words
 * in the file's place (`ERROR: Cannot read "URI" (this model does not support image input). Inform
 * the user.`). The tool's answer itself, as stored, shown and sent, is its text alone (which says
 * what was attached): the files are not kept with the session, so a later turn has the note only.
 */
import type { ModelMessage } from 'ai';

export interface ToolMediaItem {
  mediaType: string;
  /** The file's bytes, base64. */
  data: string;
  filename: string;
}

const MEDIA = Symbol('pantheon.toolMedia');

/** A tool's answer with files: its text is the answer (`toString()` too), the files go beside it. */
export interface ToolOutputWithMedia {
  readonly [MEDIA]: true;
  readonly output: string;
  readonly media: readonly ToolMediaItem[];
}

export function withMedia(output: string, media: readonly ToolMediaItem[]): ToolOutputWithMedia {
  return { [MEDIA]: true, output, media, toString: () => output } as ToolOutputWithMedia;
}

/** The text and files of an answer made by withMedia, else undefined. */
export function mediaOf(value: unknown): ToolOutputWithMedia | undefined {
  return value !== null && typeof value === 'object' && (value as Partial<ToolOutputWithMedia>)[MEDIA] === true ? (value as ToolOutputWithMedia) : undefined;
}

export const MEDIA_PROMPT = 'Attached media from tool result:';

/** What the model takes: images, PDFs. */
export interface MediaAccepted {
  image: boolean;
  pdf: boolean;
}

type UserPart = { type: 'text'; text: string } | { type: 'file'; data: string; mediaType: string; filename: string };

/** `messages` with a user message of the calls' files after each tool message answering calls that have some (`media`, by call id). */
export function withToolMedia(messages: readonly ModelMessage[], media: ReadonlyMap<string, readonly ToolMediaItem[]>, accepted: MediaAccepted): ModelMessage[] {
  if (media.size === 0) return [...messages];
  const out: ModelMessage[] = [];
  for (const message of messages) {
    out.push(message);
    if (message.role !== 'tool') continue;
    const parts: UserPart[] = [];
    for (const part of message.content) {
      if (part.type !== 'tool-result') continue;
      for (const item of media.get(part.toolCallId) ?? []) {
        const kind = item.mediaType === 'application/pdf' ? 'pdf' : 'image';
        if (accepted[kind]) parts.push({ type: 'file', data: item.data, mediaType: item.mediaType, filename: item.filename });
        else parts.push({ type: 'text', text: `ERROR: Cannot read "${item.filename}" (this model does not support ${kind} input). Inform the user.` });
      }
    }
    if (parts.length > 0) out.push({ role: 'user', content: [{ type: 'text', text: MEDIA_PROMPT }, ...parts] });
  }
  return out;
}
