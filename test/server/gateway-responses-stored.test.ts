/**
 * Stored responses of `/v1/responses` (OpenAI's `store`, its default) driven by the official
 * `openai` npm client against a real `opencode serve`, the scripted provider behind it: a
 * conversation continued with `previous_response_id` (text and function calls, streamed or not),
 * `item_reference`, retrieve, input items pages, delete, `store: false`, what one API key cannot see
 * of another's, a second server on the same state, and a restart.
 */
import OpenAI from 'openai';
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesContaining, hasStack, providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { serve, type Served } from './serve-helper.ts';

let sb: Sandbox;
let upstream: ScriptedServer;
let s: Served;
let ada: OpenAI;
let bob: OpenAI;

const KEY_ADA = 'pk-ada-0123456789abcdef';
const KEY_BOB = 'pk-bob-0123456789abcdef';
const weather = { type: 'function' as const, name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: false };
const clientFor = (url: string, key: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0 });

beforeAll(async () => {
  upstream = await startScriptedServer({ apiKey: SECRET, models: { m: {} } });
  sb = await sandbox();
  sb.write('opencode.json', {
    ...providerConfig(upstream, { m: {} }),
    model: 'p/m',
    cache: { enabled: false },
    retry: { maxRetries: 0 },
    server: { keys: [{ key: KEY_ADA, name: 'ada' }, { key: KEY_BOB, name: 'bob' }] },
  });
  s = await serve(sb);
  ada = clientFor(s.url, KEY_ADA);
  bob = clientFor(s.url, KEY_BOB);
});

afterAll(async () => {
  await s?.stop();
  await upstream?.close();
  await sb?.remove();
});

async function status(promise: Promise<unknown>): Promise<{ status: number; message: string; param: unknown; code: unknown }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return { status: error.status as number, message: error.message, param: error.param, code: error.code };
    throw error;
  }
  throw new Error('expected an error');
}

describe('stored responses', () => {
  it('previous_response_id: the stored conversation goes up before the new input; the earlier instructions do not', async () => {
    upstream.script('m', { type: 'text', text: 'Nice to meet you, Ada.' });
    const first = await ada.responses.create({ model: 'p/m', instructions: 'first rules', input: 'My name is Ada.' });
    expect((first as unknown as { store: boolean }).store).toBe(true);
    expect(first.previous_response_id).toBeNull();
    upstream.script('m', { type: 'text', text: 'Your name is Ada.' });
    const second = await ada.responses.create({ model: 'p/m', instructions: 'second rules', previous_response_id: first.id, input: 'What is my name?' });
    expect(second.previous_response_id).toBe(first.id);
    expect(second.output_text).toBe('Your name is Ada.');
    expect(upstream.log.at(-1)?.messages).toEqual([
      { role: 'system', content: 'second rules' },
      { role: 'user', content: 'My name is Ada.' },
      { role: 'assistant', content: 'Nice to meet you, Ada.' },
      { role: 'user', content: 'What is my name?' },
    ]);
    // A third link: the whole chain, oldest first.
    upstream.script('m', { type: 'text', text: 'Goodbye.' });
    await ada.responses.create({ model: 'p/m', previous_response_id: second.id, input: 'Bye.' });
    expect((upstream.log.at(-1)?.messages as { content: string }[]).map((m) => m.content)).toEqual(['My name is Ada.', 'Nice to meet you, Ada.', 'What is my name?', 'Your name is Ada.', 'Bye.']);
  });

  it('a function call answered with only its output and previous_response_id', async () => {
    upstream.script('m', { type: 'tool_calls', calls: [{ name: 'get_weather', arguments: { city: 'Paris' }, id: 'call_7' }] });
    const first = await ada.responses.create({ model: 'p/m', input: 'weather in Paris?', tools: [weather] });
    upstream.script('m', { type: 'text', text: 'Sunny.' });
    const second = await ada.responses.create({ model: 'p/m', tools: [weather], previous_response_id: first.id, input: [{ type: 'function_call_output', call_id: 'call_7', output: '{"sky":"clear"}' }] });
    expect(second.output_text).toBe('Sunny.');
    expect(upstream.log.at(-1)?.messages).toEqual([
      { role: 'user', content: 'weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_7', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_7', content: '{"sky":"clear"}' },
    ]);
  });

  it('a streamed response is stored before its completed event: retrieved at once, the same object', async () => {
    upstream.script('m', { type: 'text', chunks: ['al', 'pha'] });
    const stream = await ada.responses.create({ model: 'p/m', input: 'stream it', stream: true });
    let done: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      // Read back as soon as the completed event comes: it was kept before.
      if (event.type === 'response.completed') done = event.response;
    }
    if (!done) throw new Error('no response.completed event');
    const again = await ada.responses.retrieve(done.id);
    expect(again.output_text).toBe('alpha');
    expect({ ...again, output_text: undefined }).toEqual({ ...done, output_text: undefined });
    upstream.script('m', { type: 'text', text: 'beta' });
    const next = ada.responses.stream({ model: 'p/m', previous_response_id: done.id, input: 'more' });
    expect((await next.finalResponse()).output_text).toBe('beta');
    expect((upstream.log.at(-1)?.messages as { content: string }[]).map((m) => m.content)).toEqual(['stream it', 'alpha', 'more']);
  });

  it('input items: ids given, pages in both orders, item references as the items they named', async () => {
    upstream.script('m', { type: 'text', text: 'noted' });
    const first = await ada.responses.create({ model: 'p/m', input: [{ role: 'user', content: 'one' }, { role: 'user', content: [{ type: 'input_text', text: 'two' }] }, { role: 'user', content: 'three' }] });
    const all = await ada.responses.inputItems.list(first.id);
    expect(all.data.map((item) => (item as { content: { text: string }[] }).content[0]?.text)).toEqual(['three', 'two', 'one']);
    for (const item of all.data) expect(item.id).toMatch(/^msg_/);
    const asc = await ada.responses.inputItems.list(first.id, { order: 'asc', limit: 2 });
    expect(asc.data.map((item) => (item as { content: { text: string }[] }).content[0]?.text)).toEqual(['one', 'two']);
    expect(asc.has_more).toBe(true);
    const rest = await ada.responses.inputItems.list(first.id, { order: 'asc', limit: 2, after: asc.data[1]?.id as string });
    expect(rest.data.map((item) => (item as { content: { text: string }[] }).content[0]?.text)).toEqual(['three']);
    expect(rest.has_more).toBe(false);
    // Every page through the client's own iterator.
    const seen: string[] = [];
    for await (const item of ada.responses.inputItems.list(first.id, { order: 'asc', limit: 1 })) seen.push(item.id as string);
    expect(seen).toEqual(asc.data.map((i) => i.id).concat(rest.data.map((i) => i.id)));

    // An item reference to the answer of `first` and to one of its inputs.
    upstream.script('m', { type: 'text', text: 'ok' });
    const answerId = (first.output[0] as { id: string }).id;
    const second = await ada.responses.create({ model: 'p/m', input: [{ type: 'item_reference', id: all.data[2]?.id as string }, { type: 'item_reference', id: answerId }, { role: 'user', content: 'and?' }] });
    expect(upstream.log.at(-1)?.messages).toEqual([
      { role: 'user', content: 'one' },
      { role: 'assistant', content: 'noted' },
      { role: 'user', content: 'and?' },
    ]);
    const kept = await ada.responses.inputItems.list(second.id, { order: 'asc' });
    expect(kept.data.map((i) => i.type)).toEqual(['message', 'message', 'message']);
    expect(kept.data[1]).toMatchObject({ id: answerId, role: 'assistant' });
  });

  it('delete: gone for retrieve and items; a conversation through it can no longer be continued', async () => {
    upstream.script('m', { type: 'text', text: 'a' }, { type: 'text', text: 'b' });
    const first = await ada.responses.create({ model: 'p/m', input: 'first' });
    const second = await ada.responses.create({ model: 'p/m', previous_response_id: first.id, input: 'second' });
    const res = await fetch(`${s.url}/v1/responses/${first.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${KEY_ADA}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: first.id, object: 'response', deleted: true });
    expect(await status(ada.responses.retrieve(first.id))).toMatchObject({ status: 404, code: 'response_not_found' });
    expect(await status(ada.responses.inputItems.list(first.id))).toMatchObject({ status: 404 });
    expect(await status(ada.responses.delete(first.id))).toMatchObject({ status: 404 });
    const before = upstream.log.length;
    const broken = await status(ada.responses.create({ model: 'p/m', previous_response_id: second.id, input: 'third' }));
    expect(broken).toMatchObject({ status: 400, param: 'previous_response_id', code: 'previous_response_not_found' });
    expect(broken.message).toContain(`continues a response that is gone`);
    expect(upstream.log.length).toBe(before);
  });

  it('store: false is not kept; previous_response_id may still read a stored one', async () => {
    upstream.script('m', { type: 'text', text: 'kept' }, { type: 'text', text: 'not kept' });
    const kept = await ada.responses.create({ model: 'p/m', input: 'x' });
    const loose = await ada.responses.create({ model: 'p/m', store: false, previous_response_id: kept.id, input: 'y' });
    expect((loose as unknown as { store: boolean }).store).toBe(false);
    expect((upstream.log.at(-1)?.messages as { content: string }[]).map((m) => m.content)).toEqual(['x', 'kept', 'y']);
    expect(await status(ada.responses.retrieve(loose.id))).toMatchObject({ status: 404 });
  });

  it('one key sees none of another key’s responses; nothing goes upstream', async () => {
    upstream.script('m', { type: 'text', text: 'private' });
    const mine = await ada.responses.create({ model: 'p/m', input: 'secret plan' });
    const before = upstream.log.length;
    expect(await status(bob.responses.retrieve(mine.id))).toMatchObject({ status: 404 });
    expect(await status(bob.responses.inputItems.list(mine.id))).toMatchObject({ status: 404 });
    expect(await status(bob.responses.delete(mine.id))).toMatchObject({ status: 404 });
    expect(await status(bob.responses.create({ model: 'p/m', previous_response_id: mine.id, input: 'tell me' }))).toMatchObject({ status: 400, param: 'previous_response_id' });
    expect(await status(bob.responses.create({ model: 'p/m', input: [{ type: 'item_reference', id: (mine.output[0] as { id: string }).id }] }))).toMatchObject({ status: 400, param: 'input[0].id' });
    expect(upstream.log.length).toBe(before);
    expect((await ada.responses.retrieve(mine.id)).id).toBe(mine.id);
  });

  it('bad requests name the parameter', async () => {
    upstream.script('m', { type: 'text', text: 'z' });
    const r = await ada.responses.create({ model: 'p/m', input: 'z' });
    const auth = { authorization: `Bearer ${KEY_ADA}` };
    const cases: [string, string, number, string][] = [
      ['GET', `/v1/responses/${r.id}/input_items?limit=0`, 400, 'limit'],
      ['GET', `/v1/responses/${r.id}/input_items?limit=101`, 400, 'limit'],
      ['GET', `/v1/responses/${r.id}/input_items?order=up`, 400, 'order'],
      ['GET', `/v1/responses/${r.id}/input_items?after=msg_nope`, 400, 'after'],
      ['GET', `/v1/responses/${r.id}?stream=true`, 400, 'stream'],
      ['POST', `/v1/responses/${r.id}/cancel`, 400, 'response_id'],
      ['GET', `/v1/responses/resp_${'\u00e9'.repeat(300)}`, 404, ''],
    ];
    for (const [method, route, code, param] of cases) {
      const res = await fetch(`${s.url}${route}`, { method, headers: auth });
      expect(res.status, route).toBe(code);
      const error = ((await res.json()) as { error: { message: string; param: string | null } }).error;
      if (param) expect(error.param).toBe(param);
      expect(error.message.length).toBeLessThan(400);
    }
    expect((await fetch(`${s.url}/v1/responses/${r.id}`)).status).toBe(401);
  });

  it('a second server on the same state continues the first one’s conversation, and a restart keeps them', async () => {
    upstream.script('m', { type: 'text', text: 'remembered' });
    const first = await ada.responses.create({ model: 'p/m', input: 'remember 42' });
    const other = await serve(sb);
    try {
      upstream.script('m', { type: 'text', text: '42' });
      const second = await clientFor(other.url, KEY_ADA).responses.create({ model: 'p/m', previous_response_id: first.id, input: 'what number?' });
      expect((upstream.log.at(-1)?.messages as { content: string }[]).map((m) => m.content)).toEqual(['remember 42', 'remembered', 'what number?']);
      expect((await ada.responses.retrieve(second.id)).output_text).toBe('42');
    } finally {
      await other.stop();
    }
    await s.stop();
    s = await serve(sb);
    ada = clientFor(s.url, KEY_ADA);
    expect((await ada.responses.retrieve(first.id)).output_text).toBe('remembered');
    // Kept under the state folder, the keys themselves nowhere in it.
    expect(readdirSync(path.join(sb.dataHome, 'pantheon'))).toContain('responses.sqlite');
    expect(await filesContaining(sb.dataHome, KEY_ADA)).toEqual([]);
    expect(await filesContaining(sb.dataHome, SECRET)).toEqual([]);
  });
});

describe('stored responses that cannot be opened', () => {
  it('answers with store: false and says why in the log; continuing is a 503 naming the file', async () => {
    const box = await sandbox();
    const up = await startScriptedServer({ apiKey: SECRET, models: { m: {} } });
    try {
      box.write('opencode.json', { ...providerConfig(up, { m: {} }), model: 'p/m', cache: { enabled: false } });
      // A folder where the file would be: SQLite cannot open it.
      mkdirSync(path.join(box.dataHome, 'pantheon', 'responses.sqlite'), { recursive: true });
      const server = await serve(box);
      const client = clientFor(server.url, 'open');
      up.script('m', { type: 'text', text: 'still answered' });
      const r = await client.responses.create({ model: 'p/m', input: 'hi' });
      expect(r.output_text).toBe('still answered');
      expect((r as unknown as { store: boolean }).store).toBe(false);
      const before = up.log.length;
      const refused = await status(client.responses.create({ model: 'p/m', previous_response_id: r.id, input: 'again' }));
      expect(refused.status).toBe(503);
      expect(refused.message).toContain(`The stored responses (${path.join(box.dataHome, 'pantheon', 'responses.sqlite')}) cannot be opened`);
      expect(up.log.length).toBe(before);
      const { stdout, stderr } = await server.stop();
      expect(`${stdout}${stderr}`).toContain('responses are answered with store: false');
      expect(hasStack(`${stdout}${stderr}`)).toBe(false);
    } finally {
      await up.close();
      await box.remove();
    }
  });
});
