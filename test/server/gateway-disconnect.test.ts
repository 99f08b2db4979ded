/**
 * A client that goes away in the middle of a /v1 SSE answer, against a real `opencode serve` and the
 * scripted provider: the upstream request is aborted (the provider sees its client close), the lane's
 * only concurrency slot and the key's only in-flight slot are free again at once, the call ends as
 * `cancelled` on the event stream with nothing counted as answered, no session is written, and the
 * server goes on serving.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { parseMetrics } from './metrics-text.ts';
import { getJson, serve, watchEvents, type Served } from './serve-helper.ts';

const KEY = 'pk-serial-0123456789';
let sb: Sandbox;
let model: ScriptedServer;
let s: Served;

beforeAll(async () => {
  model = await startScriptedServer({ apiKey: SECRET, models: { one: {} } });
  sb = await sandbox();
  sb.write('opencode.json', {
    ...providerConfig(model, { one: { rateLimit: { concurrency: 1 } } }),
    model: 'p/one',
    cache: { enabled: false },
    server: { keys: [{ key: KEY, name: 'serial', rateLimit: { concurrency: 1 } }] },
  });
  s = await serve(sb);
});

afterAll(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
});

const chat = (content: string, signal?: AbortSignal, stream = true) =>
  fetch(`${s.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'x-pantheon-max-wait': '0' },
    body: JSON.stringify({ model: 'p/one', stream, messages: [{ role: 'user', content }] }),
    ...(signal ? { signal } : {}),
  });

describe('/v1 SSE: the client goes away mid-stream', () => {
  it('aborts the upstream request, frees the lane and key slots, ends the call cancelled, and keeps serving', async () => {
    const events = await watchEvents(s.url);
    await events.until(/server\.connected/);

    model.script('one', { type: 'slow', text: 'a b c d e f g h', chunks: ['a ', 'b ', 'c ', 'd ', 'e ', 'f ', 'g ', 'h'], chunkDelayMs: 200 });
    const gone = new AbortController();
    const res = await chat('long answer', gone.signal);
    expect(res.status).toBe(200);
    const sse = res.body?.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    let got = '';
    while (!got.includes('"content":"a "')) got += new TextDecoder().decode((await sse.read()).value);
    gone.abort();

    // The provider sees its client (Pantheon) close the connection before the answer was complete.
    await model.waitFor((log) => log.length === 1 && log[0]?.endedAt !== null);
    expect(model.log[0]).toMatchObject({ clientAborted: true });
    await events.until(/"type":"pantheon\.done"[^\n]*"status":"cancelled"|"status":"cancelled"[^\n]*"type":"pantheon\.done"/);
    events.close();

    // Both concurrency slots (the lane's and the key's) are free: with no wait allowed, this would be a 429.
    const next = await chat('short', undefined, false);
    expect(next.status).toBe(200);
    expect(((await next.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe('echo: short');

    const metrics = parseMetrics(await (await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${KEY}` } })).text());
    expect(metrics.value('pantheon_requests_in_flight', { model: 'p/one' })).toBe(0);
    // Only the answered call counts as a request; the dropped one did not finish.
    expect(metrics.value('pantheon_model_requests_total', { model: 'p/one', outcome: 'ok' })).toBe(1);
    const state = (await getJson(`${s.url}/api/state`)).body as { lanes: { model: string; inFlight: number; queued: number }[] };
    expect(state.lanes.find((l) => l.model === 'p/one')).toMatchObject({ inFlight: 0, queued: 0 });
    const sessions = path.join(sb.dataHome, 'pantheon', 'sessions');
    expect(fs.existsSync(sessions) ? fs.readdirSync(sessions, { recursive: true }).filter((f) => String(f).endsWith('.json')) : []).toEqual([]);
  });
});
