/**
 * `POST /pantheon/run` (what `opencode run --attach` calls) with a client that reads the start line
 * and then nothing more, against a real `opencode serve` and the scripted provider answering 24 MiB:
 * the server does not keep the turn's lines for it without end: once 8 MiB wait for it they are
 * dropped and its stream is cut (it reads what its connection held, then the connection's end, not
 * the turn's end line: `run --attach` says the server ended the stream before the turn ended). Its
 * turn is not cancelled: it ends and is saved with the whole answer.
 */
import http, { type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { getJson, serve, type Served } from './serve-helper.ts';

const CHUNK = 'y'.repeat(64 * 1024);
const CHUNKS = 384; // 24 MiB: far more than the connection holds besides the 8 MiB

let model: ScriptedServer;
let sb: Sandbox;
let s: Served;

beforeAll(async () => {
  model = await startScriptedServer({ apiKey: SECRET, models: { m: {} } });
  sb = await sandbox();
  sb.write('opencode.json', { ...providerConfig(model, { m: {} }), model: 'p/m', cache: { enabled: false } });
  s = await serve(sb);
});

afterAll(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
});

/** The run's response, paused after its first bytes (the start line), and that line's session id. */
function startRun(message: string): Promise<{ res: IncomingMessage; sessionID: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${s.url}/pantheon/run`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.once('data', (chunk: Buffer) => {
        res.pause();
        const start = JSON.parse(chunk.toString('utf8').split('\n')[0] as string) as { start: { sessionID: string } };
        resolve({ res, sessionID: start.start.sessionID });
      });
    });
    req.on('error', reject);
    req.end(JSON.stringify({ message }));
  });
}

describe('POST /pantheon/run: a client that stops reading', () => {
  it('is cut off once 8 MiB wait for it; its turn goes on and is saved whole', async () => {
    model.script('m', { type: 'text', chunks: Array.from({ length: CHUNKS }, () => CHUNK) });
    const { res, sessionID } = await startRun('a long answer, never read');
    expect(res.statusCode).toBe(200);
    // The provider's answer is read whole (the turn is not held back by its client), the turn ends
    // (it was not cancelled) ...
    await model.waitFor((log) => log.length === 1 && log[0]?.endedAt !== null);
    await expect.poll(async () => ((await getJson(`${s.url}/session/status`)).body as Record<string, { type: string }>)[sessionID]?.type ?? 'idle', { timeout: 30_000 }).toBe('idle');
    // ... and the client, which read nothing meanwhile, was cut off: reading now, it gets what its
    // connection held and then the end of the connection, not the turn's end line.
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (text += chunk));
    res.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => res.socket.once('close', () => resolve()));
    res.resume();
    await closed;
    expect(text).not.toContain('{"end":');
    expect(text.length).toBeLessThan(CHUNKS * CHUNK.length);

    // The session has the whole answer.
    const messages = (await getJson(`${s.url}/session/${sessionID}/message`)).body as { info: { role: string }; parts: { type: string; text?: string }[] }[];
    const answer = messages.filter((m) => m.info.role === 'assistant').flatMap((m) => m.parts.filter((p) => p.type === 'text').map((p) => p.text ?? ''));
    expect(answer.join('').length).toBe(CHUNKS * CHUNK.length);
  });
});
