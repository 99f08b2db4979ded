/**
 * The stored responses' file (src/server/openai/stored-responses.ts) on a real SQLite file in a temp
 * folder, its clock given: 30 days kept, the count capped (oldest first), a conversation read back
 * bounded in links and bytes, owners kept apart, a save all or nothing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpError } from '../../src/server/http-error.ts';
import { RETENTION_MS, StoredResponses, type StoredResponse } from '../../src/server/openai/stored-responses.ts';

let dir: string;
let now: number;
const open = (options: ConstructorParameters<typeof StoredResponses>[1] = {}) => new StoredResponses(path.join(dir, 'responses.sqlite'), { now: () => now, ...options });
const message = (id: string, text: string, role = 'user') => ({ type: 'message', id, role, content: [{ type: role === 'user' ? 'input_text' : 'output_text', text }] });
const response = (id: string, fields: Partial<StoredResponse> = {}): StoredResponse => ({ id, owner: 'a', createdAt: now, response: { id, object: 'response' }, input: [message(`in_${id}`, `q ${id}`)], output: [message(`out_${id}`, `a ${id}`, 'assistant')], ...fields });

function thrown(fn: () => unknown): HttpError {
  try {
    fn();
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
  throw new Error('expected an HttpError');
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stored-responses-'));
  now = 1_800_000_000_000;
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('StoredResponses', () => {
  it('keeps a response 30 days, then it is gone (and pruned from the file)', () => {
    const store = open();
    store.save(response('r1'));
    now += RETENTION_MS - 1;
    expect(store.get('r1', 'a')).toEqual({ id: 'r1', object: 'response' });
    expect(store.item('out_r1', 'a')).toMatchObject({ id: 'out_r1' });
    now += 2;
    expect(thrown(() => store.get('r1', 'a')).status).toBe(404);
    expect(store.item('out_r1', 'a')).toBeUndefined();
    store.prune();
    store.close();
    const db = open();
    now -= RETENTION_MS;
    expect(thrown(() => db.get('r1', 'a')).status).toBe(404);
    db.close();
  });

  it('keeps at most maxResponses, dropping the oldest', () => {
    const store = open({ maxResponses: 3 });
    for (let i = 1; i <= 5; i++) {
      now += 1000;
      store.save(response(`r${i}`));
    }
    store.prune();
    expect(thrown(() => store.get('r1', 'a')).status).toBe(404);
    expect(thrown(() => store.get('r2', 'a')).status).toBe(404);
    for (const id of ['r3', 'r4', 'r5']) expect(store.get(id, 'a')).toMatchObject({ id });
    expect(store.item('in_r1', 'a')).toBeUndefined();
    store.close();
  });

  it('keeps at most maxStoreBytes of JSON, dropping the oldest; the file is 0600', () => {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    const store = open({ maxStoreBytes: 5000 });
    for (let i = 1; i <= 5; i++) {
      now += 1000;
      store.save(response(`r${i}`, { input: [message(`in_r${i}`, 'x'.repeat(1500))] }));
    }
    for (const id of ['r1', 'r2']) expect(thrown(() => store.get(id, 'a')).status).toBe(404);
    for (const id of ['r4', 'r5']) expect(store.get(id, 'a')).toMatchObject({ id });
    expect(fs.statSync(path.join(dir, 'responses.sqlite')).mode & 0o777).toBe(0o600);
    store.close();
  });

  it('a conversation: oldest first, bounded in links and in bytes', () => {
    const store = open({ maxChain: 3, maxChainBytes: 2000 });
    store.save(response('r1'));
    store.save(response('r2', { previousId: 'r1' }));
    store.save(response('r3', { previousId: 'r2' }));
    expect(store.conversation('r3', 'a').map((item) => item.id)).toEqual(['in_r1', 'out_r1', 'in_r2', 'out_r2', 'in_r3', 'out_r3']);
    store.save(response('r4', { previousId: 'r3' }));
    const long = thrown(() => store.conversation('r4', 'a'));
    expect([long.status, long.message]).toEqual([400, 'previous_response_id: the conversation behind it links more than 3 responses.']);
    store.save(response('big', { input: [message('in_big', 'x'.repeat(3000))] }));
    expect(thrown(() => store.conversation('big', 'a')).message).toBe('previous_response_id: the conversation behind it is over 2 KiB.');
    store.close();
  });

  it('owners apart: another owner sees nothing, deletes nothing', () => {
    const store = open();
    store.save(response('r1'));
    expect(thrown(() => store.get('r1', 'b')).status).toBe(404);
    expect(thrown(() => store.delete('r1', 'b')).status).toBe(404);
    expect(thrown(() => store.conversation('r1', 'b')).details.param).toBe('previous_response_id');
    expect(thrown(() => store.inputItems('r1', 'b', { limit: 20, order: 'desc' })).status).toBe(404);
    expect(store.item('out_r1', 'b')).toBeUndefined();
    expect(store.get('r1', 'a')).toMatchObject({ id: 'r1' });
    store.close();
  });

  it('a save that fails leaves nothing of the response', () => {
    const store = open();
    const cyclic: Record<string, unknown> = { id: 'bad' };
    cyclic.self = cyclic;
    expect(() => store.save(response('r1', { output: [message('ok', 'fine', 'assistant'), cyclic] }))).toThrow();
    expect(thrown(() => store.get('r1', 'a')).status).toBe(404);
    expect(store.item('in_r1', 'a')).toBeUndefined();
    expect(store.item('ok', 'a')).toBeUndefined();
    store.save(response('r1'));
    expect(store.get('r1', 'a')).toMatchObject({ id: 'r1' });
    store.close();
  });
});
