/**
 * A `/v1/chat/completions` `stream: true` client that stays connected but stops reading, against a
 * real `opencode serve` (its stall limit lowered to 4 s by PANTHEON_SEND_STALL_MS, internal) and a
 * raw upstream that answers without end (endless-upstream.ts): once its connection has taken nothing
 * for the limit, the server cuts it, lets the provider's answer go (the upstream sees its connection
 * closed) and frees the lane's only concurrency slot, so the next request is answered at once. A
 * client that reads more slowly than the upstream writes, for twice the limit, is never cut
 * and gets the whole answer. (A reading client's connection takes more in steps of up to half the
 * kernel's send buffer, 2 MB here: the limit must be longer than such a step takes to read.)
 */
import http, { type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startEndlessUpstream, type EndlessUpstream } from './endless-upstream.ts';
import { getJson, serve, type Served } from './serve-helper.ts';

const STALL_MS = 4000;
let sb: Sandbox;
let upstream: EndlessUpstream;
let s: Served;

beforeAll(async () => {
  upstream = await startEndlessUpstream();
  sb = await sandbox();
  sb.write('opencode.json', {
    provider: { p: { options: { baseURL: upstream.url, apiKey: SECRET }, models: { m: { rateLimit: { concurrency: 1 } } } } },
    model: 'p/m',
    cache: { enabled: false },
    retry: { maxRetries: 0 },
  });
  s = await serve(sb, [], { PANTHEON_SEND_STALL_MS: String(STALL_MS) });
});

afterAll(async () => {
  await s?.stop();
  await upstream?.close();
  await sb?.remove();
});

const chatBody = (content: string, stream: boolean) => JSON.stringify({ model: 'p/m', stream, messages: [{ role: 'user', content }] });

/** A streamed chat request whose answer is not read until asked: node:http's response, paused. */
function openStream(content: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, resolve);
    req.on('error', reject);
    req.end(chatBody(content, true));
  });
}

/** A request that may not wait for the lane's slot: 429 unless it is free. */
const noWait = (content: string): Promise<Response> =>
  fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-pantheon-max-wait': '0' }, body: chatBody(content, false) });

describe('/v1 SSE: a client that stays connected and stops reading', () => {
  it('is cut once it has taken nothing for the stall limit: the upstream is let go and the slot freed', async () => {
    upstream.mode = 'endless';
    const pending = upstream.flow(upstream.flows.length + 1);
    const res = await openStream('never read');
    expect(res.statusCode).toBe(200);
    const flow = await pending;
    const cut = new Promise<void>((resolve) => res.socket.once('close', () => resolve()));
    // Nothing is read: the server lets the provider's answer go (its connection closes) ...
    await flow.until((f) => f.closed);
    // ... and cuts the client's connection.
    res.resume();
    res.on('error', () => undefined);
    await cut;

    // The lane's only slot is free: with no wait allowed, a held slot would be a 429.
    upstream.mode = 'ok';
    const next = await noWait('after the stall');
    expect(next.status).toBe(200);
    expect(((await next.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe('fine');
    const state = (await getJson(`${s.url}/api/state`)).body as { lanes: { model: string; inFlight: number }[] };
    expect(state.lanes.find((l) => l.model === 'p/m')).toMatchObject({ inFlight: 0 });
  });

  it('a client that reads slowly for twice the limit is not cut and gets the whole answer', async () => {
    upstream.mode = 'endless';
    const pending = upstream.flow(upstream.flows.length + 1);
    const res = await openStream('read slowly');
    expect(res.statusCode).toBe(200);
    const flow = await pending;
    let text = '';
    let closed = false;
    res.socket.once('close', () => (closed = true));
    // What has come, every 20 ms (slower than the server writes: the connection stays full
    // throughout), for twice the stall limit. It takes more than 0.5 MB/s even on a loaded machine:
    // enough for the kernel's steps (up to 2 MB) to come well within the limit.
    const started = performance.now();
    await new Promise<void>((resolve) => {
      const pace = setInterval(() => {
        let taken = 0;
        let chunk: Buffer | null;
        while (taken < 1024 * 1024 && (chunk = res.read() as Buffer | null)) {
          taken += chunk.length;
          text += chunk.toString('utf8');
        }
        if (performance.now() - started >= 2 * STALL_MS && text.length > 256 * 1024) {
          clearInterval(pace);
          resolve();
        }
      }, 20);
    });
    expect(closed).toBe(false);
    expect(flow.closed).toBe(false);

    // The rest is read at full speed once the upstream ends its answer.
    flow.stop();
    res.setEncoding('utf8');
    const ended = new Promise<void>((resolve, reject) => {
      res.on('end', resolve);
      res.on('error', reject);
    });
    res.on('data', (chunk: string) => (text += chunk));
    await ended;
    let content = 0;
    let done = false;
    for (const event of text.split('\n\n')) {
      if (!event.startsWith('data: ')) continue;
      if (event === 'data: [DONE]') {
        done = true;
        continue;
      }
      const chunk = JSON.parse(event.slice(6)) as { error?: unknown; choices?: { delta?: { content?: string } }[] };
      expect(chunk.error).toBeUndefined();
      content += chunk.choices?.[0]?.delta?.content?.length ?? 0;
    }
    expect(done).toBe(true);
    expect(content).toBe(flow.content);
  });
});
