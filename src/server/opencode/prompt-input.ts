/**
 * An OpenCode prompt body (`parts`, `model`, `agent`, `system`, `tools`, `permission`, `messageID`)
 * as the core's prompt input: text parts joined, file parts decoded (`data:` URLs) or read from the
 * project (`file://` URLs inside it), an agent part naming the agent. Anything it cannot honour is a
 * 400 naming the field.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PromptInput } from '../../core/sessions.ts';
import type { AddedPart, InlineFile } from '../../run/user-content.ts';
import { HttpError } from '../http-error.ts';
import { rulesToPermission } from './session-view.ts';
import { resourceParts, type ReadResourceResult } from './mcp-resource-part.ts';

export interface PromptBody {
  messageID?: string;
  model?: { providerID: string; modelID: string };
  agent?: string;
  noReply?: boolean;
  system?: string;
  tools?: Record<string, boolean>;
  variant?: string;
  permission?: { permission: string; pattern?: string; action: string }[];
  parts: ({ type: 'text'; text: string; ignored?: boolean } | { type: 'file'; mime: string; filename?: string; url: string; source?: { type?: string; clientName?: string; uri?: string } } | { type: 'agent'; name: string } | { type: 'subtask'; agent: string })[];
}

/** What reads an MCP resource a file part names (OpenCode's TUI's `@` mention of one): the project's MCP servers. */
export type ResourceReader = (server: string, uri: string) => Promise<ReadResourceResult>;

const MESSAGE_ID = /^msg_[A-Za-z0-9_-]{1,100}$/;
/** Largest file a file:// part may name (images; text files are limited further when inlined). */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

function bad(field: string, message: string, hint?: string): HttpError {
  return new HttpError(400, 'BAD_REQUEST', `body field "${field}": ${message}.`, { ...(hint ? { hint } : {}), details: { kind: 'Body', field } });
}

function decodeDataUrl(url: string, field: string): Buffer {
  const comma = url.indexOf(',');
  if (comma < 0) throw bad(field, 'a data: URL needs a comma before its data');
  const meta = url.slice(5, comma);
  const data = url.slice(comma + 1);
  if (meta.endsWith(';base64')) return Buffer.from(data, 'base64');
  try {
    return Buffer.from(decodeURIComponent(data), 'utf8');
  } catch {
    const at = /%(?![0-9A-Fa-f]{2})/.exec(data)?.index;
    const found = at === undefined ? 'escapes that are not UTF-8' : `${JSON.stringify(data.slice(at, at + 3))} (a % takes two hex digits)`;
    throw bad(field, `expected a data: URL whose text is percent-encoded UTF-8, found ${found}`, 'Encode the text with encodeURIComponent, or send it as data:<mime>;base64,<data>.');
  }
}

async function readProjectFile(url: string, projectRoot: string, field: string): Promise<Buffer> {
  let file: string;
  try {
    file = await fs.realpath(fileURLToPath(url));
  } catch {
    throw bad(field, `${url} does not name a readable file`);
  }
  const rel = path.relative(projectRoot, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw bad(field, `${url} is outside the project ${projectRoot}`, 'Send files from elsewhere as data: URLs.');
  const stat = await fs.stat(file);
  if (!stat.isFile()) throw bad(field, `${url} is not a regular file`);
  if (stat.size > MAX_FILE_BYTES) throw bad(field, `${url} is ${stat.size} bytes, over the ${MAX_FILE_BYTES}-byte limit`);
  return fs.readFile(file).catch(() => {
    throw bad(field, `${url} cannot be read`);
  });
}

async function attachment(part: { mime: string; filename?: string; url: string }, index: number, projectRoot: string): Promise<InlineFile> {
  const field = `parts[${index}].url`;
  const name = part.filename || (part.url.startsWith('file:') ? path.basename(part.url) : `attachment-${index}`);
  if (part.url.startsWith('data:')) return { name, data: decodeDataUrl(part.url, field), mediaType: part.mime };
  if (part.url.startsWith('file:')) return { name, data: await readProjectFile(part.url, projectRoot, field), mediaType: part.mime, url: part.url };
  throw bad(field, 'expected a data: or file:// URL', 'Inline the file as data:<mime>;base64,<data>.');
}

/** A client's id for its user message: `msg_` and up to 100 letters, digits, `_` or `-`; else a 400 naming the field. */
export function checkMessageId(id: string | undefined): void {
  if (id !== undefined && !MESSAGE_ID.test(id)) throw bad('messageID', `expected an id like msg_…, found ${JSON.stringify(id.slice(0, 40))}`);
}

export async function promptInput(body: PromptBody, projectRoot: string, readResource?: ResourceReader): Promise<PromptInput> {
  if (body.noReply) throw bad('noReply', 'storing a message without a reply is not supported', 'Leave noReply out; every prompt gets an answer.');
  checkMessageId(body.messageID);
  const texts: string[] = [];
  const attachments: InlineFile[] = [];
  const added: AddedPart[] = [];
  let agent = body.agent;
  for (const [index, part] of body.parts.entries()) {
    if (part.type === 'text') {
      if (!part.ignored) texts.push(part.text);
    } else if (part.type === 'file' && part.source?.type === 'resource') {
      // An MCP resource the TUI's `@` menu offered: read from its server now, its texts OpenCode's synthetic parts (a failure is said in one).
      const { clientName, uri } = part.source;
      if (typeof clientName !== 'string' || !clientName || typeof uri !== 'string' || !uri) throw bad(`parts[${index}].source`, 'a resource source needs its server ("clientName") and "uri"', 'Send it as GET /experimental/resource lists it.');
      added.push(...(await resourceParts(part.filename || uri, uri, readResource ? () => readResource(clientName, uri) : undefined)));
    } else if (part.type === 'file') attachments.push(await attachment(part, index, projectRoot));
    else if (part.type === 'agent') agent ??= part.name;
    else throw bad(`parts[${index}].type`, 'subtask parts are not supported', 'Send the prompt with "agent" set, or let the agent delegate with its task tool.');
  }
  const text = texts.join('\n\n');
  // Files alone are a prompt, as in OpenCode (an image pasted and sent).
  if (!text.trim() && attachments.length === 0 && added.length === 0) throw bad('parts', 'the prompt has neither text nor a file', 'Add a {"type": "text", "text": "…"} part.');
  const model = body.model ? `${body.model.providerID}/${body.model.modelID}${body.variant ? `:${body.variant}` : ''}` : undefined;
  return {
    text,
    ...(attachments.length ? { attachments } : {}),
    ...(added.length ? { added } : {}),
    ...(agent ? { agent } : {}),
    ...(model ? { model } : {}),
    // A variant without a model: the head of the agent's chain with it, as OpenCode takes it.
    ...(!model && body.variant ? { variant: body.variant } : {}),
    ...(body.system ? { system: body.system } : {}),
    ...(body.tools ? { tools: body.tools } : {}),
    ...(body.permission ? { approvals: rulesToPermission(body.permission) } : {}),
    ...(body.messageID ? { userMessageID: body.messageID } : {}),
  };
}
