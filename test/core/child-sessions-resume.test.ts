/**
 * ChildSessions' resume (OpenCode's `task_id`) on a real session store in a temp dir: two starts
 * naming one session at the same moment (two calls of one step) — one goes on in it, the other is
 * refused before either has read it; a resumed child keeps its earlier messages and usage.
 */
import { describe, expect, it } from 'vitest';
import { ChildSessions } from '../../src/core/child-sessions.ts';
import { SessionStore, type SessionRecord } from '../../src/session/store.ts';
import { useHarness } from '../run/harness.ts';

const h = useHarness();

/** A store whose next load waits for `hold` (the first start is held while the second runs). */
class HeldStore extends SessionStore {
  hold?: Promise<void>;
  override async load(id: string): Promise<SessionRecord> {
    const held = this.hold;
    this.hold = undefined;
    if (held) await held;
    return super.load(id);
  }
}

async function tree() {
  const store = new HeldStore(await h.tempDir());
  const projectRoot = await h.tempDir();
  const base = { projectRoot, agent: 'lead', createdAt: 1, updatedAt: 1, messages: [], usage: { inputTokens: 0, outputTokens: 0 }, models: [] };
  const root: SessionRecord = { ...base, id: store.newId(), title: 'root' };
  const child: SessionRecord = { ...base, id: store.newId(), title: 'Find (@explore subagent)', agent: 'explore', parentID: root.id, usage: { inputTokens: 10, outputTokens: 2 }, messages: [{ role: 'user', content: 'first' }, { role: 'assistant', content: 'done' }] as SessionRecord['messages'] };
  await store.save(root);
  await store.save(child);
  return { store, projectRoot, root, child };
}

const start = (taskID: string, resume: string) => ({ taskID, parentTaskID: 'task_top', agent: 'explore', prompt: 'again', time: 2, resume });

describe('ChildSessions: task_id', () => {
  it('two starts naming one session at once: one goes on in it (its history given), the other is refused', async () => {
    const { store, projectRoot, root, child } = await tree();
    const children = new ChildSessions({ store, projectRoot, sessionID: root.id });
    // The first start is held in its first read; the second runs meanwhile (and would run all its checks).
    let release: () => void = () => undefined;
    store.hold = new Promise<void>((resolve) => (release = resolve));
    const first = children.start(start('task_a', child.id));
    const b = await children.start(start('task_b', child.id)).then((value) => ({ status: 'fulfilled', value }), (reason: unknown) => ({ status: 'rejected', reason }));
    release();
    const [a] = await Promise.allSettled([first]);
    expect(a).toMatchObject({ status: 'fulfilled', value: { sessionID: child.id, history: [{ role: 'user', content: 'first' }, { role: 'assistant', content: 'done' }] } });
    expect(b.status).toBe('rejected');
    expect(String((b as { reason?: unknown }).reason)).toContain('that task is still running');
    // Ended: its turn is added to the earlier one, its usage to the earlier usage.
    const resumed = (a as PromiseFulfilledResult<Awaited<ReturnType<ChildSessions['start']>>>).value;
    await resumed?.end({ status: 'success', turn: [{ role: 'user', content: 'again' }, { role: 'assistant', content: 'more' }], usage: { inputTokens: 5, outputTokens: 1 }, servedBy: ['p/e'], answer: 'more' });
    const saved = await store.load(child.id);
    expect(saved.messages.map((m) => m.content)).toEqual(['first', 'done', 'again', 'more']);
    expect(saved.usage).toEqual({ inputTokens: 15, outputTokens: 3 });
    // Not running any more: it may be resumed again.
    await expect(children.start(start('task_c', child.id))).resolves.toMatchObject({ sessionID: child.id });
  });
});
