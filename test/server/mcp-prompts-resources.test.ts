/**
 * MCP prompts and resources in `opencode serve`, through `@opencode-ai/sdk` as OpenCode's TUI uses
 * them, with a real stdio MCP server (test/mcp/fixtures/catalog-server.mjs): its prompts are
 * commands (`GET /command`, `session.command` runs one: the model gets the prompt's text), its
 * resources are listed (`experimental.resource.list`) and an `@`-mentioned one (the TUI's file part
 * with a resource source) is read and sent as text; a failed read is one sentence; prompts and
 * resources added at runtime show up; a required argument left out is a 400 naming it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createOpencodeClient } from '@opencode-ai/sdk';
import { createOpencodeClient as createV2 } from '@opencode-ai/sdk/v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, userText, type Sandbox } from '../cli/cli-helper.ts';
import { eventually, fixture } from '../mcp/helpers.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { serve, type Served } from './serve-helper.ts';

let upstream: ScriptedServer;
let sb: Sandbox;
let s: Served;
let client: ReturnType<typeof createOpencodeClient>;
let v2: ReturnType<typeof createV2>;

beforeAll(async () => {
  upstream = await startScriptedServer();
  sb = await sandbox();
  sb.write('opencode.json', {
    ...providerConfig(upstream, { m: {} }),
    model: 'p/m',
    cache: { enabled: false },
    command: { hello: { template: 'Plain $ARGUMENTS', description: 'a config command' } },
    mcp: { cat: { type: 'local', command: [process.execPath, fixture('catalog-server.mjs')], timeout: 30_000 } },
  });
  s = await serve(sb);
  client = createOpencodeClient({ baseUrl: s.url, directory: sb.project });
  v2 = createV2({ baseUrl: s.url, directory: sb.project });
});

afterAll(async () => {
  await s?.stop();
  await upstream?.close();
  await sb?.remove();
});

async function newSession(): Promise<string> {
  const created = await client.session.create({ body: {} });
  return created.data?.id as string;
}

describe('MCP prompts and resources in serve', () => {
  it('GET /command lists the prompts as `mcp` commands after the config’s; session.command runs one with its arguments', async () => {
    const listed = (await client.command.list()).data as unknown as { name: string; source?: string; hints?: string[]; description?: string }[];
    const mcp = listed.filter((c) => c.source === 'mcp');
    expect(mcp).toEqual([
      { name: 'cat:review', description: 'Review a file', source: 'mcp', template: '', hints: ['$1', '$2'] },
      { name: 'cat:hello_world', description: 'Greets', source: 'mcp', template: '', hints: [] },
      { name: 'cat:broken', description: 'Always fails', source: 'mcp', template: '', hints: [] },
    ]);
    expect(listed.findIndex((c) => c.name === 'hello')).toBeLessThan(listed.findIndex((c) => c.name === 'cat:review'));
    // v2's list is the same list (OpenCode's TUI on the v2 client offers the prompts under `/` too).
    const listedV2 = ((await v2.v2.command.list({ location: { directory: sb.project } })).data?.data ?? []) as unknown as typeof listed;
    expect(listedV2.map((c) => c.name)).toEqual(listed.map((c) => c.name));
    expect(listedV2.filter((c) => c.source === 'mcp')).toEqual(mcp);

    const id = await newSession();
    upstream.script('m', { type: 'text', text: 'reviewed' });
    const before = upstream.log.length;
    const ran = await client.session.command({ path: { id }, body: { command: 'cat:review', arguments: 'src/a.ts security' } });
    expect(ran.response.status).toBe(200);
    const request = upstream.log.slice(before).find((e) => userText(e).includes('Review'));
    expect(userText(request)).toBe('Review src/a.ts for security.\nKeep it short. $1 stays as written.');

    // A prompt whose text holds a shell block: sent as text, never run.
    upstream.script('m', { type: 'text', text: 'hi' });
    await client.session.command({ path: { id }, body: { command: 'cat:hello_world', arguments: '' } });
    expect(userText(upstream.log.at(-1))).toBe('Say hello. !`touch pwned`');
    expect(fs.existsSync(path.join(sb.project, 'pwned'))).toBe(false);
  });

  it('run --attach --command runs a prompt in the server’s project, as a local run does', async () => {
    upstream.script('m', { type: 'text', text: 'attached' });
    const r = await sb.run(['run', '--attach', s.url, '--command', 'cat:review', 'lib/b.ts']);
    expect(r.code, r.stderr).toBe(0);
    expect(userText(upstream.log.at(-1))).toBe('Review lib/b.ts.\nKeep it short. $1 stays as written.');
    const missing = await sb.run(['run', '--attach', s.url, '--command', 'cat:review']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--command cat:review: the prompt\'s argument "file" (its 1st) is required.');
  });

  it('a required argument left out is a 400 naming it; a prompt the server fails to give is one sentence, no stack', async () => {
    const id = await newSession();
    const missing = await client.session.command({ path: { id }, body: { command: 'cat:review', arguments: '' } });
    expect(missing.response.status).toBe(400);
    const said = JSON.stringify(missing.error);
    expect(said).toContain('the prompt\'s argument \\"file\\" (its 1st) is required');
    const broken = await client.session.command({ path: { id }, body: { command: 'cat:broken', arguments: '' } });
    expect(broken.response.status).toBe(502);
    expect(JSON.stringify(broken.error)).toContain('MCP server \\"cat\\" did not give its prompt \\"broken\\"');
    expect(JSON.stringify(broken.error)).not.toMatch(/\n\s+at /);
  });

  it('experimental.resource.list answers OpenCode’s shape; an @-mentioned resource is read and kept as OpenCode’s synthetic parts; a failed read is one sentence', async () => {
    const resources = (await v2.experimental.resource.list()).data;
    expect(resources).toEqual({
      'cat:memo://notes': { name: 'notes', uri: 'memo://notes', description: 'Team notes', mimeType: 'text/plain', client: 'cat' },
      'cat:memo://logo.bin': { name: 'logo', uri: 'memo://logo.bin', mimeType: 'application/octet-stream', client: 'cat' },
      'cat:memo://gone': { name: 'gone', uri: 'memo://gone', mimeType: 'text/plain', client: 'cat' },
      'cat:memo://dot.png': { name: 'dot', uri: 'memo://dot.png', mimeType: 'image/png', client: 'cat' },
    });
    const id = await newSession();
    // The part OpenCode's TUI sends when a resource is picked from its `@` menu.
    const mention = (name: string, uri: string, mime = 'text/plain') => ({ type: 'file' as const, mime, filename: name, url: uri, source: { type: 'resource', text: { start: 0, end: 0, value: '' }, clientName: 'cat', uri } as never });
    upstream.script('m', { type: 'text', text: 'ok' });
    const sent = await client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'summarise' }, mention('notes', 'memo://notes'), mention('logo', 'memo://logo.bin', 'application/octet-stream'), mention('gone', 'memo://gone')] } });
    expect(sent.response.status).toBe(200);
    // As OpenCode 1.18.33 sends it (checked against its server): the user's text, then each synthetic part an item of its own.
    const shredded = /^Failed to read MCP resource gone: MCP server "cat" did not read memo:\/\/gone: [^\n]*the memo was shredded$/;
    const user = (upstream.log.at(-1)?.messages as { role: string; content: unknown }[]).filter((m) => m.role === 'user').at(-1);
    expect(user?.content).toEqual([
      { type: 'text', text: 'summarise' },
      { type: 'text', text: 'Reading MCP resource: notes (memo://notes)' },
      { type: 'text', text: 'NOTE-CONTENT-42' },
      { type: 'text', text: 'Reading MCP resource: logo (memo://logo.bin)' },
      { type: 'text', text: '[Binary MCP resource omitted: memo://logo.bin (application/octet-stream, 12 B) is not a supported attachment type]' },
      { type: 'text', text: expect.stringMatching(shredded) },
    ]);
    // The message list has them as OpenCode's does: the user's text, then synthetic text parts (its TUI shows the first alone).
    const listed = (await client.session.messages({ path: { id } })).data ?? [];
    const parts = listed.find((m) => m.info.role === 'user')?.parts as { type: string; text?: string; synthetic?: boolean }[];
    expect(parts.map(({ type, text, synthetic }) => ({ type, text, synthetic }))).toEqual([
      { type: 'text', text: 'summarise', synthetic: undefined },
      { type: 'text', text: 'Reading MCP resource: notes (memo://notes)', synthetic: true },
      { type: 'text', text: 'NOTE-CONTENT-42', synthetic: true },
      { type: 'text', text: 'Reading MCP resource: logo (memo://logo.bin)', synthetic: true },
      { type: 'text', text: '[Binary MCP resource omitted: memo://logo.bin (application/octet-stream, 12 B) is not a supported attachment type]', synthetic: true },
      { type: 'text', text: expect.stringMatching(shredded), synthetic: true },
    ]);
    // The next turn's history carries them as they were sent; the session's title is the user's text alone.
    upstream.script('m', { type: 'text', text: 'again' });
    await client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'and again' }] } });
    const history = (upstream.log.at(-1)?.messages as { role: string; content: unknown }[]).filter((m) => m.role === 'user');
    expect(history[0]?.content).toEqual(user?.content);
    expect((await client.session.get({ path: { id } })).data?.title).toBe('summarise');
  });

  it('prompts and resources the server adds at runtime are listed and run', async () => {
    const id = await newSession();
    // The model calls the server's tool that adds them (the server then says its lists changed).
    upstream.script('m', { type: 'tool_calls', calls: [{ id: 'c1', name: 'cat_add_prompt', arguments: { name: 'late' } }, { id: 'c2', name: 'cat_add_resource', arguments: { name: 'fresh', text: 'FRESH-TEXT' } }] }, { type: 'text', text: 'added' });
    await client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'add them' }] } });
    await eventually(async () => ((await client.command.list()).data ?? []).some((c) => c.name === 'cat:late'), 15_000, 'the new prompt as a command');
    await eventually(async () => Object.hasOwn((await v2.experimental.resource.list()).data ?? {}, 'cat:memo://fresh'), 15_000, 'the new resource');
    upstream.script('m', { type: 'text', text: 'done' });
    await client.session.command({ path: { id }, body: { command: 'cat:late', arguments: '' } });
    expect(userText(upstream.log.at(-1))).toBe('Prompt late added at runtime.');
  });
});
