/**
 * SIGTERM while gateway calls are in flight, against the real `opencode serve` and the scripted
 * provider: a slow /v1 SSE stream and a slow JSON call both finish (the stream with `[DONE]`), the
 * process exits 0 and leaves no concurrency slot held in the shared ledger (a new server on the same
 * state folder serves a `concurrency: 1` model at once); a call waiting on a rate window is answered
 * 503 with Retry-After in OpenAI's error shape, not dropped.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createOpencodeClient } from '@opencode-ai/sdk';
import { eventually, fixture } from '../mcp/helpers.ts';
import { parseMetrics } from './metrics-text.ts';
import { serve, watchEvents, type Served } from './serve-helper.ts';

let sb: Sandbox | undefined;
let model: ScriptedServer | undefined;
let servers: Served[] = [];
afterEach(async () => {
  for (const s of servers) if (s.proc.child.exitCode === null) await s.stop();
  await model?.close();
  await sb?.remove();
  servers = [];
  model = undefined;
  sb = undefined;
});

const chat = (url: string, m: string, stream: boolean, headers: Record<string, string> = {}) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: m, stream, messages: [{ role: 'user', content: `hi ${m}` }] }),
  });

async function started(box: Sandbox): Promise<Served> {
  const s = await serve(box);
  servers.push(s);
  return s;
}

describe('opencode serve: SIGTERM with gateway calls in flight', () => {
  it('a slow SSE stream and a slow JSON call both finish, exit 0, and no concurrency slot is left held', async () => {
    model = await startScriptedServer({ apiKey: SECRET, models: { one: {}, two: {} } });
    sb = await sandbox();
    sb.write('opencode.json', { ...providerConfig(model, { one: { rateLimit: { concurrency: 1 } }, two: { rateLimit: { concurrency: 1 } } }), model: 'p/one', cache: { enabled: false } });
    const s = await started(sb);
    const words = ['a ', 'b ', 'c ', 'd ', 'e ', 'f ', 'g ', 'h'];
    model.script('one', { type: 'slow', text: words.join(''), chunks: words, chunkDelayMs: 300 });
    model.script('two', { type: 'text', text: 'late but whole', delayMs: 2500 });

    const res = await chat(s.url, 'p/one', true);
    expect(res.status).toBe(200);
    const reader = res.body?.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    const decoder = new TextDecoder();
    let streamed = '';
    while (!streamed.includes('"content":"a "')) streamed += decoder.decode((await reader.read()).value, { stream: true });
    const json = chat(s.url, 'p/two', false);
    json.catch(() => undefined);
    await model.waitFor((log) => log.length === 2);

    const exited = s.stop();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      streamed += decoder.decode(value, { stream: true });
    }
    expect(streamed).toContain('"content":"h"');
    expect(streamed.trimEnd().endsWith('data: [DONE]')).toBe(true);
    const answered = await json;
    expect(answered.status).toBe(200);
    expect(((await answered.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe('late but whole');
    const result = await exited;
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/^error:/m);

    // A new server on the same state folder: both models' only slots are free (no wait allowed, so a held slot would be a 429).
    const again = await started(sb);
    const metrics = parseMetrics(await (await fetch(`${again.url}/metrics`)).text());
    expect(metrics.value('pantheon_requests_in_flight', { model: 'p/one' }) ?? 0).toBe(0);
    for (const m of ['p/one', 'p/two']) {
      const next = await chat(again.url, m, false, { 'x-pantheon-max-wait': '0' });
      expect(next.status).toBe(200);
      await next.json();
    }
  });

  it('a call still in flight when the grace runs out is cancelled and answered 503; its slot is released; exit 0', async () => {
    model = await startScriptedServer({ apiKey: SECRET, models: { one: {} } });
    sb = await sandbox();
    sb.write('opencode.json', { ...providerConfig(model, { one: { rateLimit: { concurrency: 1 } } }), model: 'p/one', cache: { enabled: false } });
    const s = await started(sb);
    model.script('one', { type: 'hang' });
    const hanging = chat(s.url, 'p/one', false);
    hanging.catch(() => undefined);
    await model.waitFor((log) => log.length === 1);

    const exited = s.stop();
    const cut = await hanging;
    expect(cut.status).toBe(503);
    expect(Number(cut.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await cut.json()) as { error: { message: string; code: string } }).error).toMatchObject({ code: 'shutting_down', message: expect.stringMatching(/grace .* ran out/) });
    await model.waitFor((log) => log[0]?.endedAt !== null);
    expect(model.log[0]).toMatchObject({ clientAborted: true });
    const result = await exited;
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/^error:/m);

    const again = await started(sb);
    const next = await chat(again.url, 'p/one', false, { 'x-pantheon-max-wait': '0' });
    expect(next.status).toBe(200);
    await next.json();
  }, 60_000);

  it('a call waiting on a rate window is answered 503 with Retry-After in OpenAI’s shape; exit 0', async () => {
    model = await startScriptedServer({ apiKey: SECRET, models: { lane: {} } });
    sb = await sandbox();
    sb.write('opencode.json', { ...providerConfig(model, { lane: { rateLimit: { maxRequests: 1, windowMs: 20_000 } } }), model: 'p/lane', cache: { enabled: false } });
    const s = await started(sb);
    const first = await chat(s.url, 'p/lane', false);
    expect(first.status).toBe(200);
    await first.json();
    const events = await watchEvents(s.url);
    await events.until(/server\.connected/);
    const waiting = chat(s.url, 'p/lane', false);
    await events.until(/rate_limited/);
    events.close();

    const exited = s.stop();
    const refused = await waiting;
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await refused.json()) as { error: { message: string; type: string; code: string } };
    expect(body.error).toMatchObject({ type: 'api_error', code: 'shutting_down' });
    expect(body.error.message).toMatch(/shutting down/);
    const result = await exited;
    expect(result.code).toBe(0);
    // Only the first request reached the provider.
    expect(model.log).toHaveLength(1);
  });

  it('a turn still waiting for its MCP server to start is cancelled when the grace runs out; exit 0, its user message kept', async () => {
    model = await startScriptedServer({ apiKey: SECRET, models: { one: {} } });
    sb = await sandbox();
    const pidFile = path.join(sb.root, 'slow.pid');
    // Never answers initialize, and would be waited for 10 minutes: far beyond the drain grace (10 s).
    const slow = { type: 'local', command: [process.execPath, fixture('hang-server.mjs')], environment: { PID_FILE: pidFile }, timeout: 600_000 };
    sb.write('opencode.json', { ...providerConfig(model, { one: {} }), model: 'p/one', cache: { enabled: false }, mcp: { slow } });
    const s = await started(sb);
    const client = createOpencodeClient({ baseUrl: s.url, directory: sb.project });
    const session = (await client.session.create({ body: {} })).data as { id: string };
    const sent = await client.session.promptAsync({ path: { id: session.id }, body: { parts: [{ type: 'text', text: 'hello' }] } });
    expect(sent.response.status).toBe(204);
    // The turn is starting its agent's MCP server (it wrote its pid), and waits for it.
    await eventually(async () => existsSync(pidFile), 30_000, 'the MCP server to start');

    const result = await s.stop();
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/^error:/m);
    expect(model.log).toHaveLength(0);
    // The session reads back on a new server, with no half-written answer.
    const again = await started(sb);
    const read = await createOpencodeClient({ baseUrl: again.url, directory: sb.project }).session.messages({ path: { id: session.id } });
    expect(read.response.status).toBe(200);
    // The user's message is kept, as OpenCode saves it before its loop sets up the tools; the reply ended aborted, with no parts.
    const messages = (read.data ?? []) as { info: { role: string; error?: { name: string } }; parts: { type: string; text?: string }[] }[];
    expect(messages.map((m) => m.info.role)).toEqual(['user', 'assistant']);
    expect(messages[0]?.parts).toEqual([expect.objectContaining({ type: 'text', text: 'hello' })]);
    expect(messages[1]?.info.error?.name).toBe('MessageAbortedError');
    expect(messages[1]?.parts).toEqual([]);
  }, 90_000);
});
