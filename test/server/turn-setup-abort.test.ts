/**
 * A turn cancelled while its setup waits on the network, against the real `opencode serve`: here
 * the config's `skills.urls` registry holds its `index.json` unanswered (each request is timed out
 * after 10 s, and a registry may hold every file of a hundred skills so).
 * - The client aborts the session (as OpenCode's TUI's Esc does): the session is idle again, the
 *   user's message is kept as OpenCode keeps it (its text part, and a reply that ends with
 *   MessageAbortedError, announced as `message.updated`/`message.part.updated`), and the download
 *   nobody waits for any more is stopped: the registry sees its request closed by the server.
 * - SIGTERM while a turn waits on the registry: the download stops at once (the turn goes on with
 *   the skills kept from before, and is answered), and the server exits 0.
 * That the download was stopped (not timed out after 10 s) is what `--debug` says of it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createOpencodeClient } from '@opencode-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { eventually } from '../mcp/helpers.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { serve, watchEvents, type Served } from './serve-helper.ts';

let upstream: ScriptedServer;
let registry: Server;
let registryUrl: string;
const boxes: Sandbox[] = [];
const servers: Served[] = [];
/** The requests the registry holds, and whether the client closed each. */
const held: { req: IncomingMessage; res: ServerResponse; closed: boolean }[] = [];

beforeAll(async () => {
  registry = createServer((req, res) => {
    const entry = { req, res, closed: false };
    // The registry never answers: only the client can end the request.
    res.on('close', () => (entry.closed = true));
    held.push(entry);
  });
  await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
  registryUrl = `http://127.0.0.1:${(registry.address() as AddressInfo).port}/skills/`;
  upstream = await startScriptedServer();
});

afterEach(async () => {
  for (const s of servers.splice(0)) if (s.proc.child.exitCode === null) await s.stop();
  for (const sb of boxes.splice(0)) await sb.remove();
  for (const h of held.splice(0)) h.res.destroy();
  upstream.reset();
});

afterAll(async () => {
  await new Promise<void>((resolve) => registry?.close(() => resolve()));
  await upstream?.close();
});

async function started(): Promise<{ s: Served; sb: Sandbox }> {
  const sb = await sandbox();
  boxes.push(sb);
  sb.write('opencode.json', { ...providerConfig(upstream, { m: {} }), model: 'p/m', cache: { enabled: false }, skills: { urls: [registryUrl] } });
  const s = await serve(sb, ['--debug']);
  servers.push(s);
  return { s, sb };
}

const indexRequests = () => held.filter((h) => h.req.url?.endsWith('/index.json'));

type Message = { info: { id: string; role: string; error?: { name: string }; time: { completed?: number } }; parts: { type: string; text?: string; messageID: string }[] };

describe('a turn cancelled during its setup', () => {
  it('keeps the user\'s message as OpenCode does, and stops the download nobody waits for', async () => {
    const { s, sb } = await started();
    const client = createOpencodeClient({ baseUrl: s.url, directory: sb.project });
    const events = await watchEvents(s.url);
    await events.until(/server\.connected/);
    const session = (await client.session.create({ body: {} })).data as { id: string };
    const sent = await client.session.promptAsync({ path: { id: session.id }, body: { parts: [{ type: 'text', text: 'hello from the user' }] } });
    expect(sent.response.status).toBe(204);
    // The turn is setting up its tools: the registry has its index request.
    await eventually(async () => indexRequests().length === 1, 30_000, 'the registry to be asked');
    await client.session.abort({ path: { id: session.id } });
    await events.until(new RegExp(`"session\\.idle","properties":\\{"sessionID":"${session.id}"`));
    events.close();

    // Kept: the user's message with its text, and a reply that was aborted (no parts), as OpenCode 1.18.33 saves them.
    const messages = (await client.session.messages({ path: { id: session.id } })).data as Message[];
    expect(messages.map((m) => m.info.role)).toEqual(['user', 'assistant']);
    const [user, reply] = messages as [Message, Message];
    expect(user.parts).toEqual([expect.objectContaining({ type: 'text', text: 'hello from the user', messageID: user.info.id })]);
    expect(reply.info.error?.name).toBe('MessageAbortedError');
    expect(reply.info.time.completed).toBeGreaterThan(0);
    expect(reply.parts).toEqual([]);
    // What the stream said is what was saved: the user's message and its part, the reply ended aborted.
    const frames = events
      .text()
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => (JSON.parse(l.slice(6)) as { payload: { type: string; properties: Record<string, unknown> } }).payload);
    expect(frames.some((f) => f.type === 'message.updated' && (f.properties.info as { id: string }).id === user.info.id)).toBe(true);
    expect(frames.some((f) => f.type === 'message.part.updated' && (f.properties.part as { messageID: string; text?: string }).messageID === user.info.id && (f.properties.part as { text?: string }).text === 'hello from the user')).toBe(true);
    const lastReply = frames.filter((f) => f.type === 'message.updated' && (f.properties.info as { id: string }).id === reply.info.id).at(-1);
    expect((lastReply?.properties.info as { error?: { name: string } }).error?.name).toBe('MessageAbortedError');
    expect(upstream.log).toHaveLength(0);

    // The download nobody waits for any more is stopped: the server closed the registry's request (it never answered).
    await eventually(async () => indexRequests().every((h) => h.closed), 30_000, 'the index request to be closed');
    await eventually(async () => /skills\.urls .*stopped: nobody waits for it/.test(s.proc.stderr()), 30_000, 'the note of the stopped download');
    expect(s.proc.stderr()).not.toMatch(/skills\.urls .*timeout/i);
  }, 90_000);

  it('SIGTERM while a turn waits on the registry: the download stops, the turn is answered, exit 0', async () => {
    const { s, sb } = await started();
    const client = createOpencodeClient({ baseUrl: s.url, directory: sb.project });
    upstream.script('m', { type: 'text', text: 'answered while stopping' });
    const session = (await client.session.create({ body: {} })).data as { id: string };
    await client.session.promptAsync({ path: { id: session.id }, body: { parts: [{ type: 'text', text: 'hello' }] } });
    await eventually(async () => indexRequests().length === 1, 30_000, 'the registry to be asked');

    const result = await s.stop();
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/^error:/m);
    // Stopped by the shutdown, not timed out: the registry never answered, the server closed its request.
    expect(result.stderr).toMatch(/skills\.urls .*stopped: the server is shutting down/);
    expect(result.stderr).not.toMatch(/skills\.urls .*timeout/i);
    expect(indexRequests().every((h) => h.closed)).toBe(true);
    // The turn went on with the skills kept from before (none) and was answered within the drain.
    expect(upstream.log).toHaveLength(1);
  }, 90_000);
});
