/** toolsForAgent: which servers an agent gets, lazy loading, collisions, and the AI SDK tool loop. */
import { spawn } from 'node:child_process';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, stepCountIs } from 'ai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema-types.ts';
import { mcpServersForAgent, toolsForAgent } from '../../src/mcp/agent-tools.ts';
import { McpManager } from '../../src/mcp/manager.ts';
import type { McpWarning } from '../../src/mcp/types.ts';
import { startScriptedServer } from '../support/openai-server.ts';
import type { ScriptedServer } from '../support/openai-server.ts';
import { everythingStdio, fixture } from './helpers.ts';

describe('mcpServersForAgent', () => {
  const config: Config = {
    mcp: { a: everythingStdio(), b: everythingStdio({ enabled: false }), c: everythingStdio() },
    agent: { listed: { mcp: ['c', 'b', 'zzz', 'c'] }, none: { mcp: [] }, free: {} },
  };

  it('defaults to every enabled server', () => {
    expect(mcpServersForAgent(config, 'free')).toEqual({ servers: ['a', 'c'], unknown: [], disabled: [] });
    expect(mcpServersForAgent(config, 'not-an-agent')).toEqual({ servers: ['a', 'c'], unknown: [], disabled: [] });
    expect(mcpServersForAgent(config, undefined).servers).toEqual(['a', 'c']);
  });

  it('uses the agent’s list, without unknown or disabled names', () => {
    expect(mcpServersForAgent(config, 'listed')).toEqual({ servers: ['c'], unknown: ['zzz'], disabled: ['b'] });
    expect(mcpServersForAgent(config, 'none')).toEqual({ servers: [], unknown: [], disabled: [] });
  });
});

describe('toolsForAgent', () => {
  const managers: McpManager[] = [];
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.shutdown()));
  });

  it('starts only the servers the agent may use', async () => {
    const config: Config = { mcp: { used: everythingStdio(), unused: everythingStdio() }, agent: { oracle: { mcp: ['used', 'ghost'] } } };
    const manager = new McpManager(config.mcp);
    managers.push(manager);
    const warnings: McpWarning[] = [];
    const tools = await toolsForAgent(config, 'oracle', { manager, onWarning: (w) => warnings.push(w) });
    expect(Object.keys(tools)).toContain('used_echo');
    // Its own tools, and OpenCode's three for resources (server-everything serves resources).
    const own = Object.keys(tools).filter((n) => !['list_mcp_resources', 'list_mcp_resource_templates', 'read_mcp_resource'].includes(n));
    expect(own.every((n) => n.startsWith('used_'))).toBe(true);
    expect(Object.keys(tools).length - own.length).toBe(3);
    expect(manager.status().map((s) => [s.name, s.state])).toEqual([
      ['used', 'connected'],
      ['unused', 'idle'],
    ]);
    expect(warnings).toEqual([
      { code: 'MCP_UNKNOWN_SERVER', server: 'ghost', message: 'agent "oracle" lists MCP server "ghost", which is not configured under "mcp".' },
    ]);
  });

  it('a run that uses no MCP loads neither the MCP SDK nor the manager, and starts nothing', async () => {
    const child = spawn(process.execPath, [fixture('no-mcp-run.ts')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code, err).toBe(0);
    expect(JSON.parse(out)).toEqual({ tools: [0, 0, 0], loaded: [] });
  });

  it('two servers whose tools get the same name: the later one gets a suffix and a warning', async () => {
    const config: Config = { mcp: { 'e.v': everythingStdio(), e_v: everythingStdio() } };
    const manager = new McpManager(config.mcp);
    managers.push(manager);
    const warnings: McpWarning[] = [];
    const tools = await toolsForAgent(config, undefined, { manager, onWarning: (w) => warnings.push(w) });
    expect(tools['e_v_echo']?.metadata).toEqual({ mcpServer: 'e.v', mcpTool: 'echo' });
    expect(tools['e_v_echo_2']?.metadata).toEqual({ mcpServer: 'e_v', mcpTool: 'echo' });
    expect(warnings).toContainEqual({
      code: 'MCP_TOOL_NAME_COLLISION',
      server: 'e_v',
      message: 'MCP tool name "e_v_echo" is taken by tool "echo" of MCP server "e.v"; tool "echo" of server "e_v" is exposed as "e_v_echo_2".',
    });
    const options = { toolCallId: 'c', messages: [], context: {} };
    expect(await tools['e_v_echo_2']!.execute!({ message: 'second' }, options)).toBe('Echo: second');
  });
});

describe('an AI SDK tool loop calling an MCP tool through the scripted model server', () => {
  let model: ScriptedServer;
  let manager: McpManager;
  beforeAll(async () => {
    model = await startScriptedServer();
    manager = new McpManager({ everything: everythingStdio() });
  });
  afterAll(async () => {
    await Promise.all([model.close(), manager.shutdown()]);
  });

  it('the model gets the tool’s result, and a tool error as text starting with "error:"', async () => {
    model.script(
      'm',
      { type: 'tool_calls', calls: [{ name: 'everything_echo', arguments: { message: 'from the model' }, id: 'call_1' }] },
      { type: 'tool_calls', calls: [{ name: 'everything_echo', arguments: { wrong: true }, id: 'call_2' }] },
      { type: 'text', text: 'All done.' },
    );
    const tools = await manager.toolsFor(['everything']);
    const llm = createOpenAICompatible({ name: 'scripted', baseURL: model.url })('m');
    const result = await generateText({ model: llm, prompt: 'echo something', tools, stopWhen: stepCountIs(5), maxRetries: 0 });
    expect(result.text).toBe('All done.');
    const sentTools = (model.log[0]?.tools ?? []) as { function: { name: string; parameters: { properties: object } } }[];
    expect(sentTools.find((t) => t.function.name === 'everything_echo')?.function.parameters.properties).toHaveProperty('message');
    expect(model.log[1]?.messages).toContainEqual(expect.objectContaining({ role: 'tool', tool_call_id: 'call_1', content: 'Echo: from the model' }));
    const toolError = (model.log[2]?.messages as { role: string; tool_call_id?: string; content: string }[]).find((m) => m.tool_call_id === 'call_2');
    expect(toolError?.content).toMatch(/^error: .*Input validation error/s);
  });
});
