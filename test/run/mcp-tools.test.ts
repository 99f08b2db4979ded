/** MCP tools in the agent's tool loop: a real server-everything over stdio, named `<server>_<tool>`. */
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema-types.ts';
import { toolsForAgent } from '../../src/mcp/agent-tools.ts';
import { McpManager } from '../../src/mcp/manager.ts';
import { everythingStdio } from '../mcp/helpers.ts';
import { configFor, useHarness } from './harness.ts';

const h = useHarness();
const managers: McpManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.shutdown()));
});

function mcpFor(config: Config) {
  const manager = new McpManager(config.mcp, { reservedToolNames: ['read', 'task'] });
  managers.push(manager);
  return { manager, source: (agent: string) => toolsForAgent(config, agent, { manager }) };
}

describe('MCP tools in the loop', () => {
  it("the model calls everything_echo; the server's answer goes back as the tool result", async () => {
    const server = await h.server();
    const config = configFor(server, { mcp: { everything: everythingStdio() }, agent: { worker: {}, bare: { mcp: [] } } });
    server.script('a', { type: 'tool_calls', calls: [{ name: 'everything_echo', arguments: { message: 'ping' } }] }, { type: 'text', text: 'pong' });
    const runtime = await h.runtime(config);
    const mcp = mcpFor(config);
    const { result, rec, error } = await h.run({ config, runtime, agent: 'worker', message: 'echo', workspace: { projectRoot: await h.tempDir(), mcp: mcp.source } });
    expect(error).toBeUndefined();
    expect(result?.answer).toBe('pong');
    expect(rec.of('tool_use')[0]).toMatchObject({ tool: 'everything_echo', input: { message: 'ping' }, output: 'Echo: ping' });
    const sent = (server.log[1]?.messages ?? []).filter((m) => (m as { role: string }).role === 'tool');
    expect(sent).toEqual([expect.objectContaining({ content: 'Echo: ping' })]);
    // An agent with `mcp: []` is offered none of them, and starts nothing.
    await h.run({ config, runtime, agent: 'bare', message: 'x', workspace: { projectRoot: await h.tempDir(), mcp: mcp.source } });
    const names = ((server.log[2]?.tools ?? []) as { function: { name: string } }[]).map((t) => t.function.name);
    expect(names.some((n) => n.startsWith('everything_'))).toBe(false);
  });

  it('an input that would set a prototype (plain, escaped, or through constructor) is refused as the SDK refuses it; the tool does not run', async () => {
    const server = await h.server();
    const config = configFor(server, { mcp: { everything: everythingStdio() }, agent: { worker: {} } });
    server.script(
      'a',
      {
        type: 'tool_calls',
        calls: [
          { name: 'everything_echo', arguments: '{"message":"a","__proto__":{"polluted":true}}' },
          { name: 'everything_echo', arguments: '{"message":"b","\\u005f\\u005fproto\\u005f\\u005f":{"polluted":true}}' },
          { name: 'everything_echo', arguments: '{"message":"c","constructor":{"prototype":{"polluted":true}}}' },
          { name: 'everything_echo', arguments: '{"message":"d"}' },
        ],
      },
      { type: 'text', text: 'done' },
    );
    const runtime = await h.runtime(config);
    const { result, rec } = await h.run({ config, runtime, agent: 'worker', message: 'echo', workspace: { projectRoot: await h.tempDir(), mcp: mcpFor(config).source } });
    expect(result?.answer).toBe('done');
    const uses = rec.of('tool_use');
    expect(uses.map((e) => [e.output, typeof e.error])).toEqual([
      [undefined, 'string'],
      [undefined, 'string'],
      [undefined, 'string'],
      ['Echo: d', 'undefined'],
    ]);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it("an MCP tool whose permission is ask is refused in a non-interactive run; tools: false removes one", async () => {
    const server = await h.server();
    const config = configFor(server, {
      mcp: { everything: everythingStdio() },
      permission: { 'everything_*': 'ask' },
      agent: { worker: { tools: { 'everything_get-tiny-image': false } } },
    });
    server.script('a', { type: 'tool_calls', calls: [{ name: 'everything_echo', arguments: { message: 'ping' } }] }, { type: 'text', text: 'no' });
    const runtime = await h.runtime(config);
    const { rec } = await h.run({ config, runtime, agent: 'worker', message: 'echo', workspace: { projectRoot: await h.tempDir(), mcp: mcpFor(config).source } });
    expect(rec.of('tool_use')[0]?.error).toMatch(/permission denied: everything_echo/);
    const names = ((server.log[0]?.tools ?? []) as { function: { name: string } }[]).map((t) => t.function.name);
    expect(names).toContain('everything_echo');
    expect(names).not.toContain('everything_get-tiny-image');
    expect(names.filter((n) => n.startsWith('everything_')).length).toBeGreaterThan(3);
  });
});
