/**
 * Stored responses on the state's Redis, as two machines behind a load balancer see them: two real
 * `opencode serve` processes in two sandboxes (two data folders: nothing shared but the Redis) on
 * one real redis-server, driven by the official `openai` client. A response made on one is
 * continued (`previous_response_id`, `item_reference`), read, listed and deleted on the other; a
 * background one made on one is polled and cancelled on the other, whose cancel stops the call
 * on the first. Redis down: the request that needs the store is one clear 503, the rest is served;
 * Redis back: the store answers again.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasStack, providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { startRedis, type TestRedis } from '../support/redis-server.ts';
import { getJson, serve, type Served } from './serve-helper.ts';

const PASSWORD = 'resp-Pw-4e2a9c';
const KEY_ADA = 'pk-ada-0123456789abcdef';
const KEY_BOB = 'pk-bob-0123456789abcdef';
let redis: TestRedis;
let upstream: ScriptedServer;
const boxes: Sandbox[] = [];
let a: Served;
let b: Served;

const clientFor = (s: Served, key: string) => new OpenAI({ baseURL: `${s.url}/v1`, apiKey: key, maxRetries: 0 });

async function failure(promise: Promise<unknown>): Promise<{ status: number; message: string; param: unknown }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return { status: error.status as number, message: error.message, param: error.param };
    throw error;
  }
  throw new Error('expected an error');
}

async function machine(): Promise<Served> {
  const sb = await sandbox();
  boxes.push(sb);
  sb.write('opencode.json', {
    ...providerConfig(upstream, { m: {} }),
    model: 'p/m',
    cache: { enabled: false },
    retry: { maxRetries: 0 },
    server: { keys: [{ key: KEY_ADA, name: 'ada' }, { key: KEY_BOB, name: 'bob' }] },
    // "local": limits fall back to this machine's ledger while Redis is away, so the outage test can show what else is served.
    state: { store: redis.url, keyPrefix: 'resp-test:', onUnavailable: 'local' },
  });
  return serve(sb);
}

beforeAll(async () => {
  redis = await startRedis({ password: PASSWORD });
  upstream = await startScriptedServer({ apiKey: SECRET, models: { m: {} } });
  [a, b] = await Promise.all([machine(), machine()]);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await upstream?.close();
  await redis?.stop();
  for (const sb of boxes) await sb.remove();
});

describe('stored responses on Redis, across two servers', () => {
  it('made on one server: continued, referenced, read, listed and deleted on the other', async () => {
    const onA = clientFor(a, KEY_ADA);
    const onB = clientFor(b, KEY_ADA);
    upstream.script('m', { type: 'text', text: 'Nice to meet you, Ada.' });
    const first = await onA.responses.create({ model: 'p/m', input: 'My name is Ada.' });
    expect((first as unknown as { store: boolean }).store).toBe(true);

    upstream.script('m', { type: 'text', text: 'Your name is Ada.' });
    const second = await onB.responses.create({ model: 'p/m', previous_response_id: first.id, input: 'What is my name?' });
    expect(second.output_text).toBe('Your name is Ada.');
    expect((upstream.log.at(-1)?.messages as { content: string }[]).map((m) => m.content)).toEqual(['My name is Ada.', 'Nice to meet you, Ada.', 'What is my name?']);

    // Streamed on A, continuing what B made: the chain of three, read back from Redis.
    upstream.script('m', { type: 'text', chunks: ['Good', 'bye.'] });
    const stream = await onA.responses.create({ model: 'p/m', previous_response_id: second.id, input: 'Bye.', stream: true });
    let third = '';
    for await (const event of stream) if (event.type === 'response.completed') third = event.response.id;
    expect((upstream.log.at(-1)?.messages as { content: string }[]).map((m) => m.content)).toEqual(['My name is Ada.', 'Nice to meet you, Ada.', 'What is my name?', 'Your name is Ada.', 'Bye.']);

    // An item of A's response, referenced on B.
    const said = first.output[0] as { id: string };
    upstream.script('m', { type: 'text', text: 'ok' });
    await onB.responses.create({ model: 'p/m', input: [{ type: 'item_reference', id: said.id }, { role: 'user', content: 'Repeat that.' }] });
    expect((upstream.log.at(-1)?.messages as { content: string }[]).map((m) => m.content)).toEqual(['Nice to meet you, Ada.', 'Repeat that.']);

    // Read and listed on B as A answered it.
    const read = await onB.responses.retrieve(third);
    expect(read.output_text).toBe('Goodbye.');
    expect(read.previous_response_id).toBe(second.id);
    const items = await onB.responses.inputItems.list(second.id);
    expect(items.data.map((i) => (i as { content: { text: string }[] }).content[0]?.text)).toEqual(['What is my name?']);

    // Another key sees none of it, on either server.
    expect((await failure(clientFor(b, KEY_BOB).responses.retrieve(first.id))).status).toBe(404);
    expect((await failure(clientFor(a, KEY_BOB).responses.create({ model: 'p/m', previous_response_id: first.id, input: 'x' }))).status).toBe(400);

    // Deleted on B: gone on A too, and what continued it can no longer be continued.
    await onB.responses.delete(second.id);
    expect((await failure(onA.responses.retrieve(second.id))).status).toBe(404);
    const broken = await failure(onA.responses.create({ model: 'p/m', previous_response_id: third, input: 'again' }));
    expect(broken.status).toBe(400);
    expect(broken.param).toBe('previous_response_id');
    expect(broken.message).toContain(`continues a response that is gone`);
  });

  it('a background response made on one server is polled and cancelled on the other, which stops the call', async () => {
    upstream.script('m', { type: 'hang' });
    const seen = upstream.log.length;
    const made = await clientFor(a, KEY_ADA).responses.create({ model: 'p/m', input: 'think hard', background: true });
    expect(made.status).toBe('queued');
    expect(made.background).toBe(true);
    await upstream.waitFor((log) => log.length > seen);
    const onB = clientFor(b, KEY_ADA);
    expect(['queued', 'in_progress']).toContain((await onB.responses.retrieve(made.id)).status);
    const cancelled = await onB.responses.cancel(made.id);
    expect(cancelled.status).toBe('cancelled');
    // A hears of it through Redis (its run's heartbeat) and stops the provider's request.
    await upstream.waitFor((log) => log[seen]?.endedAt != null);
    expect(upstream.log[seen]?.clientAborted).toBe(true);
    expect((await clientFor(a, KEY_ADA).responses.retrieve(made.id)).status).toBe('cancelled');
    const again = await failure(onB.responses.create({ model: 'p/m', previous_response_id: made.id, input: 'x', background: true, store: false }));
    expect(again.status).toBe(400);
  });

  it('a streamed background response made on one server is resumed on the other after event N', async () => {
    upstream.script('m', { type: 'text', chunks: ['Once ', 'upon ', 'a ', 'time.'] });
    const stream = await clientFor(a, KEY_ADA).responses.create({ model: 'p/m', input: 'a story', background: true, stream: true });
    const events: { type: string; sequence_number: number; response?: { id: string } }[] = [];
    for await (const event of stream) events.push(event);
    expect(events.at(-1)?.type).toBe('response.completed');
    const id = events[0]?.response?.id as string;
    const resumed = await clientFor(b, KEY_ADA).responses.retrieve(id, { stream: true, starting_after: 3 });
    const again: { type: string; sequence_number: number }[] = [];
    for await (const event of resumed) again.push(event);
    expect(again).toEqual(events.slice(4));
    // Another key: no such response.
    expect((await failure(clientFor(b, KEY_BOB).responses.retrieve(id, { stream: true }) as Promise<unknown>)).status).toBe(404);
    // A sequence number past what Redis can index is the client's 400 naming it, not a 503 blaming Redis.
    const huge = await getJson(`${b.url}/v1/responses/${id}?stream=true&starting_after=99999999999999999999`, { headers: { authorization: `Bearer ${KEY_ADA}` } });
    expect(huge.status).toBe(400);
    expect(JSON.stringify(huge.body)).toContain('starting_after: expected a sequence number');

    // While it runs: B follows it from the store as A's provider sends it, to the last event.
    upstream.script('m', { type: 'slow', chunks: ['one ', 'two ', 'three ', 'four ', 'five ', 'six.'], text: 'one two three four five six.', chunkDelayMs: 150 });
    const live = await clientFor(a, KEY_ADA).responses.create({ model: 'p/m', input: 'count', background: true, stream: true });
    const seen: { type: string; sequence_number: number; response?: { id: string } }[] = [];
    let following: Promise<unknown[]> | undefined;
    for await (const event of live) {
      seen.push(event);
      if (event.type === 'response.output_text.delta' && !following) {
        const onB = await clientFor(b, KEY_ADA).responses.retrieve(seen[0]?.response?.id as string, { stream: true, starting_after: event.sequence_number });
        following = (async () => {
          const got: unknown[] = [];
          for await (const e of onB) got.push(e);
          return got;
        })();
      }
    }
    expect(await following).toEqual(seen.slice(seen.findIndex((e) => e.type === 'response.output_text.delta') + 1));
  });

  it('Redis down: the request that needs the store is one clear 503; the rest is served; back, it is used again', async () => {
    const onA = clientFor(a, KEY_ADA);
    upstream.script('m', { type: 'text', text: 'kept' });
    const before = await onA.responses.create({ model: 'p/m', input: 'remember this' });
    await redis.kill('SIGKILL');
    try {
      const refused = await failure(clientFor(b, KEY_ADA).responses.create({ model: 'p/m', previous_response_id: before.id, input: 'and then?' }));
      expect(refused.status).toBe(503);
      expect(refused.message).toMatch(/^503 The stored responses on redis:\/\/127\.0\.0\.1:\d+ cannot be reached: .+\. Send the whole conversation as `input` with `store: false`, or try again once the Redis server is back\.$/);
      expect(refused.message).not.toContain(PASSWORD);
      expect((await failure(clientFor(b, KEY_ADA).responses.retrieve(before.id))).status).toBe(503);
      // A request that needs no stored response is answered, said not kept.
      upstream.script('m', { type: 'text', text: 'served anyway' });
      const served = await clientFor(b, KEY_ADA).responses.create({ model: 'p/m', input: 'hello' });
      expect(served.output_text).toBe('served anyway');
      expect((served as unknown as { store: boolean }).store).toBe(false);
      expect((await getJson(`${b.url}/v1/models`, { headers: { authorization: `Bearer ${KEY_ADA}` } })).status).toBe(200);
    } finally {
      await redis.start();
    }
    // Back: the response kept before the outage is there, and is continued. (The connection reconnects in the background.)
    upstream.script('m', { type: 'text', text: 'You said: remember this.' });
    let continued: OpenAI.Responses.Response | undefined;
    for (let i = 0; i < 150 && !continued; i++) {
      continued = await clientFor(b, KEY_ADA)
        .responses.create({ model: 'p/m', previous_response_id: before.id, input: 'what did I say?' })
        .catch(async (error: unknown) => {
          if (!(error instanceof OpenAI.APIError) || error.status !== 503) throw error;
          await new Promise((resolve) => setTimeout(resolve, 200));
          return undefined;
        });
    }
    expect(continued?.output_text).toBe('You said: remember this.');
    const { stdout, stderr } = await b.stop();
    expect(`${stdout}${stderr}`).not.toContain(PASSWORD);
    expect(hasStack(`${stdout}${stderr}`)).toBe(false);
  });
});
