/**
 * A session's durable events (OpenCode's `session.next.*` events of one aggregate): numbered from 1
 * in the order they were committed, kept in the session's file and written with the session's own
 * saves (store.ts), so an event is there exactly when what it tells of is. At most EVENT_CAP are kept
 * per session: a save that would keep more drops the oldest (their numbers are not reused). Each
 * string of a tool's input or output is cut to MAX_TOOL_TEXT characters here; a reply's text is kept
 * whole (the session's messages have it too).
 */
import { ascendingId } from './ids.ts';
import type { SessionRecord } from './store.ts';

/** One event as the session's file keeps it. */
export interface DurableEvent {
  /** `evt_…`, ascending. */
  id: string;
  /** OpenCode's type, `session.next.…`. */
  type: string;
  /** 1, 2, 3, … within the session. */
  seq: number;
  data: Record<string, unknown>;
}

/** An event not yet numbered. */
export interface EventDraft {
  type: string;
  data: Record<string, unknown>;
}

/** Events kept per session; the oldest beyond it are dropped as new ones are committed. */
export const EVENT_CAP = 1000;
/** A tool call's input or output text longer than this is cut (marked) in its event. */
export const MAX_TOOL_TEXT = 4000;
/** The version of every event type (OpenCode's `durable.version`). */
export const EVENT_VERSION = 1;

/** The events a record got from appendEvents and has not yet been saved with (the store announces them once written). */
const fresh = new WeakMap<SessionRecord, DurableEvent[]>();

/** The number of the session's latest event (0: none yet). */
export function lastSeq(record: Pick<SessionRecord, 'events'>): number {
  return record.events?.at(-1)?.seq ?? 0;
}

/** The record with `drafts` numbered after its latest event, the oldest dropped beyond EVENT_CAP. */
export function appendEvents(record: SessionRecord, drafts: readonly EventDraft[]): SessionRecord {
  if (drafts.length === 0) return record;
  let seq = lastSeq(record);
  const added = drafts.map((d) => ({ id: ascendingId('evt'), type: d.type, seq: ++seq, data: d.data }));
  const all = [...(record.events ?? []), ...added];
  const next = { ...record, events: all.length > EVENT_CAP ? all.slice(all.length - EVENT_CAP) : all };
  fresh.set(next, [...(fresh.get(record) ?? []), ...added]);
  return next;
}

/** The events `record` was given since it was last saved, taken (the store announces them after writing it). */
export function takeFresh(record: SessionRecord): DurableEvent[] | undefined {
  const added = fresh.get(record);
  fresh.delete(record);
  return added;
}

/** What a deleted reply's events keep of what they said: nothing (the reply's text, reasoning, tool input and output are gone from the file). */
const SAID: Record<string, unknown> = { text: '', input: {}, content: [], structured: {} };

/**
 * The record with the events of a deleted reply emptied of what it said (the reply `replyID` of the
 * turn whose user message is `userID`): their number and type stay. Every event is a new object,
 * so the store serialises them anew.
 */
export function withoutReplyContent(record: SessionRecord, userID: string, replyID: string): SessionRecord {
  if (!record.events?.length) return record;
  const events = record.events.map((e) => {
    const own = e.data.assistantMessageID === replyID || (e.type === 'session.next.compaction.ended' && e.data.messageID === userID);
    if (!own) return { ...e };
    const data = Object.fromEntries(Object.entries(e.data).map(([k, v]) => [k, Object.hasOwn(SAID, k) ? SAID[k] : v]));
    if (e.type === 'session.next.tool.failed') data.error = { type: 'unknown', message: '' };
    return { ...e, data };
  });
  return { ...record, events };
}

/** A tool's text as its event keeps it: cut to MAX_TOOL_TEXT characters, the cut marked. */
export function toolText(text: string): string {
  return text.length > MAX_TOOL_TEXT ? `${text.slice(0, MAX_TOOL_TEXT)}\u2026 [${text.length - MAX_TOOL_TEXT} more characters not kept]` : text;
}

/** An event as OpenCode's v2 API shows it (`GET /api/session/{id}/history`, `…/event`). */
export function servedEvent(sessionID: string, event: DurableEvent): Record<string, unknown> {
  return { id: event.id, type: event.type, durable: { aggregateID: sessionID, seq: event.seq, version: EVENT_VERSION }, data: event.data };
}

/** An event as OpenCode's `POST /sync/history` lists it (its type carries the version). */
export function syncEvent(sessionID: string, event: DurableEvent): Record<string, unknown> {
  return { id: event.id, aggregate_id: sessionID, seq: event.seq, type: `${event.type}.${EVENT_VERSION}`, data: event.data };
}

/** Whether a file's `events` is a list of events (a file written by hand may hold anything). */
export function isEventList(value: unknown): value is DurableEvent[] {
  if (!Array.isArray(value)) return false;
  let previous = 0;
  for (const e of value) {
    if (typeof e !== 'object' || e === null) return false;
    const { id, type, seq, data } = e as Record<string, unknown>;
    if (typeof id !== 'string' || typeof type !== 'string' || typeof data !== 'object' || data === null || !Number.isSafeInteger(seq) || (seq as number) <= previous) return false;
    previous = seq as number;
  }
  return true;
}
