/**
 * OpenCode's MCP resource tools (src/mcp/resource-tools.ts) over the real manager: a remote server
 * (server-everything over Streamable HTTP) lists resources and templates (`resources/templates/list`)
 * and reads them; every call asks `read` through the hook it is given, with OpenCode's patterns; a
 * local server that died is started again by a read, once; and the answer's bounds (contents of one
 * resource, attachments over 10 MB, lines) hold.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { toolsForAgent } from '../../src/mcp/agent-tools.ts';
import { McpManager } from '../../src/mcp/manager.ts';
import { cutAnswer, MAX_ANSWER_LINES, readAnswer, type ResourceAsk } from '../../src/mcp/resource-tools.ts';
import { mediaOf } from '../../src/run/tool-media.ts';
import { eventually, fixture, isAlive, START_TIMEOUT_MS, startHttpEverything, tempDir, type HttpEverything } from './helpers.ts';

const managers: McpManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.shutdown()));
});

function run(tool: { execute?: unknown } | undefined, input: object, asks: ResourceAsk[] = []): Promise<unknown> {
  const execute = tool?.execute as (input: object, options: object) => Promise<unknown>;
  return execute(input, { toolCallId: 'c1', messages: [], authorizeRead: async (ask: ResourceAsk) => void asks.push(ask) });
}

describe('MCP resource tools on a remote server', () => {
  let http: HttpEverything;
  beforeAll(async () => {
    http = await startHttpEverything('streamableHttp');
  });
  afterAll(async () => {
    await http?.close();
  });

  it('lists resources and templates and reads one, asking `read` on OpenCode’s patterns', async () => {
    const config = { mcp: { every: { type: 'remote' as const, url: http.url, timeout: START_TIMEOUT_MS } } };
    const manager = new McpManager(config.mcp);
    managers.push(manager);
    const tools = await toolsForAgent(config, undefined, { manager });
    expect(Object.keys(tools).filter((n) => n.includes('mcp_resource'))).toEqual(['list_mcp_resources', 'list_mcp_resource_templates', 'read_mcp_resource']);
    const asks: ResourceAsk[] = [];
    const listed = JSON.parse((await run(tools.list_mcp_resources, {}, asks)) as string) as { resources: { uri: string; server: string }[] };
    expect(listed.resources.length).toBeGreaterThan(0);
    expect(listed.resources.every((r) => r.server === 'every')).toBe(true);
    const templates = JSON.parse((await run(tools.list_mcp_resource_templates, { server: 'every' }, asks)) as string) as { resourceTemplates: { uriTemplate: string }[] };
    expect(templates.resourceTemplates.length).toBeGreaterThan(0);
    expect(templates.resourceTemplates.every((t) => typeof t.uriTemplate === 'string' && t.uriTemplate.includes('{'))).toBe(true);
    const first = listed.resources[0]?.uri as string;
    const read = await run(tools.read_mcp_resource, { server: 'every', uri: first }, asks);
    const text = mediaOf(read)?.output ?? (read as string);
    expect(text.startsWith(`Resource: ${first}\nMIME: `) || text.startsWith('[Binary MCP resource')).toBe(true);
    expect(asks).toEqual([
      { tool: 'list_mcp_resources', patterns: ['mcp:every:*'], always: ['mcp:every:*'], metadata: {} },
      { tool: 'list_mcp_resource_templates', patterns: ['mcp:every:*'], always: ['mcp:every:*'], metadata: { server: 'every' } },
      { tool: 'read_mcp_resource', patterns: [`mcp:every:${first}`], always: ['mcp:every:*'], metadata: { server: 'every', uri: first } },
    ]);
  });
});

describe('MCP resource tools on a local server', () => {
  it('a server that died is started again by a read (once); a refusal of `read` fails the call', async () => {
    const dir = await tempDir();
    const pidFile = path.join(dir, 'pid');
    const config = { mcp: { docs: { type: 'local' as const, command: [process.execPath, fixture('resource-server.mjs')], environment: { PID_FILE: pidFile }, timeout: START_TIMEOUT_MS } } };
    const manager = new McpManager(config.mcp);
    managers.push(manager);
    const tools = await toolsForAgent(config, undefined, { manager });
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    process.kill(pid, 'SIGKILL');
    await eventually(() => manager.status()[0]?.state === 'exited', 10_000, 'the server to be seen exited');
    expect(await run(tools.read_mcp_resource, { server: 'docs', uri: 'docs://guide' })).toBe('Resource: docs://guide\nMIME: text/markdown\n# Guide\nRead the GUIDE-TEXT-7 first.');
    expect(isAlive(Number(fs.readFileSync(pidFile, 'utf8')))).toBe(true);
    const refused = (tools.read_mcp_resource?.execute as (i: object, o: object) => Promise<unknown>)({ server: 'docs', uri: 'docs://guide' }, { toolCallId: 'c', messages: [], authorizeRead: () => Promise.reject(new Error('no')) });
    await expect(refused).rejects.toThrow('no');
  });
});

describe('the answer’s bounds', () => {
  it('64 contents of a resource at most; an image over 10 MB omitted; no contents said so', () => {
    const many = readAnswer('s', 'x://many', { contents: Array.from({ length: 100 }, (_, i) => ({ uri: `x://many/${i}`, text: `t${i}` })) });
    expect(many.contents).toBe(100);
    expect(many.text.split('Resource: ').length - 1).toBe(64);
    expect(many.text.endsWith('[36 more contents of x://many left out: at most 64 contents of a resource are read]')).toBe(true);
    const huge = readAnswer('s', 'x://huge.png', { contents: [{ uri: 'x://huge.png', mimeType: 'image/png', blob: 'A'.repeat(14 * 1024 * 1024) }] });
    expect(huge).toEqual({ text: '[Binary MCP resource omitted: x://huge.png (image/png, 11 MB) exceeds 10 MB]', media: [], contents: 1 });
    expect(readAnswer('s', 'x://none', { contents: [] }).text).toBe('MCP resource x://none from s returned no contents.');
    expect(readAnswer('s', 'x://odd', { contents: [{ uri: 'x://odd' }] }).text).toBe('[MCP resource content without text or blob: x://odd]');
  });

  it('an answer is cut at 2,000 lines or 50 KB, with a note', () => {
    const lines = Array.from({ length: 3000 }, (_, i) => `line ${i}`).join('\n');
    const cut = cutAnswer(lines);
    expect(cut.split('\n')).toHaveLength(MAX_ANSWER_LINES + 1);
    expect(cut).toMatch(/\nline 1999\n\[truncated: showing the first \d+ of \d+ characters\]$/);
    expect(cutAnswer('short')).toBe('short');
  });
});
