/**
 * `session/list`'s cursor: where the last page ended, as `updatedAt:id` of its last session. The
 * list is newest first, by `updatedAt` then by id (the store's order), so the pair names one place
 * in it: sessions updated in the same millisecond are neither skipped nor listed twice (a cursor of
 * `updatedAt` alone skipped those that shared the last one's). OpenCode's cursor, a bare
 * `updatedAt`, is still read as it means there.
 */
import { RequestError } from '@agentclientprotocol/sdk';

export interface ListCursor {
  updatedAt: number;
  /** Undefined for OpenCode's cursor (a bare time). */
  id?: string;
}

export function cursorOf(session: { updatedAt: number; id: string }): string {
  return `${session.updatedAt}:${session.id}`;
}

export function parseCursor(cursor: string): ListCursor {
  const match = /^(\d+)(?::(ses_[A-Za-z0-9_-]{1,100}))?$/.exec(cursor);
  if (!match) throw RequestError.invalidParams({ cursor }, `cursor: expected the nextCursor of an earlier session/list answer, found "${cursor.slice(0, 80)}".`);
  return { updatedAt: Number(match[1]), ...(match[2] ? { id: match[2] } : {}) };
}

/** Whether a session comes after the cursor in the list's order (newest first, then by id, descending). */
export function after(cursor: ListCursor): (session: { updatedAt: number; id: string }) => boolean {
  return (s) => s.updatedAt < cursor.updatedAt || (cursor.id !== undefined && s.updatedAt === cursor.updatedAt && s.id < cursor.id);
}
