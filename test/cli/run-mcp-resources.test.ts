/**
 * OpenCode's tools for MCP resources in `opencode run` (list_mcp_resources,
 * list_mcp_resource_templates, read_mcp_resource), with a real stdio MCP server
 * (test/mcp/fixtures/resource-server.mjs) and the scripted provider calling them: offered as
 * OpenCode 1.18.33 offers them (names, descriptions, schemas captured from what it sends), only
 * when a server serves resources and the agent may read; answers in OpenCode's words; an image
 * attached after the tool result; the `read` permission on `mcp:<server>:<uri>`; answers cut; a
 * hostile server's listing bounded and its escapes kept off the terminal; a read that times out.
 */
import { describe, expect, it } from 'vitest';
import { hasStack, providerConfig, toolContents, useScriptedSandbox, type Sandbox } from './cli-helper.ts';
import { fixture } from '../mcp/helpers.ts';
import type { RequestLogEntry, ScriptedServer } from '../support/openai-server.ts';

let server: ScriptedServer;
let sb: Sandbox;
const docs = (environment: Record<string, string> = {}, timeout = 30_000) => ({ type: 'local', command: [process.execPath, fixture('resource-server.mjs')], environment, timeout });
const base = (s: ScriptedServer) => ({
  ...providerConfig(s, { m: { modalities: { input: ['text', 'image'], output: ['text'] } } }),
  model: 'p/m',
  cache: { enabled: false },
  mcp: { docs: docs() },
});
useScriptedSandbox((s, b) => {
  server = s;
  sb = b;
}, base);

type Fn = { name: string; description: string; parameters: unknown };
const fns = (entry: RequestLogEntry | undefined): Fn[] => ((entry?.tools ?? []) as { function: Fn }[]).map((t) => t.function);
const names = (entry: RequestLogEntry | undefined): string[] => fns(entry).map((f) => f.name);
const call = (name: string, args: Record<string, unknown>) => ({ type: 'tool_calls' as const, calls: [{ name, arguments: args }] });

/** What OpenCode 1.18.33 sent an OpenAI-compatible provider for these tools (captured). */
const OPENCODE_TOOLS: Fn[] = [
  {
    name: 'list_mcp_resources',
    description: 'Lists resources provided by connected MCP servers. Resources provide context such as files, database schemas, or application-specific information.',
    parameters: { type: 'object', properties: { server: { type: 'string', description: 'Optional MCP server name. When omitted, lists resources from every connected server.' } }, additionalProperties: false },
  },
  {
    name: 'list_mcp_resource_templates',
    description: 'Lists resource templates provided by connected MCP servers. Resource templates are parameterized resources that can be read after filling in their URI template.',
    parameters: { type: 'object', properties: { server: { type: 'string', description: 'Optional MCP server name. When omitted, lists resource templates from every connected server.' } }, additionalProperties: false },
  },
  {
    name: 'read_mcp_resource',
    description: 'Read a specific resource from an MCP server using the server name and resource URI. The URI is an MCP identifier and does not need to be a file URL.',
    parameters: {
      type: 'object',
      properties: {
        server: { type: 'string', description: 'MCP server name exactly as returned by list_mcp_resources.' },
        uri: { type: 'string', description: 'Resource URI to read. Use the exact URI string returned by list_mcp_resources.' },
      },
      required: ['server', 'uri'],
      additionalProperties: false,
    },
  },
];

describe('MCP resource tools in opencode run', () => {
  it('are offered as OpenCode offers them; list, list templates and read answer in its words; an image follows its result', async () => {
    server.script(
      'm',
      call('list_mcp_resources', {}),
      call('list_mcp_resource_templates', { server: 'docs' }),
      call('read_mcp_resource', { server: 'docs', uri: 'docs://guide' }),
      call('read_mcp_resource', { server: 'docs', uri: 'docs://pair' }),
      call('read_mcp_resource', { server: 'docs', uri: 'docs://archive.zip' }),
      call('read_mcp_resource', { server: 'docs', uri: 'docs://broken' }),
      call('read_mcp_resource', { server: 'nope', uri: 'x' }),
      call('list_mcp_resources', { server: 'nope' }),
      call('read_mcp_resource', { server: 'docs' }),
      { type: 'text', text: 'done' },
    );
    const r = await sb.run(['run', 'use the docs']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('done');
    for (const fn of OPENCODE_TOOLS) expect(fns(server.log[0]).find((f) => f.name === fn.name)).toEqual(fn);
    const answers = toolContents(server.log.at(-1)?.messages ?? []);
    expect(JSON.parse(answers[0] as string)).toEqual({
      resources: [
        { name: 'archive', uri: 'docs://archive.zip', mimeType: 'application/zip', server: 'docs' },
        { name: 'big', uri: 'docs://big', mimeType: 'text/plain', server: 'docs' },
        { name: 'broken', uri: 'docs://broken', server: 'docs' },
        { name: 'dot', uri: 'docs://dot.png', mimeType: 'image/png', server: 'docs' },
        { name: 'guide', title: 'The Guide', uri: 'docs://guide', description: 'How to use the docs', mimeType: 'text/markdown', server: 'docs' },
        { name: 'pair', uri: 'docs://pair', server: 'docs' },
        { name: 'paper', uri: 'docs://paper.pdf', mimeType: 'application/pdf', server: 'docs' },
      ],
    });
    expect(answers[1]).toBe(
      JSON.stringify(
        {
          resourceTemplates: [
            { name: 'log', uriTemplate: 'docs://log/{day}', server: 'docs' },
            { name: 'page', uriTemplate: 'docs://page/{name}', description: 'A page by name', mimeType: 'text/plain', server: 'docs' },
          ],
        },
        null,
        2,
      ),
    );
    expect(answers.slice(2)).toEqual([
      'Resource: docs://guide\nMIME: text/markdown\n# Guide\nRead the GUIDE-TEXT-7 first.',
      'Resource: docs://pair#text\nMIME: application/octet-stream\nPAIR-TEXT\n\n[Binary MCP resource attached: docs://pair#image (image/png)]',
      '[Binary MCP resource omitted: docs://archive.zip (application/zip, 22 B) is not a supported attachment type]',
      expect.stringMatching(/^MCP server "docs" did not read docs:\/\/broken: .*the docs store is offline$/),
      'MCP server "nope" is not connected',
      'MCP server "nope" does not support resources. Available resource servers: docs',
      'uri is required',
    ]);
    // The image right after the result that attached it, as OpenCode sends it to an OpenAI-compatible provider.
    const messages = (server.log[4]?.messages ?? []) as { role: string; content: unknown }[];
    const pairAt = messages.findIndex((m) => m.role === 'tool' && String(m.content).includes('PAIR-TEXT'));
    expect(messages[pairAt + 1]).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'Attached media from tool result:' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==' } },
      ],
    });
    expect(r.stderr).toContain('read_mcp_resource docs docs://guide');
    expect(hasStack(r.stderr)).toBe(false);
  });

  it('a model that takes no images gets OpenCode’s words in the image’s place; a long text is cut with a note', async () => {
    sb.write('opencode.json', { ...base(server), ...providerConfig(server, { m: {} }) });
    server.script('m', call('read_mcp_resource', { server: 'docs', uri: 'docs://dot.png' }), call('read_mcp_resource', { server: 'docs', uri: 'docs://big' }), { type: 'text', text: 'ok' });
    const r = await sb.run(['run', 'look']);
    expect(r.code, r.stderr).toBe(0);
    const messages = (server.log[1]?.messages ?? []) as { role: string; content: unknown }[];
    expect(messages.at(-1)).toEqual({ role: 'user', content: [{ type: 'text', text: 'Attached media from tool result:' }, { type: 'text', text: 'ERROR: Cannot read "docs://dot.png" (this model does not support image input). Inform the user.' }] });
    const big = toolContents(server.log[2]?.messages ?? []).at(-1) as string;
    expect(big.length).toBeLessThan(52 * 1024);
    expect(big).toMatch(/^Resource: docs:\/\/big\nMIME: text\/plain\n00001 lorem/);
    expect(big).toMatch(/\n\[truncated: showing the first \d+ of 200\d+ characters\]$/);
  });

  it('a PDF goes to a model that takes PDFs as a file, as OpenCode sends it', async () => {
    sb.write('opencode.json', { ...base(server), ...providerConfig(server, { m: { modalities: { input: ['text', 'pdf'], output: ['text'] } } }) });
    server.script('m', call('read_mcp_resource', { server: 'docs', uri: 'docs://paper.pdf' }), { type: 'text', text: 'ok' });
    const r = await sb.run(['run', 'read the paper']);
    expect(r.code, r.stderr).toBe(0);
    const messages = (server.log[1]?.messages ?? []) as { role: string; content: unknown }[];
    expect(toolContents(messages)).toEqual(['[Binary MCP resource attached: docs://paper.pdf (application/pdf)]']);
    expect(messages.at(-1)).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'Attached media from tool result:' },
        { type: 'file', file: { filename: 'docs://paper.pdf', file_data: `data:application/pdf;base64,${Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n').toString('base64')}` } },
      ],
    });
  });

  it('not offered when no server serves resources, when the agent may not read, or when `tools` turns one off', async () => {
    const runNames = async (config: object): Promise<string[]> => {
      server.reset();
      sb.write('opencode.json', { ...base(server), ...config });
      server.script('m', { type: 'text', text: 'ok' });
      const r = await sb.run(['run', 'hi']);
      expect(r.code, r.stderr).toBe(0);
      return names(server.log[0]).filter((n) => n.includes('mcp_resource'));
    };
    expect(await runNames({})).toEqual(['list_mcp_resources', 'list_mcp_resource_templates', 'read_mcp_resource']);
    expect(await runNames({ mcp: { docs: docs({ NO_RESOURCES: '1' }) } })).toEqual([]);
    expect(await runNames({ permission: { read: 'deny' } })).toEqual([]);
    expect(await runNames({ tools: { read: false } })).toEqual([]);
    expect(await runNames({ tools: { read_mcp_resource: false } })).toEqual(['list_mcp_resources', 'list_mcp_resource_templates']);
  });

  it('asks the `read` permission on mcp:<server>:<uri>: a deny rule refuses, `ask` needs --auto', async () => {
    sb.write('opencode.json', { ...base(server), permission: { read: { '*': 'allow', 'mcp:docs:docs://secret*': 'deny', 'mcp:docs:docs://guide': 'ask' } } });
    server.script('m', call('read_mcp_resource', { server: 'docs', uri: 'docs://secret/1' }), call('read_mcp_resource', { server: 'docs', uri: 'docs://guide' }), call('list_mcp_resources', {}), { type: 'text', text: 'ok' });
    const r = await sb.run(['run', 'read']);
    expect(r.code, r.stderr).toBe(0);
    const answers = toolContents(server.log.at(-1)?.messages ?? []);
    expect(answers[0]).toBe('PermissionDeniedError: permission denied: read_mcp_resource `mcp:docs:docs://secret/1` (rule "mcp:docs:docs://secret*": deny)');
    expect(answers[1]).toBe('PermissionDeniedError: permission denied: read_mcp_resource `mcp:docs:docs://guide` (rule "mcp:docs:docs://guide": ask; not approved: non-interactive run; pass --auto to approve)');
    expect(answers[2]).toContain('"resources"');
    server.reset();
    server.script('m', call('read_mcp_resource', { server: 'docs', uri: 'docs://guide' }), { type: 'text', text: 'ok' });
    const auto = await sb.run(['run', '--auto', 'read']);
    expect(auto.code, auto.stderr).toBe(0);
    expect(toolContents(server.log.at(-1)?.messages ?? [])).toEqual(['Resource: docs://guide\nMIME: text/markdown\n# Guide\nRead the GUIDE-TEXT-7 first.']);
  });

  it('a hostile server: its listing bounded, its escapes kept off the terminal; a read that hangs ends at the timeout in one sentence', async () => {
    sb.write('opencode.json', { ...base(server), mcp: { docs: docs({ HOSTILE: '1', FLOOD: '3000', HANG_READ: '1' }, 10_000) } });
    const evil = 'docs://evil\x1b]0;pwned\x07\x1b[2J\r';
    server.script('m', call('list_mcp_resources', {}), call('read_mcp_resource', { server: 'docs', uri: evil }), { type: 'text', text: 'ok' });
    const r = await sb.run(['run', 'list']);
    expect(r.code, r.stderr).toBe(0);
    const [listing, read] = toolContents(server.log.at(-1)?.messages ?? []);
    // 500 resources at most, each description cut: the answer itself cut at the tool's limit.
    expect((listing as string).length).toBeLessThan(52 * 1024);
    expect(listing).toMatch(/\n\[truncated: showing the first \d+ of \d+ characters\]$/);
    expect(listing).toContain('\\u001b]0;pwned');
    expect(read).toMatch(/^MCP server "docs" did not read docs:\/\/evil.*: timed out$/s);
    expect(r.stderr.includes('\x1b') || r.stderr.includes('\x07')).toBe(false);
    expect(hasStack(r.stderr)).toBe(false);
  });
});
