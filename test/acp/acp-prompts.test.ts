/**
 * What an editor sends in `session/prompt` and answers back (the ACP SDK's client over the CLI's
 * stdio, the scripted provider): an image block reaching the model as an image part, `/compact`
 * summarizing the session, "Always allow" sparing the later calls of the tool their question, and
 * a sub-task's permission question put to the editor under the session it prompted.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ScriptedServer } from '../support/openai-server.ts';
import { providerConfig, useScriptedSandbox, type Sandbox } from '../cli/cli-helper.ts';
import { initialize, startAcp, textOf, type AcpProcess } from './acp-helper.ts';

let server: ScriptedServer;
let sb: Sandbox;
useScriptedSandbox(
  (s, b) => {
    server = s;
    sb = b;
  },
  (s) => ({
    ...providerConfig(s, { m: { limit: { context: 64000, output: 4096 }, modalities: { input: ['text', 'image'], output: ['text'] } } }),
    model: 'p/m',
    default_agent: 'coder',
    agent: {
      coder: { mode: 'primary', model: 'p/m', permission: { edit: 'ask' } },
      helper: { mode: 'subagent', model: 'p/m', description: 'Edits files when asked.', permission: { edit: 'ask' } },
    },
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

async function session(): Promise<{ p: AcpProcess; sessionId: string }> {
  const p = startAcp(sb);
  running.push(p);
  await initialize(p);
  const { sessionId } = await p.conn.agent.request('session/new', { cwd: sb.project, mcpServers: [] });
  return { p, sessionId };
}

/** A 1×1 PNG. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

type Part = { type: string; text?: string; image_url?: { url: string } };
const userParts = (messages: unknown[] | undefined): Part[] => {
  const users = (messages ?? []).filter((m) => (m as { role: string }).role === 'user') as { content: string | Part[] }[];
  const last = users.at(-1)?.content;
  return typeof last === 'string' ? [{ type: 'text', text: last }] : (last ?? []);
};

describe('opencode acp prompts', () => {
  it("a turn the output limit cut is `max_tokens`, one the provider filtered is `refusal`, else `end_turn`", async () => {
    const { p, sessionId } = await session();
    const ask = async () => (await p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'Tell me everything' }] })).stopReason;
    server.script('m', { type: 'text', text: 'It all began', finishReason: 'length' });
    expect(await ask()).toBe('max_tokens');
    server.script('m', { type: 'text', text: 'I cannot', finishReason: 'content_filter' });
    expect(await ask()).toBe('refusal');
    server.script('m', { type: 'text', text: 'Done.' });
    expect(await ask()).toBe('end_turn');
  });

  it('an image block reaches the model as an image part, with the text beside it', async () => {
    const { p, sessionId } = await session();
    server.script('m', { type: 'text', text: 'A single pixel.' });
    const answer = await p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'What is in this picture?' }, { type: 'image', mimeType: 'image/png', data: PNG }] });
    expect(answer.stopReason).toBe('end_turn');
    const parts = userParts(server.log.at(-1)?.messages);
    expect(parts.filter((x) => x.type === 'text').map((x) => x.text).join('')).toContain('What is in this picture?');
    expect(parts.find((x) => x.type === 'image_url')?.image_url?.url).toBe(`data:image/png;base64,${PNG}`);
  });

  it('/compact summarizes the session: the next turn sees the summary, not the earlier messages', async () => {
    const { p, sessionId } = await session();
    const commands = await p.waitForUpdate((n) => n.update.sessionUpdate === 'available_commands_update');
    expect((commands.update as { availableCommands: { name: string }[] }).availableCommands.map((c) => c.name)).toContain('compact');
    server.script('m', { type: 'text', text: 'The password is swordfish.' });
    await p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'Tell me a secret word' }] });

    server.script('m', { type: 'text', text: 'SUMMARY: the user asked for a word; it was swordfish.' });
    const compacted = await p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: '/compact' }] });
    expect(compacted.stopReason).toBe('end_turn');
    const summaryRequest = server.log.at(-1);
    // The model was asked for a summary of the conversation so far.
    expect(JSON.stringify(summaryRequest?.messages)).toContain('Tell me a secret word');
    expect(JSON.stringify(summaryRequest?.messages)).toMatch(/Summarize this conversation/);

    server.script('m', { type: 'text', text: 'Going on.' });
    await p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'What next?' }] });
    const after = JSON.stringify(server.log.at(-1)?.messages);
    expect(after).toContain('SUMMARY: the user asked for a word');
    expect(after).not.toContain('Tell me a secret word');
  });

  it('"Always allow" answers the tool\u2019s later calls: the editor is asked once', async () => {
    await fs.writeFile(path.join(sb.project, 'a.txt'), 'one\n');
    await fs.writeFile(path.join(sb.project, 'b.txt'), 'two\n');
    const { p, sessionId } = await session();
    p.permission = () => ({ outcome: { outcome: 'selected', optionId: 'always' } });
    server.script(
      'm',
      { type: 'tool_calls', calls: [{ name: 'edit', id: 'call_a', arguments: { filePath: 'a.txt', oldString: 'one', newString: 'uno' } }] },
      { type: 'tool_calls', calls: [{ name: 'edit', id: 'call_b', arguments: { filePath: 'b.txt', oldString: 'two', newString: 'dos' } }] },
      { type: 'text', text: 'Both done.' },
    );
    expect((await p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'Translate both' }] })).stopReason).toBe('end_turn');
    // The next prompt's edit is not asked either.
    await fs.writeFile(path.join(sb.project, 'c.txt'), 'three\n');
    server.script('m', { type: 'tool_calls', calls: [{ name: 'edit', id: 'call_c', arguments: { filePath: 'c.txt', oldString: 'three', newString: 'tres' } }] }, { type: 'text', text: 'Also done.' });
    expect((await p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'And c' }] })).stopReason).toBe('end_turn');

    expect(p.asked.map((q) => q.toolCall.toolCallId)).toEqual(['call_a']);
    expect(await fs.readFile(path.join(sb.project, 'a.txt'), 'utf8')).toBe('uno\n');
    expect(await fs.readFile(path.join(sb.project, 'b.txt'), 'utf8')).toBe('dos\n');
    expect(await fs.readFile(path.join(sb.project, 'c.txt'), 'utf8')).toBe('tres\n');
  });

  it('a sub-task\u2019s permission question reaches the editor under the prompted session; allowed, the sub-task\u2019s edit is made', async () => {
    await fs.writeFile(path.join(sb.project, 'notes.txt'), 'draft\n');
    const { p, sessionId } = await session();
    p.permission = () => ({ outcome: { outcome: 'selected', optionId: 'once' } });
    server.script(
      'm',
      { type: 'tool_calls', calls: [{ name: 'task', id: 'call_task', arguments: { description: 'Finish the notes', prompt: 'Change draft to final in notes.txt', subagent_type: 'helper' } }] },
      { type: 'tool_calls', calls: [{ name: 'edit', id: 'call_sub_edit', arguments: { filePath: 'notes.txt', oldString: 'draft', newString: 'final' } }] },
      { type: 'text', text: 'Changed it.' },
      { type: 'text', text: 'The helper finished the notes.' },
    );
    const answer = await p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'Have the helper finish the notes' }] });
    expect(answer.stopReason).toBe('end_turn');
    expect(p.asked).toHaveLength(1);
    expect(p.asked[0]).toMatchObject({ sessionId, toolCall: { toolCallId: 'call_sub_edit', kind: 'edit' } });
    expect(await fs.readFile(path.join(sb.project, 'notes.txt'), 'utf8')).toBe('final\n');
    // The sub-task's own steps stay inside its `task` call; the answer is the prompted agent's.
    expect(textOf(p.updates, 'agent_message_chunk', sessionId)).toBe('The helper finished the notes.');
    expect(p.updates.every((n) => n.sessionId === sessionId)).toBe(true);
  });
});
