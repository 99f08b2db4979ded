/**
 * The guide's REST API (/api/v1) over real HTTP against a real `opencode serve`: sessions, sync and
 * async prompts, tasks that survive a SIGKILL of the server, webhooks verified with the guide's own
 * code (HMAC-SHA256 + timingSafeEqual) by receivers started here — one down at first — and refused
 * callback URLs.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { everythingStdio } from '../mcp/helpers.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { getJson, serve, type Served } from './serve-helper.ts';
import { receiver, verifyWebhookSignature } from './webhook-receiver.ts';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const json = (body: unknown, extra: Record<string, string> = {}) => ({ method: 'POST', headers: { 'content-type': 'application/json', ...extra }, body: JSON.stringify(body) });

async function poll(url: string, done: (b: { status: string }) => boolean): Promise<{ status: string; result?: { content: string }; error?: { code: string } }> {
  for (;;) {
    const { body } = await getJson(url);
    if (done(body as { status: string })) return body as { status: string };
    await new Promise((r) => setTimeout(r, 50));
  }
}

let sb: Sandbox | undefined;
let model: ScriptedServer | undefined;
let s: Served | undefined;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await s?.stop();
  for (const close of closers.splice(0)) await close();
  await model?.close();
  await sb?.remove();
  s = undefined;
  model = undefined;
  sb = undefined;
});

async function setup(server: object = {}, models: Record<string, object> = { m: {} }) {
  model = await startScriptedServer({ apiKey: SECRET, models });
  sb = await sandbox();
  sb.write('opencode.json', { ...providerConfig(model, Object.fromEntries(Object.keys(models).map((m) => [m, {}]))), model: 'p/m', cache: { enabled: false }, server });
  s = await serve(sb);
  return `${s.url}/api/v1`;
}

describe('/api/v1', () => {
  it('sessions, a sync prompt, the error shape and X-Request-ID', async () => {
    const api = await setup();
    const created = await getJson(`${api}/sessions`, json({ title: 'first' }));
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    const reply = await getJson(`${api}/sessions/${id}/prompt`, json({ parts: [{ type: 'text', text: 'hello api' }] }, { 'x-request-id': 'req_abc123' }));
    expect(reply.status).toBe(200);
    expect(reply.headers.get('x-request-id')).toBe('req_abc123');
    expect(reply.body).toMatchObject({ message: { role: 'assistant', content: 'echo: hello api', model: 'p/m' }, usage: { total_tokens: expect.any(Number) } });
    // The guide's Usage: totals, and the same per provider.
    const usage = (reply.body as { usage: { input_tokens: number; output_tokens: number; providers: Record<string, object> } }).usage;
    expect(usage.providers).toEqual({ p: { input_tokens: usage.input_tokens, output_tokens: usage.output_tokens } });
    // A misspelt field is named in a 400, with the fields there are; nothing is sent, stored or created.
    const typo = await getJson(`${api}/sessions/${id}/prompt`, json({ parts: [{ type: 'text', text: 'again' }], max_token: 50 }));
    expect(typo.status).toBe(400);
    expect(typo.body).toMatchObject({ error: { code: 'invalid_request', message: 'body field "max_token": is not a known field (known: parts, text, model, agent, system, temperature, max_tokens, stream, callback_url, callback_secret). See /doc for the fields of POST /api/v1/sessions/{session_id}/prompt.' } });
    expect((await getJson(`${api}/sessions/${id}/prompt_async`, json({ text: 'later', callbackUrl: 'http://127.0.0.1:9/hook' }))).status).toBe(400);
    const badSession = await getJson(`${api}/sessions`, json({ title: 'second', system_prompt: 'Be terse.' }));
    expect(badSession.status).toBe(400);
    expect((badSession.body as { error: { message: string } }).error.message).toMatch(/^body field "system_prompt": is not a known field \(known: title, agent, tags, model, systemPrompt\)/);
    // An agent that does not exist: a 400 naming the field (not a session that quietly runs another agent).
    const noAgent = await getJson(`${api}/sessions`, json({ title: 'x', agent: 'nope' }));
    const named = expect.stringMatching(/^agent: no agent named "nope"\. Available agents: atlas, build, /);
    expect(noAgent).toMatchObject({ status: 400, body: { error: { message: named, details: { field: 'agent' } } } });
    for (const path of ['prompt', 'prompt_async']) {
      const r = await getJson(`${api}/sessions/${id}/${path}`, json({ text: 'again', agent: 'nope' }));
      expect(r, path).toMatchObject({ status: 400, body: { error: { message: named, details: { field: 'agent' } } } });
    }
    const openCode = await getJson(`${s!.url}/session`, json({ agent: 'nope' }));
    expect(openCode).toMatchObject({ status: 400, body: { data: { code: 'UNKNOWN_AGENT', field: 'agent', message: 'agent: no agent named "nope".' } } });
    expect(model?.log).toHaveLength(1);
    const list = await getJson(`${api}/sessions?limit=1`);
    expect(list.body).toMatchObject({ sessions: [{ id, title: 'first' }], has_more: false });
    expect(((await getJson(`${api}/sessions`)).body as { sessions: object[] }).sessions).toHaveLength(1);
    expect((await getJson(`${api}/sessions/${id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"title":"renamed"}' })).body).toMatchObject({ title: 'renamed' });
    const detail = await getJson(`${api}/sessions/${id}`);
    expect((detail.body as { messages: { content: string }[] }).messages.map((m) => m.content)).toEqual(['hello api', 'echo: hello api']);
    expect((await fetch(`${api}/sessions/${id}`, { method: 'DELETE' })).status).toBe(204);
    const gone = await getJson(`${api}/sessions/${id}`, { headers: { 'x-request-id': 'req_gone' } });
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ error: { code: 'not_found', message: expect.stringContaining(id), request_id: 'req_gone' } });
    const bad = await getJson(`${api}/sessions?limit=500`);
    expect(bad.body).toMatchObject({ error: { code: 'invalid_request', message: expect.stringContaining('limit') } });
    expect((await getJson(`${api}/models`)).body).toMatchObject({ models: [{ id: 'p/m', provider: 'p' }] });
    expect((await getJson(`${api}/models/p/nope`)).status).toBe(404);
    const tools = (await getJson(`${api}/tools`)).body as { tools: { name: string }[] };
    expect(tools).toMatchObject({ tools: expect.arrayContaining([expect.objectContaining({ name: 'read', source: 'builtin' })]) });
    // No skill in the project or the user's folders: no skill tool, as a turn offers none.
    expect(tools.tools.map((t) => t.name)).not.toContain('skill');
    expect((await getJson(`${api}/mcp/status`)).body).toEqual({ servers: [] });
  });

  it('prompt_async: 202, a task to poll, signed webhooks and a signed callback; a receiver down at first gets its delivery when it comes back', async () => {
    const hook = await receiver();
    closers.push(hook.close);
    const downPort = await freePort();
    const callback = await receiver();
    closers.push(callback.close);
    const api = await setup({
      webhooks: [
        { id: 'wh_main', url: hook.url, secret: 'whsec-test-1', events: ['session.completed', 'message.created', 'task.completed'] },
        { id: 'wh_late', url: `http://127.0.0.1:${downPort}/hook`, secret: 'whsec-test-2', events: ['task.completed'], retryPolicy: { initialDelay: 300, backoffMultiplier: 1, maxRetries: 20 } },
      ],
    });
    const id = ((await getJson(`${api}/sessions`, json({}))).body as { id: string }).id;
    const accepted = await getJson(`${api}/sessions/${id}/prompt_async`, json({ parts: [{ type: 'text', text: 'later' }], callback_url: callback.url, callback_secret: 'cbsec-1' }));
    expect(accepted.status).toBe(202);
    const { task_id, status_url } = accepted.body as { task_id: string; status_url: string };
    expect(status_url).toBe(`${api}/tasks/${task_id}`);
    const task = await poll(status_url, (b) => b.status === 'completed' || b.status === 'failed');
    expect(task).toMatchObject({ status: 'completed', result: { content: 'echo: later', usage: { providers: { p: expect.any(Object) } } } });

    const done = await hook.next((d) => d.body.event === 'task.completed');
    expect(verifyWebhookSignature(done.raw, done.signature as string, 'whsec-test-1')).toBe(true);
    // The guide's receiver re-serialises the parsed body: the same bytes.
    expect(verifyWebhookSignature(JSON.stringify(done.body), done.signature as string, 'whsec-test-1')).toBe(true);
    expect(verifyWebhookSignature(done.raw, done.signature as string, 'whsec-wrong')).toBe(false);
    expect(done.body).toMatchObject({ webhook_id: 'wh_main', data: { task_id, status: 'completed' } });
    const message = await hook.next((d) => d.body.event === 'message.created');
    expect(message.body.data).toMatchObject({ session_id: id, role: 'assistant', content: 'echo: later', usage: { total_tokens: expect.any(Number), providers: { p: expect.any(Object) } } });
    await hook.next((d) => d.body.event === 'session.completed');
    const cb = await callback.next((d) => d.body.event === 'task.completed');
    expect(verifyWebhookSignature(cb.raw, cb.signature as string, 'cbsec-1')).toBe(true);
    for (const d of [...hook.got, ...callback.got]) expect(d.raw).not.toMatch(/whsec|cbsec|sk-abcdefghijklmnop9Qa/);

    // The second receiver was down when the task ended; it comes back now and still gets it.
    const late = await receiver(downPort);
    closers.push(late.close);
    const arrived = await late.next((d) => d.body.event === 'task.completed');
    expect(verifyWebhookSignature(arrived.raw, arrived.signature as string, 'whsec-test-2')).toBe(true);
    expect(arrived.body.data).toMatchObject({ task_id });
  });

  it("the guide's prompt fields are honoured: model as {provider, id} or OpenCode's {providerID, modelID}, temperature, max_tokens — sync and async; stream: true is refused by name", async () => {
    // A second model, so that the model the prompt names is seen to be the one asked.
    const base = await setup({}, { m: {}, m2: { default: { type: 'text', text: 'from m2' } } });
    const id = ((await getJson(`${base}/sessions`, json({}))).body as { id: string }).id;
    const sync = await getJson(`${base}/sessions/${id}/prompt`, json({ parts: [{ type: 'text', text: 'one' }], model: { provider: 'p', id: 'm2' }, temperature: 0.2, max_tokens: 64, stream: false }));
    expect(sync.status, JSON.stringify(sync.body)).toBe(200);
    expect(sync.body).toMatchObject({ message: { content: 'from m2', model: 'p/m2' } });
    expect(model?.log.at(-1)).toMatchObject({ model: 'm2', temperature: 0.2, max_tokens: 64 });

    const accepted = await getJson(`${base}/sessions/${id}/prompt_async`, json({ parts: [{ type: 'text', text: 'two' }], model: { providerID: 'p', modelID: 'm' }, temperature: 1.5, max_tokens: 7 }));
    expect(accepted.status).toBe(202);
    const task = await poll((accepted.body as { status_url: string }).status_url, (b) => b.status === 'completed' || b.status === 'failed');
    expect(task).toMatchObject({ status: 'completed', result: { model: 'p/m' } });
    expect(model?.log.at(-1)).toMatchObject({ model: 'm', temperature: 1.5, max_tokens: 7 });

    // Bad values name their field; nothing is asked of the model.
    const asked = model?.log.length;
    for (const [body, field] of [
      [{ text: 'x', stream: true }, 'stream'],
      [{ text: 'x', temperature: 3 }, 'temperature'],
      [{ text: 'x', max_tokens: 0 }, 'max_tokens'],
      [{ text: 'x', model: { provider: 'p' } }, 'model'],
    ] as const) {
      const bad = await getJson(`${base}/sessions/${id}/prompt`, json(body));
      expect(bad.status).toBe(400);
      expect((bad.body as { error: { message: string } }).error.message).toContain(field);
    }
    expect(model?.log.length).toBe(asked);
  });

  it("PATCH sets the session's own model, system prompt and tags (the guide's fields): its prompts and `opencode run -s` use them; the list filters by tags and state", async () => {
    const base = await setup({}, { m: {}, m2: { default: { type: 'text', text: 'from m2' } }, slow: { default: { type: 'slow', text: 'a b c', chunks: ['a ', 'b ', 'c'], chunkDelayMs: 300 } } });
    const id = ((await getJson(`${base}/sessions`, json({ title: 'tagged' }))).body as { id: string }).id;
    const other = ((await getJson(`${base}/sessions`, json({ title: 'plain' }))).body as { id: string }).id;
    const patch = (body: unknown) => getJson(`${base}/sessions/${id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const patched = await patch({ tags: ['billing', 'nightly'], model: { provider: 'p', id: 'm2' }, systemPrompt: 'Answer in French.' });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({ id, model: 'p/m2', system_prompt: 'Answer in French.', tags: ['billing', 'nightly'] });

    // A prompt that names no model is answered by the session's, with its system prompt.
    const reply = await getJson(`${base}/sessions/${id}/prompt`, json({ text: 'bonjour' }));
    expect(reply.body).toMatchObject({ message: { content: 'from m2', model: 'p/m2' } });
    const asked = model?.log.at(-1);
    expect(asked?.model).toBe('m2');
    expect(JSON.stringify(asked?.messages)).toContain('Answer in French.');
    // One that names its own model wins.
    expect((await getJson(`${base}/sessions/${id}/prompt`, json({ text: 'x', model: 'p/m' }))).body).toMatchObject({ message: { model: 'p/m' } });
    // The CLI continuing the session (another front-end, another process) uses them too.
    const run = await (sb as Sandbox).run(['run', '-s', id, '--format', 'json', 'encore']);
    expect(run.code, run.stderr).toBe(0);
    expect(model?.log.at(-1)?.model).toBe('m2');
    expect(JSON.stringify(model?.log.at(-1)?.messages)).toContain('Answer in French.');
    // And `session show` says what the session carries.
    const shown = await (sb as Sandbox).run(['session', 'show', id]);
    expect(shown.stdout).toContain("model    p/m2 (the session's own: it heads every turn that names no model)");
    expect(shown.stdout).toContain("system   Answer in French. (added to the agent's prompt in every turn)");
    expect(shown.stdout).toContain('tags     billing, nightly');

    // The list: by tags (all of them), by state.
    const ids = async (query: string) => ((await getJson(`${base}/sessions${query}`)).body as { sessions: { id: string }[] }).sessions.map((x) => x.id);
    expect(await ids('?tags=billing')).toEqual([id]);
    expect(await ids('?tags=billing,nightly')).toEqual([id]);
    expect(await ids('?tags=billing&tags=weekly')).toEqual([]);
    expect((await ids('?state=completed')).sort()).toEqual([id, other].sort());
    expect(await ids('?state=paused')).toEqual([]);
    expect(await ids('?state=active')).toEqual([]);
    const slow = await getJson(`${base}/sessions/${other}/prompt_async`, json({ text: 'take your time', model: 'p/slow' }));
    expect(slow.status).toBe(202);
    await model?.waitFor((log) => log.some((e) => e.model === 'slow'));
    expect(await ids('?state=active')).toEqual([other]);
    expect(await ids('?state=completed')).toEqual([id]);
    await poll((slow.body as { status_url: string }).status_url, (b) => b.status === 'completed');

    // Bad values name their field and change nothing; empty values clear.
    const bad = await getJson(`${base}/sessions?state=sleeping`);
    expect((bad.body as { error: { message: string } }).error.message).toContain('state');
    const unknown = await patch({ model: 'p/nope' });
    expect(unknown.status).toBe(400);
    expect((unknown.body as { error: { message: string } }).error.message).toMatch(/^model: /);
    expect((await getJson(`${base}/sessions/${id}`)).body).toMatchObject({ model: 'p/m2' });
    expect((await patch({ model: null, systemPrompt: '', tags: [] })).body).toMatchObject({ tags: [] });
    const cleared = (await getJson(`${base}/sessions/${id}`)).body as Record<string, unknown>;
    expect(cleared.model).toBeUndefined();
    expect(cleared.system_prompt).toBeUndefined();
    expect((await getJson(`${base}/sessions/${id}/prompt`, json({ text: 'plain again' }))).body).toMatchObject({ message: { model: 'p/m' } });
    // POST takes the same fields.
    const born = await getJson(`${base}/sessions`, json({ title: 'born tagged', tags: ['nightly'], model: 'p/m2', systemPrompt: 'Be terse.' }));
    expect(born.status).toBe(201);
    expect(born.body).toMatchObject({ tags: ['nightly'], model: 'p/m2', system_prompt: 'Be terse.' });
    expect((await getJson(`${base}/sessions`, json({ model: 'p/nope' }))).status).toBe(400);
  });

  it("models with what the guide's Model shows (limits, price, capabilities, rate limits) and its capability filter; tools with their schemas, MCP servers' included", async () => {
    model = await startScriptedServer({ apiKey: SECRET, models: { m: {}, eyes: {} } });
    sb = await sandbox();
    sb.write('opencode.json', {
      ...providerConfig(model, {
        m: { limit: { context: 32_000, output: 4_000 }, cost: { input: 0.5, output: 1.5 }, tool_call: false, rateLimit: { rpm: 40 } },
        eyes: { name: 'Eyes', modalities: { input: ['text', 'image'], output: ['text'] }, reasoning: true },
      }),
      model: 'p/m',
      agent: { oracle: { model: 'p/eyes' } },
      cache: { enabled: false },
      mcp: { every: everythingStdio() },
    });
    sb.write('.opencode/skill/deploy/SKILL.md', '---\nname: deploy\ndescription: How this project is deployed\n---\nRun the deploy script.\n');
    sb.write('.opencode/skill/nodesc/SKILL.md', 'No frontmatter, so no description: not offered.\n');
    s = await serve(sb);
    const api = `${s.url}/api/v1`;
    const listed = (await getJson(`${api}/models`)).body as { models: { id: string; capabilities: string[] }[]; providers: { id: string }[] };
    expect(listed.models.find((m) => m.id === 'p/m')).toEqual({
      id: 'p/m',
      provider: 'p',
      name: 'm',
      upstream_id: 'm',
      context_length: 32_000,
      max_output_tokens: 4_000,
      pricing: { input: 0.5, output: 1.5 },
      capabilities: ['streaming'],
      rate_limits: { requests: [{ limit: 40, window_ms: 60_000, scope: 'model' }], tokens: [], concurrency: [] },
      variants: [],
    });
    expect(listed.models.find((m) => m.id === 'p/eyes')).toMatchObject({ name: 'Eyes', capabilities: ['vision', 'function_calling', 'reasoning', 'streaming'] });
    expect(listed.providers).toEqual([{ id: 'p', name: 'p' }]);
    const ids = async (query: string) => ((await getJson(`${api}/models${query}`)).body as { models: { id: string }[] }).models.map((m) => m.id);
    expect(await ids('?capability=vision')).toEqual(['p/eyes']);
    expect(await ids('?capability=function_calling')).toEqual(['p/eyes']);
    expect(await ids('?capability=streaming&provider=p')).toEqual(['p/eyes', 'p/m']);
    const bad = await getJson(`${api}/models?capability=telepathy`);
    expect(bad.status).toBe(400);
    expect((bad.body as { error: { message: string } }).error.message).toBe('capability: expected one of vision, function_calling, reasoning, streaming, found "telepathy".');
    expect((await getJson(`${api}/models/p/eyes`)).body).toMatchObject({ id: 'p/eyes', used_by: { agents: ['oracle'], config: [] } });

    const tools = ((await getJson(`${api}/tools`)).body as { tools: { name: string; source: string; server?: string; input_schema: object }[]; mcp_servers: object[] });
    expect(tools.tools.find((t) => t.name === 'read')).toMatchObject({ source: 'builtin', description: expect.any(String), input_schema: { type: 'object', properties: { filePath: expect.any(Object) } } });
    expect(tools.tools.find((t) => t.name === 'task')).toMatchObject({ input_schema: { required: ['description', 'prompt', 'subagent_type'] } });
    // The skill tool, as a turn here offers it (the project has a skill that says what it is for): OpenCode's description, which points to the system prompt's list.
    const skill = tools.tools.find((t) => t.name === 'skill') as { source: string; description: string; input_schema: object } | undefined;
    expect(skill).toMatchObject({ source: 'builtin', input_schema: { type: 'object', required: ['name'] } });
    expect(skill?.description).toMatch(/^Load a specialized skill when the task at hand matches one of the skills listed in the system prompt\./);
    expect(tools.tools.find((t) => t.name === 'every_echo')).toMatchObject({ source: 'mcp', server: 'every', input_schema: { properties: { message: { type: 'string' } } } });
    expect(tools.mcp_servers).toEqual([expect.objectContaining({ name: 'every', status: 'connected', state: 'connected', tools_count: tools.tools.filter((t) => t.server === 'every').length })]);
    expect((await getJson(`${api}/mcp/status`)).body).toEqual({ servers: [{ name: 'every', status: 'connected', state: 'connected', tools_count: expect.any(Number) }] });
  });

  it("message.delta: the answer as it is written, to the webhooks that name it (not to '*'), in order, adding up to message.created's content, signed", async () => {
    const deltas = await receiver();
    closers.push(deltas.close);
    const all = await receiver();
    closers.push(all.close);
    const words = Array.from({ length: 8 }, (_, i) => `w${i} `);
    const api = await setup(
      {
        webhooks: [
          { id: 'wh_live', url: deltas.url, secret: 'whsec-live', events: ['message.delta', 'message.created'] },
          { id: 'wh_all', url: all.url, secret: 'whsec-all', events: ['*'] },
        ],
      },
      { m: { default: { type: 'slow', text: words.join(''), chunks: words, chunkDelayMs: 60 } } },
    );
    const id = ((await getJson(`${api}/sessions`, json({}))).body as { id: string }).id;
    const reply = await getJson(`${api}/sessions/${id}/prompt`, json({ text: 'stream it' }));
    expect((reply.body as { message: { content: string } }).message.content).toBe(words.join(''));
    const created = await deltas.next((d) => d.body.event === 'message.created');
    // The deltas are queued before message.created, but each delivery is a request of its own: wait until they add up.
    const joined = () => deltas.got.filter((d) => d.body.event === 'message.delta').map((d) => d.body.data.delta).join('').length;
    const content = created.body.data.content as string;
    if (joined() < content.length) await deltas.next(() => joined() >= content.length);
    const received = deltas.got.filter((d) => d.body.event === 'message.delta');
    expect(received.length).toBeGreaterThanOrEqual(1);
    const ordered = [...received].sort((a, b) => (a.body.data.index as number) - (b.body.data.index as number));
    expect(ordered.map((d) => d.body.data.index)).toEqual(ordered.map((_, i) => i));
    expect(ordered.map((d) => d.body.data.delta).join('')).toBe(created.body.data.content);
    for (const d of ordered) {
      expect(d.body.data).toMatchObject({ session_id: id, message_id: created.body.data.message_id });
      expect(verifyWebhookSignature(d.raw, d.signature as string, 'whsec-live')).toBe(true);
    }
    await all.next((d) => d.body.event === 'session.completed');
    expect(all.got.filter((d) => d.body.event === 'message.delta')).toEqual([]);
  });

  it('refuses callback URLs that are not http(s) or point back at the server; nothing is journaled', async () => {
    const api = await setup();
    const id = ((await getJson(`${api}/sessions`, json({}))).body as { id: string }).id;
    const ftp = await getJson(`${api}/sessions/${id}/prompt_async`, json({ text: 'x', callback_url: 'ftp://example.com/hook' }));
    expect(ftp.status).toBe(400);
    expect(ftp.body).toMatchObject({ error: { code: 'invalid_request', message: expect.stringContaining('callback_url') } });
    const self = await getJson(`${api}/sessions/${id}/prompt_async`, json({ text: 'x', callback_url: `${s?.url.replace('127.0.0.1', 'localhost')}/api/v1/tasks` }));
    expect(self.status).toBe(400);
    expect((self.body as { error: { message: string } }).error.message).toContain('back at this server');
    // Other spellings of this machine's address: an IPv4-mapped IPv6 address, a name under localhost, a final dot.
    const port = new URL(s?.url as string).port;
    for (const host of ['[::ffff:127.0.0.1]', '[::ffff:7f00:2]', 'localhost.', 'app.localhost', '[0:0:0:0:0:0:0:1]', '0.0.0.0']) {
      const other = await getJson(`${api}/sessions/${id}/prompt_async`, json({ text: 'x', callback_url: `http://${host}:${port}/session` }));
      expect(other.status, host).toBe(400);
      expect((other.body as { error: { message: string } }).error.message, host).toBe('callback_url: it points back at this server. Give an http(s) URL of a receiver other than this server.');
    }
    expect(model?.log).toHaveLength(0);
  });

  it('a model that is not there is a 400 naming `model`, sync and async, before a task is journaled or a model asked', async () => {
    const api = await setup();
    const id = ((await getJson(`${api}/sessions`, json({}))).body as { id: string }).id;
    for (const route of ['prompt', 'prompt_async']) {
      for (const model of ['zz/yy', { provider: 'p', id: 'nope' }]) {
        const res = await getJson(`${api}/sessions/${id}/${route}`, json({ text: 'x', model }));
        expect(res.status, `${route} ${JSON.stringify(model)}`).toBe(400);
        expect(res.body, route).toMatchObject({ error: { details: { field: 'model' }, message: expect.stringMatching(/zz|nope/) } });
      }
    }
    expect(model?.log).toHaveLength(0);
    expect(((await getJson(`${api}/sessions/${id}`)).body as { message_count?: number }).message_count ?? 0).toBe(0);
  });

  it('a webhook delivery that reaches a Pantheon server by a name the URL check cannot know is refused there: no session from it, no loop', async () => {
    // Server B's webhook points at server A (another Pantheon: a ring, or a DNS name for this machine).
    const first = await setup();
    const a = s as Served;
    s = undefined;
    const sbA = sb as Sandbox;
    const hook = await sandbox();
    hook.write('opencode.json', { ...providerConfig(model as ScriptedServer, { m: {} }), model: 'p/m', server: { webhooks: [{ url: `${a.url}/session`, events: ['session.created'] }] } });
    const b = await serve(hook);
    try {
      const before = ((await getJson(`${a.url}/session`, { headers: { 'x-opencode-directory': sbA.project } })).body as unknown[]).length;
      // A session created on B is delivered to A's POST /session, which refuses it (B says so once: a 4xx is not retried).
      expect((await getJson(`${b.url}/session`, json({ title: 'seed' }, { 'x-opencode-directory': hook.project }))).status).toBe(200);
      await b.proc.stderrMatches(/webhook wh_1: session\.created refused by the receiver/);
      const refused = await getJson(`${a.url}/session`, json({ event: 'session.created' }, { 'x-opencode-delivery': 'd-1', 'x-opencode-directory': sbA.project }));
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ data: { message: 'POST /session: this is a webhook delivery (it has an x-opencode-delivery header), and this server takes none.' } });
      expect(((await getJson(`${a.url}/session`, { headers: { 'x-opencode-directory': sbA.project } })).body as unknown[]).length).toBe(before);
      expect(first).toContain('/api/v1');
    } finally {
      await b.stop();
      await a.stop();
      await hook.remove();
    }
  });

  it('a task accepted before a SIGKILL is not lost: after the restart it is marked failed, not pending forever', async () => {
    const api = await setup();
    model?.script('m', { type: 'text', text: 'slow', delayMs: 60_000 });
    const id = ((await getJson(`${api}/sessions`, json({}))).body as { id: string }).id;
    const { task_id } = (await getJson(`${api}/sessions/${id}/prompt_async`, json({ text: 'long job' }))).body as { task_id: string };
    await model?.waitFor((log) => log.length === 1);
    s?.proc.child.kill('SIGKILL');
    await s?.proc.exited;
    s = await serve(sb as Sandbox);
    const after = await getJson(`${s.url}/api/v1/tasks/${task_id}`);
    expect(after.body).toMatchObject({ task_id, status: 'failed', error: { code: 'INTERRUPTED' } });
    // The restarted server works, and new tasks complete.
    const again = (await getJson(`${s.url}/api/v1/sessions/${id}/prompt_async`, json({ text: 'again' }))).body as { status_url: string };
    expect(await poll(again.status_url, (b) => b.status === 'completed' || b.status === 'failed')).toMatchObject({ status: 'completed' });
  });
});
