import fs from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PantheonError } from '../../src/errors.ts';
import { removeSessionTree } from '../../src/session/remove-tree.ts';
import { SessionStore } from '../../src/session/store.ts';
import { record, tempDir } from './helpers.ts';

/** A store whose deletes of the ids in `failing` fail as an unwritable folder makes them fail (a seam: the real files stay). */
class FlakyStore extends SessionStore {
  readonly failing = new Set<string>();
  override async remove(id: string): Promise<void> {
    if (this.failing.has(id)) throw new PantheonError('STORE_ERROR', `Cannot delete session ${id} (EACCES).`, { cause: Object.assign(new Error('denied'), { code: 'EACCES' }) });
    return super.remove(id);
  }
}

describe('removeSessionTree', () => {
  let dir: string;
  let store: FlakyStore;
  const ids = { parent: 'ses_0000000000aparent', child: 'ses_0000000000bchild', grandchild: 'ses_0000000000cgrand', other: 'ses_0000000000dother', cousin: 'ses_0000000000ecousin' };

  beforeEach(async () => {
    dir = await tempDir();
    store = new FlakyStore(dir);
    await store.save(record(ids.parent));
    await store.save(record(ids.child, { parentID: ids.parent }));
    await store.save(record(ids.grandchild, { parentID: ids.child }));
    await store.save(record(ids.other));
    // A child made from another folder (POST /session with parentID) is the parent's all the same.
    await store.save(record(ids.cousin, { parentID: ids.parent, projectRoot: '/work/project-b' }));
  });

  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const left = async () => (await store.list()).sessions.map((s) => s.id).sort();

  it('deletes the deepest first and the session last, telling each with its record; other sessions stay', async () => {
    const told: [string, string | undefined][] = [];
    const { removed } = await removeSessionTree(store, ids.parent, (id, was) => told.push([id, was?.parentID]));
    expect(removed).toEqual([ids.grandchild, ids.child, ids.cousin, ids.parent]);
    expect(told).toEqual([[ids.grandchild, ids.child], [ids.child, ids.parent], [ids.cousin, ids.parent], [ids.parent, undefined]]);
    expect(await left()).toEqual([ids.other]);
  });

  it('a child that cannot be deleted stops it there: the session and what is left under it are kept, and deleting again finishes', async () => {
    store.failing.add(ids.child);
    const failed = await removeSessionTree(store, ids.parent).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(PantheonError);
    expect((failed as PantheonError).message).toBe(`Cannot delete session ${ids.parent}: its child session ${ids.child} could not be deleted (EACCES).`);
    expect((failed as PantheonError).hint).toContain(`then delete ${ids.parent} again`);
    // The grandchild went first; nobody is left without a parent.
    expect(await left()).toEqual([ids.parent, ids.child, ids.cousin, ids.other].sort());
    store.failing.clear();
    expect((await removeSessionTree(store, ids.parent)).removed).toEqual([ids.child, ids.cousin, ids.parent]);
    expect(await left()).toEqual([ids.other]);
  });

  it('an unknown session is the store\u2019s usage error, nothing deleted; a child gone meanwhile is passed over', async () => {
    await expect(removeSessionTree(store, 'ses_0000000000fnone')).rejects.toMatchObject({ code: 'USAGE', message: 'session ses_0000000000fnone does not exist.' });
    expect(await left()).toHaveLength(5);
    // The child's file goes between the listing and its turn (another process deleted it).
    const vanishing = new (class extends FlakyStore {
      override async remove(id: string): Promise<void> {
        if (id === ids.grandchild) await super.remove(ids.child);
        return super.remove(id);
      }
    })(dir);
    expect((await removeSessionTree(vanishing, ids.parent)).removed).toEqual([ids.grandchild, ids.cousin, ids.parent]);
    expect(await left()).toEqual([ids.other]);
  });
});
