/**
 * The plugins' hooks inside a turn's tools, through a real turn against the scripted provider:
 * `permission.ask` answers an `ask` before anyone is asked (allow, deny, or leave it), and
 * `shell.env` sets variables for the `bash` command, over the environment whose credentials were
 * left out. A hook that throws fails the call, naming it; the model reads that and the turn goes on.
 */
import { describe, expect, it } from 'vitest';
import { configFor, useHarness } from '../run/harness.ts';
import { testHost } from './test-host.ts';

const h = useHarness();

const bashCall = (command: string, id = 'call_b') => ({ type: 'tool_calls' as const, calls: [{ name: 'bash', arguments: { command }, id }] });

describe('permission.ask', () => {
  it('allow runs a call the rules would ask about, with no question; it is told OpenCode\'s Permission', async () => {
    const server = await h.server();
    const config = configFor(server, { permission: { bash: 'ask' } });
    server.script('a', bashCall('echo plugin-allowed'), { type: 'text', text: 'ok' });
    const plugins = testHost({ 'permission.ask': (input, output) => void (output.status = input.pattern.startsWith('echo ') ? 'allow' : 'ask') });
    const runtime = await h.runtime(config);
    const asked: string[] = [];
    const { error, rec } = await h.run({
      config,
      runtime,
      message: 'x',
      ids: { user: 'msg_u1', assistant: 'msg_r1' },
      workspace: { projectRoot: await h.tempDir(), plugins, interactive: true, confirm: async (q) => (asked.push(q), false) },
    });
    expect(error).toBeUndefined();
    expect(asked).toEqual([]);
    expect(rec.of('tool_use')[0]).toMatchObject({ tool: 'bash', output: 'plugin-allowed' });
    const [input] = plugins.of('permission.ask');
    expect(input).toMatchObject({ type: 'bash', pattern: 'echo plugin-allowed', sessionID: 'ses_test', messageID: 'msg_r1', callID: 'call_b', title: 'Run `echo plugin-allowed`?', metadata: { tool: 'bash', input: { command: 'echo plugin-allowed' } } });
    expect(input.id).toMatch(/^per_/);
    expect(typeof input.time.created).toBe('number');
  });

  it('deny refuses the call even under --auto, and says a plugin refused it', async () => {
    const server = await h.server();
    const config = configFor(server, { permission: { bash: 'ask' } });
    server.script('a', bashCall('rm -rf build'), { type: 'text', text: 'ok' });
    const plugins = testHost({ 'permission.ask': (_input, output) => void (output.status = 'deny') });
    const runtime = await h.runtime(config);
    const { error, rec } = await h.run({ config, runtime, message: 'x', workspace: { projectRoot: await h.tempDir(), plugins, auto: true } });
    expect(error).toBeUndefined();
    expect(rec.of('tool_use')[0]?.error).toMatch(/^permission denied: bash `rm -rf build` \(.*denied by a plugin \(permission\.ask\)\)$/);
  });

  it('ask leaves the question to the person; an allow or deny rule of the config is not put to the hook', async () => {
    const server = await h.server();
    const config = configFor(server, { permission: { bash: { '*': 'ask', 'echo *': 'allow', 'rm *': 'deny' } } });
    server.script('a', { type: 'tool_calls', calls: [{ name: 'bash', arguments: { command: 'echo a' } }, { name: 'bash', arguments: { command: 'rm x' } }, { name: 'bash', arguments: { command: 'pwd' } }] }, { type: 'text', text: 'ok' });
    const plugins = testHost({ 'permission.ask': () => undefined });
    const runtime = await h.runtime(config);
    const asked: string[] = [];
    const { error } = await h.run({ config, runtime, message: 'x', workspace: { projectRoot: await h.tempDir(), plugins, interactive: true, confirm: async (q) => (asked.push(q), true) } });
    expect(error).toBeUndefined();
    expect(plugins.of('permission.ask').map((i) => i.pattern)).toEqual(['pwd']);
    expect(asked).toEqual(['Run `pwd`?']);
  });

  it('a hook that throws or answers something else fails that call with one sentence naming the hook', async () => {
    const server = await h.server();
    const config = configFor(server, { permission: { bash: 'ask' } });
    server.script('a', { type: 'tool_calls', calls: [{ name: 'bash', arguments: { command: 'echo one' } }, { name: 'bash', arguments: { command: 'echo two' } }] }, { type: 'text', text: 'ok' });
    const plugins = testHost({
      'permission.ask': (input, output) => {
        if (input.pattern === 'echo one') throw new Error('policy server down');
        output.status = 'yes';
      },
    });
    const runtime = await h.runtime(config);
    const { error, rec } = await h.run({ config, runtime, message: 'x', workspace: { projectRoot: await h.tempDir(), plugins, auto: true } });
    expect(error).toBeUndefined();
    const errors = rec.of('tool_use').map((u) => u.error);
    expect(errors).toContain('bash failed: The plugin hook permission.ask failed: policy server down');
    expect(errors).toContain('bash failed: The plugin hook permission.ask failed: output.status must be "ask", "allow" or "deny", not "yes"');
  });
});

describe('shell.env', () => {
  it('sets variables for the bash command, told the folder, the session and the call', async () => {
    const server = await h.server();
    const config = configFor(server);
    server.script('a', bashCall('echo "$FROM_PLUGIN/$DEPLOY_TOKEN/${OPENAI_API_KEY:-none}"', 'call_env'), { type: 'text', text: 'ok' });
    const plugins = testHost({
      'shell.env': (_input, output) => {
        output.env.FROM_PLUGIN = 'yes';
        // A credential a plugin hands the command on purpose.
        output.env.DEPLOY_TOKEN = 'tok-123';
      },
    });
    const runtime = await h.runtime(config);
    const root = await h.tempDir();
    const env = { ...(await h.env()), PATH: process.env.PATH, OPENAI_API_KEY: 'sk-user-key-should-not-leak' };
    const { error, rec } = await h.run({ config, runtime, env, message: 'x', workspace: { projectRoot: root, plugins, env, auto: true } });
    expect(error).toBeUndefined();
    expect(rec.of('tool_use')[0]?.output).toBe('yes/tok-123/none');
    expect(plugins.of('shell.env')).toEqual([{ cwd: root, sessionID: 'ses_test', callID: 'call_env' }]);
  });

  it('a hook that throws fails the bash call, naming the hook, and the command does not run', async () => {
    const server = await h.server();
    const config = configFor(server);
    const root = await h.tempDir();
    server.script('a', bashCall('touch ran.txt'), { type: 'text', text: 'ok' });
    const plugins = testHost({
      'shell.env': () => {
        throw new Error('vault locked');
      },
    });
    const runtime = await h.runtime(config);
    const { error, rec } = await h.run({ config, runtime, message: 'x', workspace: { projectRoot: root, plugins, auto: true } });
    expect(error).toBeUndefined();
    expect(rec.of('tool_use')[0]?.error).toBe('bash failed: The plugin hook shell.env failed: vault locked');
    const { existsSync } = await import('node:fs');
    expect(existsSync(`${root}/ran.txt`)).toBe(false);
  });
});

describe('tool.execute.after', () => {
  it('an answer a hook makes huge is cut to the tools\' output limit, as any tool\'s answer is', async () => {
    const server = await h.server();
    const config = configFor(server);
    server.script('a', bashCall('echo small'), { type: 'text', text: 'ok' });
    const plugins = testHost({ 'tool.execute.after': (_input, output) => void (output.output = 'x'.repeat(5 * 1024 * 1024)) });
    const runtime = await h.runtime(config);
    const { error, rec } = await h.run({ config, runtime, message: 'x', workspace: { projectRoot: await h.tempDir(), plugins, auto: true } });
    expect(error).toBeUndefined();
    const output = String(rec.of('tool_use')[0]?.output);
    expect(output.length).toBeLessThan(60 * 1024);
    expect(output).toMatch(/^x{1000}/);
    expect(output).toMatch(/\(Output cut: [\d.]+ \w+ left out of the end\.\)$/);
    const sent = JSON.stringify(server.log[1]?.messages);
    expect(sent.length).toBeLessThan(100 * 1024);
  });
});

describe('tool.execute.after: what OpenCode\'s tools give it', () => {
  it('a built-in call\'s title and metadata (read: the file and its preview; edit: its diff), a custom tool\'s own, an MCP tool\'s result with its content', async () => {
    const server = await h.server();
    const config = configFor(server, { mcp: { fake: { type: 'remote', url: 'http://127.0.0.1:9/mcp', enabled: true } } } as never);
    const root = await h.tempDir();
    const fs = await import('node:fs/promises');
    await fs.writeFile(`${root}/notes.txt`, 'alpha\nbeta\n');
    server.script(
      'a',
      {
        type: 'tool_calls',
        calls: [
          { name: 'read', arguments: { filePath: 'notes.txt' }, id: 'call_read' },
          { name: 'edit', arguments: { filePath: 'notes.txt', oldString: 'beta', newString: 'gamma' }, id: 'call_edit' },
          { name: 'stamp', arguments: {}, id: 'call_stamp' },
          { name: 'fake_echo', arguments: {}, id: 'call_mcp' },
        ],
      },
      { type: 'text', text: 'ok' },
    );
    const stamp = { description: 'Stamps', args: {}, execute: async () => ({ title: 'Stamped', output: 'stamped', metadata: { count: 3 } }) };
    const seen: Record<string, { title: unknown; metadata: unknown; output: unknown; content?: unknown }> = {};
    const plugins = {
      ...testHost({
        'tool.execute.after': (input, output) => {
          seen[input.tool] = structuredClone(output);
          if (input.tool === 'fake_echo') output.content[0].text = 'changed in place';
        },
      }),
      tools: new Map([['stamp', stamp]]),
    };
    const { tool, jsonSchema } = await import('ai');
    const mcp = async () => ({ fake_echo: tool({ description: 'Echo', inputSchema: jsonSchema({ type: 'object', properties: {} }), execute: async () => ({ content: [{ type: 'text', text: 'from mcp' }] }) }) });
    const runtime = await h.runtime(config);
    const { error, rec } = await h.run({ config, runtime, message: 'x', workspace: { projectRoot: root, plugins, auto: true, mcp } });
    expect(error).toBeUndefined();
    expect(seen.read).toMatchObject({ title: 'notes.txt', metadata: { truncated: false } });
    expect(String((seen.read?.metadata as { preview?: unknown }).preview)).toContain('alpha');
    expect(seen.edit?.title).toBe('notes.txt');
    expect((seen.edit?.metadata as { diff?: string }).diff).toContain('+gamma');
    expect(seen.stamp).toMatchObject({ title: 'Stamped', output: 'stamped', metadata: { count: 3 } });
    expect(seen.fake_echo).toMatchObject({ content: [{ type: 'text', text: 'from mcp' }], output: 'from mcp' });
    // The MCP content changed in place is the call's answer.
    expect(rec.of('tool_use').find((e) => e.tool === 'fake_echo')?.output).toMatchObject({ content: [{ type: 'text', text: 'changed in place' }] });
  });
});

describe('a custom tool\'s context', () => {
  it('carries the reply\'s messageID and the call\'s callID, as OpenCode\'s does', async () => {
    const server = await h.server();
    const config = configFor(server);
    server.script('a', { type: 'tool_calls', calls: [{ name: 'ids', arguments: {}, id: 'call_ids' }] }, { type: 'text', text: 'ok' });
    const tool = { description: 'Says its ids', args: {}, execute: async (_args: unknown, context: { messageID: string; callID?: string }) => `${context.messageID} ${String(context.callID)}` };
    const plugins = { ...testHost(), tools: new Map([['ids', tool]]) };
    const runtime = await h.runtime(config);
    const { error, rec } = await h.run({ config, runtime, message: 'x', ids: { user: 'msg_u1', assistant: 'msg_r1' }, workspace: { projectRoot: await h.tempDir(), plugins, auto: true } });
    expect(error).toBeUndefined();
    expect(rec.of('tool_use')[0]).toMatchObject({ tool: 'ids', output: 'msg_r1 call_ids' });
  });
});
