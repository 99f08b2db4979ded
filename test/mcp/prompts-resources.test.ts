/**
 * An MCP server's prompts and resources (a real stdio server, the SDK's McpServer): listed when it
 * connects, in OpenCode's shapes (`server:prompt` commands with `$n` hints, resources keyed
 * `server:uri` with `client`), listed anew when it says they changed, `prompts/get` with the
 * arguments in order (a required one left out named), `resources/read`; a server without them has none.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mcpCommandViews, mcpPromptMessage } from '../../src/core/commands/mcp-prompt-command.ts';
import { resourceKey } from '../../src/mcp/catalog.ts';
import { McpManager } from '../../src/mcp/manager.ts';
import type { McpWarning } from '../../src/mcp/types.ts';
import { eventually, fixture, START_TIMEOUT_MS } from './helpers.ts';

const managers: McpManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.shutdown()));
});

function manager(warnings: McpWarning[] = []): McpManager {
  const m = new McpManager(
    {
      'my.cat': { type: 'local', command: [process.execPath, fixture('catalog-server.mjs')], timeout: START_TIMEOUT_MS },
      plain: { type: 'local', command: [process.execPath, fixture('instructions-server.mjs')], timeout: START_TIMEOUT_MS },
    },
    { onWarning: (w) => warnings.push(w) },
  );
  managers.push(m);
  return m;
}

describe('MCP prompts and resources', () => {
  it('are listed in OpenCode’s shapes; a server without them has none', async () => {
    const warnings: McpWarning[] = [];
    const m = manager(warnings);
    const prompts = await m.prompts();
    expect(mcpCommandViews(prompts)).toEqual([
      { name: 'my_cat:review', description: 'Review a file', source: 'mcp', template: '', hints: ['$1', '$2'] },
      { name: 'my_cat:hello_world', description: 'Greets', source: 'mcp', template: '', hints: [] },
      { name: 'my_cat:broken', description: 'Always fails', source: 'mcp', template: '', hints: [] },
    ]);
    expect(prompts[0]?.arguments).toEqual([{ name: 'file', description: 'The file to review', required: true }, { name: 'focus' }]);
    const resources = await m.resources();
    expect(resources).toEqual([
      { name: 'notes', uri: 'memo://notes', description: 'Team notes', mimeType: 'text/plain', client: 'my.cat' },
      { name: 'logo', uri: 'memo://logo.bin', mimeType: 'application/octet-stream', client: 'my.cat' },
      { name: 'gone', uri: 'memo://gone', mimeType: 'text/plain', client: 'my.cat' },
    ]);
    expect(resourceKey('my.cat', 'memo://notes')).toBe('my.cat:memo://notes');
    expect(resourceKey('a:b%', 'x://y')).toBe('a%3Ab%25:x://y');
    expect(m.status().map((s) => s.state)).toEqual(['connected', 'connected']);
    expect(warnings).toEqual([]);
  });

  it('prompts/get with the arguments in order; the text of its messages; a required one left out is named', async () => {
    const m = manager();
    const servers = ['my.cat'];
    expect(await mcpPromptMessage(m, servers, 'my_cat:review', 'src/a.ts "error handling" too', '--command')).toBe('Review src/a.ts for error handling too.\nKeep it short. $1 stays as written.');
    expect(await mcpPromptMessage(m, servers, 'my_cat:review', 'src/a.ts', '--command')).toBe('Review src/a.ts.\nKeep it short. $1 stays as written.');
    // No arguments declared: those given follow the text; its shell block is text, never run.
    expect(await mcpPromptMessage(m, servers, 'my_cat:hello_world', 'in French', '--command')).toBe('Say hello. !`touch pwned`\n\nin French');
    await expect(mcpPromptMessage(m, servers, 'my_cat:review', '', '--command')).rejects.toThrow('--command my_cat:review: the prompt\'s argument "file" (its 1st) is required.');
    await expect(mcpPromptMessage(m, servers, 'my_cat:broken', '', '--command')).rejects.toThrow(/^--command my_cat:broken: MCP server "my\.cat" did not give its prompt "broken": .*the prompt store is offline\.$/);
    expect(await mcpPromptMessage(m, servers, 'my_cat:nope', '', '--command')).toBeUndefined();
  });

  it('resources/read; a read that fails is an error of one sentence', async () => {
    const m = manager();
    expect(await m.readResource('my.cat', 'memo://notes')).toMatchObject({ contents: [{ uri: 'memo://notes', text: 'NOTE-CONTENT-42' }] });
    await expect(m.readResource('my.cat', 'memo://gone')).rejects.toThrow(/^MCP server "my\.cat" did not read memo:\/\/gone: .*the memo was shredded/);
    await expect(m.readResource('nope', 'memo://notes')).rejects.toThrow('MCP server "nope" is not configured');
  });

  it('prompts and resources added at runtime are listed anew (list_changed)', async () => {
    const m = manager();
    await m.prompts();
    expect(await m.callTool('my.cat', 'add_prompt', { name: 'later' })).toMatchObject({ isError: false });
    await eventually(async () => (await m.prompts()).some((p) => p.key === 'my_cat:later'), 10_000, 'the new prompt');
    expect(await mcpPromptMessage(m, ['my.cat'], 'my_cat:later', '', '--command')).toBe('Prompt later added at runtime.');
    expect(await m.callTool('my.cat', 'add_resource', { name: 'fresh', text: 'FRESH' })).toMatchObject({ isError: false });
    await eventually(async () => (await m.resources()).some((r) => r.uri === 'memo://fresh'), 10_000, 'the new resource');
    expect(await m.readResource('my.cat', 'memo://fresh')).toMatchObject({ contents: [{ text: 'FRESH' }] });
  });

  it('a disconnected server offers none; a prompt of a server that is down says why', async () => {
    const m = manager();
    expect((await m.prompts()).length).toBe(3);
    await m.disconnect('my.cat');
    expect(await m.prompts()).toEqual([]);
    expect(await m.resources()).toEqual([]);
    await expect(mcpPromptMessage(m, ['my.cat'], 'my_cat:review', 'x', '--command')).rejects.toThrow('--command my_cat:review: MCP server "my.cat" is disabled (disconnected), so its prompts cannot be run.');
  });
});

describe('MCP prompts and resources, bounded', () => {
  function paged(env: Record<string, string>, warnings: McpWarning[]): McpManager {
    const m = new McpManager({ pg: { type: 'local', command: [process.execPath, fixture('paged-catalog-server.mjs')], environment: env, timeout: START_TIMEOUT_MS } }, { onWarning: (w) => warnings.push(w) });
    managers.push(m);
    return m;
  }

  it('every page is read up to 500 of each; past that a warning; descriptions cut', async () => {
    const warnings: McpWarning[] = [];
    const m = paged({ PROMPTS: '25', RESOURCES: '600' }, warnings);
    const prompts = await m.prompts();
    expect(prompts.map((p) => p.name)).toEqual(Array.from({ length: 25 }, (_, i) => `p${i}`));
    expect(prompts[0]?.description).toHaveLength(2048);
    const resources = await m.resources();
    expect(resources).toHaveLength(500);
    expect(resources.at(-1)?.uri).toBe('paged://499');
    expect(warnings.map((w) => w.message)).toEqual(['MCP server "pg" offers more than 500 resources; the first 500 are offered.']);
  });

  it('a cursor that never ends: listing stops when it comes back, what was read is kept', async () => {
    const warnings: McpWarning[] = [];
    const m = paged({ LOOP: '1' }, warnings);
    const resources = await m.resources();
    // The second page hands back the same cursor: the listing stops there.
    expect(resources.map((r) => r.uri)).toEqual(['loop://1', 'loop://2']);
    expect(JSON.parse((await m.callTool('pg', 'counts', {})).text)).toEqual({ resourceLists: 2 });
  });
});
