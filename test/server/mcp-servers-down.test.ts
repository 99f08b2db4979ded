/**
 * MCP prompts and resources in `opencode serve` when servers misbehave, through `@opencode-ai/sdk`
 * as OpenCode's TUI uses it, with real servers (stdio fixtures, server-everything over streamable
 * HTTP): a server that hangs on start does not hold `GET /command` (nor `GET /mcp`) for its whole
 * `timeout`, and GET /mcp says how each went; a remote server gone when its prompt is run is one
 * sentence (502) and the session is not written to; an unknown `server:prompt` suggests the prompt
 * meant (server and `run --command`); an `@`-mentioned image resource is a file part for a model
 * that takes images and a note for one that does not, beside the request's own files.
 */
import { createOpencodeClient } from '@opencode-ai/sdk';
import { createOpencodeClient as createV2 } from '@opencode-ai/sdk/v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { eventually, fixture, startHttpEverything, type HttpEverything } from '../mcp/helpers.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { serve, type Served } from './serve-helper.ts';

let upstream: ScriptedServer;
let everything: HttpEverything;
let sb: Sandbox;
let s: Served;
let client: ReturnType<typeof createOpencodeClient>;
let v2: ReturnType<typeof createV2>;

const DOT = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

beforeAll(async () => {
  upstream = await startScriptedServer();
  everything = await startHttpEverything('streamableHttp');
  sb = await sandbox();
  sb.write('opencode.json', {
    ...providerConfig(upstream, { m: {}, eyes: { modalities: { input: ['text', 'image'], output: ['text'] } } }),
    model: 'p/m',
    cache: { enabled: false },
    mcp: {
      cat: { type: 'local', command: [process.execPath, fixture('catalog-server.mjs')], timeout: 30_000 },
      everything: { type: 'remote', url: everything.url, timeout: 30_000 },
      // Never answers initialize: fails after its (default) 5 s.
      stuck: { type: 'local', command: [process.execPath, fixture('hang-server.mjs')] },
      // Never answers either, and would be waited for 10 minutes.
      slow: { type: 'local', command: [process.execPath, fixture('hang-server.mjs')], timeout: 600_000 },
    },
  });
  s = await serve(sb);
  client = createOpencodeClient({ baseUrl: s.url, directory: sb.project });
  v2 = createV2({ baseUrl: s.url, directory: sb.project });
});

afterAll(async () => {
  await s?.stop();
  await everything?.close();
  await upstream?.close();
  await sb?.remove();
});

type Listed = { name: string; source?: string }[];

describe('MCP servers that hang, fail or go away, in serve', () => {
  it('a server that hangs does not hold GET /command or GET /mcp for its timeout; GET /mcp says how each went', async () => {
    // Answers although `slow` would take 10 minutes to time out (a listing waits 10 s at most).
    const first = ((await client.command.list()).data ?? []) as Listed;
    expect(first.some((c) => c.name.startsWith('slow:') || c.name.startsWith('stuck:'))).toBe(false);
    const status = (await client.mcp.status()).data as Record<string, { status: string; error?: string }>;
    expect(status.slow).toEqual({ status: 'failed', error: expect.stringMatching(/^still starting: it has not connected yet/) });
    // The working servers are listed with their prompts (at once, or on a later listing on a loaded machine).
    await eventually(async () => {
      const names = (((await client.command.list()).data ?? []) as Listed).map((c) => c.name);
      return names.includes('cat:review') && names.includes('everything:simple-prompt');
    }, 60_000, 'the prompts of cat and everything');
    await eventually(async () => ((await client.mcp.status()).data as Record<string, { status: string }>).stuck?.status === 'failed', 30_000, 'stuck to fail');
    const after = (await client.mcp.status()).data as Record<string, { status: string; error?: string }>;
    expect(after.cat).toEqual({ status: 'connected' });
    expect(after.everything).toEqual({ status: 'connected' });
    expect(after.stuck?.error).toMatch(/5000 ms|5 s/);
    expect(after.slow?.error).toMatch(/^still starting/);
    // The `@` menu's list answers the same way.
    const resources = (await v2.experimental.resource.list()).data ?? {};
    expect(Object.values(resources).some((r) => (r as { client: string }).client === 'cat')).toBe(true);
    // A turn waits for its agent's servers to start (within their timeouts): `slow` is let go so that the turns below need not.
    const disconnected = await fetch(`${s.url}/mcp/slow/disconnect?directory=${encodeURIComponent(sb.project)}`, { method: 'POST' });
    expect(disconnected.status).toBe(200);
    expect(((await client.mcp.status()).data as Record<string, { status: string }>).slow).toEqual({ status: 'disabled' });
  });

  it('an unknown server:prompt suggests the prompt meant, in serve and in `run --command`', async () => {
    const id = (await client.session.create({ body: {} })).data?.id as string;
    const typo = await client.session.command({ path: { id }, body: { command: 'cat:reveiw', arguments: 'a.ts' } });
    expect(typo.response.status).toBe(400);
    expect(JSON.stringify(typo.error)).toContain('no command named \\"cat:reveiw\\"; did you mean \\"cat:review\\"?');
    const run = await sb.run(['run', '--command', 'ct:review', 'a.ts']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--command: no command named "ct:review"; did you mean "cat:review"?');
    expect(run.stderr).toContain('an MCP server’s prompt is run as `server:prompt`');
  });

  it('a remote server gone when its prompt is run: one sentence, a 502, and the session is not written to', async () => {
    const id = (await client.session.create({ body: {} })).data?.id as string;
    await eventually(async () => (((await client.command.list()).data ?? []) as Listed).some((c) => c.name === 'everything:simple-prompt'), 60_000, 'everything’s prompts');
    await everything.close();
    const ran = await client.session.command({ path: { id }, body: { command: 'everything:simple-prompt', arguments: '' } });
    expect(ran.response.status).toBe(502);
    const said = (ran.error as { data?: { message?: string } } | undefined)?.data?.message ?? JSON.stringify(ran.error);
    expect(said).toMatch(/^body field "command" everything:simple-prompt: MCP server "everything" (did not give its prompt "simple-prompt"|could not be reached|exited)[^\n]*\.$/);
    expect(JSON.stringify(ran.error)).not.toMatch(/\n\s+at /);
    expect((await client.session.messages({ path: { id } })).data).toEqual([]);
    expect(((await client.session.status()).data as Record<string, unknown>)[id]).toBeUndefined();
    // Where OpenCode shows a server's state: gone, with why.
    await eventually(async () => ((await client.mcp.status()).data as Record<string, { status: string }>).everything?.status === 'failed', 30_000, 'everything marked failed');
  });

  it('an @-mentioned image resource: a file part for a model that takes images, a note for one that does not; beside the request’s own file', async () => {
    const id = (await client.session.create({ body: {} })).data?.id as string;
    const dot = { type: 'file' as const, mime: 'image/png', filename: 'dot', url: 'memo://dot.png', source: { type: 'resource', text: { start: 0, end: 0, value: '' }, clientName: 'cat', uri: 'memo://dot.png' } as never };
    const own = { type: 'file' as const, mime: 'text/plain', filename: 'a.txt', url: `data:text/plain;base64,${Buffer.from('FILE-A').toString('base64')}` };
    upstream.script('eyes', { type: 'text', text: 'seen' });
    const seen = await client.session.prompt({ path: { id }, body: { model: { providerID: 'p', modelID: 'eyes' }, parts: [{ type: 'text', text: 'look' }, own, dot] } });
    expect(seen.response.status).toBe(200);
    const user = (upstream.log.at(-1)?.messages as { role: string; content: { type: string; text?: string; image_url?: { url: string } }[] }[]).filter((m) => m.role === 'user').at(-1);
    expect(user?.content.map((c) => c.type)).toEqual(['text', 'text', 'text', 'image_url']);
    expect(user?.content[0]?.text).toContain('FILE-A');
    expect(user?.content.slice(1, 3).map((c) => c.text)).toEqual(['Reading MCP resource: dot (memo://dot.png)', '[Binary MCP resource attached: memo://dot.png (image/png)]']);
    expect(user?.content[3]?.image_url?.url).toBe(`data:image/png;base64,${DOT}`);
    // The message list: the user's text and file, the resource's synthetic texts and its image as a file part.
    const parts = ((await client.session.messages({ path: { id } })).data ?? [])[0]?.parts as { type: string; text?: string; synthetic?: boolean; filename?: string; url?: string }[];
    expect(parts.map((p) => [p.type, p.synthetic ?? false, p.text ?? p.filename])).toEqual([
      ['text', false, 'look'],
      ['file', false, 'a.txt'],
      ['text', true, 'Reading MCP resource: dot (memo://dot.png)'],
      ['text', true, '[Binary MCP resource attached: memo://dot.png (image/png)]'],
      ['file', false, 'memo://dot.png'],
      ['text', true, expect.stringContaining('FILE-A')],
    ]);
    expect(parts[4]?.url).toBe(`data:image/png;base64,${DOT}`);
    // A model that does not take images gets a note in its place, and the turn goes on.
    upstream.script('m', { type: 'text', text: 'blind' });
    const blind = await client.session.prompt({ path: { id }, body: { model: { providerID: 'p', modelID: 'm' }, parts: [{ type: 'text', text: 'again' }, dot] } });
    expect(blind.response.status).toBe(200);
    const last = (upstream.log.at(-1)?.messages as { role: string; content: unknown }[]).filter((m) => m.role === 'user').at(-1);
    expect(last?.content).toEqual([
      { type: 'text', text: 'again' },
      { type: 'text', text: 'Reading MCP resource: dot (memo://dot.png)' },
      { type: 'text', text: '[Binary MCP resource attached: memo://dot.png (image/png)]' },
      { type: 'text', text: '[Binary MCP resource omitted: memo://dot.png (image/png, 70 B): the model does not take images]' },
    ]);
  });
});
