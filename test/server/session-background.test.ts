/**
 * OpenCode's `POST /experimental/session/{sessionID}/background` over real HTTP against the real
 * `opencode serve`: a parent turn blocked on a slow subagent is let go (its `task` call ends with
 * OpenCode's "Background task started"), the turn finishes while the child still runs, the child
 * finishes in its own session with its events still published, and the parent is then told in a
 * new turn, with OpenCode's `<task … state="completed">` prompt.
 */
import { createOpencodeClient } from '@opencode-ai/sdk/v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { collect, idleOf, untilGone, type OcEventLike } from './sdk-helper.ts';
import { serve, type Served } from './serve-helper.ts';

type Part = { id: string; type: string; text?: string; tool?: string; callID?: string; state?: { status: string; output?: string; metadata?: Record<string, unknown> } };
type Msg = { info: { id: string; sessionID: string; role: string }; parts: Part[] };

/** Long enough that the child is certainly still waiting for its answer when the test sends it to the background. */
/** A gate a scripted answer waits on: the child answers once the test opens it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('POST /experimental/session/{sessionID}/background', () => {
  let sb: Sandbox;
  let model: ScriptedServer;
  let server: Served;
  let client: ReturnType<typeof createOpencodeClient>;

  beforeAll(async () => {
    model = await startScriptedServer({ models: { a: {}, e: {} } });
    sb = await sandbox();
    sb.write('opencode.json', {
      model: 'p/a',
      provider: { p: { options: { baseURL: model.url, apiKey: SECRET }, models: { a: {}, e: {} } } },
      agent: { lead: { mode: 'primary', model: 'p/a' }, explore: { mode: 'subagent', model: 'p/e', description: 'Finds things.' } },
      retry: { maxRetries: 0 },
      cache: { enabled: false },
    });
    server = await serve(sb, [], { OPENCODE_SERVER_PASSWORD: 'pw-bg' });
    client = createOpencodeClient({ baseUrl: server.url, directory: sb.project, headers: { authorization: `Basic ${Buffer.from('opencode:pw-bg').toString('base64')}` } });
  });

  afterAll(async () => {
    await server?.stop();
    await model?.close();
    await sb?.remove();
  });

  const background = (id: string, auth = true) =>
    fetch(`${server.url}/experimental/session/${id}/background?directory=${encodeURIComponent(sb.project)}`, { method: 'POST', headers: auth ? { authorization: `Basic ${Buffer.from('opencode:pw-bg').toString('base64')}` } : {} });

  it('a parent blocked on a slow child: backgrounded, the parent’s turn ends, the child ends after and the parent is told', async () => {
    const abort = new AbortController();
    const stream = collect((await client.event.subscribe({}, { signal: abort.signal })).stream as AsyncIterable<unknown>);
    await stream.until((e) => e.type === 'server.connected');
    const parent = (await client.session.create({ title: 'lead' })).data as { id: string };
    model.script('a', { type: 'tool_calls', calls: [{ name: 'task', arguments: { description: 'Slow search', prompt: 'Search slowly', subagent_type: 'explore' }, id: 'call_slow' }] }, { type: 'text', text: 'Launched it.' }, { type: 'text', text: 'Got the result.' });
    const child = gate();
    model.script('e', { type: 'text', text: 'Found it in src.', after: child.promise });
    expect((await client.session.promptAsync({ sessionID: parent.id, agent: 'lead', parts: [{ type: 'text', text: 'Find it' }] })).response.status).toBe(204);

    // Nothing waits yet (the child has not started): false.
    await model.waitForRequests(1, 'e');
    const childCreated = await stream.until((e) => e.type === 'session.created' && (e.properties.info as { parentID?: string }).parentID === parent.id);
    const childID = (childCreated.properties.info as { id: string }).id;

    // The parent waits on the child: sent to the background.
    const moved = await background(parent.id);
    expect(moved.status).toBe(200);
    expect(await moved.json()).toBe(true);
    // The parent's turn goes on and ends while the child still runs.
    await stream.until(idleOf(parent.id));
    const childIdleAt = stream.events.findIndex(idleOf(childID));
    expect(childIdleAt).toBe(-1);
    expect((await client.session.status()).data).toMatchObject({ [childID]: { type: 'busy' } });
    // Sent again: nothing waits any more.
    expect(await (await background(parent.id)).json()).toBe(false);
    child.open();

    const first = (await client.session.messages({ sessionID: parent.id })).data as Msg[];
    const call = first.flatMap((m) => m.parts).find((p) => p.callID === 'call_slow');
    expect(call?.state?.status).toBe('completed');
    expect(call?.state?.output).toBe(
      [`<task id="${childID}" state="running">`, '<summary>Background task started</summary>', '<task_result>', 'The task is working in the background. You will be notified automatically when it finishes.', "DO NOT sleep, poll for progress, ask the task for status, or duplicate this task's work \u2014 avoid working with the same files or topics it is using.", 'Work on non-overlapping tasks, or briefly tell the user what you launched and end your response.', '</task_result>', '</task>'].join('\n'),
    );
    expect(first.at(-1)?.parts.filter((p) => p.type === 'text').at(-1)?.text).toBe('Launched it.');

    // The child ends after, in its own session, its reply published on the events.
    await stream.until(idleOf(childID));
    const parentIdleAt = stream.events.findIndex(idleOf(parent.id));
    const childText = stream.events.findIndex((e: OcEventLike) => e.type === 'message.part.updated' && (e.properties.part as Part & { sessionID: string }).sessionID === childID && (e.properties.part as Part).text === 'Found it in src.');
    expect(childText).toBeGreaterThan(parentIdleAt);
    const childMessages = (await client.session.messages({ sessionID: childID })).data as Msg[];
    expect(childMessages.map((m) => m.parts.find((p) => p.type === 'text')?.text)).toEqual(['Search slowly', 'Found it in src.']);

    // The parent is told in a turn of its own, as OpenCode tells it.
    let idles = 0;
    await stream.until((e) => idleOf(parent.id)(e) && ++idles === 2);
    const after = (await client.session.messages({ sessionID: parent.id })).data as Msg[];
    expect(after.length).toBe(first.length + 2);
    const told = after.at(-2);
    expect(told?.info.role).toBe('user');
    expect(told?.parts.find((p) => p.type === 'text')?.text).toBe([`<task id="${childID}" state="completed">`, '<summary>Background task completed: Slow search</summary>', '<task_result>', 'Found it in src.', '</task_result>', '</task>'].join('\n'));
    // Synthetic, as OpenCode's (its TUI does not show it), read back and as streamed.
    expect(told?.parts.find((p) => p.type === 'text')).toMatchObject({ synthetic: true });
    const streamedTold = stream.events.filter((e) => e.type === 'message.part.updated' && (e.properties.part as Part & { messageID: string }).messageID === told?.info.id).map((e) => e.properties.part as Part & { synthetic?: boolean });
    expect(streamedTold.length).toBeGreaterThan(0);
    for (const part of streamedTold) expect(part.synthetic).toBe(true);
    expect(after.at(-1)?.parts.filter((p) => p.type === 'text').at(-1)?.text).toBe('Got the result.');
    // The model read it as the new prompt.
    const last = model.log.filter((r) => r.model === 'a').at(-1);
    expect(JSON.stringify(last?.body)).toContain('Background task completed: Slow search');
    abort.abort();
  });

  it('a child that fails in the background: the parent is told with OpenCode’s state="error" and <task_error>', async () => {
    const abort = new AbortController();
    const stream = collect((await client.event.subscribe({}, { signal: abort.signal })).stream as AsyncIterable<unknown>);
    await stream.until((e) => e.type === 'server.connected');
    const parent = (await client.session.create({})).data as { id: string };
    model.script('a', { type: 'tool_calls', calls: [{ name: 'task', arguments: { description: 'Doomed search', prompt: 'Search and fail', subagent_type: 'explore' }, id: 'call_doomed' }] }, { type: 'text', text: 'Launched.' }, { type: 'text', text: 'It failed.' });
    const child = gate();
    model.script('e', { type: 'status', status: 400, message: 'the model refused', after: child.promise });
    const before = model.log.filter((r) => r.model === 'e').length;
    await client.session.promptAsync({ sessionID: parent.id, agent: 'lead', parts: [{ type: 'text', text: 'Go' }] });
    await model.waitForRequests(before + 1, 'e');
    const childID = ((await stream.until((e) => e.type === 'session.created' && (e.properties.info as { parentID?: string }).parentID === parent.id)).properties.info as { id: string }).id;
    expect(await (await background(parent.id)).json()).toBe(true);
    await stream.until(idleOf(parent.id));
    child.open();
    let idles = 0;
    await stream.until((e) => idleOf(parent.id)(e) && ++idles === 2);
    abort.abort();
    const after = (await client.session.messages({ sessionID: parent.id })).data as Msg[];
    const told = after.at(-2)?.parts.find((p) => p.type === 'text')?.text ?? '';
    expect(told.split('\n').slice(0, 3)).toEqual([`<task id="${childID}" state="error">`, '<summary>Background task failed: Doomed search</summary>', '<task_error>']);
    expect(told).toContain('the model refused');
    expect(told.endsWith('</task_error>\n</task>')).toBe(true);
    expect(after.at(-1)?.parts.filter((p) => p.type === 'text').at(-1)?.text).toBe('It failed.');
  });

  it('a server stopping waits for a subagent in the background (within its grace) and saves its answer; exits 0', async () => {
    const other = await serve(sb, [], { OPENCODE_SERVER_PASSWORD: 'pw-bg' });
    const auth = { authorization: `Basic ${Buffer.from('opencode:pw-bg').toString('base64')}` };
    const otherClient = createOpencodeClient({ baseUrl: other.url, directory: sb.project, headers: auth });
    const abort = new AbortController();
    const stream = collect((await otherClient.event.subscribe({}, { signal: abort.signal })).stream as AsyncIterable<unknown>);
    await stream.until((e) => e.type === 'server.connected');
    const parent = (await otherClient.session.create({})).data as { id: string };
    model.script('a', { type: 'tool_calls', calls: [{ name: 'task', arguments: { description: 'Late search', prompt: 'Search late', subagent_type: 'explore' }, id: 'call_late' }] }, { type: 'text', text: 'Launched.' });
    const child = gate();
    model.script('e', { type: 'text', text: 'Late answer.', after: child.promise });
    const before = model.log.filter((r) => r.model === 'e').length;
    await otherClient.session.promptAsync({ sessionID: parent.id, agent: 'lead', parts: [{ type: 'text', text: 'Go' }] });
    await model.waitForRequests(before + 1, 'e');
    const childID = ((await stream.until((e) => e.type === 'session.created' && (e.properties.info as { parentID?: string }).parentID === parent.id)).properties.info as { id: string }).id;
    expect(await (await fetch(`${other.url}/experimental/session/${parent.id}/background`, { method: 'POST', headers: auth })).json()).toBe(true);
    await stream.until(idleOf(parent.id));
    abort.abort();
    const stopping = other.stop();
    // The child answers only once the server is shutting down (it no longer takes connections).
    await untilGone(`${other.url}/global/health`, 30_000);
    child.open();
    const stopped = await stopping;
    expect(stopped.code).toBe(0);
    const childMessages = (await client.session.messages({ sessionID: childID })).data as Msg[];
    expect(childMessages.map((m) => m.parts.find((p) => p.type === 'text')?.text)).toEqual(['Search late', 'Late answer.']);
    // Nobody was left to tell: the parent has its one turn.
    expect(((await client.session.messages({ sessionID: parent.id })).data as Msg[]).map((m) => m.info.role)).toEqual(['user', 'assistant']);
  });

  it('an unknown session is false (as OpenCode); an id that is no session id is a 400 naming it; no password, 401', async () => {
    const unknown = await background('ses_nosuchsession');
    expect(unknown.status).toBe(200);
    expect(await unknown.json()).toBe(false);
    const bad = await background('bogus');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('path parameter \\"sessionID\\": expected an id like ses_…, found \\"bogus\\"');
    expect((await background('ses_nosuchsession', false)).status).toBe(401);
  });
});
