/**
 * A provider's answer cannot grow the gateway without bound, against a real `opencode serve` and a
 * raw upstream that answers without end (endless-upstream.ts): a whole JSON answer (chat, text
 * completions, embeddings) is read to at most its limit, then the client gets a 502 saying so; a
 * streamed answer ends with an error event once past the limit; nothing of either is cached, and
 * the upstream's connection is let go at once. A client that stops reading a stream stops the
 * upstream's answer being read (the upstream is held on a full connection, seen by its own writes
 * and 'drain' events, not by time), and once it reads again the answer goes on, whole.
 *
 * One server runs with the limit lowered to 1 MiB (PANTHEON_MAX_ANSWER_BYTES, internal), so that
 * reaching it takes no large data; another with the real 64 MiB.
 */
import http, { type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startEndlessUpstream, type EndlessUpstream, type Flow } from './endless-upstream.ts';
import { serve, type Served } from './serve-helper.ts';

const MiB = 2 ** 20;
/** What the connections between upstream, server and client may hold (the kernel's socket buffers on loopback): the most read past a limit. */
const IN_FLIGHT = 24 * MiB;

let sb: Sandbox;
let upstream: EndlessUpstream;
/** The limit lowered to 1 MiB. */
let small: Served;
/** The real limit, 64 MiB. */
let real: Served;

beforeAll(async () => {
  upstream = await startEndlessUpstream();
  sb = await sandbox();
  sb.write('opencode.json', {
    provider: { p: { options: { baseURL: upstream.url, apiKey: SECRET }, models: { m: {} } } },
    model: 'p/m',
    cache: { enabled: true, store: 'memory' },
    retry: { maxRetries: 0 },
    cooldown: { afterFailures: 100, ms: 1000 },
  });
  [small, real] = await Promise.all([serve(sb, [], { PANTHEON_MAX_ANSWER_BYTES: String(MiB) }), serve(sb)]);
});

afterAll(async () => {
  await small?.stop();
  await real?.stop();
  await upstream?.close();
  await sb?.remove();
});

const post = (server: Served, path: string, body: object): Promise<Response> =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

const chatBody = (content: string, stream = false) => ({ model: 'p/m', stream, messages: [{ role: 'user', content }] });

/** The next answer the upstream begins, once the request `send` makes is answered. */
async function endless(send: () => Promise<Response>): Promise<{ res: Response; flow: Promise<Flow> }> {
  upstream.mode = 'endless';
  const flow = upstream.flow(upstream.flows.length + 1);
  return { res: await send(), flow };
}

/** The same request again with the upstream answering at once: a fresh answer, not a cached one. */
async function notCached(send: () => Promise<Response>): Promise<Response> {
  upstream.mode = 'ok';
  const asked = upstream.requests.length;
  const res = await send();
  expect(res.status).toBe(200);
  expect(res.headers.get('x-pantheon-cache')).toBeNull();
  expect(upstream.requests.length).toBe(asked + 1);
  return res;
}

/** The text content of an SSE body of chat-completion chunks, and whether it had an error event. */
function sseContent(text: string): { content: string; errors: string[]; done: boolean } {
  let content = '';
  const errors: string[] = [];
  let done = false;
  for (const event of text.split('\n\n')) {
    if (!event.startsWith('data: ')) continue;
    const data = event.slice(6);
    if (data === '[DONE]') {
      done = true;
      continue;
    }
    const chunk = JSON.parse(data) as { error?: { message: string }; choices?: { delta?: { content?: string } }[] };
    if (chunk.error) errors.push(chunk.error.message);
    content += chunk.choices?.[0]?.delta?.content ?? '';
  }
  return { content, errors, done };
}

describe('/v1: a whole answer that never ends', () => {
  it('chat: 502 saying the answer went past the limit, the upstream let go at once, nothing cached', async () => {
    const send = () => post(small, '/v1/chat/completions', chatBody('endless json'));
    const { res, flow } = await endless(send);
    expect(res.status).toBe(502);
    const { error } = (await res.json()) as { error: { message: string; type: string } };
    expect(error.type).toBe('api_error');
    expect(error.message).toContain('the answer went past 1 MiB');
    const answer = await flow;
    await answer.until((f) => f.closed);
    expect(answer.written).toBeGreaterThan(MiB);
    expect(answer.written).toBeLessThan(MiB + IN_FLIGHT);
    const fresh = (await (await notCached(send)).json()) as { choices: { message: { content: string } }[] };
    expect(fresh.choices[0]?.message.content).toBe('fine');
  });

  it('text completions and embeddings: the same, each with its own limit', async () => {
    const complete = () => post(small, '/v1/completions', { model: 'p/m', prompt: 'endless text' });
    const completed = await endless(complete);
    expect(completed.res.status).toBe(502);
    expect(((await completed.res.json()) as { error: { message: string } }).error.message).toContain('the answer went past 1 MiB');
    await (await completed.flow).until((f) => f.closed);
    await notCached(complete);

    const embed = () => post(small, '/v1/embeddings', { model: 'p/m', input: 'endless vectors' });
    const embedded = await endless(embed);
    expect(embedded.res.status).toBe(502);
    // Four times a chat answer's limit: a large batch of vectors is legitimately large.
    expect(((await embedded.res.json()) as { error: { message: string } }).error.message).toContain('the embeddings answer went past 4 MiB');
    const answer = await embedded.flow;
    await answer.until((f) => f.closed);
    expect(answer.written).toBeLessThan(4 * MiB + IN_FLIGHT);
  });

  it('with the real limit: 502 once 64 MiB are read', async () => {
    const { res, flow } = await endless(() => post(real, '/v1/chat/completions', chatBody('endless json, real limit')));
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('the answer went past 64 MiB');
    const answer = await flow;
    await answer.until((f) => f.closed);
    expect(answer.written).toBeGreaterThan(64 * MiB);
    expect(answer.written).toBeLessThan(64 * MiB + IN_FLIGHT);
  });
});

describe('/v1: a streamed answer that never ends', () => {
  it('ends with an error event once past the limit, the upstream let go, nothing cached', async () => {
    const send = () => post(small, '/v1/chat/completions', chatBody('endless stream', true));
    const { res, flow } = await endless(send);
    expect(res.status).toBe(200);
    const { content, errors, done } = sseContent(await res.text());
    expect(errors).toEqual([expect.stringContaining('p/m: the streamed answer went past 1 MiB.')]);
    expect(done).toBe(true);
    expect(content.length).toBeGreaterThan(0);
    expect(content.length).toBeLessThanOrEqual(MiB);
    const answer = await flow;
    await answer.until((f) => f.closed);
    expect(answer.written).toBeLessThan(MiB + IN_FLIGHT);
    const fresh = sseContent(await (await notCached(send)).text());
    expect(fresh).toEqual({ content: 'fine', errors: [], done: true });
  });
});

/** A streamed chat request whose answer is not read until asked: node:http's response, paused. */
function openStream(server: Served, body: object): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, resolve);
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('/v1: a client that stops reading a stream', () => {
  it('holds the upstream back until it reads again, then gets the whole answer', async () => {
    upstream.mode = 'endless';
    const pending = upstream.flow(upstream.flows.length + 1);
    const res = await openStream(real, chatBody('a stream read slowly', true));
    expect(res.statusCode).toBe(200);
    const flow = await pending;
    // The client reads nothing. The upstream is held once it is blocked on a write and stays so
    // while requests go through the server (each a turn of its event loop, and of this process's,
    // where the upstream would see a 'drain'); a server that read on would drain it and read the
    // whole answer (or up to its limit) instead.
    let still = 0;
    while (still < 3) {
      await flow.until((f) => f.held || f.closed);
      expect(flow.closed).toBe(false);
      const drains = flow.drains;
      expect((await fetch(`${real.url}/v1/models`)).status).toBe(200);
      still = flow.held && flow.drains === drains ? still + 1 : 0;
    }
    const held = flow.written;
    // Held well before the answer's limit: what the connections hold, not the answer.
    expect(held).toBeLessThan(IN_FLIGHT + 8 * MiB);

    // The client reads again: the upstream is drained again, and the answer comes whole.
    res.setEncoding('utf8');
    let text = '';
    const ended = new Promise<void>((resolve, reject) => {
      res.on('end', resolve);
      res.on('error', reject);
    });
    res.on('data', (chunk: string) => (text += chunk));
    const drains = flow.drains;
    await flow.until((f) => f.drains > drains);
    expect(flow.written).toBeGreaterThanOrEqual(held);
    flow.stop();
    await ended;
    const { content, errors, done } = sseContent(text);
    expect(errors).toEqual([]);
    expect(done).toBe(true);
    expect(content.length).toBe(flow.content);
  });
});
