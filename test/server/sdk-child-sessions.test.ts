/**
 * A `task` call in a turn served through OpenCode's API runs its sub-task in a child session, as
 * OpenCode does: `session.created` with `parentID` and the title "<description> (@agent subagent)",
 * the child's own messages growing from the sub-task's events, the calling part naming the child
 * (`metadata.sessionId`, where OpenCode's TUI finds its progress) while it runs and once done, and
 * the children read back through @opencode-ai/sdk's v2 client from the real `opencode serve`.
 */
import { createOpencodeClient } from '@opencode-ai/sdk/v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { collect, idleOf, type OcEventLike } from './sdk-helper.ts';
import { serve, type Served } from './serve-helper.ts';

type Part = { id: string; type: string; text?: string; tool?: string; callID?: string; state?: { status: string; input?: Record<string, unknown>; output?: string; error?: string; title?: string; metadata?: Record<string, unknown> } };
type Msg = { info: { id: string; sessionID: string; role: string; error?: { name: string; data?: { message?: string } }; agent?: string }; parts: Part[] };
type Ses = { id: string; title: string; parentID?: string };

/** A foreground task's result as OpenCode frames it. */
function framed(sessionID: string, answer: string): string {
  return [`<task id="${sessionID}" state="completed">`, '<task_result>', answer, '</task_result>', '</task>'].join('\n');
}

function task(description: string, prompt: string, id: string, agent = 'explore') {
  return { name: 'task', arguments: { description, prompt, subagent_type: agent }, id };
}

describe('child sessions of task calls (OpenCode API)', () => {
  let sb: Sandbox;
  let model: ScriptedServer;
  let server: Served;
  let client: ReturnType<typeof createOpencodeClient>;

  beforeAll(async () => {
    model = await startScriptedServer({ models: { a: {}, e: {}, s: {} } });
    sb = await sandbox();
    sb.write('notes.txt', 'the config lives in opencode.json\n');
    sb.write('opencode.json', {
      model: 'p/a',
      provider: { p: { options: { baseURL: model.url, apiKey: SECRET }, models: { a: {}, e: {}, s: {} } } },
      agent: { lead: { mode: 'primary', model: 'p/a' }, explore: { mode: 'subagent', model: 'p/e', description: 'Finds things.' }, scout: { mode: 'subagent', model: 'p/s', description: 'Digs.' } },
      retry: { maxRetries: 1 },
      // Every test scripts its answers: none may come from an earlier test's cached ones.
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

  const taskParts = (m: Msg | undefined) => (m?.parts ?? []).filter((p) => p.type === 'tool' && p.tool === 'task');
  const partsOf = (stream: { events: OcEventLike[] }, sessionID: string) => stream.events.filter((e) => e.type === 'message.part.updated' && (e.properties.part as Part & { sessionID: string }).sessionID === sessionID).map((e) => e.properties.part as Part);

  it('two parallel task calls: a child session each, named by its call, with its own messages, events and read back', async () => {
    const { stream, stop } = await events();
    const parent = (await client.session.create({ title: 'lead turn' })).data as Ses;
    model.script('a', { type: 'tool_calls', calls: [task('Find the config', 'Where is the config?', 'call_cfg'), task('Find the notes', 'Where are the notes?', 'call_notes', 'scout')] }, { type: 'text', text: 'Both found.' });
    // Each sub-task reads a file, then answers with its prompt (echo): one subagent, and so one model's queue, each, so
    // that the answers do not depend on which child asks first.
    for (const m of ['e', 's']) model.script(m, { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: 'notes.txt' } }] });
    const reply = (await client.session.prompt({ sessionID: parent.id, agent: 'lead', parts: [{ type: 'text', text: 'Find both' }] })).data as Msg;
    await stream.until(idleOf(parent.id));

    const [cfg, notes] = taskParts(reply);
    expect(taskParts(reply)).toHaveLength(2);
    expect(cfg).toMatchObject({ callID: 'call_cfg', state: { status: 'completed', title: 'Find the config', metadata: { parentSessionId: parent.id, sessionId: expect.stringMatching(/^ses_/) } } });
    const cfgID = cfg?.state?.metadata?.sessionId as string;
    const notesID = notes?.state?.metadata?.sessionId as string;
    // The answer in OpenCode's frame, naming the child session (the task_id that resumes it).
    expect(cfg?.state?.output).toBe(framed(cfgID, 'echo: Where is the config?'));
    expect(notes).toMatchObject({ callID: 'call_notes', state: { status: 'completed', title: 'Find the notes', output: framed(notesID, 'echo: Where are the notes?') } });
    expect(notesID).not.toBe(cfgID);

    // The children, as the SDK reads them: parentID, OpenCode's title, oldest first.
    const children = (await client.session.children({ sessionID: parent.id })).data as Ses[];
    expect(children.map((c) => c.id).sort()).toEqual([cfgID, notesID].sort());
    expect(children.find((c) => c.id === cfgID)).toMatchObject({ parentID: parent.id, title: 'Find the config (@explore subagent)' });
    expect((await client.session.get({ sessionID: notesID })).data).toMatchObject({ parentID: parent.id, title: 'Find the notes (@scout subagent)' });
    expect((await client.session.children({ sessionID: cfgID })).data).toEqual([]);
    expect((await client.session.children({ sessionID: 'ses_nosuchsession' })).response.status).toBe(404);

    // Each child's messages: its prompt, then what its sub-task did (the read) and said.
    for (const [id, prompt, agent] of [[cfgID, 'Where is the config?', 'explore'], [notesID, 'Where are the notes?', 'scout']] as const) {
      const messages = (await client.session.messages({ sessionID: id })).data as Msg[];
      expect(messages.map((m) => m.info.role)).toEqual(['user', 'assistant']);
      expect(messages[0]?.parts.find((p) => p.type === 'text')?.text).toBe(prompt);
      expect(messages[1]?.info).toMatchObject({ sessionID: id, agent });
      expect(messages[1]?.parts.find((p) => p.type === 'tool')).toMatchObject({ tool: 'read', state: { status: 'completed', title: 'notes.txt' } });
      expect(messages[1]?.parts.filter((p) => p.type === 'text').at(-1)?.text).toBe(`echo: ${prompt}`);
      // The events built the same messages (the ids the TUI keys them by).
      const streamed = stream.events.filter((e) => e.type === 'message.updated' && e.properties.sessionID === id).map((e) => (e.properties.info as { id: string }).id);
      expect(new Set(streamed)).toEqual(new Set(messages.map((m) => m.info.id)));
      const last = new Map(partsOf(stream, id).map((p) => [p.id, p]));
      for (const part of messages.flatMap((m) => m.parts)) expect(last.get(part.id)).toEqual(part);
      // The child is announced with its parent before the task part names it.
      const created = stream.events.findIndex((e) => e.type === 'session.created' && (e.properties.info as Ses).id === id);
      expect((stream.events[created]?.properties.info as Ses).parentID).toBe(parent.id);
      const named = stream.events.findIndex((e) => e.type === 'message.part.updated' && (e.properties.part as Part).state?.metadata?.sessionId === id);
      expect(created).toBeGreaterThanOrEqual(0);
      expect(named).toBeGreaterThan(created);
      // ... and as `session.updated` too, which is how OpenCode's TUI learns of a session (it shows a running child's questions from it).
      const updated = stream.events.findIndex((e) => e.type === 'session.updated' && (e.properties.info as Ses).id === id);
      expect(updated).toBeGreaterThan(created);
      expect(updated).toBeLessThan(named);
    }

    // While the sub-tasks ran, the task parts were running: from the call's start (as OpenCode's part is, before the tool names its
    // child), then with their child named (what the TUI shows progress from).
    const running = partsOf(stream, parent.id).filter((p) => p.tool === 'task' && p.state?.status === 'running');
    expect(running.map((p) => [p.callID, p.state?.metadata?.sessionId ?? null, p.state?.title]).sort()).toEqual([
      ['call_cfg', null, 'Find the config'],
      ['call_cfg', cfgID, 'Find the config'],
      ['call_notes', null, 'Find the notes'],
      ['call_notes', notesID, 'Find the notes'],
    ]);
    for (const call of ['call_cfg', 'call_notes']) expect(running.filter((p) => p.callID === call).at(-1)?.state?.metadata?.sessionId).toBeDefined();
    expect(running.find((p) => p.callID === 'call_notes')?.state?.input).toMatchObject({ subagent_type: 'scout' });
    // Busy, then idle, for each child.
    for (const id of [cfgID, notesID]) expect(stream.events.filter((e) => e.type === 'session.status' && e.properties.sessionID === id).map((e) => (e.properties.status as { type: string }).type)).toEqual(['busy', 'idle']);

    // The parent read back names the children too.
    const saved = (await client.session.messages({ sessionID: parent.id })).data as Msg[];
    expect(taskParts(saved.at(-1))).toEqual(taskParts(reply));

    // Listed as OpenCode lists them: with the children, and without them for roots=true (the TUI's and `session list`'s).
    const all = ((await client.session.list()).data as Ses[]).map((s) => s.id);
    expect(all).toEqual(expect.arrayContaining([parent.id, cfgID, notesID]));
    const roots = ((await client.session.list({ roots: true })).data as Ses[]).map((s) => s.id);
    expect(roots).toContain(parent.id);
    expect(roots).not.toContain(cfgID);
    const listed = await sb.run(['session', 'list', '--json']);
    expect(listed.code).toBe(0);
    const ids = (JSON.parse(listed.stdout) as { sessions: { id: string }[] }).sessions.map((s) => s.id);
    expect(ids).toContain(parent.id);
    expect(ids).not.toContain(cfgID);
    expect(ids).not.toContain(notesID);

    // Deleting the parent deletes its children.
    expect((await client.session.delete({ sessionID: parent.id })).data).toBe(true);
    expect((await client.session.get({ sessionID: cfgID })).response.status).toBe(404);
    stop();
  });

  it('a sub-task that delegates: its child session gets a child of its own, named by its task part', async () => {
    const { stream, stop } = await events();
    const parent = (await client.session.create({})).data as Ses;
    // lead → scout → explore (explore is read-only: it may not delegate).
    model.script('a', { type: 'tool_calls', calls: [{ name: 'task', arguments: { description: 'Look around', prompt: 'Look around please', subagent_type: 'scout' }, id: 'call_outer' }] }, { type: 'text', text: 'Looked.' });
    model.script('s', { type: 'tool_calls', calls: [task('Dig deeper', 'Dig here', 'call_inner')] }, { type: 'text', text: 'The explorer dug.' });
    const reply = (await client.session.prompt({ sessionID: parent.id, agent: 'lead', parts: [{ type: 'text', text: 'Go' }] })).data as Msg;
    await stream.until(idleOf(parent.id));
    const childID = taskParts(reply)[0]?.state?.metadata?.sessionId as string;
    const [child] = (await client.session.children({ sessionID: parent.id })).data as Ses[];
    expect(child?.id).toBe(childID);
    const [grandchild] = (await client.session.children({ sessionID: childID })).data as Ses[];
    expect(child?.title).toBe('Look around (@scout subagent)');
    expect(grandchild).toMatchObject({ parentID: childID, title: 'Dig deeper (@explore subagent)' });
    const childMessages = (await client.session.messages({ sessionID: childID })).data as Msg[];
    expect(taskParts(childMessages[1])).toEqual([expect.objectContaining({ callID: 'call_inner', state: expect.objectContaining({ status: 'completed', output: framed(grandchild?.id as string, 'echo: Dig here'), metadata: { parentSessionId: childID, sessionId: grandchild?.id } }) })]);
    expect(childMessages[1]?.parts.filter((p) => p.type === 'text').at(-1)?.text).toBe('The explorer dug.');
    const grandMessages = (await client.session.messages({ sessionID: grandchild?.id as string })).data as Msg[];
    expect(grandMessages.map((m) => m.parts.find((p) => p.type === 'text')?.text)).toEqual(['Dig here', 'echo: Dig here']);
    // The child's running task part named the grandchild as it ran; the grandchild's reply streamed under its own session.
    expect(partsOf(stream, childID).some((p) => p.callID === 'call_inner' && p.state?.status === 'running' && p.state.metadata?.sessionId === grandchild?.id)).toBe(true);
    expect(partsOf(stream, grandchild?.id as string).some((p) => p.type === 'text' && p.text === 'echo: Dig here')).toBe(true);
    // The parent's message has only its own call.
    expect(partsOf(stream, parent.id).filter((p) => p.type === 'tool').map((p) => p.callID)).toEqual(expect.arrayContaining(['call_outer']));
    expect(partsOf(stream, parent.id).some((p) => p.callID === 'call_inner')).toBe(false);

    // Deleting the parent deletes the child and the grandchild too, as OpenCode does: the deepest first, the parent last.
    expect((await client.session.delete({ sessionID: parent.id })).data).toBe(true);
    for (const id of [parent.id, childID, grandchild?.id as string]) expect((await client.session.get({ sessionID: id })).response.status).toBe(404);
    await stream.until((e) => e.type === 'session.deleted' && e.properties.sessionID === parent.id);
    expect(stream.events.filter((e) => e.type === 'session.deleted').map((e) => e.properties.sessionID)).toEqual([grandchild?.id, childID, parent.id]);
    stop();
  });

  it('POST /session with parentID, as OpenCode takes it: a child of that session (which need not exist), titled as a child, out of the roots; a parentID that is no session id is a 400 naming it', async () => {
    const parent = (await client.session.create({ title: 'made by a client' })).data as Ses;
    const made = await client.session.create({ parentID: parent.id });
    expect(made.response.status).toBe(200);
    const child = made.data as Ses;
    expect(child).toMatchObject({ parentID: parent.id, title: expect.stringMatching(/^Child session - \d{4}-\d\d-\d\dT/) });
    expect(((await client.session.children({ sessionID: parent.id })).data as Ses[]).map((s) => s.id)).toEqual([child.id]);
    expect(((await client.session.list({ roots: true })).data as Ses[]).map((s) => s.id)).not.toContain(child.id);
    // OpenCode does not look the parent up: an id of no session is taken.
    const orphan = (await client.session.create({ parentID: 'ses_nobodyhere' })).data as Ses;
    expect((await client.session.get({ sessionID: orphan.id })).data).toMatchObject({ parentID: 'ses_nobodyhere' });
    for (const bad of ['bogus', '']) {
      const refused = await fetch(`${server.url}/session?directory=${encodeURIComponent(sb.project)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ parentID: bad }) });
      expect(refused.status).toBe(400);
      expect(JSON.stringify(await refused.json())).toContain('body field \\"parentID\\": expected a session id (ses_…)');
    }
    // The REST API's delete takes the children with their parent too.
    const gone = await fetch(`${server.url}/api/v1/sessions/${parent.id}`, { method: 'DELETE' });
    expect(gone.status).toBeLessThan(300);
    expect((await client.session.get({ sessionID: child.id })).response.status).toBe(404);
    expect((await client.session.get({ sessionID: orphan.id })).response.status).toBe(200);
  });

  it("a sub-task's permission question is its child session's: asked there, its call shown running there, answered, run", async () => {
    const { stream, stop } = await events();
    const parent = (await client.session.create({})).data as Ses;
    model.script('a', { type: 'tool_calls', calls: [{ name: 'task', arguments: { description: 'Run a command', prompt: 'Say hi', subagent_type: 'scout' }, id: 'call_scout' }] }, { type: 'text', text: 'Said.' });
    model.script('s', { type: 'tool_calls', calls: [{ name: 'bash', arguments: { command: 'echo hi-from-child', description: 'Say hi' }, id: 'call_bash' }] }, { type: 'text', text: 'It said hi.' });
    expect((await client.session.promptAsync({ sessionID: parent.id, agent: 'lead', parts: [{ type: 'text', text: 'Go' }] })).response.status).toBe(204);
    const created = await stream.until((e) => e.type === 'session.created' && (e.properties.info as Ses).parentID === parent.id);
    const childID = (created.properties.info as Ses).id;
    const asked = await stream.until((e) => e.type === 'permission.asked');
    const question = asked.properties as { id: string; sessionID: string; permission: string; tool?: { messageID: string; callID: string } };
    expect(question).toMatchObject({ sessionID: childID, permission: 'bash', tool: { callID: 'call_bash' } });
    // The call is shown running in the child's reply (the message the question names), not in the parent's.
    // (pending first, while the model wrote it, as OpenCode shows it: tool-running-part.test.ts)
    const running = (await stream.until((e) => e.type === 'message.part.updated' && (e.properties.part as Part).callID === 'call_bash' && (e.properties.part as Part).state?.status === 'running')).properties.part as Part & { sessionID: string };
    expect(running).toMatchObject({ sessionID: childID, state: { status: 'running', title: 'echo hi-from-child' } });
    expect((running as unknown as { messageID: string }).messageID).toBe(question.tool?.messageID);
    expect(((await client.permission.list()).data as { id: string }[]).map((q) => q.id)).toEqual([question.id]);
    expect((await client.permission.reply({ requestID: question.id, reply: 'once' })).data).toBe(true);
    await stream.until(idleOf(parent.id));
    const child = (await client.session.messages({ sessionID: childID })).data as Msg[];
    expect(child[1]?.parts.find((p) => p.callID === 'call_bash')?.state).toMatchObject({ status: 'completed', output: expect.stringContaining('hi-from-child') });
    expect(partsOf(stream, parent.id).some((p) => p.callID === 'call_bash')).toBe(false);
    stop();
  });

  it('abort in the middle of a sub-task (its retry wait): the child shows retry, then ends aborted; the task part errs naming it', async () => {
    const { stream, stop } = await events();
    const parent = (await client.session.create({})).data as Ses;
    model.script('a', { type: 'tool_calls', calls: [task('Wait a while', 'Take your time', 'call_wait')] });
    // A 503 whose Retry-After keeps the sub-task waiting until the abort.
    model.script('e', { type: 'status', status: 503, retryAfterMs: 20_000 });
    expect((await client.session.promptAsync({ sessionID: parent.id, agent: 'lead', parts: [{ type: 'text', text: 'Delegate and wait' }] })).response.status).toBe(204);
    const created = await stream.until((e) => e.type === 'session.created' && (e.properties.info as Ses).parentID === parent.id);
    const childID = (created.properties.info as Ses).id;
    await stream.until((e) => e.type === 'session.status' && e.properties.sessionID === childID && (e.properties.status as { type: string }).type === 'retry');
    // The child's status is the sub-task's (what the TUI shows under the task call), the parent stays busy.
    expect((await client.session.status()).data).toMatchObject({ [parent.id]: { type: 'busy' }, [childID]: { type: 'retry', attempt: 1, message: expect.stringContaining('503') } });
    // Read in the middle: the child has its prompt and the reply so far.
    const mid = (await client.session.messages({ sessionID: childID })).data as Msg[];
    expect(mid.map((m) => m.info.role)).toEqual(['user', 'assistant']);
    expect((await client.session.abort({ sessionID: parent.id })).data).toBe(true);
    await stream.until(idleOf(parent.id));
    const messages = (await client.session.messages({ sessionID: childID })).data as Msg[];
    expect(messages.map((m) => m.info.id)).toEqual(mid.map((m) => m.info.id));
    expect(messages[1]?.info.error?.name).toBe('MessageAbortedError');
    const parentMessages = (await client.session.messages({ sessionID: parent.id })).data as Msg[];
    expect(taskParts(parentMessages.at(-1))).toEqual([expect.objectContaining({ callID: 'call_wait', state: expect.objectContaining({ status: 'error', metadata: { parentSessionId: parent.id, sessionId: childID } }) })]);
    expect(stream.events.filter((e) => e.type === 'session.status' && e.properties.sessionID === childID).map((e) => (e.properties.status as { type: string }).type)).toEqual(['busy', 'retry', 'idle']);
    expect((await client.session.status()).data).toEqual({});
    stop();
  });

  it('a failing sub-task: its child session keeps the error, the task part errs naming it, the parent goes on', async () => {
    const { stream, stop } = await events();
    const parent = (await client.session.create({})).data as Ses;
    model.script('a', { type: 'tool_calls', calls: [task('Break it', 'Fail please', 'call_fail')] }, { type: 'text', text: 'It failed; done anyway.' });
    model.script('e', { type: 'status', status: 400, message: 'bad request upstream' });
    const reply = (await client.session.prompt({ sessionID: parent.id, agent: 'lead', parts: [{ type: 'text', text: 'Try it' }] })).data as Msg;
    await stream.until(idleOf(parent.id));
    expect(reply.parts.filter((p) => p.type === 'text').at(-1)?.text).toBe('It failed; done anyway.');
    const [part] = taskParts(reply);
    expect(part?.state).toMatchObject({ status: 'error', error: expect.stringMatching(/^Error: Subagent failed \(task_id: ses_\w+\): explore: /), metadata: { sessionId: expect.stringMatching(/^ses_/) } });
    const childID = part?.state?.metadata?.sessionId as string;
    const messages = (await client.session.messages({ sessionID: childID })).data as Msg[];
    expect(messages[0]?.parts.find((p) => p.type === 'text')?.text).toBe('Fail please');
    expect(messages[1]?.info.error).toMatchObject({ name: 'APIError', data: { message: expect.stringContaining('bad request upstream') } });
    // The child's error is its own: the parent's turn did not fail.
    expect(stream.events.filter((e) => e.type === 'session.error').map((e) => e.properties.sessionID)).toEqual([childID]);
    stop();
  });

  it('bad input and the password: roots that is neither true nor false is a 400 naming it; behind OPENCODE_SERVER_PASSWORD the children need it (a JSON 401 without) and the SDK with it reads them', async () => {
    const bad = await fetch(`${server.url}/session?roots=maybe&directory=${encodeURIComponent(sb.project)}`);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('query parameter \\"roots\\": expected true or false, found \\"maybe\\"');
    expect((await client.session.list({ roots: false })).response.status).toBe(200);
    const locked = await serve(sb, [], { OPENCODE_SERVER_PASSWORD: 'pw-child-sessions-01' });
    try {
      const parent = ((await client.session.list({ roots: true })).data as Ses[])[0];
      const none = await fetch(`${locked.url}/session/${parent?.id ?? 'ses_x'}/children?directory=${encodeURIComponent(sb.project)}`);
      expect(none.status).toBe(401);
      expect(none.headers.get('content-type')).toMatch(/json/);
      const authorized = createOpencodeClient({ baseUrl: locked.url, directory: sb.project, headers: { authorization: `Basic ${Buffer.from('opencode:pw-child-sessions-01').toString('base64')}` } });
      const parentID = ((await authorized.session.create({})).data as { id: string }).id;
      const read = await authorized.session.children({ sessionID: parentID });
      expect(read.response.status).toBe(200);
      expect(read.data).toEqual([]);
    } finally {
      await locked.stop();
    }
  });
});
