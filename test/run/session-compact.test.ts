/**
 * OpenCode's compaction (its TUI's /compact, `session.summarize`) through `@opencode-ai/sdk`: the
 * model is asked for a summary without tools, the turn is kept as OpenCode shows it (a `compaction`
 * part, a reply marked `summary`), and from then on the model sees the summary and what follows,
 * not the turns before it. A half-named model is a 400.
 */
import { describe, expect, it } from 'vitest';
import { collect, idleOf } from '../server/sdk-helper.ts';
import { useServedProject } from './served-project.ts';

const project = useServedProject({}, { m: {}, small: {} });

describe('compaction', () => {
  it('/compact: a summary without tools stands in for the earlier turns from then on; the session shows it as OpenCode does', async () => {
    const id = (await project.client.session.create({ body: {} })).data?.id ?? '';
    await project.client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'the first question about parsers' }] } });
    await project.client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'the second question about lexers' }] } });
    project.server.script('small', { type: 'text', text: 'SUMMARY: parsers and lexers were discussed.' });
    const asked = project.server.log.length;
    const done = await project.client.session.summarize({ path: { id }, body: { providerID: 'p', modelID: 'small' } });
    expect(done.data).toBe(true);
    const request = project.server.log[asked];
    expect(request?.model).toBe('small');
    expect(request?.tools ?? []).toEqual([]);
    expect(JSON.stringify(request?.messages)).toContain('the second question about lexers');
    expect(JSON.stringify(request?.messages)).toContain('Summarize this conversation');

    project.server.script('m', { type: 'text', text: 'Going on.' });
    await project.client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'and now tokens' }] } });
    const next = JSON.stringify(project.server.log[asked + 1]?.messages);
    expect(next).toContain('SUMMARY: parsers and lexers were discussed.');
    expect(next).toContain('and now tokens');
    expect(next).not.toContain('the first question about parsers');
    expect(next).not.toContain('the second question about lexers');

    const messages = (await project.client.session.messages({ path: { id } })).data ?? [];
    expect(messages).toHaveLength(8);
    expect(messages[4]?.parts).toEqual([expect.objectContaining({ type: 'compaction', auto: false })]);
    // Its reply is the compaction agent's (OpenCode's TUI heads it "Compaction"); the user message keeps the session's agent.
    expect(messages[5]?.info).toMatchObject({ role: 'assistant', summary: true, modelID: 'small', agent: 'compaction', mode: 'compaction' });
    expect(messages[4]?.info).toMatchObject({ role: 'user', agent: (messages[0]?.info as { agent: string }).agent });
    expect(messages[5]?.parts.find((p) => p.type === 'text')).toMatchObject({ text: 'SUMMARY: parsers and lexers were discussed.' });
    expect((await project.client.session.get({ path: { id } })).data?.title).toContain('the first question');
  });

  it('a compaction that failed stands in for nothing: the next turn still sees the turns before it, as in OpenCode', async () => {
    const id = (await project.client.session.create({ body: {} })).data?.id ?? '';
    project.server.script('m', { type: 'text', text: 'About parsers.' });
    await project.client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'the question before a failed compaction' }] } });
    // The summary is refused (a 400 fails at once): no summary was made.
    project.server.script('small', { type: 'status', status: 400 });
    const done = await project.client.session.summarize({ path: { id }, body: { providerID: 'p', modelID: 'small' } });
    expect(done.data).not.toBe(true);

    project.server.script('m', { type: 'text', text: 'Going on.' });
    const asked = project.server.log.length;
    await project.client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'and after it' }] } });
    const next = JSON.stringify(project.server.log[asked]?.messages);
    expect(next).toContain('the question before a failed compaction');
    expect(next).toContain('About parsers.');
    expect(next).toContain('and after it');
  });

  it('a client that goes away while the summary is written: the summary is still made and kept', async () => {
    const id = (await project.client.session.create({ body: {} })).data?.id ?? '';
    await project.client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'something to summarize' }] } });
    project.server.script('small', { type: 'text', text: 'SUMMARY: kept though the client left.', delayMs: 500 });
    const asked = project.server.log.length;
    const listening = new AbortController();
    const events = collect((await project.client.event.subscribe({ signal: listening.signal, sseMaxRetryAttempts: 0 } as never)).stream);
    await events.until((e) => e.type === 'server.connected');
    const leaving = new AbortController();
    const request = fetch(`${project.served.url}/session/${id}/summarize`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-opencode-directory': project.sb.project }, body: JSON.stringify({ providerID: 'p', modelID: 'small' }), signal: leaving.signal }).catch((error: unknown) => error);
    await project.server.waitFor((log) => log.length > asked);
    leaving.abort();
    expect(await request).toBeInstanceOf(Error);
    await events.until(idleOf(id));
    listening.abort();
    const messages = (await project.client.session.messages({ path: { id } })).data ?? [];
    expect(messages[3]?.info).toMatchObject({ role: 'assistant', summary: true });
    // Live too: the reply's first update names the compaction agent.
    const live = events.events.find((e) => e.type === 'message.updated' && (e.properties.info as { id: string }).id === messages[3]?.info.id);
    expect(live?.properties.info).toMatchObject({ summary: true, agent: 'compaction', mode: 'compaction' });
    expect(messages[3]?.parts.find((p) => p.type === 'text')).toMatchObject({ text: 'SUMMARY: kept though the client left.' });
  });

  it('a model named by half, or not configured, is a 400 and nothing is asked', async () => {
    const id = (await project.client.session.create({ body: {} })).data?.id ?? '';
    const asked = project.server.log.length;
    const post = (body: object) => fetch(`${project.served.url}/session/${id}/summarize`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-opencode-directory': project.sb.project }, body: JSON.stringify(body) });
    const half = await post({ providerID: 'p' });
    expect(half.status).toBe(400);
    expect(JSON.stringify(await half.json())).toContain('modelID');
    const unknown = await post({ providerID: 'p', modelID: 'nope' });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(await unknown.json())).toContain('nope');
    expect(project.server.log.length).toBe(asked);
  });
});
