/**
 * Bad input to `opencode serve`: every case answers a JSON error with a code and a sentence and the
 * right status, nothing is half-written, and the server keeps serving.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { toHttpError } from '../../src/server/http-error.ts';
import { getJson, serve, type Served } from './serve-helper.ts';

let sb: Sandbox;
let model: ScriptedServer;
let s: Served;

const post = (url: string, body: string | object, headers: Record<string, string> = {}) =>
  getJson(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

async function newSession(): Promise<string> {
  return ((await post(`${s.url}/session`, {})).body as { id: string }).id;
}

beforeAll(async () => {
  model = await startScriptedServer({ models: { m: {}, hang: { default: { type: 'hang' } } } });
  sb = await sandbox();
  sb.write('opencode.json', { model: 'p/m', provider: { p: { options: { baseURL: model.url, apiKey: SECRET }, models: { m: {}, hang: {} } } } });
  s = await serve(sb);
});

afterAll(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
});

describe('opencode serve: bad input', () => {
  it('malformed JSON, wrong types, missing fields: 400 naming the field; the session is untouched', async () => {
    const id = await newSession();
    const before = await sb.snapshot();
    const bad = await post(`${s.url}/session/${id}/message`, '{"parts": [');
    expect(bad).toMatchObject({ status: 400, body: { name: 'BadRequest', data: { code: 'BAD_JSON', message: expect.stringMatching(/^The request body is not valid JSON/) } } });
    const wrongType = await post(`${s.url}/session/${id}/message`, { parts: [{ type: 'text', text: 42 }] });
    expect(wrongType).toMatchObject({ status: 400, body: { data: { code: 'BAD_REQUEST', field: 'parts[0].text', message: 'body field "parts[0].text": expected a string, found an integer.' } } });
    expect((await post(`${s.url}/session/${id}/message`, { parts: 'hello' })).body).toMatchObject({ data: { field: 'parts' } });
    expect((await post(`${s.url}/session/${id}/message`, {})).body).toMatchObject({ data: { message: 'body field "parts": is required.' } });
    expect((await post(`${s.url}/session/${id}/message`, { parts: [{ type: 'text', text: '  ' }] })).body).toMatchObject({ data: { field: 'parts', message: expect.stringContaining('neither text nor a file') } });
    expect((await post(`${s.url}/session/${id}/message`, { parts: [{ type: 'file', mime: 'text/plain', url: 'https://example.com/x' }] })).status).toBe(400);
    expect((await post(`${s.url}/session/${id}/message`, { parts: [{ type: 'file', mime: 'text/plain', url: 'file:///etc/passwd' }] })).body).toMatchObject({ data: { message: expect.stringContaining('outside the project') } });
    // A data: URL whose percent-escapes do not decode: the client's 400 naming the part's url, not a 500.
    const text = { type: 'text', text: 'hi' };
    expect(await post(`${s.url}/session/${id}/message`, { parts: [text, { type: 'file', mime: 'text/plain', url: 'data:text/plain,%E0%A4%A' }] })).toMatchObject({
      status: 400,
      body: { data: { code: 'BAD_REQUEST', field: 'parts[1].url', message: 'body field "parts[1].url": expected a data: URL whose text is percent-encoded UTF-8, found "%A" (a % takes two hex digits).' } },
    });
    expect(await post(`${s.url}/session/${id}/message`, { parts: [text, { type: 'file', mime: 'text/plain', url: 'data:text/plain,%E0%A4' }] })).toMatchObject({ status: 400, body: { data: { field: 'parts[1].url', message: expect.stringContaining('escapes that are not UTF-8') } } });
    expect((await post(`${s.url}/session/${id}/message`, { parts: [{ type: 'text', text: 'hi' }], agent: 'nobody' })).body).toMatchObject({ name: 'BadRequest', data: { code: 'UNKNOWN_AGENT' } });
    expect((await post(`${s.url}/session/${id}/message`, { parts: [{ type: 'text', text: 'hi' }], model: { providerID: 'nope', modelID: 'x' } })).status).toBe(400);
    expect((await post(`${s.url}/session`, { title: 7 })).body).toMatchObject({ data: { field: 'title' } });
    expect(await sb.snapshot()).toEqual(before);
    expect(model.log).toHaveLength(0);
  });

  it('/v1 with a client field nested 3,000 deep: answered (neither looked up in nor stored to the cache), not a 500', async () => {
    const deep = `${'['.repeat(3000)}${']'.repeat(3000)}`;
    const text = `{"model":"p/m","messages":[{"role":"user","content":"deep"}],"x_deep":${deep}}`;
    for (const headers of [{}, { 'cache-control': 'no-store' }] as Record<string, string>[]) {
      const r = await post(`${s.url}/v1/chat/completions`, text, headers);
      expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(200);
      expect(r.body).toMatchObject({ choices: [{ message: { content: 'echo: deep' } }] });
    }
    // A stack overflow anywhere else in a request is the client's JSON: a 400 that says so.
    expect(toHttpError(new RangeError('Maximum call stack size exceeded'))).toMatchObject({ status: 400, message: 'The request body is nested too deeply to be read.' });
    expect(toHttpError(new Error('boom'))).toMatchObject({ status: 500, cause: expect.objectContaining({ message: 'boom' }) });
  });

  it('an unknown session is 404, a folder that does not exist is 400, an oversized body is 413', async () => {
    expect(await getJson(`${s.url}/session/ses_nope`)).toMatchObject({ status: 404, body: { name: 'NotFoundError', data: { code: 'SESSION_NOT_FOUND', message: 'Session ses_nope does not exist.' } } });
    expect((await post(`${s.url}/session/ses_nope/message`, { parts: [{ type: 'text', text: 'hi' }] })).status).toBe(404);
    expect((await post(`${s.url}/session/ses_nope/abort`, {})).status).toBe(404);
    expect((await getJson(`${s.url}/session/ses_nope/message/msg_x`)).status).toBe(404);
    const id = await newSession();
    expect(await getJson(`${s.url}/session/${id}/message/msg_nope`)).toMatchObject({ status: 404, body: { data: { code: 'MESSAGE_NOT_FOUND' } } });
    const missing = path.join(sb.root, 'no-such-folder');
    expect(await getJson(`${s.url}/session?directory=${encodeURIComponent(missing)}`)).toMatchObject({ status: 400, body: { data: { code: 'DIRECTORY_NOT_FOUND', message: `The directory ${missing} does not exist.` } } });
    const huge = JSON.stringify({ parts: [{ type: 'text', text: 'x'.repeat(17 * 1024 * 1024) }] });
    expect(await post(`${s.url}/session/${id}/message`, huge)).toMatchObject({ status: 413, body: { name: 'PayloadTooLarge', data: { code: 'BODY_TOO_LARGE' } } });
    // Without a content-length (chunked) the body is read as it arrives, counted against the limit: over it, 413 (not a reset connection).
    const chunked = (text: string) => getJson(`${s.url}/session/${id}/message`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: new Blob([text]).stream(), duplex: 'half' } as RequestInit);
    expect(await chunked(huge)).toMatchObject({ status: 413, body: { data: { code: 'BODY_TOO_LARGE' } } });
    expect(await chunked('{"parts": 7}')).toMatchObject({ status: 400, body: { data: { field: 'parts' } } });
    expect((await getJson(`${s.url}/session/${id}`)).status).toBe(200);
  });

  it('a prompt to a busy session is 409; a client that goes away mid-prompt or mid-stream leaves the server serving', async () => {
    const id = await newSession();
    const hung = model.log.length;
    const gone = new AbortController();
    const first = fetch(`${s.url}/session/${id}/message`, { method: 'POST', signal: gone.signal, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ parts: [{ type: 'text', text: 'slow' }], model: { providerID: 'p', modelID: 'hang' } }) });
    await model.waitFor((log) => log.length > hung);
    const busy = await post(`${s.url}/session/${id}/message`, { parts: [{ type: 'text', text: 'again' }] });
    expect(busy).toMatchObject({ status: 409, body: { name: 'SessionBusyError', data: { code: 'SESSION_BUSY' } } });
    // The client of the first prompt goes away: its turn keeps running (it is the session's, not the connection's).
    gone.abort();
    await expect(first).rejects.toThrow();
    expect((await getJson(`${s.url}/session/status`)).body).toMatchObject({ [id]: { type: 'busy' } });
    // An event stream whose reader disappears mid-stream.
    const reader = new AbortController();
    const stream = await fetch(`${s.url}/event`, { signal: reader.signal });
    const chunk = await stream.body?.getReader().read();
    expect(new TextDecoder().decode(chunk?.value)).toMatch(/^data: \{.*"type":"server\.connected"/);
    reader.abort();
    expect(await getJson(`${s.url}/session/${id}/abort`, { method: 'POST' })).toMatchObject({ status: 200, body: true });
    const messages = (await getJson(`${s.url}/session/${id}/message`)).body as { info: { role: string; error?: { name: string } } }[];
    expect(messages.map((m) => m.info.role)).toEqual(['user', 'assistant']);
    expect(messages[1]?.info.error?.name).toBe('MessageAbortedError');
    expect((await post(`${s.url}/session/${id}/message`, { parts: [{ type: 'text', text: 'fine now' }] })).body).toMatchObject({ info: { role: 'assistant' }, parts: expect.arrayContaining([expect.objectContaining({ text: 'echo: fine now' })]) });
  });
});
