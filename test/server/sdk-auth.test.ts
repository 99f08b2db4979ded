/** The SDK flows against a server with OPENCODE_SERVER_PASSWORD: Basic auth on every call and stream; a wrong password is a 401. */
import { createOpencodeServer } from '@opencode-ai/sdk/v2/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { v1Calls, v2Calls } from './sdk-clients.ts';
import { SDK_START_TIMEOUT_MS, collect, idleOf, untilGone, useSandboxEnv } from './sdk-helper.ts';
import { basic } from './serve-helper.ts';

const PASSWORD = 'correct horse battery staple';

describe('@opencode-ai/sdk against a password-protected server', () => {
  let sb: Sandbox;
  let model: ScriptedServer;
  let server: { url: string; close(): void };
  let restore: () => void;

  beforeAll(async () => {
    model = await startScriptedServer({ models: { m: {} } });
    sb = await sandbox();
    restore = await useSandboxEnv(sb, { OPENCODE_SERVER_PASSWORD: PASSWORD });
    server = await createOpencodeServer({ port: 0, timeout: SDK_START_TIMEOUT_MS, config: { model: 'p/m', provider: { p: { options: { baseURL: model.url, apiKey: SECRET }, models: { m: {} } } } } as never });
  });

  afterAll(async () => {
    server?.close();
    if (server) await untilGone(`${server.url}/global/health`);
    restore?.();
    await model?.close();
    await sb?.remove();
  });

  it.each([
    ['v1', v1Calls],
    ['v2', v2Calls],
  ] as const)('%s: with the password every call and the event stream work', async (_name, makeCalls) => {
    const api = makeCalls(server.url, sb.project, { authorization: basic('opencode', PASSWORD) });
    expect((await api.health()).status).toBe(200);
    const id = ((await api.create()).data as { id: string }).id;
    const abort = new AbortController();
    const stream = collect(await api.events(abort.signal));
    await stream.until((e) => e.type === 'server.connected');
    expect((await api.promptAsync(id, 'secret handshake')).status).toBe(204);
    await stream.until(idleOf(id));
    expect(stream.of('message.part.delta').map((e) => e.properties.delta).join('')).toBe('echo: secret handshake');
    expect(((await api.messages(id)).data as unknown[]).length).toBe(2);
    abort.abort();
  });

  it.each([
    ['v1', v1Calls],
    ['v2', v2Calls],
  ] as const)('%s: a wrong password or none is a 401 with a JSON reason', async (_name, makeCalls) => {
    const before = model.log.length;
    for (const headers of [{ authorization: basic('opencode', 'wrong') }, {}] as Record<string, string>[]) {
      const api = makeCalls(server.url, sb.project, headers);
      const refused = await api.create();
      expect(refused.status).toBe(401);
      expect(refused.error).toMatchObject({ name: 'UnauthorizedError', data: { code: 'UNAUTHORIZED' } });
      expect((await api.list()).status).toBe(401);
      // The routes that run or copy a session too (nothing runs, nothing is made).
      expect((await api.command('ses_none', 'any', '')).status).toBe(401);
      expect((await api.fork('ses_none')).status).toBe(401);
    }
    expect(model.log).toHaveLength(before);
  });

  it('an EventSource-style client passes ?auth_token=base64(user:password)', async () => {
    const token = Buffer.from(`opencode:${PASSWORD}`).toString('base64');
    const abort = new AbortController();
    const res = await fetch(`${server.url}/global/event?auth_token=${encodeURIComponent(token)}`, { signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const first = await res.body?.getReader().read();
    expect(new TextDecoder().decode(first?.value)).toMatch(/^data: \{"directory":"","payload":\{"id":"[^"]+","type":"server\.connected","properties":\{\}\}\}\n\n/);
    abort.abort();
    const stale = encodeURIComponent(Buffer.from('opencode:nope').toString('base64'));
    const wrong = await fetch(`${server.url}/event?auth_token=${stale}`);
    expect(wrong.status).toBe(401);
    // A stale token in the URL does not hide a right header (either may carry the credential).
    const both = await fetch(`${server.url}/path?auth_token=${stale}`, { headers: { authorization: `Basic ${token}` } });
    expect(both.status).toBe(200);
    const neither = await fetch(`${server.url}/path?auth_token=${stale}`, { headers: { authorization: 'Basic bm9wZTpub3Bl' } });
    expect(neither.status).toBe(401);
  });
});
