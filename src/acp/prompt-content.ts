/**
 * An ACP prompt (content blocks) as a turn's message, as OpenCode's `acp` reads one: text blocks
 * are the text; an image is an attached file; an embedded resource (a file the editor sent with its
 * text, `@file` in Zed) is text headed by its path (and `:line` from a `#L12` anchor); a link to a
 * file (`file://…`, Zed's `zed://…?path=`) is that file attached, read now; any other link is its
 * address in the text. A prompt whose text starts with `/` names a command (`/review main`).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ContentBlock } from '@agentclientprotocol/sdk';
import type { InlineFile } from '../run/user-content.ts';

export interface PromptMessage {
  text: string;
  attachments: InlineFile[];
}

/** A linked file larger than this is named in the text instead of attached. */
const MAX_LINKED_BYTES = 10 * 1024 * 1024;

function filePathOf(uri: string): string | undefined {
  try {
    if (uri.startsWith('file://')) return fileURLToPath(uri);
    if (uri.startsWith('zed://')) return new URL(uri).searchParams.get('path') ?? undefined;
  } catch {
    return undefined;
  }
  return undefined;
}

async function linked(uri: string, name: string | undefined, mimeType: string | undefined): Promise<InlineFile | string> {
  const file = filePathOf(uri);
  if (!file) return uri;
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile() || stat.size > MAX_LINKED_BYTES) return `[${file}]`;
    return { name: name || path.basename(file), data: await fs.readFile(file), ...(mimeType ? { mediaType: mimeType } : {}), url: uri };
  } catch {
    return `[${file}]`;
  }
}

export async function promptMessage(blocks: readonly ContentBlock[]): Promise<PromptMessage> {
  const texts: string[] = [];
  const attachments: InlineFile[] = [];
  for (const block of blocks) {
    if (block.type === 'text') texts.push(block.text);
    else if (block.type === 'image') {
      const ext = block.mimeType.split('/')[1]?.replace(/[^a-z0-9]/gi, '') || 'png';
      attachments.push({ name: block.uri ? path.basename(block.uri) || `image.${ext}` : `image.${ext}`, data: Buffer.from(block.data, 'base64'), mediaType: block.mimeType });
    } else if (block.type === 'resource_link') {
      const got = await linked(block.uri, block.name, block.mimeType ?? undefined);
      if (typeof got === 'string') texts.push(got);
      else attachments.push(got);
    } else if (block.type === 'resource') {
      const resource = block.resource;
      if ('text' in resource) {
        const file = filePathOf(resource.uri);
        const line = /#L(\d+)/.exec(resource.uri)?.[1];
        texts.push(`[${file ?? resource.uri}${line ? `:${line}` : ''}]\n${resource.text}`);
      } else if (resource.mimeType) {
        attachments.push({ name: path.basename(filePathOf(resource.uri) ?? resource.uri) || 'file', data: Buffer.from(resource.blob, 'base64'), mediaType: resource.mimeType, url: resource.uri });
      }
    }
    // Audio: no model here takes it (promptCapabilities says so); left out.
  }
  return { text: texts.join('\n'), attachments };
}

/** `/name args…` at the start of a prompt's text: the command and its arguments. */
export function slashCommand(text: string): { name: string; args: string } | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith('/')) return undefined;
  const [name, ...rest] = trimmed.slice(1).split(/\s+/);
  return name ? { name, args: rest.join(' ').trim() } : undefined;
}
