/**
 * A session's messages and parts deleted or rewritten by a client (OpenCode's DELETE
 * /session/{id}/message/{messageID}, DELETE and PATCH …/part/{partID}). A turn is stored as model
 * messages with its info on the user message, and OpenCode's part ids come from positions
 * (ids.ts), so an edit is kept beside the turn rather than cut out of it: the ids of the parts
 * after it stay as clients know them.
 *
 * - A deleted user message is marked (TurnInfo.removed): clients no longer see it, nor does the model.
 * - A deleted reply loses its model messages (the assistant's and the tools'), and is marked
 *   (reply.removed) so clients no longer see it.
 * - A deleted or rewritten part is kept in TurnInfo.edits by its id: `null` deleted, else the part as
 *   the client sent it. Clients see the edit; the model sees a text or reasoning part's edit (the
 *   text gone, or the new text); a tool part's edit is for clients only (its call and result stay
 *   paired for the model).
 */
import { partId } from './ids.ts';
import type { SessionMessage, SessionRecord, TurnInfo } from './store.ts';

export type PartEdit = Record<string, unknown> | null;

type Item = { type?: unknown; text?: unknown };

/** The turn a message id belongs to: the index of its user message, and which of the turn's two messages it is. */
export function findTurnMessage(record: SessionRecord, messageID: string): { at: number; info: TurnInfo; role: 'user' | 'assistant' } | undefined {
  for (const [at, m] of record.messages.entries()) {
    const info = m.role === 'user' ? m.info : undefined;
    if (!info) continue;
    if (info.id === messageID && !info.removed) return { at, info, role: 'user' };
    if (info.reply.id === messageID && !info.reply.removed) return { at, info, role: 'assistant' };
  }
  return undefined;
}

/** The index just past turn `at`'s messages (its next user message, or the end). */
function turnEnd(messages: readonly SessionMessage[], at: number): number {
  let end = at + 1;
  while (end < messages.length && messages[end]?.role !== 'user') end++;
  return end;
}

/** The edits of a turn without those of one message's parts (its parts' ids start with its own). */
function editsWithout(edits: TurnInfo['edits'], messageID: string): TurnInfo['edits'] {
  if (!edits) return undefined;
  const prefix = partId(messageID, 0).slice(0, -4);
  const kept = Object.entries(edits).filter(([id]) => !id.startsWith(prefix));
  return kept.length ? Object.fromEntries(kept) : undefined;
}

/**
 * The messages as new objects (the store keeps the saved text of the objects it wrote: see
 * store.ts), with turn `at`'s info replaced and its model messages `[from, to)` dropped.
 */
function rewritten(record: SessionRecord, at: number, info: TurnInfo, drop?: { from: number; to: number }): SessionRecord {
  const messages: SessionMessage[] = [];
  for (const [i, m] of record.messages.entries()) {
    if (drop && i >= drop.from && i < drop.to) continue;
    messages.push(i === at ? { ...m, info } : { ...m });
  }
  // A later time than the file's: a turn running meanwhile reads the file anew before adding itself (core/session-turn.ts).
  return { ...record, messages, updatedAt: Math.max(Date.now(), record.updatedAt + 1) };
}

/** The record without a message (found by findTurnMessage). */
export function withoutMessage(record: SessionRecord, messageID: string): SessionRecord | undefined {
  const found = findTurnMessage(record, messageID);
  if (!found) return undefined;
  const { at, info, role } = found;
  const edits = editsWithout(info.edits, messageID);
  const { edits: _old, ...rest } = info;
  if (role === 'user') return rewritten(record, at, { ...rest, ...(edits ? { edits } : {}), removed: true });
  return rewritten(record, at, { ...rest, ...(edits ? { edits } : {}), reply: { ...info.reply, removed: true } }, { from: at + 1, to: turnEnd(record.messages, at) });
}

/** The record with part `partID` of a message deleted (`null`) or replaced. */
export function withPartEdit(record: SessionRecord, messageID: string, partID: string, edit: PartEdit): SessionRecord | undefined {
  const found = findTurnMessage(record, messageID);
  if (!found) return undefined;
  return rewritten(record, found.at, { ...found.info, edits: { ...found.info.edits, [partID]: edit } });
}

/** A text or reasoning item as its edit leaves it for the model: gone, retold, or as it was. */
function editedItem(item: Item, edit: PartEdit | undefined): Item | undefined {
  if (edit === undefined) return item;
  if (edit === null) return undefined;
  return typeof edit.text === 'string' && (edit.type === 'text' || edit.type === 'reasoning') ? { ...item, text: edit.text } : item;
}

function items(content: unknown): Item[] | undefined {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return Array.isArray(content) ? (content as Item[]) : undefined;
}

/** A user message's content as the model sees it after its parts' edits (parts counted as message-view.ts counts them). */
function editedUser(m: SessionMessage, info: TurnInfo): unknown {
  const list = items(m.content);
  // A message whose attachments were kept has parts of its own making: its text is the model's as sent.
  if (!list || !info.edits || m.files?.length) return m.content;
  let index = 0;
  const out: Item[] = [];
  for (const item of list) {
    if (item.type !== 'text' && item.type !== 'file' && item.type !== 'image') {
      out.push(item);
      continue;
    }
    const kept = item.type === 'text' ? editedItem(item, info.edits[partId(info.id, index)]) : info.edits[partId(info.id, index)] === null ? undefined : item;
    index++;
    if (kept) out.push(kept);
  }
  return out;
}

/** A turn's assistant messages as the model sees them after the reply's part edits (step-start, its items, step-finish per message). */
function editedReply(messages: readonly SessionMessage[], replyID: string, edits: NonNullable<TurnInfo['edits']>): SessionMessage[] {
  let index = 0;
  return messages.map((m) => {
    if (m.role !== 'assistant') return m;
    const list = items(m.content);
    index++;
    if (!list) return { ...m, content: m.content };
    const out: Item[] = [];
    for (const item of list) {
      const counted = ((item.type === 'text' || item.type === 'reasoning') && typeof item.text === 'string' && item.text !== '') || item.type === 'tool-call';
      if (!counted) {
        out.push(item);
        continue;
      }
      const id = partId(replyID, index++);
      const kept = item.type === 'tool-call' ? item : editedItem(item, edits[id]);
      if (kept) out.push(kept);
    }
    index++;
    return { ...m, content: out };
  });
}

/** The messages as the model sees them: deleted user messages left out, edited text parts as edited. */
export function editedForModel(messages: readonly SessionMessage[]): readonly SessionMessage[] {
  if (!messages.some((m) => m.info?.removed || m.info?.edits)) return messages;
  const out: SessionMessage[] = [];
  for (let at = 0; at < messages.length; ) {
    const m = messages[at] as SessionMessage;
    const end = m.role === 'user' ? turnEnd(messages, at) : at + 1;
    const info = m.role === 'user' ? m.info : undefined;
    if (!info) {
      out.push(...messages.slice(at, end));
    } else {
      const content = info.removed ? undefined : editedUser(m, info);
      // A message left with nothing in it is left out: providers refuse an empty one.
      if (content !== undefined && !(Array.isArray(content) && content.length === 0)) out.push({ ...m, content });
      const rest = messages.slice(at + 1, end);
      // A reply message left with nothing in it is left out too.
      out.push(...(info.edits ? editedReply(rest, info.reply.id, info.edits).filter((r) => !(Array.isArray(r.content) && r.content.length === 0)) : rest));
    }
    at = end;
  }
  return out;
}
