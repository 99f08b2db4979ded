/**
 * OpenCode's DELETE /session/{id}/message/{messageID}, DELETE and PATCH …/part/{partID} through
 * `@opencode-ai/sdk` v2 against `opencode serve` and a scripted model: what clients read back, what
 * the event stream announces (message.removed, message.part.removed, message.part.updated), what
 * the model sees in the next turn, that the change is on disk (a new server reads it), the busy
 * refusal, and bad input (ids, bodies, unknown sessions, messages and parts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createOpencodeClient as createV2 } from '@opencode-ai/sdk/v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { collect } from './sdk-helper.ts';
import { getJson, serve, type Served } from './serve-helper.ts';

type Part = { id: string; type: string; text?: string; messageID: string; sessionID: string };
type Message = { info: { id: string; role: string }; parts: Part[] };

let sb: Sandbox;
let model: ScriptedServer;
let s: Served;
let v2: ReturnType<typeof createV2>;

beforeAll(async () => {
  model = await startScriptedServer({ apiKey: SECRET, models: { m: {}, hang: { default: { type: 'hang' } } } });
  sb = await sandbox();
  sb.write('opencode.json', { ...providerConfig(model, { m: {}, hang: {} }), model: 'p/m', cache: { enabled: false } });
  s = await serve(sb);
  v2 = createV2({ baseUrl: s.url, directory: sb.project });
});

afterAll(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
});

async function messages(sessionID: string): Promise<Message[]> {
  return (await v2.session.messages({ sessionID })).data as unknown as Message[];
}

/** The texts of the messages the model was sent in its last request. */
function lastSent(): string[] {
  const entry = model.log.at(-1);
  return ((entry?.messages ?? []) as { role: string; content: unknown }[]).filter((m) => m.role !== 'system').map((m) => `${m.role}: ${typeof m.content === 'string' ? m.content : JSON.stringify(m.content)}`);
}

/** A session with two turns (“one”, “two”), and its event stream. */
async function twoTurns() {
  const id = (await v2.session.create({})).data?.id ?? '';
  const abort = new AbortController();
  const stream = collect((await v2.event.subscribe({}, { signal: abort.signal, sseMaxRetryAttempts: 0 } as never)).stream);
  await stream.until((e) => e.type === 'server.connected');
  for (const text of ['one', 'two']) await v2.session.prompt({ sessionID: id, parts: [{ type: 'text', text }] });
  return { id, stream, close: () => abort.abort() };
}

describe('DELETE /session/{id}/message/{messageID}', () => {
  it('deletes a user message and a reply: gone for clients, announced, left out for the model, kept on disk', async () => {
    const { id, stream, close } = await twoTurns();
    const before = await messages(id);
    expect(before.map((m) => m.info.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    const [user1, reply1] = before as [Message, Message];
    const r = await v2.session.deleteMessage({ sessionID: id, messageID: user1.info.id });
    expect([r.response.status, r.data]).toEqual([200, true]);
    await stream.until((e) => e.type === 'message.removed' && e.properties.messageID === user1.info.id);
    expect(stream.of('message.removed').at(-1)?.properties).toEqual({ sessionID: id, messageID: user1.info.id });
    expect((await v2.session.deleteMessage({ sessionID: id, messageID: reply1.info.id })).data).toBe(true);
    await stream.until((e) => e.type === 'message.removed' && e.properties.messageID === reply1.info.id);
    const after = await messages(id);
    expect(after.map((m) => m.info.id)).toEqual(before.slice(2).map((m) => m.info.id));
    // The other messages keep their ids and parts.
    expect(after).toEqual(before.slice(2));
    await v2.session.prompt({ sessionID: id, parts: [{ type: 'text', text: 'three' }] });
    expect(lastSent()).toEqual(['user: two', 'assistant: echo: two', expect.stringContaining('three')]);
    // Deleting what is gone (or never was) changes nothing, as OpenCode answers.
    expect((await v2.session.deleteMessage({ sessionID: id, messageID: user1.info.id })).data).toBe(true);
    expect((await v2.session.deleteMessage({ sessionID: id, messageID: 'msg_nothere' })).data).toBe(true);
    // On disk: the reply's model messages are gone from the file, the user message marked.
    const onDisk = fs.readFileSync(path.join(sb.env.XDG_DATA_HOME as string, 'pantheon', 'sessions', `${id}.json`), 'utf8');
    expect(onDisk).not.toContain('echo: one');
    expect(onDisk).toContain('"removed":true');
    close();
  });

  it('is refused while a turn runs (409), and unknown sessions are 404, bad ids 400', async () => {
    const { id, close } = await twoTurns();
    const first = (await messages(id))[0] as Message;
    const running = v2.session.prompt({ sessionID: id, model: { providerID: 'p', modelID: 'hang' }, parts: [{ type: 'text', text: 'wait' }] });
    await model.waitForRequests(1, 'hang');
    const busy = await v2.session.deleteMessage({ sessionID: id, messageID: first.info.id });
    expect(busy.response.status).toBe(409);
    expect(busy.error).toMatchObject({ name: 'SessionBusyError' });
    await v2.session.abort({ sessionID: id });
    await running;
    expect((await messages(id))[0]?.info.id).toBe(first.info.id);
    const unknown = await v2.session.deleteMessage({ sessionID: 'ses_nothere', messageID: first.info.id });
    expect(unknown.response.status).toBe(404);
    expect(unknown.error).toMatchObject({ name: 'NotFoundError' });
    const bad = await getJson(`${s.url}/session/${id}/message/abc`, { method: 'DELETE', headers: { 'x-opencode-directory': sb.project } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ name: 'BadRequest', data: { field: 'messageID' } });
    close();
  });
});

describe('parts', () => {
  it('DELETE a part: gone for clients and the model, announced, the other parts keep their ids', async () => {
    const { id, stream, close } = await twoTurns();
    const [user1, reply1] = (await messages(id)) as [Message, Message];
    const text = reply1.parts.find((p) => p.type === 'text') as Part;
    const r = await v2.part.delete({ sessionID: id, messageID: reply1.info.id, partID: text.id });
    expect([r.response.status, r.data]).toEqual([200, true]);
    await stream.until((e) => e.type === 'message.part.removed');
    expect(stream.of('message.part.removed').at(-1)?.properties).toEqual({ sessionID: id, messageID: reply1.info.id, partID: text.id });
    const after = (await messages(id))[1] as Message;
    expect(after.parts).toEqual(reply1.parts.filter((p) => p.id !== text.id));
    await v2.part.delete({ sessionID: id, messageID: user1.info.id, partID: user1.parts[0]?.id ?? '' });
    await v2.session.prompt({ sessionID: id, parts: [{ type: 'text', text: 'three' }] });
    // The first turn's words are gone for the model (no message left empty); the second's stay.
    expect(lastSent()).toEqual(['user: two', 'assistant: echo: two', expect.stringContaining('three')]);
    // An unknown part changes nothing (OpenCode answers true too).
    expect((await v2.part.delete({ sessionID: id, messageID: reply1.info.id, partID: 'prt_nothere' })).data).toBe(true);
    close();
  });

  it('PATCH a part: clients see it as sent, the model reads the new text, the event carries the part', async () => {
    const { id, stream, close } = await twoTurns();
    const user1 = (await messages(id))[0] as Message;
    const part = { ...(user1.parts[0] as Part), text: 'uno, rewritten' };
    const r = await v2.part.update({ sessionID: id, messageID: user1.info.id, partID: part.id, part: part as never });
    expect([r.response.status, r.data]).toEqual([200, part]);
    const event = await stream.until((e) => e.type === 'message.part.updated' && (e.properties.part as Part).text === part.text);
    expect(event.properties).toEqual({ sessionID: id, part, time: expect.any(Number) });
    expect((await messages(id))[0]?.parts[0]).toEqual(part);
    await v2.session.prompt({ sessionID: id, parts: [{ type: 'text', text: 'three' }] });
    expect(lastSent()[0]).toBe('user: uno, rewritten');
    close();
  });

  it('PATCH with ids other than the path’s, a body that is no part, or a part that is not there: 400 / 404 naming it', async () => {
    const { id, close } = await twoTurns();
    const user1 = (await messages(id))[0] as Message;
    const part = user1.parts[0] as Part;
    const url = `${s.url}/session/${id}/message/${user1.info.id}/part/${part.id}`;
    const patch = (body: unknown, at = url) => getJson(at, { method: 'PATCH', headers: { 'x-opencode-directory': sb.project, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const other = await patch({ ...part, id: 'prt_other' });
    expect(other.status).toBe(400);
    expect(other.body).toMatchObject({ name: 'BadRequest', data: { field: 'id' } });
    expect((await patch({ ...part, sessionID: 'ses_other' })).body).toMatchObject({ data: { field: 'sessionID' } });
    const noPart = await patch({ hello: 'world' });
    expect(noPart.status).toBe(400);
    expect(noPart.body).toMatchObject({ name: 'BadRequest' });
    const missing = await patch({ ...part, id: 'prt_nothere' }, url.replace(part.id, 'prt_nothere'));
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ name: 'NotFoundError', data: { code: 'PART_NOT_FOUND', message: expect.stringContaining('prt_nothere') } });
    expect((await patch({ ...part, sessionID: 'ses_nothere' }, url.replace(id, 'ses_nothere'))).status).toBe(404);
    const badPart = await getJson(url.replace(part.id, 'part1'), { method: 'DELETE', headers: { 'x-opencode-directory': sb.project } });
    expect(badPart.status).toBe(400);
    expect(badPart.body).toMatchObject({ data: { field: 'partID' } });
    expect((await messages(id))[0]?.parts[0]).toEqual(part);
    close();
  });
});
