/**
 * Clients that send their bodies slowly, or go away in the middle of one, against the real
 * `opencode serve` (raw sockets; `Expect: 100-continue` is the signal that the server has the
 * request's head and is reading its body): a key's in-flight slot is not held while its body
 * dribbles in (on the fast path and on a Hono route), and a client that leaves mid-body is not logged
 * as a server error (a debug note at most).
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { serve, type Served } from './serve-helper.ts';

const ALPHA = 'pk-alpha-0123456789';
let sb: Sandbox;
let model: ScriptedServer;
let s: Served;

beforeAll(async () => {
  model = await startScriptedServer({ apiKey: SECRET, models: { m: {} } });
  sb = await sandbox();
  sb.write('opencode.json', {
    ...providerConfig(model, { m: {} }),
    model: 'p/m',
    cache: { enabled: false },
    server: { keys: [{ key: ALPHA, name: 'alpha', rateLimit: { concurrency: 1 } }] },
  });
  s = await serve(sb, ['--debug']);
});

afterAll(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
});

/** A raw HTTP/1.1 request whose head and first `sent` bytes of `body` are written; resolves once the server said `100 Continue`. */
async function dribble(method: string, path: string, body: string, sent: number, key?: string): Promise<{ socket: net.Socket; until(pattern: RegExp): Promise<string>; rest(): Promise<string> }> {
  const { hostname, port } = new URL(s.url);
  const socket = net.connect(Number(port), hostname);
  let received = '';
  const waiters: (() => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('utf8');
    for (const w of waiters.splice(0)) w();
  });
  socket.on('error', () => undefined);
  const until = async (pattern: RegExp): Promise<string> => {
    for (;;) {
      if (pattern.test(received)) return received;
      if (socket.destroyed) throw new Error(`the connection closed before ${String(pattern)}: ${received}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        socket.once('close', resolve);
      });
    }
  };
  const auth = key ? `authorization: Bearer ${key}\r\n` : '';
  socket.write(`${method} ${path} HTTP/1.1\r\nhost: ${hostname}:${port}\r\n${auth}content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nexpect: 100-continue\r\n\r\n`);
  await until(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
  socket.write(body.slice(0, sent));
  return {
    socket,
    until,
    async rest() {
      socket.write(body.slice(sent));
      await until(/\r\n\r\n[\s\S]*\}$/);
      socket.destroy();
      return received.slice(received.indexOf('\r\n\r\n') + 4);
    },
  };
}

const chat = (key: string) =>
  fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'p/m', messages: [{ role: 'user', content: 'now' }] }) });

describe('a slow body holds none of its key’s slots', () => {
  it('/v1 (fast path): a normal request with the same key is served while another one’s body dribbles in', async () => {
    const body = JSON.stringify({ model: 'p/m', messages: [{ role: 'user', content: 'slowly' }] });
    const slow = await dribble('POST', '/v1/chat/completions', body, 20, ALPHA);
    const now = await chat(ALPHA);
    expect(now.status).toBe(200);
    expect(((await now.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe('echo: now');
    // The slow one is served once its body is in.
    expect(await slow.rest()).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*"content":"echo: slowly"/);
  });

  it('/api/v1 (Hono): likewise', async () => {
    const slow = await dribble('PATCH', '/api/v1/sessions/ses_none', JSON.stringify({ title: 'x' }), 5, ALPHA);
    const now = await chat(ALPHA);
    expect(now.status).toBe(200);
    await now.json();
    expect(await slow.rest()).toMatch(/^HTTP\/1\.1 404 /);
  });

  it('an unauthenticated body is never read: 401 at once', async () => {
    const slow = await dribble('POST', '/v1/chat/completions', JSON.stringify({ model: 'p/m', messages: [{ role: 'user', content: 'x' }] }), 3, 'pk-wrong-0123456789');
    expect(await slow.until(/HTTP\/1\.1 401 [\s\S]*\}$/)).toMatch(/invalid_api_key/);
    slow.socket.destroy();
  });
});

describe('a client that leaves in the middle of its body', () => {
  it('is not logged as a server error', async () => {
    const slow = await dribble('POST', '/session', JSON.stringify({ title: 'never finished' }), 5);
    slow.socket.destroy();
    const line = await s.proc.stderrMatches(/^(error|debug): POST \/session: .*$/m);
    expect(line).not.toMatch(/^error:/m);
    expect(line).toMatch(/^debug: POST \/session: the client went away/m);
  });
});
