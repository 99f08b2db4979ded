/**
 * The server's life: heartbeats on idle event streams (an in-process server with a short interval),
 * and SIGTERM while a turn runs: the turn finishes and is answered and saved, streams end, exit 0.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { startInProcess, type InProcess } from './in-process.ts';
import { getJson, serve } from './serve-helper.ts';

let sb: Sandbox | undefined;
let model: ScriptedServer | undefined;
let inProcess: InProcess | undefined;
afterEach(async () => {
  await inProcess?.stop();
  await model?.close();
  await sb?.remove();
  inProcess = undefined;
  model = undefined;
  sb = undefined;
});

/** Reads SSE frames from a response body, one `data:` JSON at a time. */
async function* frames(res: Response): AsyncGenerator<{ type: string; properties: unknown }> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        expect(frame).toMatch(/^data: /);
        yield JSON.parse(frame.slice('data: '.length)) as { type: string; properties: unknown };
      }
    }
  } finally {
    // The reader stops here (a `break` in the consumer): the connection is closed.
    await reader.cancel();
  }
}

describe('opencode serve: heartbeat and shutdown', () => {
  it('an idle event stream gets server.connected, then server.heartbeat at the interval', async () => {
    inProcess = await startInProcess('serve', 50);
    const running = inProcess.running;
    const res = await fetch(`${running.url}/event`);
    const seen: string[] = [];
    for await (const frame of frames(res)) {
      seen.push(frame.type);
      if (seen.length === 3) {
        expect(running.state.events.size).toBe(1);
        break;
      }
    }
    expect(seen).toEqual(['server.connected', 'server.heartbeat', 'server.heartbeat']);
  });

  it('SIGTERM while a turn runs: the reply still arrives whole and is saved, the event stream ends, exit 0', async () => {
    model = await startScriptedServer({ apiKey: SECRET, models: { m: { default: { type: 'slow', text: 'all of it, slowly', chunkDelayMs: 150 } } } });
    sb = await sandbox();
    sb.write('opencode.json', { ...providerConfig(model, { m: {} }), model: 'p/m' });
    const s = await serve(sb);
    const stream = await fetch(`${s.url}/event`);
    const id = ((await getJson(`${s.url}/session`, { method: 'POST' })).body as { id: string }).id;
    const prompt = getJson(`${s.url}/session/${id}/message`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ parts: [{ type: 'text', text: 'go' }] }) });
    await model.waitFor((log) => log.length === 1);
    const exited = s.stop();
    const reply = await prompt;
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ info: { finish: 'stop' }, parts: expect.arrayContaining([expect.objectContaining({ text: 'all of it, slowly' })]) });
    const types: string[] = [];
    for await (const frame of frames(stream)) types.push(frame.type);
    expect(types[0]).toBe('server.connected');
    const result = await exited;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('SIGTERM: finishing turns in flight');
    const after = await sb.run(['session', 'show', id, '--json']);
    expect((JSON.parse(after.stdout) as { messages: unknown[] }).messages).toHaveLength(2);
  });
});
