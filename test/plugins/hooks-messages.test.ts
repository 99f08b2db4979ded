/**
 * `experimental.chat.messages.transform` and the compaction hooks through real session turns
 * against the scripted provider: the hook sees the session's messages in OpenCode's shape (the ids
 * clients read, tool parts with their state), what it changes in place is what the provider
 * receives for that call (a tool output pruned, a message dropped, a note added), the session keeps
 * what was said; `experimental.session.compacting` adds to or replaces the compaction's prompt.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTurn } from '../../src/core/session-turn.ts';
import { SessionStore } from '../../src/session/store.ts';
import { openCodeMessages } from '../../src/server/opencode/message-view.ts';
import { toView } from '../../src/plugins/messages-view.ts';
import { modelHistory } from '../../src/session/model-history.ts';
import { configFor, useHarness } from '../run/harness.ts';
import { testHost } from './test-host.ts';

const h = useHarness();
const permissions = { auto: true, interactive: false };

type Sent = { role: string; content?: unknown; tool_calls?: unknown[]; tool_call_id?: string };
const sentOf = (server: { log: { messages?: unknown }[] }, i: number): Sent[] => (server.log[i]?.messages ?? []) as Sent[];

async function place() {
  const projectRoot = await h.tempDir();
  await fs.writeFile(path.join(projectRoot, 'notes.txt'), 'the secret word is PELICAN\n');
  return { store: new SessionStore(await h.tempDir()), projectRoot };
}

describe('experimental.chat.messages.transform', () => {
  it('sees the session in OpenCode\'s shape, with the ids clients read, before each model call', async () => {
    const server = await h.server();
    server.script(
      'a',
      { type: 'text', text: 'first answer' },
      { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: 'notes.txt' }, id: 'call_read1' }] },
      { type: 'text', text: 'it says PELICAN' },
    );
    const config = configFor(server);
    const seen: unknown[] = [];
    const plugins = testHost({ 'experimental.chat.messages.transform': (input, output) => void seen.push({ input: structuredClone(input), messages: structuredClone(output.messages) }) });
    const services = { config, runtime: await h.runtime(config), plugins };
    const where = await place();
    const first = await (await openTurn(where)).run(services, { message: 'hello', permissions });
    expect(first.status).toBe('success');
    const second = await (await openTurn(where, { sessionID: first.sessionID })).run(services, { message: 'read notes.txt', permissions });
    expect(second.status).toBe('success');
    // One call per model call: the first turn's one, the second turn's two steps.
    expect(seen).toHaveLength(3);
    const last = seen[2] as { input: unknown; messages: { info: { id: string; role: string; sessionID: string }; parts: { id: string; type: string; callID?: string; state?: { status: string; output?: string; input?: unknown } }[] }[] };
    expect(last.input).toEqual({});
    expect(last.messages.map((m) => m.info.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(last.messages.every((m) => m.info.sessionID === first.sessionID)).toBe(true);
    expect(last.messages[0]?.info.id).toBe(first.ids.user);
    expect(last.messages[2]?.info.id).toBe(second.ids.user);
    expect(last.messages[3]?.info.id).toBe(second.ids.assistant);
    const tool = last.messages[3]?.parts.find((p) => p.type === 'tool');
    expect(tool).toMatchObject({ callID: 'call_read1', tool: 'read', state: { status: 'completed', input: { filePath: 'notes.txt' } } });
    expect(tool?.state?.output).toContain('PELICAN');
    // The ids are those of the saved session, as `GET /session/{id}/message` gives them.
    const saved = openCodeMessages(await where.store.load(first.sessionID));
    expect(last.messages.map((m) => m.info.id)).toEqual(saved.map((m) => m.info.id));
    // The reply as far as it went (its first step) has the first parts of the saved reply.
    last.messages.forEach((m, i) => expect(saved[i]?.parts.slice(0, m.parts.length).map((p) => [p.id, p.type])).toEqual(m.parts.map((p) => [p.id, p.type])));
  });

  it('tells each earlier step\'s real finish reason, tokens and cost, as GET /session/{id}/message does; a session saved without reasons keeps the guess', async () => {
    const server = await h.server();
    server.script('a', { type: 'text', text: 'cut off', finishReason: 'length', usage: { prompt_tokens: 11, completion_tokens: 7 } }, { type: 'text', text: 'withheld', finishReason: 'content_filter', usage: { prompt_tokens: 13, completion_tokens: 5 } }, { type: 'text', text: 'fine' });
    const config = configFor(server);
    type Seen = { info: { role: string; finish?: string; tokens?: unknown }; parts: { type: string; reason?: string; tokens?: unknown; cost?: number }[] }[];
    const seen: Seen[] = [];
    const plugins = testHost({ 'experimental.chat.messages.transform': (_input, output) => void seen.push(structuredClone(output.messages) as Seen) });
    const services = { config, runtime: await h.runtime(config), plugins };
    const where = await place();
    const first = await (await openTurn(where)).run(services, { message: 'one', permissions });
    for (const message of ['two', 'three']) expect((await (await openTurn(where, { sessionID: first.sessionID })).run(services, { message, permissions })).status).toBe('success');
    const last = seen[2] as Seen;
    const finishes = (m: Seen[number] | undefined) => m?.parts.filter((p) => p.type === 'step-finish') ?? [];
    // The model's own word for each step (the AI SDK's), not a guess from its calls.
    expect(last.filter((m) => m.info.role === 'assistant').map((m) => [m.info.finish, finishes(m).map((p) => p.reason)])).toEqual([
      ['length', ['length']],
      ['content-filter', ['content-filter']],
    ]);
    expect(finishes(last[1])[0]?.tokens).toMatchObject({ input: 11, output: 7 });
    // As the saved session's view has them.
    const saved = openCodeMessages(await where.store.load(first.sessionID));
    for (const i of [1, 3]) {
      expect(finishes(last[i])).toEqual(finishes(saved[i] as unknown as Seen[number]));
      expect(last[i]?.info).toMatchObject({ finish: (saved[i]?.info as { finish?: string }).finish, tokens: (saved[i]?.info as { tokens?: unknown }).tokens });
    }
    // A session saved before steps kept their reason: the guess, from the step's calls.
    const record = await where.store.load(first.sessionID);
    for (const m of record.messages) for (const step of m.info?.reply.steps ?? []) delete step.reason;
    const older = toView(modelHistory(record.messages), { sessionID: record.id, directory: where.projectRoot, agent: 'a', model: { providerID: 'p', modelID: 'a' } });
    expect(older.messages.filter((m) => m.info.role === 'assistant').map((m) => m.info.finish)).toEqual(['stop', 'stop', 'stop']);
    expect(older.messages.flatMap((m) => m.parts.filter((p) => p.type === 'step-finish').map((p) => p.reason))).toEqual(['stop', 'stop', 'stop']);
  });

  it('what it changes in place is what the provider receives (a tool output pruned, a note added, a message dropped); the session keeps what was said', async () => {
    const server = await h.server();
    server.script(
      'a',
      { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: 'notes.txt' }, id: 'call_read1' }] },
      { type: 'text', text: 'read it' },
      { type: 'text', text: 'second turn answer' },
    );
    const config = configFor(server);
    const plugins = testHost({
      'experimental.chat.messages.transform': (_input, output) => {
        for (const message of output.messages) {
          for (const part of message.parts) {
            if (part.type === 'tool' && part.state.status === 'completed') part.state.output = '[pruned]';
          }
        }
        // Drop the first turn's user message; add a note to the last user message.
        const users = output.messages.filter((m: { info: { role: string } }) => m.info.role === 'user');
        if (users.length > 1) output.messages.splice(output.messages.indexOf(users[0]), 1);
        const lastUser = users.at(-1);
        lastUser.parts.push({ id: 'prt_note', sessionID: lastUser.info.sessionID, messageID: lastUser.info.id, type: 'text', text: '<note>pruned</note>' });
        lastUser.parts.push({ id: 'prt_hidden', sessionID: lastUser.info.sessionID, messageID: lastUser.info.id, type: 'text', text: 'never sent', ignored: true });
      },
    });
    const services = { config, runtime: await h.runtime(config), plugins };
    const where = await place();
    const first = await (await openTurn(where)).run(services, { message: 'read notes.txt', permissions });
    expect(first.status).toBe('success');
    // The step after the read: the provider gets the pruned output, and the note.
    const afterRead = sentOf(server, 1);
    const toolMessage = afterRead.find((m) => m.role === 'tool');
    expect(toolMessage?.content).toBe('[pruned]');
    expect(JSON.stringify(afterRead)).toContain('<note>pruned</note>');
    expect(JSON.stringify(afterRead)).not.toContain('never sent');
    expect(JSON.stringify(afterRead)).not.toContain('PELICAN');
    const second = await (await openTurn(where, { sessionID: first.sessionID })).run(services, { message: 'and now?', permissions });
    expect(second.status).toBe('success');
    const next = sentOf(server, 2);
    // The first user message is gone; the assistant's call and its (pruned) result stay paired.
    expect(next.filter((m) => m.role === 'user').map((m) => m.content)).toEqual([[{ type: 'text', text: 'and now?' }, { type: 'text', text: '<note>pruned</note>' }]]);
    expect(next.find((m) => m.role === 'assistant' && m.tool_calls)?.tool_calls).toEqual([expect.objectContaining({ id: 'call_read1' })]);
    expect(next.find((m) => m.role === 'tool')).toMatchObject({ tool_call_id: 'call_read1', content: '[pruned]' });
    // The session keeps what was said.
    const saved = JSON.stringify((await where.store.load(first.sessionID)).messages);
    expect(saved).toContain('PELICAN');
    expect(saved).not.toContain('<note>pruned</note>');
  });

  it('a hook that changes nothing leaves the request as it was', async () => {
    const server = await h.server();
    server.script('a', { type: 'text', text: 'one' }, { type: 'text', text: 'two' }, { type: 'text', text: 'one' }, { type: 'text', text: 'two' });
    const config = configFor(server);
    const where = await place();
    const bare = { config, runtime: await h.runtime(config) };
    const a = await (await openTurn(where)).run(bare, { message: 'hi', permissions });
    await (await openTurn(where, { sessionID: a.sessionID })).run(bare, { message: 'again', permissions });
    const plugins = testHost({ 'experimental.chat.messages.transform': () => undefined });
    const withHook = { ...bare, plugins };
    const where2 = await place();
    const b = await (await openTurn(where2)).run(withHook, { message: 'hi', permissions });
    await (await openTurn(where2, { sessionID: b.sessionID })).run(withHook, { message: 'again', permissions });
    // The same but for each project's root, which the system prompt's environment block names.
    const sent = (i: number, root: string) => JSON.parse(JSON.stringify(server.log[i]?.messages).split(root).join('<root>')) as unknown;
    expect(sent(3, where2.projectRoot)).toEqual(sent(1, where.projectRoot));
    expect(plugins.of('experimental.chat.messages.transform')).toHaveLength(2);
  });

  it('a hook that throws fails the turn with one sentence naming it; one that never settles says so', async () => {
    const server = await h.server();
    server.script('a', { type: 'text', text: 'never' });
    const config = configFor(server);
    const where = await place();
    const throwing = testHost({
      'experimental.chat.messages.transform': () => {
        throw new Error('context store is gone');
      },
    });
    const failed = await (await openTurn(where)).run({ config, runtime: await h.runtime(config), plugins: throwing }, { message: 'hi', permissions });
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'PLUGIN_FAILED', message: 'The plugin hook experimental.chat.messages.transform failed: context store is gone' });
    const bad = testHost({ 'experimental.chat.messages.transform': (_input, output) => void (output.messages = 'nope') });
    const wrong = await (await openTurn(where)).run({ config, runtime: await h.runtime(config), plugins: bad }, { message: 'hi', permissions });
    expect(wrong.error).toMatchObject({ code: 'PLUGIN_FAILED', message: 'The plugin hook experimental.chat.messages.transform failed: output.messages must be a list' });
    expect(server.log).toHaveLength(0);
  });

  it('a cancelled turn does not wait for a hook that never settles', async () => {
    const server = await h.server();
    server.script('a', { type: 'text', text: 'never' });
    const config = configFor(server);
    const where = await place();
    let entered!: () => void;
    const inHook = new Promise<void>((resolve) => (entered = resolve));
    // A timer keeps the loop alive: the hook is slow, not stalled.
    const keepAlive = setInterval(() => undefined, 1000);
    const plugins = testHost({
      'experimental.chat.messages.transform': () => {
        entered();
        return new Promise(() => undefined);
      },
    });
    const abort = new AbortController();
    const running = (await openTurn(where)).run({ config, runtime: await h.runtime(config), plugins }, { message: 'hi', permissions, signal: abort.signal });
    await inHook;
    abort.abort();
    const result = await running;
    clearInterval(keepAlive);
    expect(result.status).toBe('cancelled');
    expect(server.log).toHaveLength(0);
  });
});

describe('experimental.session.compacting', () => {
  it('adds its context to the compaction prompt, or replaces it; told the session; a compaction\'s messages go through the transform too', async () => {
    const server = await h.server();
    server.script('a', { type: 'text', text: 'first' }, { type: 'text', text: 'SUMMARY ONE' }, { type: 'text', text: 'SUMMARY TWO' });
    const config = configFor(server);
    let replace = false;
    const plugins = testHost({
      'experimental.session.compacting': (_input, output) => {
        if (replace) output.prompt = 'Write a haiku of the session.';
        else output.context.push('Keep the ticket number TCK-42.');
      },
      'experimental.chat.messages.transform': () => undefined,
    });
    const services = { config, runtime: await h.runtime(config), plugins };
    const where = await place();
    const turn = await (await openTurn(where)).run(services, { message: 'hello', permissions });
    const compacted = await (await openTurn(where, { sessionID: turn.sessionID })).run(services, { message: '', compaction: true, permissions });
    expect(compacted.status).toBe('success');
    expect(plugins.of('experimental.session.compacting')).toEqual([{ sessionID: turn.sessionID }]);
    const asked = sentOf(server, 1).at(-1);
    expect(asked?.role).toBe('user');
    expect(String(asked?.content)).toMatch(/^Summarize this conversation[\s\S]*\n\nKeep the ticket number TCK-42\.$/);
    // The transform saw the compaction's message as OpenCode's `compaction` part.
    const view = plugins.of('experimental.chat.messages.transform');
    expect(view).toHaveLength(2);
    replace = true;
    const again = await (await openTurn(where, { sessionID: turn.sessionID })).run(services, { message: '', compaction: true, permissions });
    expect(again.status).toBe('success');
    expect(sentOf(server, 2).at(-1)).toMatchObject({ role: 'user', content: 'Write a haiku of the session.' });
  });

  it('a hook that throws fails the compaction with one sentence; nothing is asked', async () => {
    const server = await h.server();
    server.script('a', { type: 'text', text: 'first' });
    const config = configFor(server);
    const plugins = testHost({
      'experimental.session.compacting': (_input, output) => void (output.context = [42]),
    });
    const services = { config, runtime: await h.runtime(config), plugins };
    const where = await place();
    const turn = await (await openTurn(where)).run(services, { message: 'hello', permissions });
    const compacted = await (await openTurn(where, { sessionID: turn.sessionID })).run(services, { message: '', compaction: true, permissions });
    expect(compacted.status).toBe('failed');
    expect(compacted.error).toMatchObject({ code: 'PLUGIN_FAILED', message: 'The plugin hook experimental.session.compacting failed: output.context must be a list of strings' });
    expect(server.log).toHaveLength(1);
  });
});
