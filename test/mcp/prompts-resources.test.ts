/**
 * An MCP server's prompts and resources (a real stdio server, the SDK's McpServer): listed when it
 * connects, in OpenCode's shapes (`server:prompt` commands with `$n` hints, resources keyed
 * `server:uri` with `client`), listed anew when it says they changed, `prompts/get` with the
 * arguments in order (a required one left out named), `resources/read`; a server without them has none.
 */
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { mcpCommandViews, mcpPromptMessage, promptArguments } from '../../src/core/commands/mcp-prompt-command.ts';
import { resourceKey, type McpPrompt } from '../../src/mcp/catalog.ts';
import { McpManager } from '../../src/mcp/manager.ts';
import type { McpWarning } from '../../src/mcp/types.ts';
import { eventually, fixture, START_TIMEOUT_MS, tempDir } from './helpers.ts';

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
      { name: 'dot', uri: 'memo://dot.png', mimeType: 'image/png', client: 'my.cat' },
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

  it('a prompt declaring thousands of arguments: the first 32 are taken, a name over 256 characters left out, a warning says so', async () => {
    const warnings: McpWarning[] = [];
    const m = paged({ PROMPTS: '2', RESOURCES: '0', ARGS: '5000' }, warnings);
    const prompt = (await m.prompts()).find((p) => p.name === 'p1');
    expect(prompt?.arguments.map((a) => a.name)).toEqual(Array.from({ length: 32 }, (_, i) => `a${i}`));
    expect(mcpCommandViews(prompt ? [prompt] : [])[0]?.hints).toHaveLength(32);
    expect(warnings.map((w) => w.message)).toEqual([
      'MCP server "pg": its prompt "p1" declares 5000 arguments; the first 32 are taken.',
      'MCP server "pg": its prompt "p1" declares 1 argument(s) without a name or with one over 256 characters; they are left out.',
    ]);
    // Words past the 32nd go to the last argument taken, as a command's last placeholder takes the rest.
    expect(promptArguments(prompt as McpPrompt, Array.from({ length: 40 }, (_, i) => `w${i}`).join(' '), '--command').a31).toBe('w31 w32 w33 w34 w35 w36 w37 w38 w39');
  });
});

describe('MCP prompts and resources, servers that hang or die', () => {
  it('a listing waits at most `waitMs` for a server still starting: it is left out and goes on starting', async () => {
    const m = new McpManager({
      cat: { type: 'local', command: [process.execPath, fixture('catalog-server.mjs')], timeout: START_TIMEOUT_MS },
      hang: { type: 'local', command: [process.execPath, fixture('hang-server.mjs')], timeout: 600_000 },
    });
    managers.push(m);
    // The listing answers although `hang` would take 10 minutes to time out; `cat` is listed once it has started.
    await eventually(async () => (await m.prompts(undefined, { waitMs: 200 })).some((p) => p.key === 'cat:review'), 30_000, 'cat’s prompts');
    expect(m.status(['hang'])[0]?.state).toBe('starting');
    expect((await m.resources(undefined, { waitMs: 200 })).every((r) => r.client === 'cat')).toBe(true);
    expect((await m.start(undefined, { waitMs: 200 })).map((s) => s.state)).toEqual(['connected', 'starting']);
  });

  it('running a prompt of a server that died starts it again, once; after that it stays down and says so', async () => {
    const dir = await tempDir();
    const pidFile = path.join(dir, 'pid');
    const m = new McpManager({ cat: { type: 'local', command: [process.execPath, fixture('catalog-server.mjs')], environment: { PID_FILE: pidFile }, timeout: START_TIMEOUT_MS } });
    managers.push(m);
    const kill = async () => {
      process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL');
      await eventually(() => m.status()[0]?.state === 'exited', 10_000, 'the server marked exited');
    };
    expect(await mcpPromptMessage(m, ['cat'], 'cat:hello_world', '', '--command')).toBe('Say hello. !`touch pwned`');
    await kill();
    expect(await mcpPromptMessage(m, ['cat'], 'cat:hello_world', '', '--command')).toBe('Say hello. !`touch pwned`');
    expect(m.status()[0]).toMatchObject({ state: 'connected', restarts: 1 });
    await kill();
    await expect(mcpPromptMessage(m, ['cat'], 'cat:hello_world', '', '--command')).rejects.toThrow(/^--command cat:hello_world: MCP server "cat" exited \(was killed by SIGKILL\), so its prompts cannot be run\.$/);
    await fs.promises.rm(dir, { recursive: true, force: true });
  });
});
