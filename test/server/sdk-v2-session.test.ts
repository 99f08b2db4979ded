/**
 * OpenCode's v2 session API (`@opencode-ai/sdk/v2`'s `client.v2.session.*`) against the real
 * `opencode serve` and the scripted provider: create, prompt, wait, the messages in pages; an
 * interrupt of a turn in flight; a permission asked and answered through the v2 routes while a
 * second prompt waits its turn; agent and model switches seen by the next turn's request; and bad
 * input on every route answered in v2's tagged error bodies. Shapes as OpenCode 1.18.33's server
 * answers them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createOpencodeClient } from '@opencode-ai/sdk/v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type RequestLogEntry, type ScriptedServer } from '../support/openai-server.ts';
import { getJson, serve, type Served } from './serve-helper.ts';

type Message = { id: string; type: string; text?: string; finish?: string; error?: { type: string; message: string }; model?: { id: string }; content?: { type: string; text?: string; name?: string; state?: { status: string } }[] };

let sb: Sandbox;
let s: Served;
let model: ScriptedServer;
let client: ReturnType<typeof createOpencodeClient>;
let sdk: ReturnType<typeof createOpencodeClient>['v2']['session'];

beforeAll(async () => {
  model = await startScriptedServer({ models: { m: {}, m2: {}, hang: { default: { type: 'hang' } } } });
  sb = await sandbox();
  sb.write('opencode.json', {
    model: 'p/m',
    provider: { p: { options: { baseURL: model.url, apiKey: SECRET }, models: { m: {}, m2: {}, hang: {}, tool: {}, ask: {} } } },
    agent: { alpha: { prompt: 'You are agent ALPHA.' }, beta: { prompt: 'You are agent BETA.' } },
    permission: { bash: 'ask' },
  });
  s = await serve(sb);
  client = createOpencodeClient({ baseUrl: s.url, directory: sb.project });
  sdk = client.v2.session;
});

afterAll(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
});

async function created(body: Parameters<typeof sdk.create>[0] = {}): Promise<string> {
  const { data, response } = await sdk.create(body);
  expect(response.status).toBe(200);
  return (data as { data: { id: string } }).data.id;
}

async function messages(sessionID: string, order: 'asc' | 'desc' = 'asc'): Promise<Message[]> {
  return ((await sdk.messages({ sessionID, order })).data as { data: Message[] }).data;
}

const systemOf = (entry: RequestLogEntry | undefined) => JSON.stringify((entry?.messages as { role: string; content: unknown }[] | undefined)?.filter((m) => m.role === 'system'));

describe('@opencode-ai/sdk v2 session API', () => {
  it('create, prompt (admitted at once), wait, then the messages newest first, in pages, one by one and as the model’s context', async () => {
    const id = await created({ agent: 'alpha', model: { id: 'm', providerID: 'p' } });
    const got = (await sdk.get({ sessionID: id })).data as { data: Record<string, unknown> };
    expect(got.data).toMatchObject({ id, agent: 'alpha', model: { id: 'm', providerID: 'p' }, cost: 0, title: expect.stringMatching(/^New session - /), location: { directory: sb.project }, time: { created: expect.any(Number) } });

    const admitted = await sdk.prompt({ sessionID: id, prompt: { text: 'hello there' } });
    expect(admitted.response.status).toBe(200);
    expect((admitted.data as { data: unknown }).data).toMatchObject({ admittedSeq: 1, id: expect.stringMatching(/^msg_/), sessionID: id, prompt: { text: 'hello there' }, delivery: 'steer', timeCreated: expect.any(Number) });
    expect((await sdk.wait({ sessionID: id })).response.status).toBe(204);
    expect(((await sdk.active()).data as { data: Record<string, unknown> }).data[id]).toBeUndefined();

    const page = (await sdk.messages({ sessionID: id })).data as { data: Message[]; cursor: { previous: string | null; next: string | null } };
    expect(page.data.map((m) => m.type)).toEqual(['assistant', 'user']);
    expect(page.data[1]).toMatchObject({ id: (admitted.data as { data: { id: string } }).data.id, text: 'hello there', time: { created: expect.any(Number) } });
    expect(page.data[0]).toMatchObject({ agent: 'alpha', model: { id: 'm', providerID: 'p' }, finish: 'stop', content: [{ type: 'text', text: 'echo: hello there' }], tokens: { input: expect.any(Number) } });
    // Pages of one: the newest, then (cursor.next) the one before it, then nothing.
    const first = (await sdk.messages({ sessionID: id, limit: 1 })).data as typeof page;
    expect(first.data.map((m) => m.id)).toEqual([page.data[0]?.id]);
    const second = (await sdk.messages({ sessionID: id, limit: 1, cursor: first.cursor.next as string })).data as typeof page;
    expect(second.data.map((m) => m.id)).toEqual([page.data[1]?.id]);
    const back = (await sdk.messages({ sessionID: id, limit: 1, cursor: second.cursor.previous as string })).data as typeof page;
    expect(back.data.map((m) => m.id)).toEqual([page.data[0]?.id]);
    expect((await sdk.messages({ sessionID: id, cursor: second.cursor.next as string })).data).toEqual({ data: [], cursor: { previous: null, next: null } });
    expect((await messages(id, 'asc')).map((m) => m.type)).toEqual(['user', 'assistant']);

    const one = await sdk.message({ sessionID: id, messageID: page.data[0]?.id as string });
    expect((one.data as { data: Message }).data).toEqual(page.data[0]);
    expect(((await sdk.context({ sessionID: id })).data as { data: Message[] }).data.map((m) => m.type)).toEqual(['user', 'assistant']);
    // Compacted: the model's context starts at the summary.
    expect((await sdk.compact({ sessionID: id })).response.status).toBe(204);
    const context = ((await sdk.context({ sessionID: id })).data as { data: (Message & { summary?: string })[] }).data;
    expect(context).toEqual([expect.objectContaining({ type: 'compaction', reason: 'manual', summary: expect.stringContaining('echo:') })]);
  });

  it('interrupt a turn in flight: the provider’s request is aborted, the session ends idle, the reply is saved as it stood', async () => {
    const id = await created({ model: { id: 'hang', providerID: 'p' } });
    const before = model.log.length;
    await sdk.prompt({ sessionID: id, prompt: { text: 'never answered' } });
    await model.waitFor((log) => log.length > before && log.at(-1)?.model === 'hang');
    expect(((await sdk.active()).data as { data: Record<string, unknown> }).data[id]).toEqual({ type: 'running' });
    expect((await sdk.interrupt({ sessionID: id })).response.status).toBe(204);
    const entry = model.log.at(-1) as RequestLogEntry;
    await model.waitFor(() => entry.endedAt !== null);
    expect(entry.clientAborted).toBe(true);
    expect(((await sdk.active()).data as { data: Record<string, unknown> }).data[id]).toBeUndefined();
    expect((await sdk.wait({ sessionID: id })).response.status).toBe(204);
    const list = await messages(id);
    expect(list.map((m) => m.type)).toEqual(['user', 'assistant']);
    expect(list[1]).toMatchObject({ finish: 'error', error: { type: 'unknown', message: expect.stringMatching(/interrupt/i) } });
    expect(JSON.stringify(list)).not.toContain('"status":"running"');
    // Idle: an interrupt is a no-op.
    expect((await sdk.interrupt({ sessionID: id })).response.status).toBe(204);
  });

  it('a permission asked by the turn, answered through the v2 routes; a prompt sent meanwhile waits its turn', async () => {
    model.script('tool', { type: 'tool_calls', calls: [{ name: 'bash', arguments: { command: 'echo v2-ok', description: 'say ok' } }] }, { type: 'text', text: 'ran it' });
    const id = await created({ model: { id: 'tool', providerID: 'p' } });
    const before = model.log.length;
    await sdk.prompt({ sessionID: id, prompt: { text: 'run it' } });
    // Nobody listens on /event: the request is kept open for a v2 client to find.
    let asked: { id: string; action: string; resources: string[]; source?: { type: string; callID: string } } | undefined;
    await model.waitFor((log) => log.length > before);
    while (!asked) asked = ((await sdk.permission.list({ sessionID: id })).data as unknown as { data: (typeof asked)[] }).data[0];
    expect(asked).toMatchObject({ id: expect.stringMatching(/^per/), sessionID: id, action: 'bash', resources: ['echo v2-ok'], source: { type: 'tool', callID: expect.any(String) } });
    expect((await sdk.permission.get({ sessionID: id, requestID: asked.id })).data).toEqual({ data: asked });

    // Busy: a second prompt is admitted and runs when the first turn has ended.
    const queued = await sdk.prompt({ sessionID: id, prompt: { text: 'and then this' }, delivery: 'queue' });
    expect((queued.data as { data: unknown }).data).toMatchObject({ admittedSeq: 2, delivery: 'queue' });
    expect(model.log.length).toBe(before + 1);

    expect((await sdk.permission.reply({ sessionID: id, requestID: asked.id, reply: 'once' })).response.status).toBe(204);
    expect((await sdk.permission.reply({ sessionID: id, requestID: asked.id, reply: 'once' })).response.status).toBe(404);
    expect((await sdk.wait({ sessionID: id })).response.status).toBe(204);
    const list = await messages(id);
    expect(list.map((m) => m.type)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(list[1]?.content).toEqual([expect.objectContaining({ type: 'tool', name: 'bash', state: expect.objectContaining({ status: 'completed', content: [{ type: 'text', text: expect.stringContaining('v2-ok') }] }) }), expect.objectContaining({ type: 'text', text: 'ran it' })]);
    expect(list[3]?.content).toEqual([expect.objectContaining({ text: 'echo: and then this' })]);
    const [, , third] = model.log.slice(before);
    expect(third?.startedAt).toBeGreaterThanOrEqual(model.log[before + 1]?.endedAt as number);
  });

  it('deleting a session drops the prompts queued on it: none starts, the session stays gone', async () => {
    const id = await created({ model: { id: 'hang', providerID: 'p' } });
    const before = model.log.length;
    await sdk.prompt({ sessionID: id, prompt: { text: 'never answered' } });
    await model.waitFor((log) => log.length > before);
    await sdk.prompt({ sessionID: id, prompt: { text: 'queued behind it' } });
    expect((await client.session.delete({ sessionID: id })).response.status).toBe(200);
    // A queued prompt would have started as the aborted turn ended, before the delete answered.
    expect(((await sdk.active()).data as { data: Record<string, unknown> }).data[id]).toBeUndefined();
    expect((await sdk.get({ sessionID: id })).response.status).toBe(404);
    expect(model.log.length).toBe(before + 1);
  });

  it('a question the model asks, answered (then another dismissed) through the v2 routes with nobody listening on /event', async () => {
    const pick = { question: 'Which database?', header: 'Database', options: [{ label: 'Postgres', description: 'Relational' }, { label: 'SQLite', description: 'Embedded' }] };
    model.script('ask', { type: 'tool_calls', calls: [{ name: 'question', arguments: { questions: [pick] } }] }, { type: 'text', text: 'noted' });
    const id = await created({ model: { id: 'ask', providerID: 'p' } });
    await sdk.prompt({ sessionID: id, prompt: { text: 'ask me' } });
    let open: { id: string; sessionID: string; questions: unknown[] } | undefined;
    while (!open) open = ((await sdk.question.list({ sessionID: id })).data as unknown as { data: (typeof open)[] }).data[0];
    expect(open).toMatchObject({ id: expect.stringMatching(/^que/), sessionID: id, questions: [pick] });
    const wrong = await sdk.question.reply({ sessionID: id, requestID: open.id, questionV2Reply: { answers: [['MySQL', 'SQLite']] } });
    expect([wrong.response.status, wrong.error]).toEqual([400, expect.objectContaining({ _tag: 'InvalidRequestError' })]);
    expect((await sdk.question.reply({ sessionID: id, requestID: open.id, questionV2Reply: { answers: [['SQLite']] } })).response.status).toBe(204);
    await sdk.wait({ sessionID: id });
    const reply = (await messages(id, 'desc'))[0];
    expect(reply?.content).toEqual([expect.objectContaining({ type: 'tool', name: 'question', state: expect.objectContaining({ status: 'completed', content: [{ type: 'text', text: expect.stringContaining('"Which database?"="SQLite"') }] }) }), expect.objectContaining({ text: 'noted' })]);
    expect(((await sdk.question.list({ sessionID: id })).data as { data: unknown[] }).data).toEqual([]);

    model.script('ask', { type: 'tool_calls', calls: [{ name: 'question', arguments: { questions: [pick] } }] }, { type: 'text', text: 'SHOULD NOT APPEAR' });
    await sdk.prompt({ sessionID: id, prompt: { text: 'ask again' } });
    let again: { id: string } | undefined;
    while (!again) again = ((await sdk.question.list({ sessionID: id })).data as unknown as { data: (typeof again)[] }).data[0];
    expect((await sdk.question.reject({ sessionID: id, requestID: again.id })).response.status).toBe(204);
    await sdk.wait({ sessionID: id });
    expect(JSON.stringify(await messages(id))).not.toContain('SHOULD NOT APPEAR');
    // The turn stopped at the dismissal: the model was not asked again.
    expect(model.pending('ask')).toBe(1);
  });

  it('a permission a client asks for: allowed, denied or opened as a request by the rules', async () => {
    const id = await created();
    const ask = await sdk.permission.create({ sessionID: id, action: 'bash', resources: ['rm -rf build'], metadata: { why: 'cleanup' } });
    const opened = (ask.data as { data: { id: string; effect: string } }).data;
    expect(opened).toEqual({ id: expect.stringMatching(/^per/), effect: 'ask' });
    expect(((await sdk.permission.list({ sessionID: id })).data as { data: unknown[] }).data).toEqual([{ id: opened.id, sessionID: id, action: 'bash', resources: ['rm -rf build'], save: ['rm -rf build'], metadata: { why: 'cleanup' } }]);
    expect((await sdk.permission.create({ sessionID: id, action: 'read', resources: ['a.txt'] })).data).toEqual({ data: { id: expect.stringMatching(/^per/), effect: 'allow' } });
    expect((await sdk.permission.reply({ sessionID: id, requestID: opened.id, reply: 'always' })).response.status).toBe(204);
    expect(((await sdk.permission.list({ sessionID: id })).data as { data: unknown[] }).data).toEqual([]);
    // "always" approved it for the project.
    expect(((await sdk.permission.create({ sessionID: id, action: 'bash', resources: ['rm -rf build'] })).data as { data: { effect: string } }).data.effect).toBe('allow');
  });

  it('agent and model switches are seen by the next turn’s request to the provider', async () => {
    const id = await created({ agent: 'alpha' });
    await sdk.prompt({ sessionID: id, prompt: { text: 'first' } });
    await sdk.wait({ sessionID: id });
    const firstRequest = model.log.at(-1);
    expect(firstRequest?.model).toBe('m');
    expect(systemOf(firstRequest)).toContain('ALPHA');
    expect((await sdk.switchAgent({ sessionID: id, agent: 'beta' })).response.status).toBe(204);
    expect((await sdk.switchModel({ sessionID: id, model: { id: 'm2', providerID: 'p' } })).response.status).toBe(204);
    expect(((await sdk.get({ sessionID: id })).data as { data: unknown }).data).toMatchObject({ agent: 'beta', model: { id: 'm2', providerID: 'p' } });
    await sdk.prompt({ sessionID: id, prompt: { text: 'second' } });
    await sdk.wait({ sessionID: id });
    const next = model.log.at(-1);
    expect(next?.model).toBe('m2');
    expect(systemOf(next)).toContain('BETA');
    expect(systemOf(next)).not.toContain('ALPHA');
    expect((await messages(id, 'desc'))[0]).toMatchObject({ type: 'assistant', agent: 'beta', model: { id: 'm2' } });
  });

  it('revert: staged (the turn’s files put back, the session marked), cleared (forward again), committed (the turns dropped)', async () => {
    const file = path.join(sb.project, 'made-by-v2.txt');
    model.script('tool', { type: 'tool_calls', calls: [{ name: 'write', arguments: { filePath: file, content: 'made\n' } }] }, { type: 'text', text: 'wrote it' });
    const id = await created({ model: { id: 'tool', providerID: 'p' } });
    await sdk.prompt({ sessionID: id, prompt: { text: 'make a file' } });
    await sdk.wait({ sessionID: id });
    expect(fs.readFileSync(file, 'utf8')).toBe('made\n');
    const [user] = await messages(id);
    const staged = await sdk.revert.stage({ sessionID: id, messageID: user?.id as string });
    const removed = { path: 'made-by-v2.txt', status: 'deleted', additions: 0, deletions: 1, patch: 'diff --git a/made-by-v2.txt b/made-by-v2.txt\ndeleted file mode 100644\nindex c5f1b8e..0000000\n--- a/made-by-v2.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-made\n' };
    expect(staged.data).toEqual({ data: { messageID: user?.id, diff: removed.patch.slice(0, -1), files: [removed] } });
    expect(fs.existsSync(file)).toBe(false);
    expect(((await sdk.get({ sessionID: id })).data as { data: unknown }).data).toMatchObject({ revert: { messageID: user?.id } });
    expect((await sdk.revert.clear({ sessionID: id })).response.status).toBe(204);
    expect(fs.readFileSync(file, 'utf8')).toBe('made\n');
    expect(((await sdk.get({ sessionID: id })).data as { data: { revert?: unknown } }).data.revert).toBeUndefined();
    await sdk.revert.stage({ sessionID: id, messageID: user?.id as string });
    expect((await sdk.revert.commit({ sessionID: id })).response.status).toBe(204);
    expect(fs.existsSync(file)).toBe(false);
    expect(await messages(id)).toEqual([]);
    const unknown = await sdk.revert.stage({ sessionID: id, messageID: 'msg_nope' });
    expect([unknown.response.status, unknown.error]).toEqual([404, expect.objectContaining({ _tag: 'MessageNotFoundError', sessionID: id, messageID: 'msg_nope' })]);
    const filesOff = await sdk.revert.stage({ sessionID: id, messageID: 'msg_nope', files: false });
    expect([filesOff.response.status, filesOff.error]).toEqual([400, expect.objectContaining({ _tag: 'InvalidRequestError', field: 'files' })]);
  });

  it('sessions listed newest first in pages; a cursor takes no order', async () => {
    const own = await sandbox();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push(await created({ location: { directory: own.project } }));
      const at = createOpencodeClient({ baseUrl: s.url, directory: own.project }).v2.session;
      const first = (await at.list({ limit: 2 })).data as { data: { id: string }[]; cursor: { next: string } };
      expect(first.data.map((x) => x.id)).toEqual([ids[2], ids[1]]);
      const rest = (await at.list({ limit: 2, cursor: first.cursor.next })).data as typeof first;
      expect(rest.data.map((x) => x.id)).toEqual([ids[0]]);
      expect(((await at.list({ order: 'asc' })).data as typeof first).data.map((x) => x.id)).toEqual(ids);
      const mixed = await at.list({ cursor: first.cursor.next, order: 'asc' });
      expect(mixed.response.status).toBe(400);
      expect(mixed.error).toMatchObject({ _tag: 'InvalidCursorError' });
    } finally {
      await own.remove();
    }
  });

  it('bad input on every route: unknown ids 404, malformed ids and bodies 400, in v2’s tagged error bodies', async () => {
    const id = await created();
    const base = `${s.url}/api/session`;
    const post = (path: string, body?: string) => getJson(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-opencode-directory': sb.project }, ...(body === undefined ? {} : { body }) });
    const get = (path: string) => getJson(`${base}${path}`, { headers: { 'x-opencode-directory': sb.project } });
    const routes: [string, (sid: string) => Promise<{ status: number; body: unknown }>][] = [
      ['get', (sid) => get(`/${sid}`)],
      ['agent', (sid) => post(`/${sid}/agent`, '{"agent":"beta"}')],
      ['model', (sid) => post(`/${sid}/model`, '{"model":{"id":"m","providerID":"p"}}')],
      ['prompt', (sid) => post(`/${sid}/prompt`, '{"prompt":{"text":"x"}}')],
      ['wait', (sid) => post(`/${sid}/wait`)],
      ['interrupt', (sid) => post(`/${sid}/interrupt`)],
      ['compact', (sid) => post(`/${sid}/compact`)],
      ['messages', (sid) => get(`/${sid}/message`)],
      ['message', (sid) => get(`/${sid}/message/msg_x`)],
      ['context', (sid) => get(`/${sid}/context`)],
      ['permissions', (sid) => get(`/${sid}/permission`)],
      ['permission', (sid) => get(`/${sid}/permission/per_x`)],
      ['permission create', (sid) => post(`/${sid}/permission`, '{"action":"bash","resources":["ls"]}')],
      ['permission reply', (sid) => post(`/${sid}/permission/per_x/reply`, '{"reply":"once"}')],
      ['questions', (sid) => get(`/${sid}/question`)],
      ['question reply', (sid) => post(`/${sid}/question/que_x/reply`, '{"answers":[]}')],
      ['question reject', (sid) => post(`/${sid}/question/que_x/reject`)],
      ['revert stage', (sid) => post(`/${sid}/revert/stage`, '{"messageID":"msg_x"}')],
      ['revert clear', (sid) => post(`/${sid}/revert/clear`)],
      ['revert commit', (sid) => post(`/${sid}/revert/commit`)],
    ];
    for (const [name, call] of routes) {
      const missing = await call('ses_nope');
      expect([name, missing.status, missing.body]).toEqual([name, 404, expect.objectContaining({ _tag: 'SessionNotFoundError', sessionID: 'ses_nope', message: expect.stringContaining('ses_nope') })]);
      const bogus = await call('bogus');
      expect([name, bogus.status, bogus.body]).toEqual([name, 400, expect.objectContaining({ _tag: 'InvalidRequestError', field: 'sessionID', kind: 'Params' })]);
    }
    // Unknown requests and messages of a session that exists.
    expect(await get(`/${id}/message/msg_nope`)).toMatchObject({ status: 404, body: { _tag: 'MessageNotFoundError', sessionID: id, messageID: 'msg_nope' } });
    expect(await get(`/${id}/permission/per_nope`)).toMatchObject({ status: 404, body: { _tag: 'PermissionNotFoundError', requestID: 'per_nope' } });
    expect(await post(`/${id}/permission/per_nope/reply`, '{"reply":"once"}')).toMatchObject({ status: 404, body: { _tag: 'PermissionNotFoundError' } });
    expect(await post(`/${id}/question/que_nope/reject`)).toMatchObject({ status: 404, body: { _tag: 'QuestionNotFoundError', requestID: 'que_nope' } });
    expect(await get(`/${id}/permission/bogus`)).toMatchObject({ status: 400, body: { _tag: 'InvalidRequestError', field: 'requestID' } });
    expect(await post(`/${id}/question/bogus/reject`)).toMatchObject({ status: 400, body: { _tag: 'InvalidRequestError', field: 'requestID' } });
    // Malformed bodies and queries: 400 naming the field.
    const bad: [Promise<{ status: number; body: unknown }>, string | undefined][] = [
      [post('', '{"id":"bad"}'), 'id'],
      [post('', '{"agent":"nobody"}'), 'agent'],
      [post('', '{"model":{"id":"nope","providerID":"p"}}'), 'model'],
      [post('', '[]'), undefined],
      [post(`/${id}/agent`, '{}'), 'agent'],
      [post(`/${id}/agent`, '{"agent":"nobody"}'), 'agent'],
      [post(`/${id}/model`, '{"model":"p/m"}'), 'model'],
      [post(`/${id}/model`, '{"model":{"id":"nope","providerID":"p"}}'), 'model'],
      [post(`/${id}/prompt`, '{"prompt":{}}'), 'prompt.text'],
      [post(`/${id}/prompt`, 'not json'), undefined],
      [post(`/${id}/prompt`, '{"prompt":{"text":"x"},"delivery":"later"}'), 'delivery'],
      [post(`/${id}/prompt`, '{"prompt":{"text":"x"},"resume":false}'), 'resume'],
      [post(`/${id}/prompt`, '{"id":"nope","prompt":{"text":"x"}}'), 'id'],
      [post(`/${id}/permission`, '{"action":"bash"}'), 'resources'],
      [post(`/${id}/permission/per_x/reply`, '{"reply":"maybe"}'), 'reply'],
      [post(`/${id}/revert/stage`, '{}'), 'messageID'],
      [get(`/${id}/message?limit=0`), 'limit'],
      [get(`/${id}/message?limit=201`), 'limit'],
      [get(`/${id}/message?order=up`), 'order'],
      [get('?limit=abc'), 'limit'],
    ];
    for (const [answer, field] of bad) {
      const { status, body } = await answer;
      expect([field, status, body]).toEqual([field, 400, expect.objectContaining({ _tag: 'InvalidRequestError', message: expect.any(String), ...(field ? { field } : {}) })]);
    }
    expect(await get(`/${id}/message?cursor=garbage`)).toMatchObject({ status: 400, body: { _tag: 'InvalidCursorError' } });
    // A client's own id: taken once, then a conflict.
    expect(await post('', '{"id":"ses_mine_v2_1"}')).toMatchObject({ status: 200, body: { data: { id: 'ses_mine_v2_1' } } });
    expect(await post('', '{"id":"ses_mine_v2_1"}')).toMatchObject({ status: 409, body: { _tag: 'ConflictError', message: expect.stringContaining('ses_mine_v2_1') } });
    // Nothing was run or changed by any of it.
    expect(await messages(id)).toEqual([]);
  });
});
