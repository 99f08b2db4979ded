/**
 * The tool loop against the scripted server: a model call asks for a tool, the tool runs, its
 * result goes back in the next request; failures and refusals go back as tool errors.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ModelMessage } from 'ai';
import { describe, expect, it } from 'vitest';
import { configFor, useHarness } from './harness.ts';

const h = useHarness();

async function project(files: Record<string, string> = {}): Promise<string> {
  const root = await h.tempDir();
  for (const [name, text] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await fs.writeFile(path.join(root, name), text);
  }
  return root;
}

/** The tool messages of a logged request. */
function toolMessages(messages: unknown[]): { role: string; content: string; tool_call_id: string }[] {
  return messages.filter((m) => (m as { role: string }).role === 'tool') as never;
}

describe('the tool loop', () => {
  it('runs read on a project file and sends its content back to the model in the next request', async () => {
    const server = await h.server();
    const root = await project({ 'notes.txt': 'the launch code is 4242\n' });
    const config = configFor(server, { agent: { worker: { prompt: 'Work.' } } });
    server.script('a', { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: 'notes.txt' }, id: 'call_r' }] }, { type: 'text', text: 'The code is 4242.' });
    const runtime = await h.runtime(config);
    const { result, rec, error } = await h.run({ config, runtime, agent: 'worker', message: 'What is the code?', workspace: { projectRoot: root } });
    expect(error).toBeUndefined();
    expect(result?.answer).toBe('The code is 4242.');
    expect(server.log).toHaveLength(2);
    const tools = (server.log[0]?.tools ?? []) as { function: { name: string } }[];
    expect(tools.map((t) => t.function.name)).toEqual(expect.arrayContaining(['read', 'list', 'glob', 'grep', 'write', 'edit', 'bash', 'webfetch']));
    const sent = toolMessages(server.log[1]?.messages ?? []);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.tool_call_id).toBe('call_r');
    expect(sent[0]?.content).toContain('the launch code is 4242');
    const uses = rec.of('tool_use');
    expect(uses).toHaveLength(1);
    expect(uses[0]).toMatchObject({ tool: 'read', input: { filePath: 'notes.txt' }, agent: 'worker', provider: 'local', model: 'local/a' });
    expect(String(uses[0]?.output)).toContain('4242');
    expect(rec.of('step_finish')).toHaveLength(2);
    expect(result?.usage.inputTokens).toBe((server.log[0]?.usage?.prompt_tokens ?? 0) + (server.log[1]?.usage?.prompt_tokens ?? 0));
  });

  it('a path outside the project root comes back to the model as a tool error, and the run goes on', async () => {
    const server = await h.server();
    const root = await project({ 'in.txt': 'inside' });
    const config = configFor(server);
    server.script('a', { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: '../../../etc/passwd' } }] }, { type: 'text', text: 'Could not read it.' });
    const runtime = await h.runtime(config);
    const { result, rec, error } = await h.run({ config, runtime, message: 'read passwd', workspace: { projectRoot: root } });
    expect(error).toBeUndefined();
    expect(result?.answer).toBe('Could not read it.');
    const use = rec.of('tool_use')[0];
    expect(use?.tool).toBe('read');
    expect(use?.output).toBeUndefined();
    expect(use?.error).toMatch(/outside the project/);
    const sent = toolMessages(server.log[1]?.messages ?? []);
    expect(sent[0]?.content).toMatch(/outside the project/);
    expect(sent[0]?.content).not.toContain('root:');
  });

  it('invalid arguments and an unknown tool are tool errors the model sees', async () => {
    const server = await h.server();
    const root = await project();
    const config = configFor(server);
    server.script(
      'a',
      { type: 'tool_calls', calls: [{ name: 'read', arguments: { path: 'x' } }, { name: 'teleport', arguments: { to: 'mars' } }] },
      { type: 'text', text: 'ok' },
    );
    const runtime = await h.runtime(config);
    const { result, rec } = await h.run({ config, runtime, message: 'go', workspace: { projectRoot: root } });
    expect(result?.answer).toBe('ok');
    const errors = rec.of('tool_use').map((e) => [e.tool, e.error]);
    expect(errors).toEqual([
      ['read', expect.stringMatching(/filePath/)],
      ['teleport', expect.stringMatching(/teleport/)],
    ]);
    expect(toolMessages(server.log[1]?.messages ?? [])).toHaveLength(2);
  });

  it('arguments that are not JSON, or empty, are tool errors the model sees; the run goes on', async () => {
    const server = await h.server();
    const root = await project({ 'a.txt': 'A' });
    const config = configFor(server);
    server.script(
      'a',
      {
        type: 'tool_calls',
        calls: [
          { name: 'read', arguments: '{"filePath": "a.txt"', id: 'cut' },
          { name: 'read', arguments: '', id: 'empty' },
        ],
      },
      { type: 'text', text: 'ok' },
    );
    const runtime = await h.runtime(config);
    const { result, rec } = await h.run({ config, runtime, message: 'go', workspace: { projectRoot: root } });
    expect(result?.answer).toBe('ok');
    expect(rec.of('tool_use').map((e) => [e.tool, typeof e.error, e.output])).toEqual([
      ['read', 'string', undefined],
      ['read', 'string', undefined],
    ]);
    expect(rec.of('tool_use')[1]?.error).toMatch(/filePath/);
    const sent = toolMessages(server.log[1]?.messages ?? []);
    expect(sent.map((m) => m.tool_call_id)).toEqual(['cut', 'empty']);
  });

  it('a bash call whose permission is ask is refused in a non-interactive run, and allowed with auto', async () => {
    const server = await h.server();
    const root = await project();
    const config = configFor(server, { agent: { coder: { permission: { bash: 'ask' } } } });
    const call = { type: 'tool_calls' as const, calls: [{ name: 'bash', arguments: { command: 'echo made > made.txt' } }] };
    server.script('a', call, { type: 'text', text: 'refused' }, call, { type: 'text', text: 'done' });
    const runtime = await h.runtime(config);
    const denied = await h.run({ config, runtime, agent: 'coder', message: 'make it', workspace: { projectRoot: root } });
    expect(denied.rec.of('tool_use')[0]?.error).toMatch(/permission denied.*--auto/);
    await expect(fs.access(path.join(root, 'made.txt'))).rejects.toThrow();
    const allowed = await h.run({ config, runtime, agent: 'coder', message: 'make it', workspace: { projectRoot: root, auto: true } });
    expect(allowed.rec.of('tool_use')[0]?.error).toBeUndefined();
    expect(await fs.readFile(path.join(root, 'made.txt'), 'utf8')).toBe('made\n');
  });

  it('tools an agent turns off or denies outright are not offered', async () => {
    const server = await h.server();
    const root = await project();
    const config = configFor(server, { tools: { webfetch: false }, agent: { reader: { tools: { grep: false }, permission: { edit: 'deny', bash: 'deny' } } } });
    const runtime = await h.runtime(config);
    await h.run({ config, runtime, agent: 'reader', message: 'hi', workspace: { projectRoot: root } });
    const names = ((server.log[0]?.tools ?? []) as { function: { name: string } }[]).map((t) => t.function.name).sort();
    expect(names).toEqual(['glob', 'list', 'read']);
  });

  it('without a workspace the agent gets no tools', async () => {
    const server = await h.server();
    const config = configFor(server);
    const runtime = await h.runtime(config);
    await h.run({ config, runtime, message: 'hi' });
    expect(server.log[0]?.tools).toBeUndefined();
  });

  it('stops at the agent\'s steps; the last step is asked to answer without tools', async () => {
    const server = await h.server();
    const root = await project({ 'a.txt': 'A' });
    const config = configFor(server, { agent: { short: { steps: 2 } } });
    server.script('a', { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: 'a.txt' } }] }, { type: 'text', text: 'final' });
    const runtime = await h.runtime(config);
    const { result } = await h.run({ config, runtime, agent: 'short', message: 'go', workspace: { projectRoot: root } });
    expect(result?.answer).toBe('final');
    expect(server.log.map((e) => (e.body as { tool_choice?: unknown }).tool_choice)).toEqual(['auto', 'none']);
  });

  it('a model that calls a tool when asked to answer in words: its words are the answer, the call is not run', async () => {
    const server = await h.server();
    const root = await project({ 'a.txt': 'A' });
    const config = configFor(server, { agent: { short: { steps: 2 } } });
    server.script(
      'a',
      { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: 'a.txt' } }] },
      { type: 'tool_calls', text: 'Done reading.', calls: [{ name: 'read', arguments: { filePath: 'a.txt' } }] },
    );
    const runtime = await h.runtime(config);
    const turn: ModelMessage[] = [];
    const { result, error, rec } = await h.run({ config, runtime, agent: 'short', message: 'go', turn, workspace: { projectRoot: root } });
    expect(error).toBeUndefined();
    expect(result?.answer).toBe('Done reading.');
    expect(rec.of('tool_use')).toHaveLength(1);
    expect(server.log).toHaveLength(2);
    expect(turn.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
    expect(turn[3]).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'Done reading.' }] });
  });

  it('several calls in one step: each result goes back under its own call id, in the order of the calls', async () => {
    const server = await h.server();
    const root = await project({ 'a.txt': 'AAA', 'b.txt': 'BBB' });
    const config = configFor(server);
    server.script(
      'a',
      {
        type: 'tool_calls',
        calls: [
          { name: 'read', arguments: { filePath: 'b.txt' }, id: 'call_b' },
          { name: 'read', arguments: { filePath: 'a.txt' }, id: 'call_a' },
        ],
      },
      { type: 'text', text: 'both read' },
    );
    const runtime = await h.runtime(config);
    const { result } = await h.run({ config, runtime, message: 'go', workspace: { projectRoot: root } });
    expect(result?.answer).toBe('both read');
    const sent = toolMessages(server.log[1]?.messages ?? []);
    expect(sent.map((m) => m.tool_call_id)).toEqual(['call_b', 'call_a']);
    expect(sent[0]?.content).toContain('BBB');
    expect(sent[1]?.content).toContain('AAA');
  });
});
