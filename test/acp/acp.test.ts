/**
 * `opencode acp` as an editor drives it (the ACP SDK's client, over the process's stdin and
 * stdout) against the scripted provider: initialize, a prompt streamed, a tool call with its
 * updates and an edit's diff, permission questions allowed and rejected, cancel mid-turn, a
 * rate-limited provider, a session loaded after a restart (and listed by `opencode session list`),
 * bad input answered with JSON-RPC errors — and nothing but protocol on stdout.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { SessionNotification, ToolCallUpdate } from '@agentclientprotocol/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import type { ScriptedServer } from '../support/openai-server.ts';
import { hasStack, providerConfig, SECRET, useScriptedSandbox, type Sandbox } from '../cli/cli-helper.ts';
import { initialize, onlyProtocol, startAcp, textOf, type AcpProcess } from './acp-helper.ts';

let server: ScriptedServer;
let sb: Sandbox;
useScriptedSandbox(
  (s, b) => {
    server = s;
    sb = b;
  },
  (s) => ({
    ...providerConfig(s, { m: { limit: { context: 64000, output: 4096 } }, other: {} }),
    model: 'p/m',
    default_agent: 'coder',
    agent: {
      coder: { mode: 'primary', model: 'p/m', description: 'Writes code.', permission: { edit: 'ask' } },
      helper: { mode: 'subagent', model: 'p/m' },
    },
    retry: { maxRetries: 3, baseDelay: 50, maxDelay: 2000 },
    cache: { enabled: false },
  }),
);

const running: AcpProcess[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) {
    p.child.kill('SIGKILL');
    await p.exited;
  }
});

function start(args: string[] = []): AcpProcess {
  const p = startAcp(sb, args);
  running.push(p);
  return p;
}

/** The line of stdout that holds `text`, once it has come. */
async function stdoutLine(p: AcpProcess, text: string): Promise<string> {
  for (;;) {
    const line = p.stdout().split('\n').find((l) => l.includes(text));
    if (line) return line;
    if (p.child.exitCode !== null) throw new Error(`opencode acp exited before answering ${text}:\n${p.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function updatesOf(p: AcpProcess, kind: string): SessionNotification['update'][] {
  return p.updates.filter((n) => n.update.sessionUpdate === kind).map((n) => n.update);
}

describe('opencode acp', () => {
  it('initializes as OpenCode does, streams a prompt\u2019s answer, and the session is one `session list` shows', async () => {
    const p = start();
    const init = await initialize(p);
    expect(init.protocolVersion).toBe(1);
    expect(init.agentCapabilities?.loadSession).toBe(true);
    expect(init.agentCapabilities?.promptCapabilities).toMatchObject({ image: true, embeddedContext: true });
    expect(init.authMethods?.map((m) => m.id)).toEqual(['opencode-login']);

    const created = await p.conn.agent.request('session/new', { cwd: sb.project, mcpServers: [] });
    // Agents a person picks (not sub-agents) are the modes; the config's models the `model` option.
    expect(created.modes?.currentModeId).toBe('coder');
    expect(created.modes?.availableModes.map((m) => m.id)).not.toContain('helper');
    const model = created.configOptions?.find((o) => o.id === 'model');
    expect(model).toMatchObject({ type: 'select', currentValue: 'p/m' });
    const commands = await p.waitForUpdate((n) => n.update.sessionUpdate === 'available_commands_update');
    expect((commands.update as { availableCommands: { name: string }[] }).availableCommands.map((c) => c.name)).toEqual(expect.arrayContaining(['init', 'review', 'compact']));

    server.script('m', { type: 'text', chunks: ['Hel', 'lo ', 'there'] });
    const answer = await p.conn.agent.request('session/prompt', { sessionId: created.sessionId, prompt: [{ type: 'text', text: 'Say hello' }] });
    expect(answer.stopReason).toBe('end_turn');
    expect(textOf(p.updates, 'agent_message_chunk', created.sessionId)).toBe('Hello there');
    expect(updatesOf(p, 'agent_message_chunk').length).toBe(3);
    // The context gauge: this model's limit is known.
    expect(updatesOf(p, 'usage_update')[0]).toMatchObject({ size: 64000 });
    expect(server.log.at(-1)?.model).toBe('m');

    const listed = await sb.run(['session', 'list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(created.sessionId);
    expect(await p.close()).toBe(0);
    expect(onlyProtocol(p.stdout())).toBe(true);
    expect(p.stdout() + p.stderr()).not.toContain(SECRET);
  });

  it('an editor that runs logins in its terminal is told the login command, as OpenCode tells it', async () => {
    const p = start();
    const init = await initialize(p, { _meta: { 'terminal-auth': true } });
    expect(init.authMethods?.[0]?._meta).toEqual({ 'terminal-auth': { command: 'opencode', args: ['auth', 'login'], label: 'OpenCode Login' } });
    const plain = start();
    expect((await initialize(plain)).authMethods?.[0]?._meta).toBeUndefined();
  });

  it('reports a tool call with its updates and an edit\u2019s diff; an `ask` is put to the editor and allowed', async () => {
    await fs.writeFile(path.join(sb.project, 'notes.txt'), 'one\ntwo\n');
    const p = start();
    p.permission = () => ({ outcome: { outcome: 'selected', optionId: 'once' } });
    await initialize(p);
    const { sessionId } = await p.conn.agent.request('session/new', { cwd: sb.project, mcpServers: [] });
    server.script('m', { type: 'tool_calls', calls: [{ name: 'edit', id: 'call_e', arguments: { filePath: 'notes.txt', oldString: 'two', newString: 'three' } }] }, { type: 'text', text: 'Edited.' });
    const answer = await p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'Change two to three' }] });
    expect(answer.stopReason).toBe('end_turn');
    expect(await fs.readFile(path.join(sb.project, 'notes.txt'), 'utf8')).toBe('one\nthree\n');

    // The question: the call, its kind and file, the diff, and OpenCode's three options.
    expect(p.asked).toHaveLength(1);
    const asked = p.asked[0];
    expect(asked?.toolCall).toMatchObject({ toolCallId: 'call_e', kind: 'edit', locations: [{ path: path.join(sb.project, 'notes.txt') }] });
    expect(asked?.toolCall.content).toEqual([{ type: 'diff', path: path.join(sb.project, 'notes.txt'), oldText: 'two', newText: 'three' }]);
    expect(asked?.options.map((o) => o.optionId)).toEqual(['once', 'always', 'reject']);

    const call = updatesOf(p, 'tool_call')[0] as ToolCallUpdate & { sessionUpdate: string };
    expect(call).toMatchObject({ toolCallId: 'call_e', kind: 'edit', status: 'pending' });
    const steps = updatesOf(p, 'tool_call_update') as (ToolCallUpdate & { sessionUpdate: string })[];
    expect(steps.map((u) => u.status)).toEqual(['in_progress', 'completed']);
    const done = steps.at(-1);
    expect(done?.content).toEqual(expect.arrayContaining([{ type: 'diff', path: path.join(sb.project, 'notes.txt'), oldText: 'two', newText: 'three' }]));
    expect(textOf(p.updates, 'agent_message_chunk')).toBe('Edited.');
    expect(onlyProtocol(p.stdout())).toBe(true);
  });

  it('a rejected permission leaves the file as it was and fails the call', async () => {
    await fs.writeFile(path.join(sb.project, 'notes.txt'), 'one\n');
    const p = start();
    p.permission = () => ({ outcome: { outcome: 'selected', optionId: 'reject' } });
    await initialize(p);
    const { sessionId } = await p.conn.agent.request('session/new', { cwd: sb.project, mcpServers: [] });
    server.script('m', { type: 'tool_calls', calls: [{ name: 'edit', id: 'call_r', arguments: { filePath: 'notes.txt', oldString: 'one', newString: 'uno' } }] }, { type: 'text', text: 'Fine, I will not.' });
    const answer = await p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'Translate' }] });
    expect(answer.stopReason).toBe('end_turn');
    expect(p.asked).toHaveLength(1);
    expect(await fs.readFile(path.join(sb.project, 'notes.txt'), 'utf8')).toBe('one\n');
    const failed = (updatesOf(p, 'tool_call_update') as ToolCallUpdate[]).find((u) => u.status === 'failed');
    expect(failed?.toolCallId).toBe('call_r');
  });

  it('session/cancel stops the turn under way: the prompt answers `cancelled`', async () => {
    const p = start();
    await initialize(p);
    const { sessionId } = await p.conn.agent.request('session/new', { cwd: sb.project, mcpServers: [] });
    server.script('m', { type: 'hang', text: 'Thinking about ' });
    const prompt = p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'Take your time' }] });
    await p.waitForUpdate((n) => n.update.sessionUpdate === 'agent_message_chunk');
    // A second prompt meanwhile is refused, clearly.
    await expect(p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'again' }] })).rejects.toThrow(/busy with another prompt/);
    await p.conn.agent.notify('session/cancel', { sessionId });
    expect((await prompt).stopReason).toBe('cancelled');
    // The session takes the next prompt.
    server.script('m', { type: 'text', text: 'Back.' });
    expect((await p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'Now?' }] })).stopReason).toBe('end_turn');
  });

  it('a cancel sent right after the prompt (before the turn is under way) stops it', async () => {
    const p = start();
    await initialize(p);
    const { sessionId } = await p.conn.agent.request('session/new', { cwd: sb.project, mcpServers: [] });
    server.script('m', { type: 'hang', text: 'Thinking about ' });
    const prompt = p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'Take your time' }] });
    await p.conn.agent.notify('session/cancel', { sessionId });
    expect((await prompt).stopReason).toBe('cancelled');
  });

  it('two prompts at once: the second is refused and a cancel still stops the first', async () => {
    // The second prompt links a file: it is read before the turn is started, so the first is under way by then.
    sb.write('big.txt', 'x'.repeat(8 * 1024 * 1024));
    const p = start();
    await initialize(p);
    const { sessionId } = await p.conn.agent.request('session/new', { cwd: sb.project, mcpServers: [] });
    server.script('m', { type: 'hang', text: 'Thinking about ' });
    const first = p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'Take your time' }] });
    const second = p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'And this' }, { type: 'resource_link', uri: `file://${path.join(sb.project, 'big.txt')}`, name: 'big.txt' }] });
    await expect(second).rejects.toThrow(/busy/);
    await p.waitForUpdate((n) => n.update.sessionUpdate === 'agent_message_chunk');
    await p.conn.agent.notify('session/cancel', { sessionId });
    expect((await first).stopReason).toBe('cancelled');
  });

  it('the editor going away mid-turn (stdin closed) ends the process; the turn is saved as cancelled', async () => {
    const p = start();
    await initialize(p);
    const { sessionId } = await p.conn.agent.request('session/new', { cwd: sb.project, mcpServers: [] });
    server.script('m', { type: 'hang', text: 'Thinking about ' });
    void p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'Take your time' }] }).catch(() => undefined);
    await p.waitForUpdate((n) => n.update.sessionUpdate === 'agent_message_chunk');
    expect(await p.close()).toBe(0);
    expect(hasStack(p.stderr())).toBe(false);
    const listed = await sb.run(['session', 'list', '--format', 'json']);
    expect(listed.stdout).toContain(sessionId);
  });

  it('the editor going away during a permission question ends the process', async () => {
    sb.write('notes.txt', 'one\n');
    const p = start();
    let asked!: () => void;
    const question = new Promise<void>((resolve) => (asked = resolve));
    p.permission = () => {
      asked();
      return new Promise(() => undefined);
    };
    await initialize(p);
    const { sessionId } = await p.conn.agent.request('session/new', { cwd: sb.project, mcpServers: [] });
    server.script('m', { type: 'tool_calls', calls: [{ name: 'edit', id: 'call_e', arguments: { filePath: 'notes.txt', oldString: 'one', newString: 'two' } }] }, { type: 'text', text: 'Done.' });
    void p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'Edit it' }] }).catch(() => undefined);
    await question;
    expect(await p.close()).toBe(0);
    expect(await fs.readFile(path.join(sb.project, 'notes.txt'), 'utf8')).toBe('one\n');
  });

  it('a rate-limited provider: the wait is told to the editor and the turn completes', async () => {
    const p = start();
    await initialize(p);
    const { sessionId } = await p.conn.agent.request('session/new', { cwd: sb.project, mcpServers: [] });
    server.script('m', { type: 'status', status: 429, retryAfter: 1 }, { type: 'text', text: 'Made it.' });
    const answer = await p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'Hi' }] });
    expect(answer.stopReason).toBe('end_turn');
    expect(textOf(p.updates, 'agent_thought_chunk')).toMatch(/answered 429.*trying again in 1 s/);
    expect(textOf(p.updates, 'agent_message_chunk')).toBe('Made it.');
  });

  it('an editor that shows notices gets the wait as a notice', async () => {
    const p = start();
    await initialize(p, { session: { notices: {} } });
    const { sessionId } = await p.conn.agent.request('session/new', { cwd: sb.project, mcpServers: [] });
    server.script('m', { type: 'status', status: 429, retryAfter: 1 }, { type: 'text', text: 'Made it.' });
    await p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'Hi' }] });
    expect(updatesOf(p, 'notice')[0]).toMatchObject({ severity: 'info', title: expect.stringMatching(/answered 429/) });
    expect(textOf(p.updates, 'agent_thought_chunk')).toBe('');
  });

  it('session/load after a restart replays the saved session; modes and models can be switched', async () => {
    const first = start();
    await initialize(first);
    const { sessionId } = await first.conn.agent.request('session/new', { cwd: sb.project, mcpServers: [] });
    server.script('m', { type: 'tool_calls', calls: [{ name: 'read', id: 'call_read', arguments: { filePath: 'opencode.json' } }] }, { type: 'text', text: 'It is a config.' });
    await first.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'What is opencode.json?' }] });
    expect(await first.close()).toBe(0);

    const second = start();
    await initialize(second);
    const listed = await second.conn.agent.request('session/list', { cwd: sb.project });
    expect(listed.sessions.map((s) => s.sessionId)).toContain(sessionId);
    const loaded = await second.conn.agent.request('session/load', { sessionId, cwd: sb.project, mcpServers: [] });
    expect(loaded?.modes?.currentModeId).toBe('coder');
    expect(textOf(second.updates, 'user_message_chunk', sessionId)).toBe('What is opencode.json?');
    expect(textOf(second.updates, 'agent_message_chunk', sessionId)).toBe('It is a config.');
    const replayed = second.updates.filter((n) => n.update.sessionUpdate === 'tool_call_update').map((n) => n.update as ToolCallUpdate);
    expect(replayed).toEqual([expect.objectContaining({ toolCallId: 'call_read', status: 'completed' })]);

    // The model option switches the head of the chain; the next turn asks that model.
    const set = await second.conn.agent.request('session/set_config_option', { sessionId, configId: 'model', value: 'p/other' });
    expect(set.configOptions.find((o) => o.id === 'model')?.currentValue).toBe('p/other');
    server.script('other', { type: 'text', text: 'Other here.' });
    await second.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'Who?' }] });
    expect(server.log.at(-1)?.model).toBe('other');
    // The history went with it: the model saw the earlier turn.
    expect(JSON.stringify(server.log.at(-1)?.messages)).toContain('What is opencode.json?');
    await expect(second.conn.agent.request('session/set_mode', { sessionId, modeId: 'nobody' })).rejects.toThrow(/mode "nobody" is not one of this project's agents/);
  });

  it('bad input is a JSON-RPC error with a clear message, never a crash', async () => {
    const p = start();
    await initialize(p);
    // Not JSON at all: a parse error (id null), and the connection goes on.
    p.child.stdin?.write('{"jsonrpc": "2.0", "id": 7, "method": \n');
    await expect(p.conn.agent.request('session/prompt', { sessionId: 'ses_nope', prompt: [{ type: 'text', text: 'hi' }] })).rejects.toThrow(/Session ses_nope is not open on this connection/);
    await expect(p.conn.agent.request('session/load', { sessionId: 'ses_nope', cwd: sb.project, mcpServers: [] })).rejects.toThrow(/ses_nope/);
    await expect(p.conn.agent.request('session/new', { cwd: 'relative/dir', mcpServers: [] })).rejects.toThrow(/cwd: expected an absolute path/);
    await expect(p.conn.agent.request('session/new', { cwd: path.join(sb.project, 'missing'), mcpServers: [] })).rejects.toThrow(/does not exist/);
    await expect(p.conn.agent.request('authenticate', { methodId: 'magic' })).rejects.toThrow(/unknown auth method "magic"/);
    await expect(p.conn.agent.request('session/frobnicate', {})).rejects.toThrow(/not found/i);
    await expect(p.conn.agent.request('session/new', { cwd: 42 } as never)).rejects.toThrow();
    // Still serving.
    const { sessionId } = await p.conn.agent.request('session/new', { cwd: sb.project, mcpServers: [] });
    expect(sessionId).toMatch(/^ses_/);
    expect(p.stdout()).toContain('"code":-32700');
    expect(await p.close()).toBe(0);
    expect(onlyProtocol(p.stdout())).toBe(true);
    expect(hasStack(p.stderr())).toBe(false);
  });

  it('a message nested too deeply is refused with a JSON-RPC error, and the connection goes on', async () => {
    const p = start();
    await initialize(p);
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    p.child.stdin?.write(`{"jsonrpc":"2.0","id":77,"method":"session/list","params":{"_meta":{"x":${deep}}}}\n`);
    p.child.stdin?.write(`{"jsonrpc":"2.0","method":"session/cancel","params":{"sessionId":"ses_x","_meta":{"x":${deep}}}}\n`);
    // Still answering: a request after them (written the same way, so it comes after them).
    p.child.stdin?.write(`{"jsonrpc":"2.0","id":79,"method":"session/list","params":{"cwd":${JSON.stringify(sb.project)}}}\n`);
    const answered = await stdoutLine(p, '"id":79');
    expect(JSON.parse(answered)).toMatchObject({ id: 79, result: { sessions: [] } });
    expect(JSON.parse(await stdoutLine(p, '"id":77'))).toMatchObject({ id: 77, error: { code: -32600, message: expect.stringMatching(/nested more than \d+ levels deep/) } });
    expect(await p.close()).toBe(0);
    expect(onlyProtocol(p.stdout())).toBe(true);
  });

  it('a message over the size limit ends the process with one sentence on stderr (not a silent hang)', async () => {
    const p = start();
    await initialize(p);
    p.child.stdin?.write(`{"jsonrpc":"2.0","id":78,"method":"session/prompt","params":{"sessionId":"ses_x","prompt":[{"type":"text","text":"${'x'.repeat(33 * 1024 * 1024)}"}]}}\n`);
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toMatch(/acp: .*33554432 byte limit/);
    expect(hasStack(p.stderr())).toBe(false);
    expect(onlyProtocol(p.stdout())).toBe(true);
  });

  it('a turn that fails is a JSON-RPC error saying why; the session goes on', async () => {
    const p = start();
    await initialize(p);
    const { sessionId } = await p.conn.agent.request('session/new', { cwd: sb.project, mcpServers: [] });
    server.script('m', { type: 'status', status: 400, message: 'context too long for this model' });
    const failed = await p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'Hi' }] }).then(
      () => undefined,
      (error: unknown) => error as { code: number; message: string },
    );
    expect(failed?.code).toBe(-32603);
    expect(failed?.message).toMatch(/context too long/);
    expect(failed?.message).not.toContain(SECRET);
    server.script('m', { type: 'text', text: 'Fine now.' });
    expect((await p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'Again' }] })).stopReason).toBe('end_turn');
  });

  it('a plugin that prints to stdout does not break the protocol: its output goes to stderr', async () => {
    sb.write('.opencode/plugin/noisy.js', 'export const Noisy = async () => { console.log("noisy plugin loaded"); process.stdout.write("raw write\\n"); return {}; };\n');
    const p = start();
    await initialize(p);
    const { sessionId } = await p.conn.agent.request('session/new', { cwd: sb.project, mcpServers: [] });
    server.script('m', { type: 'text', text: 'ok' });
    await p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'hi' }] });
    expect(await p.close()).toBe(0);
    expect(p.stderr()).toContain('noisy plugin loaded');
    expect(p.stderr()).toContain('raw write');
    expect(onlyProtocol(p.stdout())).toBe(true);
  });

  it('a prompt that starts with / runs the project\u2019s command', async () => {
    sb.write('.opencode/command/greet.md', '---\ndescription: Greets someone\n---\nGreet $ARGUMENTS warmly.');
    const p = start();
    await initialize(p);
    const { sessionId } = await p.conn.agent.request('session/new', { cwd: sb.project, mcpServers: [] });
    const commands = await p.waitForUpdate((n) => n.update.sessionUpdate === 'available_commands_update');
    expect((commands.update as { availableCommands: { name: string; description: string }[] }).availableCommands).toContainEqual(expect.objectContaining({ name: 'greet', description: 'Greets someone' }));
    server.script('m', { type: 'echo' });
    await p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: '/greet Ada' }] });
    expect(textOf(p.updates, 'agent_message_chunk')).toContain('Greet Ada warmly.');
  });
});
