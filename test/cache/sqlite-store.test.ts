import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/cache/sqlite-store.ts';

let dir: string;
const opened: SqliteStore[] = [];

beforeEach(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'pantheon-sqlite-store-'));
});
afterEach(async () => {
  for (const store of opened.splice(0)) await store.disconnect();
  await fs.promises.rm(dir, { recursive: true, force: true });
});

async function open(options: { maxSize?: number; now?: () => number; file?: string } = {}): Promise<SqliteStore> {
  const store = await SqliteStore.open({
    file: options.file ?? path.join(dir, 'nested', 'cache.sqlite'),
    maxSize: options.maxSize ?? 100,
    ...(options.now ? { now: options.now } : {}),
  });
  opened.push(store);
  return store;
}

describe('SqliteStore', () => {
  it('round-trips strings and reports has/delete', async () => {
    const store = await open();
    expect(await store.get('pantheon:a')).toBeUndefined();
    expect(await store.set('pantheon:a', '{"value":1}')).toBe(true);
    expect(await store.get('pantheon:a')).toBe('{"value":1}');
    expect(await store.has('pantheon:a')).toBe(true);
    await store.set('pantheon:a', '{"value":2}');
    expect(await store.getMany(['pantheon:a', 'pantheon:missing'])).toEqual(['{"value":2}', undefined]);
    expect(await store.delete('pantheon:a')).toBe(true);
    expect(await store.delete('pantheon:a')).toBe(false);
    expect(await store.has('pantheon:a')).toBe(false);
  });

  it('creates a private folder and file, in WAL mode', async () => {
    const file = path.join(dir, 'nested', 'cache.sqlite');
    const store = await open({ file });
    await store.set('k', 'v');
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const peek = new DatabaseSync(file);
    try {
      expect(peek.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    } finally {
      peek.close();
    }
    expect(store.opts).toMatchObject({ dialect: 'sqlite', file, maxSize: 100 });
  });

  it('never returns an entry past its ttl, and deletes it', async () => {
    let now = 1_000_000;
    const store = await open({ now: () => now });
    await store.set('k', 'v', 1000);
    await store.set('forever', 'w');
    now += 999;
    expect(await store.get('k')).toBe('v');
    now += 1;
    expect(await store.get('k')).toBeUndefined();
    expect(await store.has('k')).toBe(false);
    now -= 500; // the row is gone, not just hidden
    expect(await store.get('k')).toBeUndefined();
    now += 10_000_000;
    expect(await store.get('forever')).toBe('w');
  });

  it('deletes every expired row on write', async () => {
    let now = 0;
    const store = await open({ now: () => now });
    await store.set('short', 'a', 10);
    now = 20;
    await store.set('other', 'b');
    now = 0;
    expect(await store.get('short')).toBeUndefined();
    expect(await store.get('other')).toBe('b');
  });

  it('evicts the least recently used entries beyond maxSize; a read counts as use', async () => {
    const store = await open({ maxSize: 3 });
    await store.set('a', '1');
    await store.set('b', '2');
    await store.set('c', '3');
    expect(await store.get('a')).toBe('1');
    await store.set('d', '4');
    // has() does not count as use, so it can look without changing the order.
    expect(await Promise.all(['a', 'b', 'c', 'd'].map((k) => store.has(k)))).toEqual([true, false, true, true]);
    await store.set('e', '5');
    expect(await store.has('c')).toBe(false);
    expect(await store.getMany(['a', 'd', 'e'])).toEqual(['1', '4', '5']);
  });

  it('shares recency between connections to one file', async () => {
    const file = path.join(dir, 'shared.sqlite');
    const first = await open({ file, maxSize: 3 });
    const second = await open({ file, maxSize: 3 });
    await first.set('a', '1');
    await first.set('b', '2');
    await first.set('c', '3');
    expect(await second.get('a')).toBe('1');
    await first.set('d', '4');
    expect(await second.has('b')).toBe(false);
    expect(await second.getMany(['a', 'c', 'd'])).toEqual(['1', '3', '4']);
  });

  it('clears only its namespace', async () => {
    const store = await open();
    await store.set('pantheon:a', '1');
    await store.set('other:b', '2');
    store.namespace = 'pantheon';
    await store.clear();
    expect(await store.has('pantheon:a')).toBe(false);
    expect(await store.get('other:b')).toBe('2');
    store.namespace = undefined;
    await store.clear();
    expect(await store.has('other:b')).toBe(false);
  });

  it('rejects after disconnect, and disconnect twice is harmless', async () => {
    const store = await open();
    await store.disconnect();
    await store.disconnect();
    await expect(store.get('a')).rejects.toThrow(/closed/);
  });
});
