/**
 * What a careless or hostile MCP server sends through its prompts and resources, in `opencode
 * serve` through `@opencode-ai/sdk` (test/mcp/fixtures/hostile-catalog-server.mjs):
 * - an `@`-mentioned resource of thousands of tiny binary contents under long URIs is bounded like
 *   its text: the parts the model gets (and the session keeps) stay few and small, the rest counted
 *   in one note;
 * - a prompt that declares an argument name twice takes it once: its hints, and the words given
 *   to the arguments in order, none lost to the duplicate.
 */
import { createOpencodeClient } from '@opencode-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, userText, type Sandbox } from '../cli/cli-helper.ts';
import { fixture } from '../mcp/helpers.ts';
import { MAX_RESOURCE_CHARS, MAX_RESOURCE_CONTENTS } from '../../src/server/opencode/mcp-resource-part.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { serve, type Served } from './serve-helper.ts';

let upstream: ScriptedServer;
let sb: Sandbox;
let s: Served;
let client: ReturnType<typeof createOpencodeClient>;

beforeAll(async () => {
  upstream = await startScriptedServer();
  sb = await sandbox();
  sb.write('opencode.json', {
    ...providerConfig(upstream, { m: {} }),
    model: 'p/m',
    cache: { enabled: false },
    mcp: { hostile: { type: 'local', command: [process.execPath, fixture('hostile-catalog-server.mjs')], timeout: 30_000 } },
  });
  s = await serve(sb);
  client = createOpencodeClient({ baseUrl: s.url, directory: sb.project });
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

describe('a hostile MCP server’s prompts and resources in serve', () => {
  it('a resource of 4,000 binary contents under 1 kB URIs: a bounded number of parts and characters, the rest counted in one note', async () => {
    const id = await newSession();
    const mention = { type: 'file' as const, mime: 'application/zip', filename: 'flood', url: 'hostile://flood', source: { type: 'resource', text: { start: 0, end: 0, value: '' }, clientName: 'hostile', uri: 'hostile://flood' } as never };
    upstream.script('m', { type: 'text', text: 'ok' });
    const sent = await client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'look' }, mention] } });
    expect(sent.response.status).toBe(200);
    const user = (upstream.log.at(-1)?.messages as { role: string; content: { type: string; text?: string }[] }[]).filter((m) => m.role === 'user').at(-1);
    const items = user?.content ?? [];
    // The user's text, the head line, at most MAX_RESOURCE_CONTENTS contents, and the note of the rest.
    expect(items.length).toBeLessThanOrEqual(MAX_RESOURCE_CONTENTS + 3);
    const chars = items.reduce((n, item) => n + (item.text?.length ?? 0), 0);
    expect(chars).toBeLessThanOrEqual(MAX_RESOURCE_CHARS + 2000);
    // Each note names its content's URI cut short, never the whole kilobyte.
    for (const item of items.slice(2, -1)) expect(item.text?.length).toBeLessThan(400);
    expect(items.at(-1)?.text).toMatch(/^\[\d+ more contents of hostile:\/\/flood left out: /);
    const left = Number(/^\[(\d+) more/.exec(items.at(-1)?.text ?? '')?.[1]);
    expect(left + items.length - 3).toBe(4000);
    // The session keeps what was sent, no more: its user message's parts are as few.
    const listed = (await client.session.messages({ path: { id } })).data ?? [];
    const parts = listed.find((m) => m.info.role === 'user')?.parts ?? [];
    expect(parts.length).toBe(items.length);
  });

  it('a prompt declaring an argument twice: listed and given once, the words in order', async () => {
    const listed = (await client.command.list()).data as unknown as { name: string; hints?: string[] }[];
    expect(listed.find((c) => c.name === 'hostile:dup')?.hints).toEqual(['$1', '$2']);
    const id = await newSession();
    upstream.script('m', { type: 'text', text: 'done' });
    const before = upstream.log.length;
    const ran = await client.session.command({ path: { id }, body: { command: 'hostile:dup', arguments: 'alpha calm' } });
    expect(ran.response.status).toBe(200);
    const request = upstream.log.slice(before).find((e) => userText(e).includes('topic='));
    expect(userText(request)).toBe('topic=alpha; tone=calm');
  });
});
