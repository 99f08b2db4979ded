/**
 * Sessions and their messages as OpenCode's v2 API (`/api/session…`) shows them, projected from the
 * same views as the v1 routes (session-view.ts, message-view.ts): a session is `SessionV2Info`; each
 * turn is a `user` message (its text and files) and an `assistant` one whose `content` is its text,
 * reasoning and tool calls (a shell turn is one `shell` message, a compaction one `compaction`
 * message holding the summary). Pages of a list are cut by opaque cursors, as OpenCode's are.
 */
import type { SessionRecord, SessionSummary } from '../../session/store.ts';
import type { OcMessage, OcPart } from './message-view.ts';
import { openCodeSession, revertV2 } from './session-view.ts';

type Json = Record<string, unknown>;
/** A v2 message: its id, its type and the rest of its fields. */
export type MessageV2 = Json & { id: string; type: string };

/** `provider/model[:variant]` as OpenCode's ModelRef (its variant `default` when it names none, as OpenCode shows it). */
export function modelRefOf(model: string): { id: string; providerID: string; variant: string } {
  const slash = model.indexOf('/');
  const providerID = slash < 0 ? '' : model.slice(0, slash);
  const rest = slash < 0 ? model : model.slice(slash + 1);
  const colon = rest.lastIndexOf(':');
  return colon > 0 ? { id: rest.slice(0, colon), providerID, variant: rest.slice(colon + 1) } : { id: rest, providerID, variant: 'default' };
}

/** A session as OpenCode's v2 SessionV2Info. */
export function sessionV2(record: SessionRecord | SessionSummary, version: string): Json {
  const v1 = openCodeSession(record, version);
  return {
    id: record.id,
    ...(record.parentID ? { parentID: record.parentID } : {}),
    projectID: v1.projectID,
    ...(record.agent ? { agent: record.agent } : {}),
    ...('model' in record && record.model ? { model: modelRefOf(record.model) } : {}),
    cost: record.costUSD ?? 0,
    tokens: v1.tokens,
    time: v1.time,
    title: v1.title,
    location: { directory: record.projectRoot },
    ...(record.revert ? { revert: revertV2(record.revert) } : {}),
  };
}

function textOf(parts: readonly OcPart[]): string {
  return parts
    .filter((p) => p.type === 'text' && p.synthetic !== true)
    .map((p) => String(p.text ?? ''))
    .join('\n');
}

function toolState(state: Json): Json {
  const input = (state.input ?? {}) as Json;
  if (state.status === 'completed') return { status: 'completed', input, content: [{ type: 'text', text: String(state.output ?? '') }], structured: (state.metadata ?? {}) as Json };
  if (state.status === 'error') return { status: 'error', input, content: [], structured: (state.metadata ?? {}) as Json, error: { type: 'unknown', message: String(state.error ?? '') } };
  return { status: 'running', input, structured: {}, content: [] };
}

function content(parts: readonly OcPart[]): Json[] {
  const out: Json[] = [];
  for (const part of parts) {
    if (part.type === 'text') out.push({ type: 'text', id: part.id, text: part.text ?? '' });
    else if (part.type === 'reasoning') out.push({ type: 'reasoning', id: part.id, text: part.text ?? '' });
    else if (part.type === 'tool') {
      const state = (part.state ?? {}) as Json & { time?: { start?: number; end?: number } };
      out.push({ type: 'tool', id: part.callID, name: part.tool, state: toolState(state), time: { created: state.time?.start ?? 0, ...(state.time?.end === undefined ? {} : { completed: state.time.end }) } });
    }
  }
  return out;
}

function assistantV2(message: OcMessage): MessageV2 {
  const info = message.info as OcMessage['info'] & { role: 'assistant' };
  const error = info.error ? { type: 'unknown', message: String(info.error.data.message ?? info.error.name) } : undefined;
  const finish = info.finish ?? (error ? 'error' : undefined);
  return {
    id: info.id,
    time: info.time,
    type: 'assistant',
    agent: info.agent,
    model: modelRefOf(`${info.providerID}/${info.modelID}`),
    content: content(message.parts),
    ...(finish ? { finish } : {}),
    cost: info.cost,
    tokens: info.tokens,
    ...(error ? { error } : {}),
  };
}

/** OpenCode v1 messages (oldest first) as v2 SessionMessages, oldest first. */
export function messagesV2(messages: readonly OcMessage[]): MessageV2[] {
  const out: MessageV2[] = [];
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as OcMessage;
    if (message.info.role === 'assistant') {
      out.push(assistantV2(message));
      continue;
    }
    const info = message.info;
    const next = messages[i + 1];
    const reply = next?.info.role === 'assistant' ? next : undefined;
    if (message.parts[0]?.type === 'compaction') {
      // A compaction turn: the summary is its reply's text.
      out.push({ id: info.id, time: { created: info.time.created }, type: 'compaction', reason: 'manual', summary: reply ? textOf(reply.parts) : '', recent: '' });
      if (reply) i += 1;
      continue;
    }
    const call = reply?.parts.find((p) => p.type === 'tool');
    if (message.parts.length > 0 && message.parts.every((p) => p.type === 'text' && p.synthetic === true) && call) {
      // A shell turn: the command the user typed and its output.
      const state = (call.state ?? {}) as Json & { input?: { command?: string }; time?: { end?: number } };
      out.push({ id: info.id, time: { created: info.time.created, ...(state.time?.end === undefined ? {} : { completed: state.time.end }) }, type: 'shell', callID: call.callID, command: String(state.input?.command ?? ''), output: String(state.output ?? state.error ?? '') });
      i += 1;
      continue;
    }
    const files = message.parts.filter((p) => p.type === 'file').map((p) => ({ uri: String(p.url ?? ''), mime: String(p.mime ?? 'application/octet-stream'), ...(p.filename ? { name: String(p.filename) } : {}) }));
    out.push({ id: info.id, time: { created: info.time.created }, text: textOf(message.parts), ...(files.length ? { files } : {}), type: 'user' });
  }
  return out;
}

/** The messages the model sees next: from the last compaction on (all of them when there was none). */
export function contextV2(messages: readonly MessageV2[]): MessageV2[] {
  let from = 0;
  messages.forEach((m, i) => {
    if (m.type === 'compaction') from = i;
  });
  return messages.slice(from);
}

export type Order = 'asc' | 'desc';

export interface Cursor {
  id: string;
  order: Order;
  direction: 'previous' | 'next';
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/** A cursor a page gave, or undefined when `text` is not one. */
export function decodeCursor(text: string): Cursor | undefined {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (typeof value.id !== 'string' || (value.order !== 'asc' && value.order !== 'desc') || (value.direction !== 'previous' && value.direction !== 'next')) return undefined;
    return { id: value.id, order: value.order, direction: value.direction };
  } catch {
    return undefined;
  }
}

/**
 * One page of `items` (ordered oldest first) in `order`: from the start, or after (`next`) or before
 * (`previous`) the cursor's item; with cursors to the pages either side (null on an empty page).
 */
export function page<T extends { id: string }>(items: readonly T[], order: Order, limit: number, cursor?: Cursor): { data: T[]; cursor: { previous: string | null; next: string | null } } {
  const ordered = order === 'asc' ? [...items] : [...items].reverse();
  let data: T[];
  if (!cursor) data = ordered.slice(0, limit);
  else {
    const at = ordered.findIndex((item) => item.id === cursor.id);
    if (at < 0) data = [];
    else if (cursor.direction === 'next') data = ordered.slice(at + 1, at + 1 + limit);
    else data = ordered.slice(Math.max(0, at - limit), at);
  }
  const first = data[0];
  const last = data.at(-1);
  return {
    data,
    cursor: {
      previous: first ? encodeCursor({ id: first.id, order, direction: 'previous' }) : null,
      next: last ? encodeCursor({ id: last.id, order, direction: 'next' }) : null,
    },
  };
}
