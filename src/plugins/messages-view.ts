/**
 * The messages of a model call as OpenCode's `experimental.chat.messages.transform` hands them to a
 * plugin, and back. Pantheon keeps a session as the AI SDK's messages; OpenCode's plugins see
 * `{info, parts}` — a user message per turn (its text and file parts) and the reply as one
 * assistant message (`step-start`, text, reasoning and `tool` parts with their state, `step-finish`
 * per model call), with the ids clients read (`GET /session/{id}/message`: the turn's ids, part ids
 * by position). The plugin changes them in place (a tool's output replaced, a message dropped, a
 * text part added); what it leaves is turned back into the AI SDK's messages as OpenCode's
 * toModelMessages reads its parts: an `ignored` text is not sent, a `compacted` tool's output is
 * OpenCode's placeholder, a call still running is an interrupted one. A part left as it was is sent
 * as it was (its file data, its provider metadata, an MCP tool's content).
 */
import type { ModelMessage } from 'ai';
import { newMessageId, partId } from '../session/ids.ts';
import { turnOf } from '../session/model-history.ts';
import type { StepInfo, SessionUsage } from '../session/store.ts';

type Item = Record<string, unknown> & { type: string };
export type ViewPart = Record<string, unknown> & { id: string; sessionID: string; messageID: string; type: string };
export interface ViewMessage {
  info: Record<string, unknown>;
  parts: ViewPart[];
}

/** The turn the call belongs to: what a message whose turn is not recorded is told (its session, agent, model). */
export interface ViewContext {
  sessionID: string;
  /** The project root, as the assistant messages' `path`. */
  directory: string;
  agent: string;
  model: { providerID: string; modelID: string };
}

/** What a part was made from, by part id: given back when the hook left the part as it was. */
interface Origin {
  item?: Item;
  /** A tool part's result. */
  result?: Item;
  /** A compaction's user message, whose one part stands for its whole content. */
  content?: Item[];
}

export interface MessagesView {
  messages: ViewMessage[];
  /** System messages of the call, kept before the others (OpenCode's system prompt is not among its messages). */
  system: ModelMessage[];
  origins: Map<string, Origin>;
}

/** Ids made for messages whose turn is not recorded (a sub-task's note, a session saved before ids), the same at each call of the turn. */
const madeIds = new WeakMap<object, { user: string; reply: string }>();

function idsOf(message: object): { user: string; reply: string } {
  let ids = madeIds.get(message);
  if (!ids) {
    ids = { user: newMessageId(), reply: newMessageId() };
    madeIds.set(message, ids);
  }
  return ids;
}

function itemsOf(content: unknown): Item[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return Array.isArray(content) ? (content.filter((i) => i !== null && typeof i === 'object' && typeof (i as Item).type === 'string') as Item[]) : [];
}

function dataUrl(mime: string, data: unknown): string {
  if (data instanceof URL) return data.href;
  if (typeof data === 'string') return /^(?:https?|data|file):/.test(data) ? data : `data:${mime};base64,${data}`;
  if (data instanceof Uint8Array) return `data:${mime};base64,${Buffer.from(data).toString('base64')}`;
  return `data:${mime};base64,`;
}

/** A tool result's text, as OpenCode's `state.output` (an MCP tool's content: its texts). */
function resultText(output: unknown): { text: string; error: boolean } {
  const o = (output ?? {}) as { type?: unknown; value?: unknown };
  const error = o.type === 'error-text' || o.type === 'error-json';
  if (typeof o.value === 'string') return { text: o.value, error };
  if (o.type === 'content' && Array.isArray(o.value)) return { text: o.value.map((p) => (typeof (p as { text?: unknown })?.text === 'string' ? (p as { text: string }).text : '')).join(''), error };
  return { text: JSON.stringify(o.value ?? output) ?? '', error };
}

/** Tokens as OpenCode's message and step-finish carry them (GET /session/{id}/message's: message-view.ts). */
const tokensOf = (usage?: SessionUsage) => ({ input: usage?.inputTokens ?? 0, output: usage?.outputTokens ?? 0, reasoning: 0, cache: { read: 0, write: 0 } });

/** `provider/model` (a label) as OpenCode's two ids. */
function modelIds(provider: string | undefined, label: string | undefined, fallback: { providerID: string; modelID: string }): { providerID: string; modelID: string } {
  if (!provider || !label) return fallback;
  return { providerID: provider, modelID: label.startsWith(`${provider}/`) ? label.slice(provider.length + 1) : label };
}

/** The call's messages as OpenCode's `{info, parts}`. */
export function toView(messages: readonly ModelMessage[], ctx: ViewContext): MessagesView {
  const view: ViewMessage[] = [];
  const system: ModelMessage[] = [];
  const origins = new Map<string, Origin>();
  let reply: ViewMessage | undefined;
  let replyOf: { id: string; parentID: string; created: number; agent: string; model: { providerID: string; modelID: string }; summary: boolean; done: boolean; finish?: string; cost?: number; usage?: SessionUsage } | undefined;
  // The turn's model calls as saved (each with the model's finish reason, its tokens and cost), in the order of its assistant messages.
  let steps: readonly StepInfo[] = [];
  let stepAt = 0;
  // A command's sub-task turn: its first assistant message is the sub-task's `task` call, not a model call of its own.
  let prelude = false;
  const tools = new Map<string, ViewPart>();
  const now = Date.now();
  const add = (message: ViewMessage, part: Record<string, unknown> & { type: string }, origin?: Origin): ViewPart => {
    const id = partId(String(message.info.id), message.parts.length);
    const full = { id, sessionID: ctx.sessionID, messageID: String(message.info.id), ...part } as ViewPart;
    message.parts.push(full);
    if (origin) origins.set(id, origin);
    return full;
  };
  const openReply = (): ViewMessage => {
    if (reply) return reply;
    const of = replyOf ?? { id: newMessageId(), parentID: '', created: now, agent: ctx.agent, model: ctx.model, summary: false, done: false };
    reply = {
      info: {
        id: of.id,
        sessionID: ctx.sessionID,
        role: 'assistant',
        time: { created: of.created, ...(of.done ? { completed: of.created } : {}) },
        parentID: of.parentID,
        modelID: of.model.modelID,
        providerID: of.model.providerID,
        mode: of.agent,
        agent: of.agent,
        path: { cwd: ctx.directory, root: ctx.directory },
        cost: of.cost ?? 0,
        tokens: tokensOf(of.usage),
        ...(of.summary ? { summary: true } : {}),
        ...(of.done ? { finish: of.finish ?? 'stop' } : {}),
      },
      parts: [],
    };
    view.push(reply);
    return reply;
  };
  for (const m of messages) {
    if (m.role === 'system') {
      system.push(m);
      continue;
    }
    if (m.role === 'user') {
      const info = turnOf(m);
      const ids = info ? { user: info.id, reply: info.reply.id } : idsOf(m);
      const created = info?.time ?? now;
      const model = modelIds(info?.reply.provider, info?.reply.model, ctx.model);
      const agent = info?.agent ?? ctx.agent;
      const user: ViewMessage = { info: { id: ids.user, sessionID: ctx.sessionID, role: 'user', time: { created }, agent, model }, parts: [] };
      view.push(user);
      const items = itemsOf(m.content);
      if (info?.compaction) add(user, { type: 'compaction', auto: false }, { content: items });
      else {
        for (const item of items) {
          if (item.type === 'text') add(user, { type: 'text', text: String(item.text ?? ''), ...(info?.shell || info?.synthetic ? { synthetic: true } : {}) }, { item });
          else if (item.type === 'file' || item.type === 'image') {
            const mime = typeof item.mediaType === 'string' ? item.mediaType : item.type === 'image' ? 'image/png' : 'application/octet-stream';
            add(user, { type: 'file', mime, ...(typeof item.filename === 'string' ? { filename: item.filename } : {}), url: dataUrl(mime, item.type === 'image' ? item.image : item.data) }, { item });
          }
        }
      }
      reply = undefined;
      tools.clear();
      steps = info?.reply.steps ?? [];
      stepAt = 0;
      prelude = info?.subtask !== null && typeof info?.subtask === 'object';
      const finish = steps.at(-1)?.reason;
      replyOf = { id: ids.reply, parentID: ids.user, created, agent, model, summary: info?.compaction === true, done: info !== undefined && info.reply.completed !== undefined && !info.reply.error, ...(finish ? { finish } : {}), ...(info ? { cost: info.reply.costUSD ?? 0, usage: info.reply.usage } : {}) };
      continue;
    }
    const target = openReply();
    if (m.role === 'assistant') {
      add(target, { type: 'step-start' });
      let calls = 0;
      for (const item of itemsOf(m.content)) {
        if ((item.type === 'text' || item.type === 'reasoning') && typeof item.text === 'string' && item.text !== '') add(target, { type: item.type, text: item.text, time: { start: replyOf?.created ?? now, end: replyOf?.created ?? now } }, { item });
        else if (item.type === 'tool-call') {
          calls += 1;
          const callID = String(item.toolCallId ?? '');
          const part = add(target, { type: 'tool', callID, tool: String(item.toolName ?? ''), state: { status: 'running', input: item.input ?? {}, time: { start: replyOf?.created ?? now } } }, { item });
          tools.set(callID, part);
        }
      }
      // The model's own reason, as saved; a session saved without it (before 0.3.0), the guess from the step's calls.
      const step = prelude ? undefined : steps[stepAt++];
      prelude = false;
      add(target, { type: 'step-finish', reason: step?.reason ?? (calls ? 'tool-calls' : 'stop'), cost: step?.costUSD ?? 0, tokens: tokensOf(step?.usage) });
      continue;
    }
    if (m.role === 'tool') {
      for (const item of itemsOf(m.content)) {
        if (item.type !== 'tool-result') continue;
        const part = tools.get(String(item.toolCallId ?? ''));
        if (!part) continue;
        const input = (part.state as { input: unknown }).input;
        const out = resultText(item.output);
        const time = { start: replyOf?.created ?? now, end: replyOf?.created ?? now };
        part.state = out.error ? { status: 'error', input, error: out.text, time } : { status: 'completed', input, output: out.text, title: '', metadata: {}, time };
        const origin = origins.get(part.id);
        if (origin) origin.result = item;
      }
    }
  }
  return { messages: view, system, origins };
}

const SUBTASK_NOTE = 'The following tool was executed by the user';
const INTERRUPTED = '[Tool execution was interrupted]';
const CLEARED = '[Old tool result content cleared]';

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A file part as the AI SDK's file content (a data: URL's data as base64, another URL as a URL). */
function fileItem(part: Record<string, unknown>): Item | undefined {
  const url = typeof part.url === 'string' ? part.url : '';
  const mime = typeof part.mime === 'string' ? part.mime : 'application/octet-stream';
  // As OpenCode: a text file or a folder is already in the message's text.
  if (mime === 'text/plain' || mime === 'application/x-directory') return undefined;
  const filename = typeof part.filename === 'string' ? { filename: part.filename } : {};
  if (url.startsWith('data:')) {
    const comma = url.indexOf(',');
    return comma < 0 ? undefined : { type: 'file', data: url.slice(comma + 1), mediaType: mime, ...filename };
  }
  try {
    return { type: 'file', data: new URL(url), mediaType: mime, ...filename };
  } catch {
    return undefined;
  }
}

function userContent(parts: readonly unknown[], origins: ReadonlyMap<string, Origin>): Item[] {
  const out: Item[] = [];
  for (const part of parts) {
    if (!isRecord(part)) continue;
    const origin = typeof part.id === 'string' ? origins.get(part.id) : undefined;
    if (part.type === 'text') {
      if (part.ignored === true || typeof part.text !== 'string' || part.text === '') continue;
      out.push(origin?.item?.type === 'text' && origin.item.text === part.text ? origin.item : { type: 'text', text: part.text });
    } else if (part.type === 'file') {
      const given = origin?.item;
      const same = given && (given.type === 'file' || given.type === 'image') && dataUrl(String(part.mime), given.type === 'image' ? given.image : given.data) === part.url;
      const item = same ? given : fileItem(part);
      if (item) out.push(item);
    } else if (part.type === 'compaction') {
      out.push(...(origin?.content ?? [{ type: 'text', text: 'What did we do so far?' }]));
    } else if (part.type === 'subtask') {
      out.push({ type: 'text', text: SUBTASK_NOTE });
    }
  }
  return out;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** An assistant message's parts as the AI SDK's messages: per `step-start`, the assistant's content and then the results of its calls. */
function assistantMessages(parts: readonly unknown[], origins: ReadonlyMap<string, Origin>): ModelMessage[] {
  const out: ModelMessage[] = [];
  let content: Item[] = [];
  let results: Item[] = [];
  const flush = (): void => {
    // Reasoning alone is refused by providers in a history.
    if (content.some((i) => i.type !== 'reasoning')) out.push({ role: 'assistant', content } as ModelMessage);
    if (results.length && content.some((i) => i.type === 'tool-call')) out.push({ role: 'tool', content: results } as ModelMessage);
    content = [];
    results = [];
  };
  for (const part of parts) {
    if (!isRecord(part)) continue;
    const origin = typeof part.id === 'string' ? origins.get(part.id) : undefined;
    if (part.type === 'step-start') flush();
    else if (part.type === 'text' || part.type === 'reasoning') {
      if (typeof part.text !== 'string' || part.text === '' || part.ignored === true) continue;
      content.push(origin?.item?.type === part.type && origin.item.text === part.text ? origin.item : { type: part.type, text: part.text });
    } else if (part.type === 'tool' && isRecord(part.state)) {
      const state = part.state;
      const toolCallId = String(part.callID ?? '');
      const toolName = String(part.tool ?? '');
      const input = state.input ?? {};
      const call = origin?.item;
      content.push(call?.type === 'tool-call' && call.toolCallId === toolCallId && call.toolName === toolName && sameJson(call.input, input) ? call : { type: 'tool-call', toolCallId, toolName, input });
      const given = origin?.result;
      const text = (value: string, error: boolean): Item => {
        const was = given ? resultText(given.output) : undefined;
        if (given && was && was.text === value && was.error === error && given.toolCallId === toolCallId) return given;
        return { type: 'tool-result', toolCallId, toolName, output: { type: error ? 'error-text' : 'text', value } };
      };
      if (state.status === 'completed') {
        const compacted = isRecord(state.time) && state.time.compacted !== undefined && state.time.compacted !== null && state.time.compacted !== false;
        results.push(text(compacted ? CLEARED : typeof state.output === 'string' ? state.output : (JSON.stringify(state.output) ?? ''), false));
      } else if (state.status === 'error') results.push(text(typeof state.error === 'string' ? state.error : String(state.error), true));
      else results.push(text(INTERRUPTED, true));
    }
  }
  flush();
  return out;
}

/** The view, as the hooks left it, as the AI SDK's messages (the system messages first). */
export function fromView(view: MessagesView, messages: readonly unknown[]): ModelMessage[] {
  const out: ModelMessage[] = [...view.system];
  for (const message of messages) {
    if (!isRecord(message) || !isRecord(message.info) || !Array.isArray(message.parts)) continue;
    if (message.info.role === 'user') {
      const content = userContent(message.parts, view.origins);
      if (content.length === 0) continue;
      const only = content.length === 1 ? content[0] : undefined;
      out.push({ role: 'user', content: only?.type === 'text' && Object.keys(only).length === 2 ? String(only.text) : content } as ModelMessage);
    } else if (message.info.role === 'assistant') out.push(...assistantMessages(message.parts, view.origins));
  }
  return out;
}
