/**
 * OpenCode's `todowrite` and `todoread` through `opencode run` and `opencode serve`, with the
 * scripted provider calling them: the list kept with the session and read back by its next turn,
 * a bad list refused to the model with the item and field named (the list unchanged), the agents a
 * turn delegates to and an agent whose `tools` turn them off going without, the CLI's line for a
 * write; on the server, `GET /session/{id}/todo` and `todo.updated` on `/event` (what OpenCode's
 * TUI shows), through `@opencode-ai/sdk`.
 */
import { createOpencodeClient } from '@opencode-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { serve } from '../server/serve-helper.ts';
import { collect, idleOf } from '../server/sdk-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';

let server: ScriptedServer;
let sb: Sandbox;

const PLAN = [
  { id: '1', content: 'Read the auth module', status: 'completed', priority: 'high' },
  { id: '2', content: 'Write the tests', status: 'in_progress', priority: 'high' },
  { id: '3', content: 'Update the docs', status: 'pending', priority: 'low' },
];

type Offered = { function: { name: string } }[];
const offeredNames = (i: number) => ((server.log[i]?.tools ?? []) as Offered).map((t) => t.function.name);
const toolResult = (i: number) => ((server.log[i]?.messages ?? []).filter((m) => (m as { role: string }).role === 'tool').at(-1) as { content: string } | undefined)?.content ?? '';

beforeAll(async () => {
  server = await startScriptedServer();
  sb = await sandbox();
  sb.write('opencode.json', {
    ...providerConfig(server, { m: {} }),
    model: 'p/m',
    default_agent: 'lead',
    agent: {
      lead: { mode: 'primary', prompt: 'Lead.' },
      helper: { mode: 'subagent', description: 'Helps', prompt: 'Help.' },
      quiet: { mode: 'primary', prompt: 'Quiet.', tools: { todowrite: false, todoread: false } },
    },
  });
});

afterAll(async () => {
  await server?.close();
  await sb?.remove();
});

describe('todowrite and todoread', () => {
  it('the list is kept with the session: the next turn reads it back; the CLI line says where the work stands', async () => {
    const before = server.log.length;
    server.script('m', { type: 'tool_calls', calls: [{ name: 'todowrite', arguments: { todos: PLAN } }] }, { type: 'text', text: 'Planned.' });
    const first = await sb.run(['run', 'plan the auth work']);
    expect(first.code, first.stderr).toBe(0);
    expect(offeredNames(before)).toEqual(expect.arrayContaining(['todowrite', 'todoread']));
    expect(JSON.parse(toolResult(before + 1))).toEqual(PLAN);
    expect(first.stderr).toContain('todowrite 3 items, 1 done · now: Write the tests');
    server.script('m', { type: 'tool_calls', calls: [{ name: 'todoread', arguments: {} }] }, { type: 'text', text: 'Still on the tests.' });
    const next = await sb.run(['run', '-c', 'where are we?']);
    expect(next.code, next.stderr).toBe(0);
    expect(JSON.parse(toolResult(server.log.length - 1))).toEqual(PLAN);
  });

  it('a bad list is refused to the model naming the item and field; the list stays; a missing priority or id is filled in', async () => {
    server.script(
      'm',
      { type: 'tool_calls', calls: [{ name: 'todowrite', arguments: { todos: [{ id: 'a', content: 'x', status: 'done', priority: 'high' }] } }] },
      { type: 'tool_calls', calls: [{ name: 'todoread', arguments: {} }] },
      { type: 'text', text: 'ok' },
    );
    const before = server.log.length;
    const refused = await sb.run(['run', '-c', 'mark it done']);
    expect(refused.code, refused.stderr).toBe(0);
    expect(toolResult(before + 1)).toContain('todos[0].status: expected one of pending, in_progress, completed, cancelled');
    expect(JSON.parse(toolResult(before + 2))).toEqual(PLAN);
    server.script('m', { type: 'tool_calls', calls: [{ name: 'todowrite', arguments: { todos: [{ content: 'Ship it', status: 'pending' }] } }] }, { type: 'text', text: 'ok' });
    const filled = server.log.length;
    expect((await sb.run(['run', '-c', 'replan'])).code).toBe(0);
    expect(JSON.parse(toolResult(filled + 1))).toEqual([{ id: '1', content: 'Ship it', status: 'pending', priority: 'medium' }]);
  });

  it('not offered to an agent a turn delegates to, nor to an agent whose tools turn them off', async () => {
    const before = server.log.length;
    server.script('m', { type: 'tool_calls', calls: [{ name: 'task', arguments: { agent: 'helper', prompt: 'look around' } }] }, { type: 'text', text: 'looked' }, { type: 'text', text: 'Done.' });
    const run = await sb.run(['run', 'delegate this']);
    expect(run.code, run.stderr).toBe(0);
    expect(offeredNames(before)).toEqual(expect.arrayContaining(['task', 'todowrite']));
    expect(offeredNames(before + 1)).not.toContain('todowrite');
    expect(offeredNames(before + 1)).not.toContain('todoread');
    const quiet = server.log.length;
    expect((await sb.run(['run', '--agent', 'quiet', 'hi'])).code).toBe(0);
    expect(offeredNames(quiet)).not.toContain('todowrite');
  });
});

describe('todos on the server', () => {
  it('GET /session/{id}/todo answers the list; a turn announces it as todo.updated on /event', async () => {
    const served = await serve(sb);
    try {
      const client = createOpencodeClient({ baseUrl: served.url, directory: sb.project });
      const id = (await client.session.create({ body: {} })).data?.id ?? '';
      expect((await client.session.todo({ path: { id } })).data).toEqual([]);
      const abort = new AbortController();
      const stream = collect((await client.event.subscribe({ signal: abort.signal, sseMaxRetryAttempts: 0 } as never)).stream);
      await stream.until((e) => e.type === 'server.connected');
      server.script('m', { type: 'tool_calls', calls: [{ name: 'todowrite', arguments: { todos: PLAN } }] }, { type: 'text', text: 'Planned.' });
      await client.session.promptAsync({ path: { id }, body: { parts: [{ type: 'text', text: 'plan' }] } });
      const updated = await stream.until((e) => e.type === 'todo.updated');
      expect(updated.properties).toEqual({ sessionID: id, todos: PLAN });
      await stream.until(idleOf(id));
      expect((await client.session.todo({ path: { id } })).data).toEqual(PLAN);
      const missing = await fetch(`${served.url}/session/ses_nope/todo`, { headers: { 'x-opencode-directory': sb.project } });
      expect(missing.status).toBe(404);
      abort.abort();
    } finally {
      await served.stop();
    }
  });
});
