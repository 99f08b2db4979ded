/**
 * Background responses (`background: true`) of `/v1/responses`, driven by the official `openai`
 * client against a real `opencode serve` (its state local: the SQLite file) and the scripted
 * provider: answered `queued` at once and polled to `completed`; cancelled while the provider
 * hangs (its request stopped); a provider's failure as `failed` with its error; `stream: true`
 * streamed as usual and resumed with `starting_after`; `store: false` refused; a server killed
 * while one runs: the next server answers it `failed`, never `in_progress` for ever; a server
 * stopped (SIGTERM) while one runs marks it failed before it exits.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasStack, providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { serve, type Served } from './serve-helper.ts';

let sb: Sandbox;
let upstream: ScriptedServer;
let s: Served;
let client: OpenAI;

const clientFor = (url: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: 'open', maxRetries: 0 });

beforeAll(async () => {
  upstream = await startScriptedServer({ apiKey: SECRET, models: { m: {} } });
  sb = await sandbox();
  sb.write('opencode.json', { ...providerConfig(upstream, { m: {} }), model: 'p/m', cache: { enabled: false }, retry: { maxRetries: 0 } });
  s = await serve(sb);
  client = clientFor(s.url);
});

afterAll(async () => {
  await s?.stop();
  await upstream?.close();
  await sb?.remove();
});

/** Polls the response until it has ended (each poll a round trip: the server's answer is the signal). */
async function settled(c: OpenAI, id: string): Promise<OpenAI.Responses.Response> {
  for (;;) {
    const r = await c.responses.retrieve(id);
    if (r.status !== 'queued' && r.status !== 'in_progress') return r;
    // A pause between polls only spares the cores; the answer decides.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function failure(promise: Promise<unknown>): Promise<{ status: number; message: string; param: unknown }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return { status: error.status as number, message: error.message, param: error.param };
    throw error;
  }
  throw new Error('expected an error');
}

describe('background responses', () => {
  it('accepted at once as queued, then polled to completed; continued afterwards', async () => {
    upstream.script('m', { type: 'hang' });
    const seen = upstream.log.length;
    const made = await client.responses.create({ model: 'p/m', input: 'write an essay', background: true });
    // Answered while the provider has not answered at all.
    expect(made.status).toBe('queued');
    expect(made.background).toBe(true);
    expect(made.output).toEqual([]);
    await upstream.waitFor((log) => log.length > seen);
    expect((await client.responses.retrieve(made.id)).status).toMatch(/^(queued|in_progress)$/);
    await client.responses.cancel(made.id);

    upstream.script('m', { type: 'text', text: 'An essay.' });
    const second = await client.responses.create({ model: 'p/m', input: 'write an essay', background: true });
    const done = await settled(client, second.id);
    expect(done.status).toBe('completed');
    expect(done.output_text).toBe('An essay.');
    expect(done.model).toBe('p/m');
    expect(done.usage?.output_tokens).toBeGreaterThan(0);
    upstream.script('m', { type: 'text', text: 'A shorter one.' });
    const next = await client.responses.create({ model: 'p/m', previous_response_id: second.id, input: 'shorter' });
    expect((upstream.log.at(-1)?.messages as { content: string }[]).map((m) => m.content)).toEqual(['write an essay', 'An essay.', 'shorter']);
    expect(next.output_text).toBe('A shorter one.');
  });

  it('cancel: the provider’s request is stopped and the response says cancelled; a finished one cannot be cancelled', async () => {
    upstream.script('m', { type: 'hang' });
    const seen = upstream.log.length;
    const made = await client.responses.create({ model: 'p/m', input: 'take your time', background: true });
    await upstream.waitFor((log) => log.length > seen);
    const cancelled = await client.responses.cancel(made.id);
    expect(cancelled.status).toBe('cancelled');
    await upstream.waitFor((log) => log[seen]?.endedAt != null);
    expect(upstream.log[seen]?.clientAborted).toBe(true);
    expect((await settled(client, made.id)).status).toBe('cancelled');
    // Again: the same answer.
    expect((await client.responses.cancel(made.id)).status).toBe('cancelled');
    // Not yet continued: it has no answer to continue.
    upstream.script('m', { type: 'text', text: 'done' });
    const plain = await client.responses.create({ model: 'p/m', input: 'quick' });
    const refused = await failure(client.responses.cancel(plain.id));
    expect(refused.status).toBe(400);
    expect(refused.message).toContain('only a background response can be cancelled');
    expect((await failure(client.responses.cancel('resp_nope'))).status).toBe(404);
  });

  it('a provider’s failure: failed, with its error', async () => {
    upstream.script('m', { type: 'status', status: 400 });
    const made = await client.responses.create({ model: 'p/m', input: 'bad', background: true });
    const done = await settled(client, made.id);
    expect(done.status).toBe('failed');
    expect(done.error?.message).toContain('Invalid request');
  });

  it('stream: true streams as usual, and GET ?stream=true&starting_after=N resumes after event N', async () => {
    upstream.script('m', { type: 'text', chunks: ['Once ', 'upon ', 'a time.'] });
    const stream = await client.responses.create({ model: 'p/m', input: 'a story', background: true, stream: true });
    const events: { type: string; sequence_number: number; response?: { id: string } }[] = [];
    for await (const event of stream) events.push(event);
    expect(events[0]?.type).toBe('response.created');
    expect(events.at(-1)?.type).toBe('response.completed');
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const id = events[0]?.response?.id as string;
    expect((await client.responses.retrieve(id)).output_text).toBe('Once upon a time.');
    const resumed = await client.responses.retrieve(id, { stream: true, starting_after: 2 });
    const again: { type: string; sequence_number: number }[] = [];
    for await (const event of resumed) again.push(event);
    expect(again.map((e) => e.sequence_number)).toEqual(events.slice(3).map((e) => e.sequence_number));
    expect(again.at(-1)?.type).toBe('response.completed');
    // A response answered as it ran has no events to resume.
    upstream.script('m', { type: 'text', text: 'plain' });
    const plain = await client.responses.create({ model: 'p/m', input: 'hi' });
    expect((await failure(client.responses.retrieve(plain.id, { stream: true }) as Promise<unknown>)).status).toBe(400);
  });

  it('needs store (a 400 naming background) and a model that is there (a 404): nothing sent', async () => {
    const before = upstream.log.length;
    const refused = await failure(client.responses.create({ model: 'p/m', input: 'x', background: true, store: false }));
    expect([refused.status, refused.param]).toEqual([400, 'background']);
    // A model that is not there: the request's 404, as without background.
    const missing = await failure(client.responses.create({ model: 'p/nope', input: 'x', background: true }));
    expect(missing.status).toBe(404);
    expect(upstream.log.length).toBe(before);
  });
});

describe('background responses across a restart', () => {
  it('killed while one runs: the next server answers it failed; stopped (SIGTERM): marked failed before the exit', async () => {
    const box = await sandbox();
    const up = await startScriptedServer({ apiKey: SECRET, models: { m: {} } });
    try {
      box.write('opencode.json', { ...providerConfig(up, { m: {} }), model: 'p/m', cache: { enabled: false }, retry: { maxRetries: 0 } });
      let server = await serve(box);
      up.script('m', { type: 'hang' }, { type: 'hang' });
      const made = await clientFor(server.url).responses.create({ model: 'p/m', input: 'long job', background: true });
      await up.waitFor((log) => log.length === 1);
      server.proc.child.kill('SIGKILL');
      await server.proc.exited;
      server = await serve(box);
      const after = await clientFor(server.url).responses.retrieve(made.id);
      expect(after.status).toBe('failed');
      expect(after.error?.message).toContain('The server running this background response stopped before it finished');

      // SIGTERM: the drain grace over, the run is cut and says so.
      const second = await clientFor(server.url).responses.create({ model: 'p/m', input: 'another long job', background: true });
      await up.waitFor((log) => log.length === 2);
      const { stdout, stderr } = await server.stop();
      expect(hasStack(`${stdout}${stderr}`)).toBe(false);
      server = await serve(box);
      const stopped = await clientFor(server.url).responses.retrieve(second.id);
      expect(stopped.status).toBe('failed');
      expect(stopped.error?.message).toContain('shutting down');
      await server.stop();
    } finally {
      await up.close();
      await box.remove();
    }
  });
});

describe('background responses behind server.keys', () => {
  it('another key cannot read or cancel one (404, the run goes on); a wrong key or none is a 401; its own key cancels it', async () => {
    const keyed = await sandbox();
    keyed.write('opencode.json', { ...providerConfig(upstream, { m: {} }), model: 'p/m', cache: { enabled: false }, retry: { maxRetries: 0 }, server: { keys: ['key-one-0123456789', 'key-two-0123456789'] } });
    const served = await serve(keyed);
    try {
      const one = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: 'key-one-0123456789', maxRetries: 0 });
      const two = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: 'key-two-0123456789', maxRetries: 0 });
      const wrong = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: 'not-a-key-0123456789', maxRetries: 0 });
      upstream.script('m', { type: 'hang' });
      const seen = upstream.log.length;
      const made = await one.responses.create({ model: 'p/m', input: 'a long task', background: true });
      await upstream.waitFor((log) => log.length > seen);
      expect((await failure(two.responses.cancel(made.id))).status).toBe(404);
      expect((await failure(two.responses.retrieve(made.id))).status).toBe(404);
      expect((await failure(wrong.responses.cancel(made.id))).status).toBe(401);
      const bare = await fetch(`${served.url}/v1/responses/${made.id}/cancel`, { method: 'POST' });
      expect(bare.status).toBe(401);
      expect(((await bare.json()) as { error: { message: string } }).error.message).toMatch(/key/i);
      // Still running for its own key (`queued` until the provider's first answer).
      expect(['queued', 'in_progress']).toContain((await one.responses.retrieve(made.id)).status);
      expect((await one.responses.cancel(made.id)).status).toBe('cancelled');
    } finally {
      await served.stop();
      await keyed.remove();
    }
  });
});
