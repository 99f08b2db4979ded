/**
 * OpenCode's compaction (its TUI's /compact, `session.summarize`) through `@opencode-ai/sdk`: the
 * model is asked for a summary without tools, the turn is kept as OpenCode shows it (a `compaction`
 * part, a reply marked `summary`), and from then on the model sees the summary and what follows,
 * not the turns before it. A half-named model is a 400.
 */
import { createOpencodeClient } from '@opencode-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { serve, type Served } from '../server/serve-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';

let server: ScriptedServer;
let sb: Sandbox;
let served: Served;
let client: ReturnType<typeof createOpencodeClient>;

beforeAll(async () => {
  server = await startScriptedServer();
  sb = await sandbox();
  sb.write('opencode.json', { ...providerConfig(server, { m: {}, small: {} }), model: 'p/m', cache: { enabled: false } });
  served = await serve(sb);
  client = createOpencodeClient({ baseUrl: served.url, directory: sb.project });
});

afterAll(async () => {
  await served?.stop();
  await server?.close();
  await sb?.remove();
});

describe('compaction', () => {
  it('/compact: a summary without tools stands in for the earlier turns from then on; the session shows it as OpenCode does', async () => {
    const id = (await client.session.create({ body: {} })).data?.id ?? '';
    await client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'the first question about parsers' }] } });
    await client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'the second question about lexers' }] } });
    server.script('small', { type: 'text', text: 'SUMMARY: parsers and lexers were discussed.' });
    const asked = server.log.length;
    const done = await client.session.summarize({ path: { id }, body: { providerID: 'p', modelID: 'small' } });
    expect(done.data).toBe(true);
    const request = server.log[asked];
    expect(request?.model).toBe('small');
    expect(request?.tools ?? []).toEqual([]);
    expect(JSON.stringify(request?.messages)).toContain('the second question about lexers');
    expect(JSON.stringify(request?.messages)).toContain('Summarize this conversation');

    server.script('m', { type: 'text', text: 'Going on.' });
    await client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'and now tokens' }] } });
    const next = JSON.stringify(server.log[asked + 1]?.messages);
    expect(next).toContain('SUMMARY: parsers and lexers were discussed.');
    expect(next).toContain('and now tokens');
    expect(next).not.toContain('the first question about parsers');
    expect(next).not.toContain('the second question about lexers');

    const messages = (await client.session.messages({ path: { id } })).data ?? [];
    expect(messages).toHaveLength(8);
    expect(messages[4]?.parts).toEqual([expect.objectContaining({ type: 'compaction', auto: false })]);
    expect(messages[5]?.info).toMatchObject({ role: 'assistant', summary: true, modelID: 'small' });
    expect(messages[5]?.parts.find((p) => p.type === 'text')).toMatchObject({ text: 'SUMMARY: parsers and lexers were discussed.' });
    expect((await client.session.get({ path: { id } })).data?.title).toContain('the first question');
  });

  it('a model named by half, or not configured, is a 400 and nothing is asked', async () => {
    const id = (await client.session.create({ body: {} })).data?.id ?? '';
    const asked = server.log.length;
    const post = (body: object) => fetch(`${served.url}/session/${id}/summarize`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-opencode-directory': sb.project }, body: JSON.stringify(body) });
    const half = await post({ providerID: 'p' });
    expect(half.status).toBe(400);
    expect(JSON.stringify(await half.json())).toContain('modelID');
    const unknown = await post({ providerID: 'p', modelID: 'nope' });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(await unknown.json())).toContain('nope');
    expect(server.log.length).toBe(asked);
  });
});
