/**
 * OpenCode's `task` tool over the real `opencode serve`, read back through @opencode-ai/sdk: a
 * foreground answer in OpenCode's `<task id="<child session>" state="completed">` frame; `task_id`
 * goes on in that child session (same id, its messages kept and read by the model); an unknown or
 * foreign `task_id` is a tool error the model reads; the agent's `task` permission applies to a
 * resume; `background: true` answers at once with OpenCode's running frame and the result comes back
 * as the hidden prompt, as when a client sends the call to the background (ctrl+b).
 */
import { createOpencodeClient } from '@opencode-ai/sdk/v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { collect, idleOf } from './sdk-helper.ts';
import { serve, type Served } from './serve-helper.ts';

type Part = { id: string; type: string; text?: string; tool?: string; callID?: string; synthetic?: boolean; state?: { status: string; input?: Record<string, unknown>; output?: string; error?: string; metadata?: Record<string, unknown> } };
type Msg = { info: { id: string; sessionID: string; role: string; agent?: string }; parts: Part[] };
type Ses = { id: string; title: string; parentID?: string };
type Args = { description: string; prompt: string; subagent_type: string; task_id?: string; background?: boolean };

function framed(sessionID: string, answer: string): string {
  return [`<task id="${sessionID}" state="completed">`, '<task_result>', answer, '</task_result>', '</task>'].join('\n');
}

function call(id: string, args: Args) {
  return { name: 'task', arguments: args, id };
}

describe('the task tool as OpenCode’s (task_id, background, the <task> frame)', () => {
  let sb: Sandbox;
  let model: ScriptedServer;
  let server: Served;
  let client: ReturnType<typeof createOpencodeClient>;

  beforeAll(async () => {
    model = await startScriptedServer({ models: { a: {}, e: {}, s: {} } });
    sb = await sandbox();
    sb.write('opencode.json', {
      model: 'p/a',
      provider: { p: { options: { baseURL: model.url, apiKey: SECRET }, models: { a: {}, e: {}, s: {} } } },
      agent: {
        lead: { mode: 'primary', model: 'p/a', permission: { task: { '*': 'allow', scout: 'deny' } } },
        explore: { mode: 'subagent', model: 'p/e', description: 'Finds things.' },
        scout: { mode: 'subagent', model: 'p/s', description: 'Digs.' },
      },
      retry: { maxRetries: 0 },
      cache: { enabled: false },
    });
    server = await serve(sb);
    client = createOpencodeClient({ baseUrl: server.url, directory: sb.project });
  });

  afterAll(async () => {
    await server?.stop();
    await model?.close();
    await sb?.remove();
  });

  async function events() {
    const abort = new AbortController();
    const stream = collect((await client.event.subscribe({}, { signal: abort.signal })).stream as AsyncIterable<unknown>);
    await stream.until((e) => e.type === 'server.connected');
    return { stream, stop: () => abort.abort() };
  }

  const taskParts = (messages: Msg[]) => messages.flatMap((m) => m.parts).filter((p) => p.type === 'tool' && p.tool === 'task');

  it('task_id resumes the child session: same id, its messages kept and read by the model; each answer framed with that id', async () => {
    const { stream, stop } = await events();
    const parent = (await client.session.create({ title: 'lead' })).data as Ses;
    const again: Args = { description: 'Look again', prompt: 'And the tests?', subagent_type: 'explore' };
    // The second call names the child the first made: its id is set once the child exists, before the answer is sent.
    const childKnown = stream.until((e) => e.type === 'session.created' && (e.properties.info as Ses).parentID === parent.id).then((e) => {
      again.task_id = (e.properties.info as Ses).id;
    });
    model.script(
      'a',
      { type: 'tool_calls', calls: [call('call_first', { description: 'Find the config', prompt: 'Where is the config?', subagent_type: 'explore' })] },
      { type: 'tool_calls', calls: [call('call_again', again)], after: childKnown },
      { type: 'text', text: 'Both found.' },
    );
    model.script('e', { type: 'text', text: 'In opencode.json.' }, { type: 'text', text: 'In test/.' });
    const before = model.log.filter((r) => r.model === 'e').length;
    await client.session.prompt({ sessionID: parent.id, agent: 'lead', parts: [{ type: 'text', text: 'Find both' }] });
    await stream.until(idleOf(parent.id));
    const childID = again.task_id as string;
    expect(childID).toMatch(/^ses_/);

    // One child only: the resume went on in it.
    expect(((await client.session.children({ sessionID: parent.id })).data as Ses[]).map((s) => s.id)).toEqual([childID]);
    expect(stream.events.filter((e) => e.type === 'session.created' && (e.properties.info as Ses).id === childID)).toHaveLength(1);
    const [first, second] = taskParts((await client.session.messages({ sessionID: parent.id })).data as Msg[]);
    expect(first?.state).toMatchObject({ status: 'completed', output: framed(childID, 'In opencode.json.'), metadata: { parentSessionId: parent.id, sessionId: childID } });
    expect(second?.state).toMatchObject({ status: 'completed', input: { task_id: childID }, output: framed(childID, 'In test/.'), metadata: { parentSessionId: parent.id, sessionId: childID } });
    // The child's messages: the first turn kept, the second added.
    const child = (await client.session.messages({ sessionID: childID })).data as Msg[];
    expect(child.map((m) => [m.info.role, m.parts.find((p) => p.type === 'text')?.text])).toEqual([
      ['user', 'Where is the config?'],
      ['assistant', 'In opencode.json.'],
      ['user', 'And the tests?'],
      ['assistant', 'In test/.'],
    ]);
    // The sub-agent's model read its earlier turn.
    const resumed = model.log.filter((r) => r.model === 'e')[before + 1];
    expect(JSON.stringify(resumed?.messages)).toContain('Where is the config?');
    expect(JSON.stringify(resumed?.messages)).toContain('In opencode.json.');
    // The model the parent runs on read the frame, the child session's id in it.
    expect(JSON.stringify(model.log.filter((r) => r.model === 'a').at(-1)?.messages)).toContain(`<task id=\\"${childID}\\" state=\\"completed\\">`);
    stop();
  });

  it('GET /experimental/tool lists the task tool with OpenCode’s description and parameters', async () => {
    const tools = (await (await fetch(`${server.url}/experimental/tool?provider=p&model=a&directory=${encodeURIComponent(sb.project)}`)).json()) as { id: string; description: string; parameters: { properties: Record<string, unknown> } }[];
    const task = tools.find((t) => t.id === 'task');
    expect(task?.description).toMatch(/^Launch a new agent to handle complex, multistep tasks autonomously\./);
    expect(task?.description).toMatch(/You will be notified automatically when it finishes\.$/);
    expect(Object.keys(task?.parameters.properties ?? {})).toEqual(['description', 'prompt', 'subagent_type', 'task_id', 'command', 'background']);
  });

  it('an unknown task_id, another session’s task, this session itself, a denied agent: tool errors the model reads; no session made', async () => {
    const { stream, stop } = await events();
    // Another session with a task of its own.
    const other = (await client.session.create({})).data as Ses;
    model.script('a', { type: 'tool_calls', calls: [call('call_other', { description: 'Elsewhere', prompt: 'Look elsewhere', subagent_type: 'explore' })] }, { type: 'text', text: 'Other done.' });
    model.script('e', { type: 'text', text: 'Elsewhere found.' });
    await client.session.prompt({ sessionID: other.id, agent: 'lead', parts: [{ type: 'text', text: 'Go' }] });
    const [foreign] = (await client.session.children({ sessionID: other.id })).data as Ses[];
    expect(foreign?.id).toMatch(/^ses_/);

    const parent = (await client.session.create({})).data as Ses;
    model.script('a', { type: 'tool_calls', calls: [call('call_mine', { description: 'Mine', prompt: 'Look here', subagent_type: 'explore' })] });
    model.script('e', { type: 'text', text: 'Here.' });
    const bad = (id: string, task_id: string, subagent_type = 'explore') => call(id, { description: 'Resume', prompt: 'Go on', subagent_type, task_id });
    const mine: Args = { description: 'Resume', prompt: 'Dig on', subagent_type: 'scout' };
    const childKnown = stream.until((e) => e.type === 'session.created' && (e.properties.info as Ses).parentID === parent.id).then((e) => {
      mine.task_id = (e.properties.info as Ses).id;
    });
    model.script('a', { type: 'tool_calls', calls: [bad('call_unknown', 'ses_nope'), bad('call_foreign', foreign?.id as string), bad('call_self', parent.id), call('call_denied', mine)], after: childKnown }, { type: 'text', text: 'Gave up.' });
    const sBefore = model.log.filter((r) => r.model === 's').length;
    const reply = (await client.session.prompt({ sessionID: parent.id, agent: 'lead', parts: [{ type: 'text', text: 'Resume things' }] })).data as Msg;
    await stream.until(idleOf(parent.id));
    expect(reply.parts.filter((p) => p.type === 'text').at(-1)?.text).toBe('Gave up.');
    const parts = taskParts((await client.session.messages({ sessionID: parent.id })).data as Msg[]);
    const errorOf = (id: string) => parts.find((p) => p.callID === id)?.state;
    expect(errorOf('call_unknown')).toMatchObject({ status: 'error', error: 'Error: task_id "ses_nope": no such task (expected the id of an earlier task\'s session, from its <task id="ses_..."> result). Leave task_id out to start a new task.' });
    expect(errorOf('call_foreign')?.error).toBe(`Error: task_id "${foreign?.id}": not a task of this session (only the sessions of this session's own task calls can be resumed). Leave task_id out to start a new task.`);
    expect(errorOf('call_self')?.error).toMatch(/^Error: task_id "ses_\w+": not a task of this session/);
    // The agent's task permission applies to a resume as to a new task.
    expect(errorOf('call_denied')?.error).toContain("permission denied: task `scout` (rule \"scout\": deny)");
    // The model read each sentence; no session was made and the other session's child is untouched.
    expect(JSON.stringify(model.log.filter((r) => r.model === 'a').at(-1)?.messages)).toContain('not a task of this session');
    expect(((await client.session.children({ sessionID: parent.id })).data as Ses[]).map((s) => s.id)).toEqual([mine.task_id]);
    expect(((await client.session.messages({ sessionID: foreign?.id as string })).data as Msg[]).length).toBe(2);
    expect(model.log.filter((r) => r.model === 's').length).toBe(sBefore);
    stop();
  });

  it('a task still running (in the background, or named twice in one step) cannot be resumed: a tool error; one of the two runs', async () => {
    const { stream, stop } = await events();
    const parent = (await client.session.create({})).data as Ses;
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const resume = (id: string): ReturnType<typeof call> => call(id, { description: 'Again', prompt: 'Once more', subagent_type: 'explore' });
    const busy = resume('call_busy');
    const [first, second] = [resume('call_r1'), resume('call_r2')];
    model.script(
      'a',
      { type: 'tool_calls', calls: [call('call_bg', { description: 'Count', prompt: 'Count them', subagent_type: 'explore', background: true })] },
      { type: 'text', text: 'Launched.' },
      { type: 'tool_calls', calls: [busy] },
      { type: 'text', text: 'Busy.' },
      { type: 'text', text: 'Noted.' },
      { type: 'tool_calls', calls: [first, second] },
      { type: 'text', text: 'Twice.' },
    );
    model.script('e', { type: 'text', text: 'Counted.', after: gate }, { type: 'text', text: 'Again.' });
    await client.session.prompt({ sessionID: parent.id, agent: 'lead', parts: [{ type: 'text', text: 'Count' }] });
    const childID = ((await client.session.children({ sessionID: parent.id })).data as Ses[])[0]?.id as string;
    for (const c of [busy, first, second]) c.arguments.task_id = childID;
    const running = `Error: task_id "${childID}": that task is still running and cannot take a new prompt until it ends; wait for its result, or leave task_id out to start a new task.`;

    // Still running in the background: refused.
    await client.session.prompt({ sessionID: parent.id, agent: 'lead', parts: [{ type: 'text', text: 'Resume it now' }] });
    const stateOf = async (callID: string) => taskParts((await client.session.messages({ sessionID: parent.id })).data as Msg[]).find((p) => p.callID === callID)?.state;
    expect((await stateOf('call_busy'))?.error).toBe(running);

    // Once it has ended (and the parent was told), resumed twice in one step: one runs in the session, the other is refused.
    open();
    let idles = 0;
    await stream.until((e) => idleOf(parent.id)(e) && ++idles === 3);
    await client.session.prompt({ sessionID: parent.id, agent: 'lead', parts: [{ type: 'text', text: 'Resume it twice' }] });
    const states = [await stateOf('call_r1'), await stateOf('call_r2')];
    expect(states.map((st) => st?.status).sort()).toEqual(['completed', 'error']);
    expect(states.find((st) => st?.status === 'error')?.error).toBe(running);
    expect(states.find((st) => st?.status === 'completed')?.output).toBe(framed(childID, 'Again.'));
    const child = (await client.session.messages({ sessionID: childID })).data as Msg[];
    expect(child.map((m) => m.parts.find((p) => p.type === 'text')?.text)).toEqual(['Count them', 'Counted.', 'Once more', 'Again.']);
    stop();
  });

  it('a running task’s child session cannot be prompted directly (409): its turn would be lost when the task saves', async () => {
    const { stream, stop } = await events();
    const parent = (await client.session.create({})).data as Ses;
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const created = stream.until((e) => e.type === 'session.created' && (e.properties.info as Ses).parentID === parent.id);
    model.script('a', { type: 'tool_calls', calls: [call('call_hold', { description: 'Hold', prompt: 'Wait here', subagent_type: 'explore' })] }, { type: 'text', text: 'Held.' });
    model.script('e', { type: 'text', text: 'Released.', after: gate });
    const turn = client.session.prompt({ sessionID: parent.id, agent: 'lead', parts: [{ type: 'text', text: 'go' }] });
    const childID = ((await created).properties.info as Ses).id;
    const res = await fetch(`${server.url}/session/${childID}/message?directory=${encodeURIComponent(sb.project)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ parts: [{ type: 'text', text: 'me too' }] }) });
    expect(res.status).toBe(409);
    expect(JSON.stringify(await res.json())).toContain(`Session ${childID} is busy: a \`task\` call of its parent session runs it.`);
    open();
    await turn;
    await stream.until(idleOf(parent.id));
    const child = (await client.session.messages({ sessionID: childID })).data as Msg[];
    expect(child.map((m) => m.info.role)).toEqual(['user', 'assistant']);
    expect(JSON.stringify(child)).not.toContain('me too');
    stop();
  });

  it('background: true answers at once with OpenCode’s running frame; the result comes back as the hidden prompt', async () => {
    const { stream, stop } = await events();
    const parent = (await client.session.create({})).data as Ses;
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    model.script('a', { type: 'tool_calls', calls: [call('call_bg', { description: 'Slow search', prompt: 'Search slowly', subagent_type: 'explore', background: true })] }, { type: 'text', text: 'Launched it.' }, { type: 'text', text: 'Got the result.' });
    model.script('e', { type: 'text', text: 'Found it in src.', after: gate });
    await client.session.prompt({ sessionID: parent.id, agent: 'lead', parts: [{ type: 'text', text: 'Find it' }] });
    // The turn ended while the child still waits for its model.
    const [child] = (await client.session.children({ sessionID: parent.id })).data as Ses[];
    const childID = child?.id as string;
    expect((await client.session.status()).data).toMatchObject({ [childID]: { type: 'busy' } });
    const first = (await client.session.messages({ sessionID: parent.id })).data as Msg[];
    const [part] = taskParts(first);
    expect(part?.state?.output).toBe(
      [`<task id="${childID}" state="running">`, '<summary>Background task started</summary>', '<task_result>', 'The task is working in the background. You will be notified automatically when it finishes.', "DO NOT sleep, poll for progress, ask the task for status, or duplicate this task's work \u2014 avoid working with the same files or topics it is using.", 'Work on non-overlapping tasks, or briefly tell the user what you launched and end your response.', '</task_result>', '</task>'].join('\n'),
    );
    // As OpenCode marks it: its TUI keeps the call spinning while the child session is busy.
    expect(part?.state?.metadata).toEqual({ parentSessionId: parent.id, sessionId: childID, background: true, jobId: childID });
    open();
    let idles = 0;
    await stream.until((e) => idleOf(parent.id)(e) && ++idles === 2);
    const after = (await client.session.messages({ sessionID: parent.id })).data as Msg[];
    const told = after.at(-2);
    expect(told?.parts.find((p) => p.type === 'text')).toMatchObject({ synthetic: true, text: [`<task id="${childID}" state="completed">`, '<summary>Background task completed: Slow search</summary>', '<task_result>', 'Found it in src.', '</task_result>', '</task>'].join('\n') });
    expect(after.at(-1)?.parts.filter((p) => p.type === 'text').at(-1)?.text).toBe('Got the result.');
    stop();
  });
});
