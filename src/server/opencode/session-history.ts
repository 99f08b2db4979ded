/**
 * A session's durable events over OpenCode's v2 API (session/durable-events.ts keeps them): pages
 * after a sequence number (`GET /api/session/{id}/history`), a stream that replays them and then
 * goes on with each one committed (`GET /api/session/{id}/event`), and every session's of a project
 * after the numbers a client knows (`POST /sync/history`).
 *
 * The stream's seam (replay, then live, no gap and no repeat) is session/event-feed.ts; a client that
 * reads slowly is cut as every stream's is (sse-stream.ts), one that leaves stops listening at once.
 */
import { servedEvent, syncEvent, lastSeq, type DurableEvent } from '../../session/durable-events.ts';
import { firstAfter, openFeed } from '../../session/event-feed.ts';
import type { SessionRecord } from '../../session/store.ts';
import { HttpError } from '../http-error.ts';
import type { ServerContext } from '../route.ts';
import { sseResponse } from '../sse-stream.ts';

/** Events a page holds by default and at most (OpenCode's). */
export const HISTORY_LIMIT = 50;
export const HISTORY_MAX_LIMIT = 100;
/** Events `POST /sync/history` answers at most (a client asks again with the numbers it got). */
export const SYNC_MAX_EVENTS = 10_000;
const HEARTBEAT = new TextEncoder().encode(':\n\n');
const encoder = new TextEncoder();

function invalidQuery(field: string, message: string, hint: string): HttpError {
  return new HttpError(400, 'BAD_REQUEST', `query parameter "${field}": ${message}.`, { hint, details: { field, kind: 'Query' } });
}

function shown(value: string): string {
  return JSON.stringify(value.slice(0, 40));
}

/** `after` of the request: a whole number ≥ 0, at most the session's latest (0 when left out). */
export function afterOf(c: ServerContext): number {
  const given = c.req.query('after');
  if (given === undefined) return 0;
  const after = Number(given);
  if (!/^\d{1,15}$/.test(given) || !Number.isSafeInteger(after)) throw invalidQuery('after', `expected a whole number, 0 or more (the seq of the last event you have), found ${shown(given)}`, 'Leave after out to start from the session’s oldest event.');
  return after;
}

export function historyLimitOf(c: ServerContext): number {
  const given = c.req.query('limit');
  if (given === undefined) return HISTORY_LIMIT;
  const limit = Number(given);
  if (!/^\d{1,4}$/.test(given) || limit < 1 || limit > HISTORY_MAX_LIMIT) throw invalidQuery('limit', `expected a whole number from 1 to ${HISTORY_MAX_LIMIT}, found ${shown(given)}`, `Leave limit out for pages of ${HISTORY_LIMIT}.`);
  return limit;
}

/** `after` checked against the session: past its latest event is an error (a number of another session or server). */
function checkAfter(record: SessionRecord, after: number): void {
  const latest = lastSeq(record);
  if (after > latest) {
    throw invalidQuery('after', `${after} is past the session’s latest event (${latest === 0 ? 'it has none yet' : `seq ${latest}`})`, 'Send the seq of an event this session gave you, or leave after out.');
  }
}

/** One page of the session's events after `after`, oldest first, and whether more follow. */
export function historyPage(record: SessionRecord, after: number, limit: number): { data: Record<string, unknown>[]; hasMore: boolean } {
  checkAfter(record, after);
  const events = record.events ?? [];
  const from = firstAfter(events, after);
  const page = events.slice(from, from + limit);
  return { data: page.map((e) => servedEvent(record.id, e)), hasMore: from + limit < events.length };
}

function frame(sessionID: string, event: DurableEvent): Uint8Array {
  return encoder.encode(`data: ${JSON.stringify(servedEvent(sessionID, event))}\n\n`);
}

/** The session's events after `after`, then each one committed, as server-sent events (`data: <event>` frames; session/event-feed.ts). */
export async function durableStream(c: ServerContext, sessionID: string, after: number): Promise<Response> {
  const state = c.get('state');
  const feed = await openFeed(state.host.store, sessionID, () => state.host.sessions.get(sessionID), after);
  try {
    checkAfter(feed.record, after);
  } catch (error) {
    feed.cancel();
    throw error;
  }
  return sseResponse(c, {
    heartbeatMs: state.options.heartbeatMs,
    heartbeat: () => HEARTBEAT,
    start: (sink) => feed.start((event) => sink.write(frame(sessionID, event)), sink.end),
  });
}

/**
 * OpenCode's `POST /sync/history`: the events of every session of the project, after the number the
 * body gives for it (`{sessionID: seq}`; a session not named: all of its events), oldest number
 * first. At most SYNC_MAX_EVENTS, taken from the sessions oldest first (each session's, a run from
 * its first not known): the rest follow when asked again with the numbers received. One session is
 * read at a time.
 */
export async function syncHistory(c: ServerContext, projectRoot: string, known: Record<string, number>): Promise<Record<string, unknown>[]> {
  const sessions = c.get('state').host.sessions;
  const found: Record<string, unknown>[] = [];
  const list = (await sessions.list(projectRoot)).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  for (const summary of list) {
    if (found.length >= SYNC_MAX_EVENTS) break;
    const record = await sessions.get(summary.id).catch(() => undefined);
    const events = record?.events ?? [];
    const from = firstAfter(events, Object.hasOwn(known, summary.id) ? (known[summary.id] as number) : 0);
    for (const event of events.slice(from, from + SYNC_MAX_EVENTS - found.length)) found.push(syncEvent(summary.id, event));
  }
  return found.sort((a, b) => (a.seq as number) - (b.seq as number));
}
