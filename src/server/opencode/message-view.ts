/**
 * A stored session's messages as OpenCode shows them: each turn is a user message (its text and
 * files) and an assistant message whose parts are, per model call, `step-start`, the text, the tool
 * calls with their results, and `step-finish` with that call's tokens and cost. Ids come from the
 * turn info saved with the session (or, for sessions saved before it existed, from positions), so
 * every read gives the same ids, and the parts streamed during a turn have the ids read back later.
 */
import path from 'node:path';
import { partId } from '../../session/ids.ts';
import { blockText, splitInlined, usableFiles } from '../../session/attached-files.ts';
import type { SessionFile, SessionMessage, SessionRecord, StepInfo, TurnInfo } from '../../session/store.ts';
import { toolErrorText, toolMetadata } from './tool-metadata.ts';

export type OcPart = { id: string; sessionID: string; messageID: string; type: string } & Record<string, unknown>;

export interface OcUserInfo {
  id: string;
  sessionID: string;
  role: 'user';
  time: { created: number };
  agent: string;
  model: { providerID: string; modelID: string };
}

export interface OcAssistantInfo {
  /** A compaction's reply: the session's summary. */
  summary?: boolean;
  id: string;
  sessionID: string;
  role: 'assistant';
  time: { created: number; completed?: number };
  error?: { name: string; data: Record<string, unknown> };
  parentID: string;
  modelID: string;
  providerID: string;
  mode: string;
  agent: string;
  path: { cwd: string; root: string };
  cost: number;
  tokens: { input: number; output: number; reasoning: number; cache: { read: number; write: number } };
  finish?: string;
}

export interface OcMessage {
  info: OcUserInfo | OcAssistantInfo;
  parts: OcPart[];
}

type Content = { type: string; text?: string; data?: unknown; mediaType?: string; filename?: string; toolCallId?: string; toolName?: string; input?: unknown; output?: unknown }[];

/** `provider/model` (a label, maybe with `:variant`) as OpenCode's two ids. */
export function splitModel(provider: string | undefined, label: string | undefined): { providerID: string; modelID: string } {
  if (!provider || !label) return { providerID: provider ?? '', modelID: label ?? '' };
  return { providerID: provider, modelID: label.startsWith(`${provider}/`) ? label.slice(provider.length + 1) : label };
}

export function tokensOf(usage: { inputTokens: number; outputTokens: number } | undefined) {
  return { input: usage?.inputTokens ?? 0, output: usage?.outputTokens ?? 0, reasoning: 0, cache: { read: 0, write: 0 } };
}

/** A turn's failure in OpenCode's error shapes (name + data.message). */
export function openCodeErrorOf(error: { code: string; message: string }, provider?: string): { name: string; data: Record<string, unknown> } {
  if (error.code === 'CANCELLED') return { name: 'MessageAbortedError', data: { message: error.message } };
  if (error.code === 'PROVIDER_AUTH') return { name: 'ProviderAuthError', data: { providerID: provider ?? '', message: error.message } };
  if (['ALL_FALLBACKS_FAILED', 'PROVIDER_ERROR', 'PROVIDER_BAD_REQUEST', 'RATE_LIMITED'].includes(error.code)) {
    return { name: 'APIError', data: { message: error.message, isRetryable: false, code: error.code } };
  }
  return { name: 'UnknownError', data: { message: error.message, code: error.code } };
}

function base64(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data instanceof Uint8Array) return Buffer.from(data).toString('base64');
  return '';
}

/** A command run as a sub-task, as OpenCode's user message has it (its only part): `{type: "subtask", prompt, description, agent, model, command}`. */
export function subtaskPart(subtask: { agent: string; description: string; command: string; prompt: string }, model: { providerID: string; modelID: string }): Record<string, unknown> & { type: string } {
  // A session file edited by hand may hold anything here: what is not text is left empty.
  const text = (value: unknown): string => (typeof value === 'string' ? value : '');
  return { type: 'subtask', prompt: text(subtask.prompt), description: text(subtask.description), agent: text(subtask.agent), model, command: text(subtask.command) };
}

/**
 * The parts of a user message: its text (`synthetic`: OpenCode's note of a shell turn, which its TUI
 * does not show), and its files as data: URLs; or, for a message whose attachments were kept
 * (`files`), as OpenCode has them: the user's text, a file part per attachment as it was sent, and
 * each text file's content as a synthetic part (the model's view, which the TUI does not show).
 * The items the server added (`added`: an `@`-mentioned MCP resource's texts) are synthetic text
 * parts, after the user's text and files, as OpenCode keeps them.
 */
export function userParts(content: unknown, sessionID: string, messageID: string, synthetic = false, files?: readonly SessionFile[], added?: readonly number[]): OcPart[] {
  const all: Content = typeof content === 'string' ? [{ type: 'text', text: content }] : Array.isArray(content) ? (content as Content) : [];
  const usable = usableFiles(files);
  const extra = Array.isArray(added) ? new Set(added) : undefined;
  if (usable.length) {
    // The user's own items make its parts as before; the server's follow the files, before the text files' blocks.
    const own = extra ? all.filter((_, i) => !extra.has(i)) : all;
    const theirs = extra ? all.filter((_, i) => extra.has(i)) : [];
    return attachedParts(own, usable, sessionID, messageID, theirs);
  }
  const parts: OcPart[] = [];
  for (const [index, item] of all.entries()) {
    const where = { id: partId(messageID, parts.length), sessionID, messageID };
    if (item.type === 'text') parts.push({ ...where, type: 'text', text: item.text ?? '', ...(synthetic || extra?.has(index) ? { synthetic: true } : {}) });
    else if (item.type === 'file' || item.type === 'image') {
      const mime = item.mediaType ?? 'application/octet-stream';
      parts.push({ ...where, type: 'file', mime, ...(item.filename ? { filename: item.filename } : {}), url: `data:${mime};base64,${base64(item.data)}` });
    }
  }
  return parts;
}

function attachedParts(items: Content, files: readonly SessionFile[], sessionID: string, messageID: string, added: Content): OcPart[] {
  const parts: OcPart[] = [];
  const add = (part: Record<string, unknown> & { type: string }) => parts.push({ id: partId(messageID, parts.length), sessionID, messageID, ...part });
  const { own, blocks } = splitInlined(items.find((item) => item.type === 'text')?.text ?? '', files);
  add({ type: 'text', text: own });
  // Each text file's block, in order after the user's text; images are the content's file parts, in order.
  const pending = [...blocks];
  const images = items.filter((item) => item.type === 'file' || item.type === 'image');
  for (const file of files) {
    let data = '';
    if (file.inlined !== undefined) {
      const block = pending.shift();
      if (block !== undefined && file.url === undefined) data = Buffer.from(blockText(block)).toString('base64');
    } else {
      const image = images.shift();
      if (image && file.url === undefined) data = base64(image.data);
    }
    add({ type: 'file', mime: file.mime, filename: file.filename, url: file.url ?? `data:${file.mime};base64,${data}` });
  }
  for (const item of added) {
    if (item.type === 'text') add({ type: 'text', text: item.text ?? '', synthetic: true });
    else if (item.type === 'file' || item.type === 'image') {
      const mime = item.mediaType ?? 'application/octet-stream';
      add({ type: 'file', mime, ...(item.filename ? { filename: item.filename } : {}), url: `data:${mime};base64,${base64(item.data)}` });
    }
  }
  // Last, so that the parts streamed while the turn ran (the text, the files) keep their ids.
  for (const block of blocks) add({ type: 'text', text: block.replace(/^\n\n/, ''), synthetic: true });
  return parts;
}

function toolOutput(output: unknown): { text: string; error: boolean } {
  const o = (output ?? {}) as { type?: string; value?: unknown };
  const text = typeof o.value === 'string' ? o.value : JSON.stringify(o.value ?? output) ?? '';
  return { text, error: o.type === 'error-text' || o.type === 'error-json' };
}

/** Builds one assistant message from the model messages of a turn (assistant and tool messages in order). */
class AssistantBuilder {
  readonly parts: OcPart[] = [];
  readonly #tools = new Map<string, OcPart>();
  #step = 0;
  readonly sessionID: string;
  readonly messageID: string;
  readonly steps: readonly StepInfo[];
  readonly time: number;
  readonly projectRoot: string;
  constructor(sessionID: string, messageID: string, steps: readonly StepInfo[], time: number, projectRoot: string) {
    this.sessionID = sessionID;
    this.messageID = messageID;
    this.steps = steps;
    this.time = time;
    this.projectRoot = projectRoot;
  }

  #add(part: Record<string, unknown> & { type: string }): OcPart {
    const full = { id: partId(this.messageID, this.parts.length), sessionID: this.sessionID, messageID: this.messageID, ...part } as OcPart;
    this.parts.push(full);
    return full;
  }

  /** An assistant message's parts: a model step's (`step`), or a command's sub-task's `task` call alone (no step of the model's). */
  assistant(content: unknown, step = true): void {
    const items: Content = typeof content === 'string' ? [{ type: 'text', text: content }] : Array.isArray(content) ? (content as Content) : [];
    if (step) this.#add({ type: 'step-start' });
    let calls = 0;
    for (const item of items) {
      if (item.type === 'text' && item.text) this.#add({ type: 'text', text: item.text, time: { start: this.time, end: this.time } });
      else if (item.type === 'reasoning' && item.text) this.#add({ type: 'reasoning', text: item.text, time: { start: this.time, end: this.time } });
      else if (item.type === 'tool-call') {
        calls += 1;
        const part = this.#add({ type: 'tool', callID: item.toolCallId ?? '', tool: item.toolName ?? '', state: { status: 'running', input: item.input ?? {}, time: { start: this.time } } });
        this.#tools.set(item.toolCallId ?? '', part);
      }
    }
    if (!step) return;
    const info = this.steps[this.#step];
    this.#step += 1;
    this.#add({ type: 'step-finish', reason: info?.reason ?? (calls ? 'tool-calls' : 'stop'), cost: info?.costUSD ?? 0, tokens: tokensOf(info?.usage) });
  }

  tool(content: unknown, patches: Record<string, string> | undefined, children: Record<string, string> | undefined, titles: Record<string, string> | undefined): void {
    for (const item of Array.isArray(content) ? (content as Content) : []) {
      const part = item.type === 'tool-result' ? this.#tools.get(item.toolCallId ?? '') : undefined;
      if (!part) continue;
      const input = (part.state as { input: unknown }).input;
      const out = toolOutput(item.output);
      const task = part.tool === 'task' ? taskPartFields(input, patchOf(children, item.toolCallId), this.sessionID, out.error ? undefined : out.text) : undefined;
      part.state = out.error
        ? { status: 'error', input, error: toolErrorText(out.text), ...(task ? { metadata: task.metadata } : {}), time: { start: this.time, end: this.time } }
        : { status: 'completed', input, output: out.text, title: patchOf(titles, item.toolCallId) ?? toolTitle(String(part.tool), input, this.projectRoot), metadata: toolMetadata(String(part.tool), out.text, { patch: patchOf(patches, item.toolCallId), input, projectRoot: this.projectRoot }), ...task, time: { start: this.time, end: this.time } };
    }
  }
}

/** OpenCode's own tools (with Pantheon's `list` and `todoread`): the rest, an MCP server's, have no title. */
const OPENCODE_TOOLS = new Set(['bash', 'read', 'write', 'edit', 'list', 'glob', 'grep', 'webfetch', 'websearch', 'codesearch', 'task', 'skill', 'question', 'todowrite', 'todoread', 'apply_patch', 'lsp', 'invalid']);

/**
 * A tool part's title as OpenCode's tools give it: what the call is about (the command, the file
 * relative to the project, the pattern, the URL), which OpenCode's TUI shows after the tool's name
 * (under a `task` call: the sub-task's current tool, `↳ Read src/a.ts`); `todowrite`'s, how many of
 * its todos are not done (`2 todos`); `question`'s, how many it asks (`Asked 2 questions`); else a built-in tool's name, and for any other tool (an MCP
 * server's) nothing, as OpenCode leaves those untitled.
 */
export function toolTitle(tool: string, input: unknown, projectRoot: string): string {
  const args = (input !== null && typeof input === 'object' ? input : {}) as Record<string, unknown>;
  const text = (key: string): string | undefined => (typeof args[key] === 'string' && (args[key] as string) ? (args[key] as string) : undefined);
  const file = (key: string): string | undefined => {
    const value = text(key);
    return value === undefined ? undefined : path.isAbsolute(value) ? path.relative(projectRoot, value) || value : value;
  };
  const title = tool === 'bash' ? text('command')
    : ['read', 'write', 'edit'].includes(tool) ? file('filePath')
    : tool === 'list' ? file('path')
    : ['glob', 'grep'].includes(tool) ? text('pattern')
    : tool === 'webfetch' ? text('url')
    : tool === 'skill' && text('name') ? `Loaded skill: ${text('name') as string}`
    : tool === 'task' ? text('description')
    : tool === 'read_mcp_resource' && text('uri') ? `MCP resource: ${text('uri') as string}`
    : tool === 'list_mcp_resources' ? (text('server') ? `MCP resources: ${text('server') as string}` : 'MCP resources')
    : tool === 'list_mcp_resource_templates' ? (text('server') ? `MCP resource templates: ${text('server') as string}` : 'MCP resource templates')
    : tool === 'question' && Array.isArray(args.questions) ? `Asked ${args.questions.length} question${args.questions.length === 1 ? '' : 's'}`
    : (tool === 'todowrite' || tool === 'todoread') && Array.isArray(args.todos) ? `${args.todos.filter((t) => (t as { status?: unknown } | null)?.status !== 'completed').length} todos`
    : undefined;
  return title === undefined ? (OPENCODE_TOOLS.has(tool) ? tool : '') : title.length > 200 ? `${title.slice(0, 199)}\u2026` : title;
}

/**
 * A `task` call's title and metadata as OpenCode's are: its description, and the child session that
 * ran it (`sessionId`, with `parentSessionId`), which OpenCode's TUI follows to show the sub-task's
 * progress under the call and opens on a click; a call whose sub-task went to the background (its
 * output is OpenCode's running frame) has `background: true` and `jobId` too, on which the TUI
 * keeps the call spinning while the child session is busy.
 */
export function taskPartFields(input: unknown, childSessionID: string | undefined, sessionID: string, output?: string): { title: string; metadata: Record<string, unknown> } {
  const description = (input as { description?: unknown } | undefined)?.description;
  const background = childSessionID !== undefined && output?.startsWith(`<task id="${childSessionID}" state="running">`) === true;
  return {
    title: typeof description === 'string' ? description : 'task',
    metadata: childSessionID ? { parentSessionId: sessionID, sessionId: childSessionID, ...(background ? { background: true, jobId: childSessionID } : {}) } : {},
  };
}

/** The text stored for a call (a patch, a child session's id), if it is text (a hand-edited file may hold anything). */
function patchOf(patches: Record<string, string> | undefined, callId: string | undefined): string | undefined {
  if (patches === undefined || typeof patches !== 'object' || callId === undefined || !Object.hasOwn(patches, callId)) return undefined;
  const patch = patches[callId];
  return typeof patch === 'string' ? patch : undefined;
}

function legacyId(record: SessionRecord, index: number): string {
  return `msg_${record.id.slice(4)}${index.toString().padStart(4, '0')}`;
}

function assistantInfo(record: SessionRecord, userID: string, id: string, info: TurnInfo | undefined, time: number): OcAssistantInfo {
  const reply = info?.reply;
  const last = reply?.steps.at(-1);
  const model = splitModel(reply?.provider ?? last?.provider, reply?.model ?? last?.model);
  const completed = reply ? reply.completed : time;
  return {
    id,
    sessionID: record.id,
    role: 'assistant',
    time: { created: info?.time ?? time, ...(completed === undefined ? {} : { completed }) },
    ...(reply?.error ? { error: openCodeErrorOf(reply.error, model.providerID) } : {}),
    parentID: userID,
    ...model,
    // A compaction's reply is OpenCode's compaction agent's (its TUI heads it "Compaction"), whatever agent the turn had.
    mode: info?.compaction ? 'compaction' : (info?.agent ?? record.agent),
    agent: info?.compaction ? 'compaction' : (info?.agent ?? record.agent),
    ...(info?.compaction ? { summary: true } : {}),
    path: { cwd: record.projectRoot, root: record.projectRoot },
    cost: reply?.costUSD ?? 0,
    tokens: tokensOf(reply?.usage),
    ...(reply && !reply.error ? { finish: last?.reason ?? 'stop' } : {}),
  };
}

/** Every message of a session, oldest first. */
export function openCodeMessages(record: SessionRecord): OcMessage[] {
  return convert(record, 0, record.messages.length);
}

/**
 * One turn of a session: its user message (id `userMessageID`) and the reply, without converting
 * the rest of the session (a reply is sent after every turn; a session's history only grows).
 */
export function openCodeTurn(record: SessionRecord, userMessageID: string): OcMessage[] {
  const messages = record.messages;
  let from = messages.length - 1;
  while (from >= 0 && !(messages[from]?.role === 'user' && messages[from]?.info?.id === userMessageID)) from--;
  if (from < 0) return [];
  let to = from + 1;
  while (to < messages.length && messages[to]?.role !== 'user') to++;
  return convert(record, from, to);
}

/** Messages `from` to `to` (exclusive) of a session, oldest first. */
function convert(record: SessionRecord, from: number, to: number): OcMessage[] {
  const out: OcMessage[] = [];
  const edits = new Map<string, Record<string, unknown> | null>();
  let builder: AssistantBuilder | undefined;
  let prelude = false;
  const messages: readonly SessionMessage[] = record.messages;
  for (let i = from; i < to; i++) {
    const m = messages[i] as SessionMessage;
    if (m.role === 'user') {
      const info = m.info;
      const id = info?.id ?? legacyId(record, i);
      const time = info?.time ?? record.createdAt;
      const replyModel = splitModel(info?.reply.provider, info?.reply.model);
      // A command's sub-task turn: its user message is OpenCode's `subtask` part, its first assistant message the sub-task's `task` call (no model step).
      prelude = info?.subtask !== null && typeof info?.subtask === 'object';
      // A message a client deleted is not shown (session/message-edits.ts).
      if (!info?.removed) out.push({ info: { id, sessionID: record.id, role: 'user', time: { created: time }, agent: info?.agent ?? record.agent, model: replyModel }, parts: info?.compaction ? [{ id: partId(id, 0), sessionID: record.id, messageID: id, type: 'compaction', auto: false }] : prelude && info?.subtask ? [{ id: partId(id, 0), sessionID: record.id, messageID: id, ...subtaskPart(info.subtask, replyModel) } as OcPart] : userParts(m.content, record.id, id, info?.shell === true || info?.synthetic === true, m.files, m.added) });
      builder = undefined;
      if (info) {
        builder = new AssistantBuilder(record.id, info.reply.id, info.reply.steps, time, record.projectRoot);
        if (!info.reply.removed) out.push({ info: assistantInfo(record, id, info.reply.id, info, time), parts: builder.parts });
        if (info.edits) for (const [partID, edit] of Object.entries(info.edits)) edits.set(partID, edit);
      }
      continue;
    }
    if (m.role !== 'assistant' && m.role !== 'tool') continue;
    if (!builder) {
      const user = [...out].reverse().find((o) => o.info.role === 'user');
      const id = legacyId(record, i);
      builder = new AssistantBuilder(record.id, id, [], record.updatedAt, record.projectRoot);
      out.push({ info: assistantInfo(record, user?.info.id ?? '', id, undefined, record.updatedAt), parts: builder.parts });
    }
    if (m.role === 'assistant') builder.assistant(m.content, !prelude);
    if (m.role === 'assistant') prelude = false;
    else builder.tool(m.content, m.diffs, m.children, m.titles);
  }
  return edits.size ? out.map((message) => ({ info: message.info, parts: editedParts(message.parts, edits) })) : out;
}

/** Parts as clients edited them: a deleted one left out, a rewritten one as sent (its ids as they are). */
function editedParts(parts: readonly OcPart[], edits: ReadonlyMap<string, Record<string, unknown> | null>): OcPart[] {
  const out: OcPart[] = [];
  for (const part of parts) {
    const edit = edits.get(part.id);
    if (edit === null) continue;
    out.push(edit === undefined ? part : ({ ...edit, id: part.id, sessionID: part.sessionID, messageID: part.messageID } as OcPart));
  }
  return out;
}
