import type { ModelMessage } from 'ai';

/**
 * A message as it can be written to JSON and sent again later: binary file data (an attached
 * image) becomes base64 text, which the AI SDK accepts for file parts.
 */
export function storable(message: ModelMessage): ModelMessage {
  if (typeof message.content === 'string') return message;
  const content = (message.content as unknown[]).map((part) => {
    if (part && typeof part === 'object' && 'data' in part && (part as { data: unknown }).data instanceof Uint8Array) {
      return { ...part, data: Buffer.from((part as { data: Uint8Array }).data).toString('base64') };
    }
    return part;
  });
  return { ...message, content } as ModelMessage;
}
