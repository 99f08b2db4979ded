/**
 * A turn cancelled while its setup waits on the network ends at once: here the config's
 * `skills.urls` registry holds its `index.json` unanswered (each request is timed out after 10 s,
 * and a registry may hold every file of a hundred skills so), and the client aborts the session
 * (as OpenCode's TUI's Esc does, and as SIGTERM's grace does once it runs out). The session is
 * idle again while the registry still holds the request: the turn did not sit through it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createOpencodeClient } from '@opencode-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { eventually } from '../mcp/helpers.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { serve, type Served } from './serve-helper.ts';

let upstream: ScriptedServer;
let sb: Sandbox;
let s: Served;
let registry: Server;
/** The requests the registry holds, and whether each is still open. */
const held: { req: IncomingMessage; res: ServerResponse; closed: boolean }[] = [];

beforeAll(async () => {
  registry = createServer((req, res) => {
    const entry = { req, res, closed: false };
    req.on('close', () => (entry.closed = true));
    held.push(entry);
  });
  await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
  upstream = await startScriptedServer();
  sb = await sandbox();
  const url = `http://127.0.0.1:${(registry.address() as AddressInfo).port}/skills/`;
  sb.write('opencode.json', { ...providerConfig(upstream, { m: {} }), model: 'p/m', cache: { enabled: false }, skills: { urls: [url] } });
  s = await serve(sb);
});

afterAll(async () => {
  for (const h of held) h.res.destroy();
  await s?.stop();
  await new Promise<void>((resolve) => registry?.close(() => resolve()));
  await upstream?.close();
  await sb?.remove();
});

describe('a turn cancelled during its setup', () => {
  it('ends while the skills registry still holds its index request', async () => {
    const client = createOpencodeClient({ baseUrl: s.url, directory: sb.project });
    const session = (await client.session.create({ body: {} })).data as { id: string };
    const sent = await client.session.promptAsync({ path: { id: session.id }, body: { parts: [{ type: 'text', text: 'hello' }] } });
    expect(sent.response.status).toBe(204);
    // The turn is setting up its tools: the registry has its index request.
    await eventually(async () => held.some((h) => h.req.url?.endsWith('/index.json')), 30_000, 'the registry to be asked');
    await client.session.abort({ path: { id: session.id } });
    await eventually(async () => {
      const status = (await client.session.status()).data as Record<string, { type: string }> | undefined;
      return status?.[session.id] === undefined || status[session.id]?.type === 'idle';
    }, 30_000, 'the session to be idle');
    // Idle while the index request is still held open (it would time out after 10 s).
    expect(held.filter((h) => h.req.url?.endsWith('/index.json')).every((h) => !h.closed)).toBe(true);
    expect(upstream.log).toHaveLength(0);
  }, 60_000);
});
