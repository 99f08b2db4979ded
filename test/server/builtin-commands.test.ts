/**
 * OpenCode's built-in commands that Pantheon runs: `GET /command` lists `init` and `review` (OpenCode's
 * TUI offers them as `/init` and `/review`) with OpenCode's own prompts, and
 * `POST /session/{id}/command` runs them; a config command of the same name takes a built-in's place,
 * in the listing and when run (also through `POST /session/{id}/init`). `review` is a sub-task, as
 * OpenCode 1.18.33 runs it (compared on its server): listed with `subtask: true`; run, the user
 * message is OpenCode's `subtask` part, the prompt goes to a child session (`<description> (@agent
 * subagent)`) through a `task` call the model did not make, then the model is sent OpenCode's note,
 * the call and its answer, and OpenCode's request to go on from it. Through `@opencode-ai/sdk`.
 */
import { createOpencodeClient } from '@opencode-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, userText, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { serve, type Served } from './serve-helper.ts';

let model: ScriptedServer;
let plain: Sandbox;
let own: Sandbox;
let servedPlain: Served;
let servedOwn: Served;

beforeAll(async () => {
  model = await startScriptedServer({ models: { m: {} } });
  plain = await sandbox();
  plain.write('opencode.json', { ...providerConfig(model, { m: {}, n: {} }), model: 'p/m', cache: { enabled: false } });
  own = await sandbox();
  own.write('opencode.json', {
    ...providerConfig(model, { m: {} }),
    model: 'p/m',
    cache: { enabled: false },
    agent: { scout: { mode: 'subagent', description: 'Looks around.' } },
    command: {
      init: { template: 'Our own init: $ARGUMENTS', description: 'ours' },
      // A subagent's command is a sub-task unless it says otherwise.
      look: { template: 'Look at $ARGUMENTS', description: 'look around', agent: 'scout' },
      inline: { template: 'Inline $ARGUMENTS', agent: 'scout', subtask: false },
    },
  });
  [servedPlain, servedOwn] = await Promise.all([serve(plain), serve(own)]);
});

afterAll(async () => {
  await servedPlain?.stop();
  await servedOwn?.stop();
  await model?.close();
  await plain?.remove();
  await own?.remove();
});

describe('OpenCode’s built-in commands', () => {
  it('listed with OpenCode’s prompts, and run: /review with its arguments, /init naming the project', async () => {
    const client = createOpencodeClient({ baseUrl: servedPlain.url, directory: plain.project });
    const listed = (await client.command.list()).data ?? [];
    expect((listed as { name: string; description?: string; source?: string; hints?: string[] }[]).map((c) => [c.name, c.description, c.source, c.hints])).toEqual([
      ['init', 'guided AGENTS.md setup', 'command', ['$ARGUMENTS']],
      ['review', 'review changes [commit|branch|pr], defaults to uncommitted', 'command', ['$ARGUMENTS']],
    ]);
    const review = listed.find((c) => c.name === 'review');
    expect(review?.template).toMatch(/^You are a code reviewer\. /);
    expect(review?.template).toContain('Run: `git show $ARGUMENTS`');

    expect((listed as { name: string; subtask?: boolean }[]).map((c) => [c.name, c.subtask])).toEqual([['init', undefined], ['review', true]]);

    const id = (await client.session.create({ body: {} })).data?.id ?? '';
    const before = model.log.length;
    const reply = await client.session.command({ path: { id }, body: { command: 'review', arguments: 'abc1234', agent: 'build' } });
    expect(reply.response.status, JSON.stringify(reply.error)).toBe(200);
    // The sub-task's request (its child session's), then the session's own.
    expect(model.log).toHaveLength(before + 2);
    const sent = userText(model.log.at(-2));
    expect(sent).toMatch(/^You are a code reviewer\. /);
    expect(sent).toContain('Input: abc1234');
    expect(sent).toContain('Run: `git show abc1234`');
    const asked = (model.log.at(-1)?.messages ?? []).filter((m) => (m as { role: string }).role !== 'system') as { role: string; content: unknown; tool_calls?: { function: { name: string; arguments: string } }[] }[];
    expect(asked.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'user']);
    expect(asked[0]?.content).toBe('The following tool was executed by the user');
    expect(asked[1]?.tool_calls?.[0]?.function.name).toBe('task');
    expect(JSON.parse(asked[1]?.tool_calls?.[0]?.function.arguments ?? '{}')).toMatchObject({ description: 'review changes [commit|branch|pr], defaults to uncommitted', subagent_type: 'build', command: 'review' });
    expect(asked[3]?.content).toBe('Summarize the task tool output above and continue with your task.');
    // The messages as OpenCode's: the subtask part, then the task call (no step of its own) with its child session, then the model's step.
    type Part = { type: string; tool?: string; agent?: string; command?: string; state?: { status: string; title?: string; metadata?: { sessionId?: string } } };
    const messages = ((await client.session.messages({ path: { id } })).data ?? []) as { info: { role: string }; parts: Part[] }[];
    expect(messages.map((m) => [m.info.role, m.parts.map((p) => p.type)])).toEqual([
      ['user', ['subtask']],
      ['assistant', ['tool', 'step-start', 'text', 'step-finish']],
    ]);
    expect(messages[0]?.parts[0]).toMatchObject({ type: 'subtask', agent: 'build', command: 'review', description: 'review changes [commit|branch|pr], defaults to uncommitted' });
    const task = messages[1]?.parts[0];
    expect(task).toMatchObject({ tool: 'task', state: { status: 'completed', title: 'review changes [commit|branch|pr], defaults to uncommitted' } });
    const children = (await client.session.children({ path: { id } })).data ?? [];
    expect(children.map((s) => [s.id, s.title])).toEqual([[task?.state?.metadata?.sessionId, 'review changes [commit|branch|pr], defaults to uncommitted (@build subagent)']]);

    const init = await client.session.command({ path: { id }, body: { command: 'init', arguments: '' } });
    expect(init.response.status).toBe(200);
    expect(userText(model.log.at(-1))).toContain(`If \`AGENTS.md\` already exists at \`${plain.project}\`, improve it in place`);
  });

  it('/review run with the model the TUI has chosen: the sub-task runs on it too (OpenCode\'s subtask part names it), then the session\'s turn', async () => {
    const client = createOpencodeClient({ baseUrl: servedPlain.url, directory: plain.project });
    const id = (await client.session.create({ body: {} })).data?.id ?? '';
    const before = model.log.length;
    const reply = await client.session.command({ path: { id }, body: { command: 'review', arguments: '', agent: 'build', model: 'p/n' } });
    expect(reply.response.status, JSON.stringify(reply.error)).toBe(200);
    expect(model.log.slice(before).map((e) => [e.model, userText(e).slice(0, 24)])).toEqual([
      ['n', 'You are a code reviewer.'],
      ['n', 'Summarize the task tool o'.slice(0, 24)],
    ]);
    const messages = ((await client.session.messages({ path: { id } })).data ?? []) as { parts: { type: string; model?: object }[] }[];
    expect(messages[0]?.parts[0]).toMatchObject({ type: 'subtask', model: { providerID: 'p', modelID: 'n' } });
  });

  it('a config command of the same name takes the built-in’s place; the built-ins first, then the config’s in its order (OpenCode 1.18.33’s)', async () => {
    const client = createOpencodeClient({ baseUrl: servedOwn.url, directory: own.project });
    const listed = (await client.command.list()).data ?? [];
    expect(listed.map((c) => [c.name, c.template])).toEqual([
      ['init', 'Our own init: $ARGUMENTS'],
      ['review', expect.stringMatching(/^You are a code reviewer\. /)],
      ['look', 'Look at $ARGUMENTS'],
      ['inline', 'Inline $ARGUMENTS'],
    ]);
    const id = (await client.session.create({ body: {} })).data?.id ?? '';
    expect((await client.session.command({ path: { id }, body: { command: 'init', arguments: 'briefly' } })).response.status).toBe(200);
    expect(userText(model.log.at(-1))).toBe('Our own init: briefly');
    expect((await client.session.init({ path: { id }, body: { providerID: 'p', modelID: 'm', messageID: 'msg_0123456789abcdefghijklmnop' } })).data).toBe(true);
    expect(userText(model.log.at(-1))).toBe('Our own init:');

    const before = model.log.length;
    expect((await client.session.command({ path: { id }, body: { command: 'look', arguments: 'src' } })).response.status).toBe(200);
    expect(model.log).toHaveLength(before + 2);
    expect(userText(model.log.at(-2))).toBe('Look at src');
    expect(userText(model.log.at(-1))).toBe('Summarize the task tool output above and continue with your task.');
    expect((await client.session.command({ path: { id }, body: { command: 'inline', arguments: 'src' } })).response.status).toBe(200);
    expect(model.log).toHaveLength(before + 3);
    expect(userText(model.log.at(-1))).toBe('Inline src');
  });
});
