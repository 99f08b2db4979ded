/**
 * The two homes of the stored responses keep the same promises, checked the same way through the
 * store interface (src/server/openai/response-store.ts): this machine's SQLite file in a temp
 * folder, and a real redis-server (each test under a prefix of its own). The clock is given: 30
 * days kept, the count and the bytes capped (oldest first), a conversation read back bounded in
 * links and bytes and refused while its last response still runs, owners kept apart, a background
 * run's save refused once it was cancelled, its beat told of the cancel. On Redis: every key under
 * the prefix, each expiring with its response.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpError } from '../../src/server/http-error.ts';
import { RETENTION_MS, type ResponseStore, type StoreLimitOptions, type StoredResponse } from '../../src/server/openai/response-store.ts';
import { RedisResponseStore } from '../../src/server/openai/stored-responses-redis.ts';
import { SqliteResponseStore } from '../../src/server/openai/stored-responses.ts';
import { RedisConnection } from '../../src/state/redis-connection.ts';
import { startRedis, type TestRedis } from '../support/redis-server.ts';

let redis: TestRedis;
let dir: string;
let now = Date.now();
let n = 0;
const opened: ResponseStore[] = [];

beforeAll(async () => {
  redis = await startRedis();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'response-store-'));
});
afterAll(async () => {
  for (const store of opened) await store.close();
  await redis?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const homes: [string, (options: StoreLimitOptions) => Promise<ResponseStore>][] = [
  ['SQLite', async (options) => new SqliteResponseStore(path.join(dir, `responses-${++n}.sqlite`), { now: () => now, ...options })],
  ['Redis', (options) => RedisResponseStore.open(redis.url, `t${++n}:`, { now: () => now, ...options })],
];

const message = (id: string, text: string, role = 'user') => ({ type: 'message', id, role, content: [{ type: role === 'user' ? 'input_text' : 'output_text', text }] });
const response = (id: string, fields: Partial<StoredResponse> = {}): StoredResponse => ({ id, owner: 'a', createdAt: now, response: { id, object: 'response', status: 'completed' }, input: [message(`in_${id}`, `q ${id}`)], output: [message(`out_${id}`, `a ${id}`, 'assistant')], ...fields });

async function thrown(promise: Promise<unknown>): Promise<HttpError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
  throw new Error('expected an HttpError');
}

describe.each(homes)('stored responses on %s', (_name, make) => {
  const open = async (options: StoreLimitOptions = {}): Promise<ResponseStore> => {
    const store = await make(options);
    opened.push(store);
    return store;
  };

  it('keeps a response 30 days, then it is gone', async () => {
    now = Date.now();
    const store = await open();
    await store.save(response('r1'));
    now += RETENTION_MS - 1;
    expect((await store.read('r1', 'a')).response).toEqual({ id: 'r1', object: 'response', status: 'completed' });
    expect(await store.item('out_r1', 'a')).toMatchObject({ id: 'out_r1' });
    now += 2;
    expect((await thrown(store.read('r1', 'a'))).status).toBe(404);
    expect(await store.item('out_r1', 'a')).toBeUndefined();
  });

  it('keeps at most maxResponses and maxStoreBytes, dropping the oldest', async () => {
    now = Date.now();
    const few = await open({ maxResponses: 3 });
    for (let i = 1; i <= 5; i++) {
      now += 1000;
      await few.save(response(`r${i}`));
    }
    const gone = await Promise.all(['r1', 'r2'].map((id) => few.read(id, 'a').then(() => false, () => true)));
    const kept = await Promise.all(['r3', 'r4', 'r5'].map((id) => few.read(id, 'a').then(() => true, () => false)));
    // Redis prunes at each save; SQLite every 256 saves (stored-responses.test.ts checks its pruning).
    if (few instanceof RedisResponseStore) expect(gone).toEqual([true, true]);
    expect(kept).toEqual([true, true, true]);
    const small = await open({ maxStoreBytes: 5000 });
    for (let i = 1; i <= 5; i++) {
      now += 1000;
      await small.save(response(`b${i}`, { input: [message(`in_b${i}`, 'x'.repeat(1500))] }));
    }
    for (const id of ['b1', 'b2']) expect((await thrown(small.read(id, 'a'))).status).toBe(404);
    for (const id of ['b4', 'b5']) expect((await small.read(id, 'a')).response).toMatchObject({ id });
  });

  it('a conversation: oldest first, bounded in links and bytes, not while its last response runs', async () => {
    now = Date.now();
    const store = await open({ maxChain: 3, maxChainBytes: 2000 });
    await store.save(response('r1'));
    await store.save(response('r2', { previousId: 'r1' }));
    await store.save(response('r3', { previousId: 'r2' }));
    expect((await store.conversation('r3', 'a')).map((item) => item.id)).toEqual(['in_r1', 'out_r1', 'in_r2', 'out_r2', 'in_r3', 'out_r3']);
    await store.save(response('r4', { previousId: 'r3' }));
    const long = await thrown(store.conversation('r4', 'a'));
    expect([long.status, long.message]).toEqual([400, 'previous_response_id: the conversation behind it links more than 3 responses.']);
    await store.save(response('big', { input: [message('in_big', 'x'.repeat(3000))] }));
    expect((await thrown(store.conversation('big', 'a'))).message).toBe('previous_response_id: the conversation behind it is over 2 KiB.');
    await store.save(response('bg', { response: { id: 'bg', status: 'in_progress' }, output: [] }), { run: { runner: 'x', beat: now } });
    expect((await thrown(store.conversation('bg', 'a'))).message).toContain("response 'bg' is still running");
    await store.delete('r2', 'a');
    const broken = await thrown(store.conversation('r3', 'a'));
    expect([broken.status, broken.details.param]).toEqual([400, 'previous_response_id']);
    expect(broken.message).toContain('continues a response that is gone');
  });

  it('owners apart: another owner sees nothing, deletes nothing; input items are paged', async () => {
    now = Date.now();
    const store = await open();
    await store.save(response('r1', { input: [message('i1', 'one'), message('i2', 'two'), message('i3', 'three')] }));
    expect((await thrown(store.read('r1', 'b'))).status).toBe(404);
    expect((await thrown(store.delete('r1', 'b'))).status).toBe(404);
    expect((await thrown(store.conversation('r1', 'b'))).details.param).toBe('previous_response_id');
    expect((await thrown(store.inputItems('r1', 'b', { limit: 20, order: 'desc' }))).status).toBe(404);
    expect(await store.item('out_r1', 'b')).toBeUndefined();
    const page = await store.inputItems('r1', 'a', { limit: 2, order: 'desc' });
    expect([page.data.map((i) => i.id), page.hasMore]).toEqual([['i3', 'i2'], true]);
    const next = await store.inputItems('r1', 'a', { limit: 2, order: 'desc', after: 'i2' });
    expect([next.data.map((i) => i.id), next.hasMore]).toEqual([['i1'], false]);
    expect((await thrown(store.inputItems('r1', 'a', { limit: 2, order: 'asc', after: 'nope' }))).details.param).toBe('after');
    await store.delete('r1', 'a');
    expect((await thrown(store.read('r1', 'a'))).status).toBe(404);
  });

  it('a background run: its beat hears a cancel, and its end is not saved over the cancel', async () => {
    now = Date.now();
    const store = await open();
    const queued = response('bg', { response: { id: 'bg', status: 'queued' }, output: [] });
    await store.save(queued, { run: { runner: 'me', beat: now } });
    expect((await store.read('bg', 'a')).run).toEqual({ runner: 'me', beat: now, cancel: false });
    expect(await store.beat('bg', now + 1000)).toBe(false);
    expect((await store.read('bg', 'a')).run?.beat).toBe(now + 1000);
    expect(await store.settle('bg', { id: 'bg', status: 'cancelled' }, { cancel: true })).toBe(true);
    expect(await store.beat('bg', now + 2000)).toBe(true);
    expect(await store.save({ ...queued, response: { id: 'bg', status: 'completed' } }, { ifRunning: true })).toBe(false);
    expect((await store.read('bg', 'a')).response.status).toBe('cancelled');
    // Settling what has ended changes nothing.
    expect(await store.settle('bg', { id: 'bg', status: 'failed' })).toBe(false);
    const done = response('ok', { response: { id: 'ok', status: 'queued' }, output: [] });
    await store.save(done, { run: { runner: 'me', beat: now } });
    expect(await store.save({ ...done, response: { id: 'ok', status: 'completed' } }, { ifRunning: true })).toBe(true);
    const read = await store.read('ok', 'a');
    expect([read.response.status, read.run]).toEqual(['completed', undefined]);
  });

  it('a streamed run’s events: appended in order, read after N, kept across its last save, dropped with it', async () => {
    now = Date.now();
    const store = await open();
    const queued = response('st', { response: { id: 'st', status: 'queued', background: true }, output: [] });
    await store.save(queued, { run: { runner: 'me', beat: now, streamed: true } });
    expect(await store.eventsAfter('st', 'a', -1)).toMatchObject({ frames: [], streamed: true });
    await store.addEvents('st', ['event: a\ndata: 0\n\n', 'event: b\ndata: 1\n\n']);
    await store.addEvents('st', ['event: c\ndata: 2\n\n']);
    expect((await store.eventsAfter('st', 'a', 0)).frames).toEqual(['event: b\ndata: 1\n\n', 'event: c\ndata: 2\n\n']);
    await store.save({ ...queued, response: { id: 'st', status: 'completed', background: true } }, { ifRunning: true });
    const after = await store.eventsAfter('st', 'a', -1);
    expect([after.frames.length, after.streamed, after.response.status]).toEqual([3, true, 'completed']);
    expect((await thrown(store.eventsAfter('st', 'b', -1))).status).toBe(404);
    await store.save(response('plain'));
    expect((await store.eventsAfter('plain', 'a', -1)).streamed).toBe(false);
    await store.delete('st', 'a');
    expect((await thrown(store.eventsAfter('st', 'a', -1))).status).toBe(404);
    // Events for a response that is gone are not kept.
    await store.addEvents('st', ['event: d\ndata: 3\n\n']);
    await store.save(queued, { run: { runner: 'me', beat: now, streamed: true } });
    expect((await store.eventsAfter('st', 'a', -1)).frames).toEqual([]);
  });
});

describe('stored responses on Redis: the keys', () => {
  it('are all under the prefix, each expiring with its response', async () => {
    now = Date.now();
    const store = await RedisResponseStore.open(redis.url, 'keys-test:', { now: () => now });
    opened.push(store);
    await store.save(response('r1'));
    const raw = await RedisConnection.open(redis.url);
    try {
      const keys = await raw.command<string[]>(['KEYS', '*']);
      const mine = keys.filter((k) => k.startsWith('keys-test:')).sort();
      expect(mine).toEqual(['keys-test:resp:r1', 'keys-test:resp:r1:in', 'keys-test:resp:r1:out', 'keys-test:respbytes', 'keys-test:respitem:a:in_r1', 'keys-test:respitem:a:out_r1', 'keys-test:resps', 'keys-test:respsize']);
      for (const key of ['keys-test:resp:r1', 'keys-test:resp:r1:in', 'keys-test:respitem:a:out_r1']) {
        const ttl = await raw.command<number>(['PTTL', key]);
        expect(ttl).toBeGreaterThan(RETENTION_MS - 60_000);
        expect(ttl).toBeLessThanOrEqual(RETENTION_MS);
      }
    } finally {
      await raw.close();
    }
  });
});
