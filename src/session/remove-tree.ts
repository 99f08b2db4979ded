/**
 * Deleting a session deletes its child sessions (the sessions of its `task` calls, theirs, …) with
 * it, as OpenCode's does: the deepest first and the session itself last, so a failure part way
 * leaves no child without its parent (what is left is a whole tree, and deleting it again finishes
 * the job). The same for `opencode session delete` and the server's routes.
 */
import { PantheonError } from '../errors.ts';
import type { SessionRecord, SessionStore } from './store.ts';

/** Session `id` (throws as `load` does when it does not exist) and the ids under it, deepest first, `id` last. */
export async function sessionTree(store: SessionStore, id: string): Promise<{ record: SessionRecord; order: string[] }> {
  const record = await store.load(id);
  // Every project's sessions: a child made over POST /session may have been made from another folder.
  const { sessions } = await store.list();
  // Each session's children oldest first (as GET /session/{id}/children lists them).
  const byParent = new Map<string, string[]>();
  const oldestFirst = [...sessions].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  for (const s of oldestFirst) {
    if (s.parentID === undefined) continue;
    const siblings = byParent.get(s.parentID) ?? [];
    siblings.push(s.id);
    byParent.set(s.parentID, siblings);
  }
  const order: string[] = [];
  const seen = new Set<string>([id]);
  const visit = (at: string): void => {
    for (const child of byParent.get(at) ?? []) {
      if (seen.has(child)) continue;
      seen.add(child);
      visit(child);
      order.push(child);
    }
  };
  visit(id);
  order.push(id);
  return { record, order };
}

/**
 * Deletes session `id` and every session under it; `onRemoved` is told of each (deepest first), with
 * its record when it could be read.
 * A child that vanished meanwhile is passed over; any other failure stops there, with `id` kept.
 */
export async function removeSessionTree(store: SessionStore, id: string, onRemoved?: (id: string, record: SessionRecord | undefined) => void): Promise<{ record: SessionRecord; removed: string[] }> {
  const { record, order } = await sessionTree(store, id);
  const removed: string[] = [];
  for (const at of order) {
    // What it was, for whoever is told (a file that cannot be read any more is deleted all the same).
    const was = at === id ? record : await store.load(at).catch(() => undefined);
    try {
      await store.remove(at);
    } catch (error) {
      if (at !== id && error instanceof PantheonError && error.code === 'USAGE') continue;
      if (at === id) throw error;
      const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
      const why = typeof cause?.code === 'string' ? cause.code : error instanceof Error ? error.message.replace(/\.$/, '') : String(error);
      throw new PantheonError('STORE_ERROR', `Cannot delete session ${id}: its child session ${at} could not be deleted (${why}).`, {
        hint: `${id} and the sessions under it that are left were kept; check that ${store.dir} is writable, then delete ${id} again.`,
        cause: error,
      });
    }
    removed.push(at);
    onRemoved?.(at, was);
  }
  return { record, removed };
}
