/**
 * The real OpenCode clients against `opencode serve`: @opencode-ai/sdk's createOpencodeServer()
 * spawns it from PATH, and its v1 and v2 clients create sessions, prompt (sync and async), read
 * messages, follow /event and /global/event during a prompt, abort and delete.
 */
import { createOpencodeServer } from '@opencode-ai/sdk/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { v1Calls, v2Calls, type Calls } from './sdk-clients.ts';
import { SDK_START_TIMEOUT_MS, collect, idleOf, tuiMessages, untilGone, useSandboxEnv, type OcEventLike } from './sdk-helper.ts';

type Msg = { info: { id: string; role: string; time: { created: number }; error?: { name: string }; parentID?: string; tokens?: { input: number }; providerID?: string; modelID?: string; model?: object }; parts: { id: string; type: string; text?: string }[] };

describe.each([
  ['v1', v1Calls],
  ['v2', v2Calls],
] as const)('@opencode-ai/sdk %s client', (_name, makeCalls) => {
  let sb: Sandbox;
  let model: ScriptedServer;
  let server: { url: string; close(): void };
  let restore: () => void;
  let api: Calls;

  beforeAll(async () => {
    model = await startScriptedServer({ models: { m: {}, hang: { default: { type: 'hang' } } } });
    sb = await sandbox();
    restore = await useSandboxEnv(sb);
    const config = {
      model: 'p/m',
      provider: { p: { options: { baseURL: model.url, apiKey: SECRET }, models: { m: { cost: { input: 1, output: 2 }, variants: { deep: { reasoningEffort: 'high' } } }, hang: {} } } },
      // Model options of an agent, as OpenCode lists them on /agent (an apiKey among them masked).
      agent: { oracle: { reasoningEffort: 'high', options: { apiKey: SECRET } } },
      command: { shout: { template: 'Say $1 loudly, then !`echo done`.' }, stall: { template: 'Wait for $ARGUMENTS.', model: 'p/hang' } },
    };
    server = await createOpencodeServer({ port: 0, timeout: SDK_START_TIMEOUT_MS, config: config as never });
    api = makeCalls(server.url, sb.project);
  });

  afterAll(async () => {
    server?.close();
    // The server is gone when it refuses connections.
    if (server) await untilGone(`${server.url}/global/health`);
    restore?.();
    await model?.close();
    await sb?.remove();
  });

  it('health, providers, agents and the config, without the key', async () => {
    expect(await api.health()).toMatchObject({ status: 200, data: { healthy: true } });
    const providers = await api.providers();
    expect(providers.data).toMatchObject({ providers: [{ id: 'p', models: { m: { id: 'm' }, hang: { id: 'hang' } } }], default: { p: 'm' } });
    const agents = (await api.agents()).data as { name: string; options: Record<string, unknown> }[];
    expect(agents).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'sisyphus' })]));
    expect(agents.find((a) => a.name === 'oracle')?.options).toEqual({ reasoningEffort: 'high', apiKey: expect.not.stringContaining(SECRET) });
    expect(JSON.stringify(agents)).not.toContain(SECRET);
    const config = await api.config();
    expect(config.data).toMatchObject({ model: 'p/m' });
    expect(JSON.stringify(config.data)).not.toContain(SECRET);
  });

  it('creates a session, prompts and waits, reads the messages back with the same ids the stream carried', async () => {
    const created = await api.create('first');
    expect(created).toMatchObject({ status: 200, data: { id: expect.stringMatching(/^ses_/), title: 'first', directory: sb.project } });
    const id = (created.data as { id: string }).id;
    const abort = new AbortController();
    const stream = collect(await api.events(abort.signal));
    await stream.until((e) => e.type === 'server.connected');
    const reply = await api.prompt(id, 'hello there');
    expect(reply.status).toBe(200);
    const msg = reply.data as Msg;
    expect(msg.info).toMatchObject({ role: 'assistant', providerID: 'p', modelID: 'm', tokens: { input: expect.any(Number) }, finish: 'stop' });
    expect(msg.parts.map((p) => p.type)).toEqual(['step-start', 'text', 'step-finish']);
    expect(msg.parts[1]?.text).toBe('echo: hello there');
    await stream.until(idleOf(id));
    // The assistant message names its model from its first update, before any step (the TUI's footer while it runs).
    const firstUpdate = stream.of('message.updated').find((e) => (e.properties.info as { id?: string } | undefined)?.id === msg.info.id);
    expect(firstUpdate?.properties.info).toMatchObject({ providerID: 'p', modelID: 'm', tokens: { output: 0 } });
    const deltas = stream.of('message.part.delta').filter((e) => e.properties.messageID === msg.info.id);
    expect(deltas.map((e) => e.properties.delta).join('')).toBe('echo: hello there');
    expect(new Set(deltas.map((e) => e.properties.partID))).toEqual(new Set([msg.parts[1]?.id]));
    const types = stream.events.filter((e) => e.properties.sessionID === id).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['session.status', 'message.updated', 'message.part.updated', 'message.part.delta', 'pantheon.step_finish', 'pantheon.done', 'session.idle']));
    expect(types.indexOf('session.status')).toBeLessThan(types.indexOf('message.part.delta'));
    const messages = (await api.messages(id)).data as Msg[];
    expect(messages.map((m) => m.info.role)).toEqual(['user', 'assistant']);
    expect(messages[1]).toEqual(msg);
    expect(messages[1]?.info.parentID).toBe(messages[0]?.info.id);
    expect((await api.message(id, msg.info.id)).data).toEqual(msg);
    expect((await api.list()).data).toEqual(expect.arrayContaining([expect.objectContaining({ id })]));
    abort.abort();
  });

  it('an answer the output limit cut says so: its step-finish part and the message finish with `length`, live and read back', async () => {
    const id = ((await api.create('cut')).data as { id: string }).id;
    model.script('m', { type: 'text', text: 'It all began', finishReason: 'length' });
    const msg = (await api.prompt(id, 'tell me everything')).data as Msg;
    const finish = (m: Msg) => [(m.info as { finish?: string }).finish, (m.parts.at(-1) as { type: string; reason?: string } | undefined)?.reason];
    expect(finish(msg)).toEqual(['length', 'length']);
    const saved = ((await api.messages(id)).data as Msg[]).at(-1) as Msg;
    expect(finish(saved)).toEqual(['length', 'length']);
    model.script('m', { type: 'text', text: 'Short.' });
    expect(finish((await api.prompt(id, 'in short')).data as Msg)).toEqual(['stop', 'stop']);
  });

  it('a session created without a title is told titled by its first message once that turn ends (the TUI\'s header and session list follow session.updated)', async () => {
    const created = (await api.create()).data as { id: string; title: string };
    expect(created.title).toMatch(/^New session - /);
    const abort = new AbortController();
    const stream = collect(await api.events(abort.signal));
    await stream.until((e) => e.type === 'server.connected');
    await api.promptAsync(created.id, 'why do the   tests\nfail on CI?');
    await stream.until(idleOf(created.id));
    const updates = stream.of('session.updated').filter((e) => (e.properties.info as { id: string }).id === created.id);
    expect((updates.at(-1)?.properties.info as { title: string }).title).toBe('why do the tests fail on CI?');
    // Told as the turn starts, before the answer streams.
    const titled = stream.events.findIndex((e) => e.type === 'session.updated' && (e.properties.info as { title: string }).title === 'why do the tests fail on CI?');
    const answered = stream.events.findIndex((e) => e.type === 'message.part.delta' && e.properties.sessionID === created.id);
    expect(titled).toBeGreaterThanOrEqual(0);
    expect(titled).toBeLessThan(answered);
    abort.abort();
  });

  it('prompt_async answers at once; /event and /global/event carry the reply; the session goes idle', async () => {
    const id = ((await api.create()).data as { id: string }).id;
    const abort = new AbortController();
    const local = collect(await api.events(abort.signal));
    const global = collect(await api.globalEvents(abort.signal), (e) => (e as { payload: OcEventLike }).payload);
    await Promise.all([local.until((e) => e.type === 'server.connected'), global.until((e) => e.type === 'server.connected')]);
    const accepted = await api.promptAsync(id, 'in the background');
    expect(accepted.status).toBe(204);
    await Promise.all([local.until(idleOf(id)), global.until(idleOf(id))]);
    for (const stream of [local, global]) {
      const text = stream.of('message.part.delta').filter((e) => e.properties.sessionID === id).map((e) => e.properties.delta).join('');
      expect(text).toBe('echo: in the background');
    }
    const messages = (await api.messages(id)).data as Msg[];
    expect(messages.at(-1)?.parts.find((p) => p.type === 'text')?.text).toBe('echo: in the background');
    abort.abort();
  });

  it('read in the middle of a turn, the session has the turn as it stands (the user message, the reply so far), with the ids its end keeps', async () => {
    const id = ((await api.create('mid-turn')).data as { id: string }).id;
    const abort = new AbortController();
    const stream = collect(await api.events(abort.signal));
    await stream.until((e) => e.type === 'server.connected');
    // The first words, then nothing until the turn is aborted.
    model.script('hang', { type: 'hang', text: 'partial answer' });
    expect((await api.promptAsync(id, 'start and stall', { model: { providerID: 'p', modelID: 'hang' } })).status).toBe(204);
    await stream.until((e) => e.type === 'message.part.delta' && e.properties.sessionID === id);
    const during = (await api.messages(id)).data as Msg[];
    expect(during.map((m) => m.info.role)).toEqual(['user', 'assistant']);
    expect(during[0]?.parts.find((p) => p.type === 'text')?.text).toBe('start and stall');
    expect(during[1]?.info.parentID).toBe(during[0]?.info.id);
    expect(during[1]?.parts.find((p) => p.type === 'text')?.text).toMatch(/^partial/);
    expect(await api.abort(id)).toMatchObject({ status: 200, data: true });
    await stream.until(idleOf(id));
    const after = (await api.messages(id)).data as Msg[];
    expect(after.map((m) => m.info.id)).toEqual(during.map((m) => m.info.id));
    // The interrupted reply keeps its words so far and names the model that was answering, as OpenCode's does.
    expect(after[1]?.info).toMatchObject({ providerID: 'p', modelID: 'hang', error: { name: 'MessageAbortedError' } });
    expect(after[1]?.parts.find((p) => p.type === 'text')?.text).toBe('partial answer');
    expect(after[0]?.info).toMatchObject({ model: { providerID: 'p', modelID: 'hang' } });
    // OpenCode's TUI keys messages by creation time and id: both kept from the first event to the saved session.
    expect(after.map((m) => m.info.time.created)).toEqual(during.map((m) => m.info.time.created));
    expect(tuiMessages(stream.events, id, during.map((m) => m.info)).map((m) => [m.id, m.time.created])).toEqual(after.map((m) => [m.info.id, m.info.time.created]));
    abort.abort();
  });

  it('a client that keeps messages as OpenCode’s TUI does (by creation time and id) has each message of a session once, as saved', async () => {
    const id = ((await api.create('keyed')).data as { id: string }).id;
    const abort = new AbortController();
    const stream = collect(await api.events(abort.signal));
    await stream.until((e) => e.type === 'server.connected');
    for (const text of ['one', 'two', 'three']) expect((await api.prompt(id, text)).status).toBe(200);
    await stream.until(idleOf(id));
    const saved = ((await api.messages(id)).data as Msg[]).map((m) => m.info);
    expect(saved.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user', 'assistant']);
    expect(tuiMessages(stream.events, id).map((m) => [m.id, m.time.created])).toEqual(saved.map((m) => [m.id, m.time.created]));
    abort.abort();
  });

  it('abort stops a turn the model never answers: busy, then idle; the reply says it was aborted', async () => {
    const id = ((await api.create()).data as { id: string }).id;
    const abort = new AbortController();
    const stream = collect(await api.events(abort.signal));
    await stream.until((e) => e.type === 'server.connected');
    const requests = model.log.length;
    expect((await api.promptAsync(id, 'wait forever', { model: { providerID: 'p', modelID: 'hang' } })).status).toBe(204);
    await model.waitFor((log) => log.length > requests);
    expect((await api.status()).data).toMatchObject({ [id]: { type: 'busy' } });
    expect(await api.abort(id)).toMatchObject({ status: 200, data: true });
    await stream.until(idleOf(id));
    expect(stream.of('session.error').map((e) => e.properties)).toEqual([{ sessionID: id, error: expect.objectContaining({ name: 'MessageAbortedError' }) }]);
    expect((await api.status()).data).not.toHaveProperty(id);
    const last = ((await api.messages(id)).data as Msg[]).at(-1);
    expect(last?.info).toMatchObject({ role: 'assistant', error: { name: 'MessageAbortedError' } });
    await model.waitFor((log) => log.at(-1)?.clientAborted === true);
    abort.abort();
  });

  it('a prompt’s variant without a model: the agent’s model with that variant, as OpenCode takes it', async () => {
    const id = ((await api.create('variant')).data as { id: string }).id;
    const reply = await api.prompt(id, 'think deeply', { variant: 'deep' });
    expect(reply.status).toBe(200);
    expect(model.log.at(-1)?.body).toMatchObject({ model: 'm', reasoning_effort: 'high' });
  });

  it('session.command runs a custom command of the config; an unknown one is a 400 naming the field', async () => {
    const id = ((await api.create('command')).data as { id: string }).id;
    const reply = await api.command(id, 'shout', 'hello there');
    expect(reply.status).toBe(200);
    expect((reply.data as Msg).parts.find((p) => p.type === 'text')?.text).toBe('echo: Say hello there loudly, then done\n.');
    const unknown = await api.command(id, 'whisper', 'x');
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.error)).toMatch(/no command named \\"whisper\\"/);
  });

  it('session.command: a client that goes away leaves the turn to run on; abort ends it and the server goes on', async () => {
    const id = ((await api.create('stalled command')).data as { id: string }).id;
    const requests = model.log.length;
    const gone = new AbortController();
    const pending = fetch(`${server.url}/session/${id}/command?directory=${encodeURIComponent(sb.project)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ command: 'stall', arguments: 'ever' }),
      signal: gone.signal,
    }).catch((error: unknown) => error);
    await model.waitFor((log) => log.length > requests);
    gone.abort();
    expect(await pending).toBeInstanceOf(Error);
    expect((await api.status()).data).toMatchObject({ [id]: { type: 'busy' } });
    expect(await api.abort(id)).toMatchObject({ status: 200, data: true });
    await model.waitFor((log) => log.at(-1)?.clientAborted === true);
    expect((await api.status()).data).not.toHaveProperty(id);
    expect((await api.health()).status).toBe(200);
  });

  it('session.fork copies a session whole or up to a user message; an unknown message is a 400', async () => {
    const id = ((await api.create('original')).data as { id: string }).id;
    await api.prompt(id, 'first turn');
    await api.prompt(id, 'second turn');
    const messages = (await api.messages(id)).data as Msg[];
    expect(messages.map((m) => m.info.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    const whole = await api.fork(id);
    expect(whole).toMatchObject({ status: 200, data: { id: expect.stringMatching(/^ses_/), title: 'original (fork)' } });
    const wholeId = (whole.data as { id: string }).id;
    expect(((await api.messages(wholeId)).data as Msg[]).map((m) => m.info.id)).toEqual(messages.map((m) => m.info.id));
    const cut = await api.fork(id, messages[2]?.info.id);
    const cutMessages = (await api.messages((cut.data as { id: string }).id)).data as Msg[];
    expect(cutMessages.map((m) => m.parts.find((p) => p.type === 'text')?.text)).toEqual(['first turn', 'echo: first turn']);
    expect(((await api.messages(id)).data as Msg[]).length).toBe(4);
    const unknown = await api.fork(id, 'msg_nope');
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.error)).toMatch(/has no user message msg_nope/);
  });

  it('deletes a session: true, then it is gone (404); an unknown one is 404 everywhere', async () => {
    const id = ((await api.create()).data as { id: string }).id;
    expect(await api.remove(id)).toMatchObject({ status: 200, data: true });
    const gone = await api.get(id);
    expect(gone.status).toBe(404);
    expect(gone.error).toMatchObject({ name: 'NotFoundError', data: { code: 'SESSION_NOT_FOUND' } });
    expect((await api.prompt(id, 'hi')).status).toBe(404);
    expect((await api.messages('ses_doesnotexist')).status).toBe(404);
    expect((await api.remove(id)).status).toBe(404);
  });
});
