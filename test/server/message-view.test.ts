import { describe, expect, it } from 'vitest';
import { openCodeMessages, openCodeTurn, toolTitle } from '../../src/server/opencode/message-view.ts';
import type { SessionMessage, SessionRecord, TurnInfo } from '../../src/session/store.ts';

function info(id: string, reply: string, time: number, steps = 1): TurnInfo {
  const step = { provider: 'local', model: 'm', usage: { inputTokens: 10, outputTokens: 2 }, costUSD: 0.001 };
  return { id, time, agent: 'build', reply: { id: reply, completed: time + 5, provider: 'local', model: 'm', usage: { inputTokens: 10 * steps, outputTokens: 2 * steps }, costUSD: 0.001 * steps, steps: Array.from({ length: steps }, () => step) } };
}

/** A session of four turns: one from before turn info was kept, a tool loop, a plain answer, a failure. */
function session(): SessionRecord {
  const messages: SessionMessage[] = [
    { role: 'user', content: 'old turn without info' },
    { role: 'assistant', content: [{ type: 'text', text: 'old answer' }] },
    { role: 'user', content: [{ type: 'text', text: 'read a file' }], info: info('msg_u2', 'msg_a2', 2000, 2) },
    { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'read', input: { path: 'a.txt' } }] },
    { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'c1', toolName: 'read', output: { type: 'text', value: 'hello' } }] },
    { role: 'assistant', content: [{ type: 'text', text: 'it says hello' }] },
    { role: 'user', content: 'thanks', info: info('msg_u3', 'msg_a3', 3000) },
    { role: 'assistant', content: [{ type: 'text', text: 'you are welcome' }] },
    { role: 'user', content: 'fail', info: { ...info('msg_u4', 'msg_a4', 4000, 0), reply: { ...info('msg_u4', 'msg_a4', 4000, 0).reply, error: { code: 'RATE_LIMITED', message: 'slow down' } } } },
  ];
  return { id: 'ses_view', projectRoot: '/p', agent: 'build', title: 't', createdAt: 1000, updatedAt: 5000, messages, usage: { inputTokens: 30, outputTokens: 6 }, models: ['local/m'] };
}

describe('openCodeTurn', () => {
  it('converts one turn exactly as the whole session converts it', () => {
    const record = session();
    const all = openCodeMessages(record);
    expect(all.map((m) => m.info.id)).toEqual([expect.stringMatching(/^msg_/), expect.stringMatching(/^msg_/), 'msg_u2', 'msg_a2', 'msg_u3', 'msg_a3', 'msg_u4', 'msg_a4']);
    for (const [user, at] of [['msg_u2', 2], ['msg_u3', 4], ['msg_u4', 6]] as const) {
      expect(openCodeTurn(record, user)).toEqual(all.slice(at, at + 2));
    }
    const tool = openCodeTurn(record, 'msg_u2')[1]?.parts.find((p) => p.type === 'tool');
    expect(tool).toMatchObject({ tool: 'read', state: { status: 'completed', output: 'hello' } });
    expect(openCodeTurn(record, 'msg_u4')[1]?.info).toMatchObject({ error: { data: { message: 'slow down' } } });
  });

  it('an id that is not a user message of the session converts nothing', () => {
    const record = session();
    expect(openCodeTurn(record, 'msg_a3')).toEqual([]);
    expect(openCodeTurn(record, 'msg_nope')).toEqual([]);
    expect(openCodeTurn({ ...record, messages: [] }, 'msg_u2')).toEqual([]);
  });

  it("a tool part's title is what the call is about, as OpenCode's tools title it (the TUI shows it after the tool's name)", () => {
    expect(toolTitle('read', { filePath: '/p/src/a.ts' }, '/p')).toBe('src/a.ts');
    expect(toolTitle('edit', { filePath: 'b.ts' }, '/p')).toBe('b.ts');
    expect(toolTitle('bash', { command: 'npm test', description: 'Run the tests' }, '/p')).toBe('npm test');
    expect(toolTitle('glob', { pattern: '**/*.ts' }, '/p')).toBe('**/*.ts');
    expect(toolTitle('task', { description: 'Find the config', prompt: 'p', subagent_type: 'explore' }, '/p')).toBe('Find the config');
    expect(toolTitle('skill', { name: 'deploy' }, '/p')).toBe('Loaded skill: deploy');
    expect(toolTitle('bash', { command: 'x'.repeat(300) }, '/p')).toHaveLength(200);
    expect(toolTitle('question', { questions: [{ question: 'a?' }] }, '/p')).toBe('Asked 1 question');
    expect(toolTitle('question', { questions: [{ question: 'a?' }, { question: 'b?' }] }, '/p')).toBe('Asked 2 questions');
    expect(toolTitle('todowrite', { todos: [{ status: 'completed' }, { status: 'pending' }, { status: 'in_progress' }] }, '/p')).toBe('2 todos');
    // An MCP server's tool: no title, as OpenCode gives none; a built-in call without its argument: the tool's name.
    expect(toolTitle('every_echo', { message: 'hi' }, '/p')).toBe('');
    expect(toolTitle('read', null, '/p')).toBe('read');
    const saved = openCodeMessages(session()).flatMap((m) => m.parts).find((p) => p.type === 'tool');
    expect((saved?.state as { title: string }).title).toBe('read');
  });

  it('a user message whose kept files were edited into nonsense reads as its content, the usable files as parts', () => {
    const block = '\n\n<file path="a.txt">\nalpha\n</file>';
    const files = [null, { filename: 5, mime: 'text/plain' }, { filename: 'b.txt', mime: 'text/plain', inlined: 'x' }, { filename: 'a.txt', mime: 'text/plain', inlined: block.length }];
    const messages = [{ role: 'user', content: `look${block}`, files, info: info('msg_u1', 'msg_a1', 1000) }] as unknown as SessionMessage[];
    const record: SessionRecord = { ...session(), messages };
    const parts = openCodeTurn(record, 'msg_u1')[0]?.parts ?? [];
    expect(parts.map((p) => [p.type, p.text ?? p.filename, p.synthetic ?? false])).toEqual([
      ['text', 'look', false],
      ['file', 'a.txt', false],
      ['text', '<file path="a.txt">\nalpha\n</file>', true],
    ]);
    expect(parts[1]?.url).toBe(`data:text/plain;base64,${Buffer.from('alpha').toString('base64')}`);
  });
});
