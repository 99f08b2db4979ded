/**
 * The scheduler behind the server: a 429 in a server turn is retried (session.status retry) and
 * then falls back (pantheon.fallback on the stream); sessions in parallel and `opencode run`
 * processes beside the server share one provider limit through the one ledger.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { v2Calls } from './sdk-clients.ts';
import { collect, idleOf } from './sdk-helper.ts';
import { serve, type Served } from './serve-helper.ts';

let sb: Sandbox | undefined;
let model: ScriptedServer | undefined;
let s: Served | undefined;
afterEach(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
  s = undefined;
  model = undefined;
  sb = undefined;
});

describe('opencode serve: scheduling', () => {
  it('a 429 in a server turn: session.status retry while it waits, then a fallback on the stream, then the answer', async () => {
    model = await startScriptedServer({
      apiKey: SECRET,
      models: { m: { script: [{ type: 'status', status: 429, retryAfterMs: 300 }, { type: 'status', status: 429, retryAfter: 20 }] }, f: {} },
    });
    sb = await sandbox();
    sb.write('opencode.json', { ...providerConfig(model, { m: {}, f: {} }), model: 'p/m', fallbacks: ['p/f'], retry: { maxRetries: 3, baseDelay: 1000 } });
    s = await serve(sb);
    const api = v2Calls(s.url, sb.project);
    const id = ((await api.create()).data as { id: string }).id;
    const abort = new AbortController();
    const stream = collect(await api.events(abort.signal));
    await stream.until((e) => e.type === 'server.connected');
    const reply = await api.prompt(id, 'hello');
    await stream.until(idleOf(id));
    expect(reply.data).toMatchObject({ info: { providerID: 'p', modelID: 'f' }, parts: expect.arrayContaining([expect.objectContaining({ type: 'text', text: 'echo: hello' })]) });
    const statuses = stream.of('session.status').map((e) => (e.properties.status as { type: string }).type);
    expect(statuses).toEqual(['busy', 'retry', 'busy', 'idle']);
    const retry = stream.of('session.status').find((e) => (e.properties.status as { type: string }).type === 'retry');
    expect(retry?.properties.status).toMatchObject({ attempt: 1, message: expect.stringContaining('429'), next: expect.any(Number) });
    expect(stream.of('pantheon.retry')[0]?.properties).toMatchObject({ sessionID: id, model: 'p/m', status: 429, attempt: 1 });
    expect(stream.of('pantheon.fallback')[0]?.properties).toMatchObject({ sessionID: id, from: 'p/m', to: 'p/f', reason: 'rate_limited' });
    expect(model.log.map((e) => [e.model, e.status])).toEqual([
      ['m', 429],
      ['m', 429],
      ['f', 200],
    ]);
    abort.abort();
  });

  it('a turn where every model fails ends as OpenCode ends one: an APIError on the reply, session.error, then idle; the server keeps serving', async () => {
    model = await startScriptedServer({ apiKey: SECRET, models: { m: { script: [{ type: 'status', status: 500, repeat: 2 }] }, f: { script: [{ type: 'status', status: 403 }] } } });
    sb = await sandbox();
    sb.write('opencode.json', { ...providerConfig(model, { m: {}, f: {} }), model: 'p/m', fallbacks: ['p/f'], retry: { maxRetries: 1, baseDelay: 20, maxDelay: 40 }, cache: { enabled: false } });
    s = await serve(sb);
    const api = v2Calls(s.url, sb.project);
    const id = ((await api.create()).data as { id: string }).id;
    const abort = new AbortController();
    const stream = collect(await api.events(abort.signal));
    await stream.until((e) => e.type === 'server.connected');
    const reply = await api.prompt(id, 'doomed');
    await stream.until(idleOf(id));
    expect(reply.status).toBe(200);
    expect(reply.data).toMatchObject({ info: { role: 'assistant', error: { name: 'APIError', data: { code: 'ALL_FALLBACKS_FAILED', message: expect.stringContaining('Every model in the chain failed') } } } });
    expect(stream.of('session.error').map((e) => e.properties)).toEqual([{ sessionID: id, error: expect.objectContaining({ name: 'APIError' }) }]);
    expect(stream.of('pantheon.error')[0]?.properties).toMatchObject({ code: 'ALL_FALLBACKS_FAILED', details: expect.arrayContaining([expect.stringContaining('p/f attempt 1: 403')]) });
    expect(model.log.map((e) => [e.model, e.status])).toEqual([['m', 500], ['m', 500], ['f', 403]]);
    // The failed turn is saved with its error, and the session takes the next prompt.
    const messages = (await api.messages(id)).data as { info: { error?: { name: string } } }[];
    expect(messages.at(-1)?.info.error?.name).toBe('APIError');
    expect(((await api.prompt(id, 'again')).data as { parts: { text?: string }[] }).parts.some((p) => p.text === 'echo: again')).toBe(true);
    abort.abort();
  });

  it('two sessions in parallel and two `opencode run`s beside the server share one provider limit: none refused', async () => {
    const limit = { maxRequests: 2, windowMs: 1000 };
    model = await startScriptedServer({ apiKey: SECRET, models: { lim: { rateLimit: limit } } });
    sb = await sandbox();
    sb.write('opencode.json', { ...providerConfig(model, { lim: {} }, { rateLimit: limit }), model: 'p/lim', retry: { maxRetries: 0 }, cache: { enabled: false } });
    s = await serve(sb);
    const api = v2Calls(s.url, sb.project);
    const [a, b] = await Promise.all([api.create(), api.create()]).then((r) => r.map((x) => (x.data as { id: string }).id));
    const turns = async (id: string, tag: string) => {
      for (let i = 0; i < 3; i++) {
        const reply = await api.prompt(id, `${tag} ${i}`);
        expect(reply.data, JSON.stringify(reply.data)).toMatchObject({ parts: expect.arrayContaining([expect.objectContaining({ text: `echo: ${tag} ${i}` })]) });
      }
    };
    const runs = [sb.run(['run', 'cli one']), sb.run(['run', 'cli two'])];
    await Promise.all([turns(a as string, 'a'), turns(b as string, 'b')]);
    for (const r of await Promise.all(runs)) expect(r.code, r.stderr).toBe(0);
    const stats = model.stats();
    expect(stats.models.lim?.requests).toBe(8);
    expect(stats.overLimit).toBe(0);
    expect(stats.maxStartsInWindow('lim', limit.windowMs)).toBeLessThanOrEqual(limit.maxRequests);
    const starts = model.log.map((e) => e.startedAt).sort((x, y) => x - y);
    // 8 starts at 2 per second span at least three windows: the limit was binding.
    expect((starts.at(-1) ?? 0) - (starts[0] ?? 0)).toBeGreaterThanOrEqual(3 * limit.windowMs - 50);
  });
});
