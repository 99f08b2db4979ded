/**
 * Permission questions in turns sent through OpenCode's API, as OpenCode's TUI sees them: a tool
 * call whose permission is `ask` is announced as `permission.asked` (its call shown running with
 * its input) to the clients listening to the project, listed by `GET /permission`, and waits for
 * `POST /permission/{id}/reply` from @opencode-ai/sdk's v2 client: `once` runs it, `reject` (with
 * feedback) refuses it and tells the model why, without a word ends the turn after the call's step
 * (unless `experimental.continue_loop_on_deny`), `always` approves what its patterns name for the
 * project. With nobody listening, or once the last listener leaves, or when the turn is aborted,
 * the call is refused without waiting. Real server, real SDK, the scripted model calling `bash`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createOpencodeClient } from '@opencode-ai/sdk/v2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { collect, idleOf, type OcEventLike } from './sdk-helper.ts';
import { listen as listenTo, toolResult as toolResultOf, untilNotBusy, type Listener } from './asks-helper.ts';
import { serve, type Served } from './serve-helper.ts';

let model: ScriptedServer;
let sb: Sandbox;
let s: Served;
let client: ReturnType<typeof createOpencodeClient>;

beforeAll(async () => {
  model = await startScriptedServer();
  sb = await sandbox();
  sb.write('opencode.json', { ...providerConfig(model, { m: {} }), model: 'p/m', cache: { enabled: false }, permission: { bash: 'ask', edit: 'ask' } });
  s = await serve(sb);
  client = createOpencodeClient({ baseUrl: s.url, directory: sb.project });
});

// A turn cut short (an abort) leaves its scripted answer queued: each test starts from none.
beforeEach(() => model.reset());

afterAll(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
});

/** The model calls bash with `command`, then says `after`. */
function scriptBash(command: string, after = 'done.', id = `call_${Math.random().toString(36).slice(2, 10)}`): string {
  model.script('m', { type: 'tool_calls', calls: [{ name: 'bash', arguments: { command }, id }] }, { type: 'text', text: after });
  return id;
}

const toolResult = (id: string) => toolResultOf(model, id);

const listen = () => listenTo(client);

const asked = (sessionID: string) => (e: OcEventLike) => e.type === 'permission.asked' && e.properties.sessionID === sessionID;

type Question = { id: string; permission: string; patterns: string[]; always: string[]; metadata: object; tool: { messageID: string; callID: string } };

/** A turn of `sessionID`, sent through OpenCode's API, in which the model calls bash with `command`: the call's id and the question it raised (a new one). */
async function askBash(listener: Listener, sessionID: string, command: string): Promise<{ callID: string; question: Question }> {
  const seen = new Set(listener.stream.events.filter(asked(sessionID)).map((e) => e.properties.id));
  const callID = scriptBash(command);
  // The session's turn before this one has ended (a prompt to a busy session is refused).
  await untilNotBusy(client, sessionID);
  const sent = await client.session.promptAsync({ sessionID, parts: [{ type: 'text', text: `run ${command}` }] });
  expect(sent.response.status, `prompt_async for ${command}`).toBeLessThan(300);
  const question = (await listener.stream.until((e) => asked(sessionID)(e) && !seen.has(e.properties.id))).properties as Question;
  return { callID, question };
}

const newSession = async () => ((await client.session.create({})).data as { id: string }).id;

describe('permission questions to OpenCode clients', () => {
  it('once: the question (its call running with its input) is listed and answered; the command runs; permission.replied follows', async () => {
    const listener = await listen();
    const { stream } = listener;
    try {
      const session = { id: await newSession() };
      const marker = path.join(sb.project, 'once.txt');
      const { callID, question } = await askBash(listener, session.id, `touch ${marker}`);
      expect(question).toMatchObject({ id: expect.stringMatching(/^per_/), permission: 'bash', patterns: [`touch ${marker}`], always: ['touch *'], metadata: { command: `touch ${marker}` }, tool: { callID } });
      // The TUI finds the call's part by its id and draws the input.
      // (it was pending first, while the model wrote it: tool-running-part.test.ts)
      const running = await stream.until((e) => e.type === 'message.part.updated' && (e.properties.part as { callID?: string; state?: { status?: string } }).callID === callID && (e.properties.part as { state?: { status?: string } }).state?.status === 'running');
      expect(running.properties.part).toMatchObject({ type: 'tool', tool: 'bash', messageID: question.tool.messageID, state: { status: 'running', input: { command: `touch ${marker}` } } });
      expect(fs.existsSync(marker)).toBe(false);
      expect((await client.permission.list({})).data).toEqual([question]);

      expect((await client.permission.reply({ requestID: question.id, reply: 'once' })).data).toBe(true);
      await stream.until(idleOf(session.id));
      expect(fs.existsSync(marker)).toBe(true);
      expect(stream.events.find((e) => e.type === 'permission.replied')?.properties).toEqual({ sessionID: session.id, requestID: question.id, reply: 'once' });
      expect((await client.permission.list({})).data).toEqual([]);
      // The same part, completed (not a second one).
      const parts = stream.events.filter((e) => e.type === 'message.part.updated' && (e.properties.part as { callID?: string }).callID === callID);
      expect(parts.at(-1)?.properties.part).toMatchObject({ id: (running.properties.part as { id: string }).id, state: { status: 'completed' } });
      // A question answered already, or none at all: a 404.
      const again = await client.permission.reply({ requestID: question.id, reply: 'once' });
      expect(again.response.status).toBe(404);
      expect(JSON.stringify(again.error)).toContain(`No permission question ${question.id} is open in this project.`);
    } finally {
      listener.stop();
    }
  });

  it('reject with feedback: nothing runs, the model is told what the person said; the older route answers too', async () => {
    const listener = await listen();
    const { stream } = listener;
    try {
      const session = { id: await newSession() };
      const marker = path.join(sb.project, 'rejected.txt');
      const { callID, question } = await askBash(listener, session.id, `touch ${marker}`);
      await client.permission.reply({ requestID: question.id, reply: 'reject', message: 'use the scratch folder instead' });
      await stream.until(idleOf(session.id));
      expect(fs.existsSync(marker)).toBe(false);
      expect(toolResult(callID)).toContain('rejected by the user, who said: use the scratch folder instead');

      const second = await askBash(listener, session.id, 'echo legacy');
      expect((await client.permission.respond({ sessionID: session.id, permissionID: second.question.id, response: 'once' })).data).toBe(true);
      await stream.until((e) => e.type === 'permission.replied' && e.properties.requestID === second.question.id);
      // The model's next request carries the command's output.
      await model.waitFor(() => toolResult(second.callID).includes('legacy'));
    } finally {
      listener.stop();
    }
  });

  it('reject without a word: nothing runs and the turn ends after the call\'s step (the model is not asked again), as OpenCode\'s does', async () => {
    const listener = await listen();
    const { stream } = listener;
    try {
      const session = { id: await newSession() };
      const marker = path.join(sb.project, 'stopped.txt');
      const { callID, question } = await askBash(listener, session.id, `touch ${marker}`);
      const asked = model.log.length;
      expect((await client.permission.reply({ requestID: question.id, reply: 'reject' })).data).toBe(true);
      await stream.until(idleOf(session.id));
      expect(fs.existsSync(marker)).toBe(false);
      expect(model.log).toHaveLength(asked);
      // The answer scripted for after the call was never asked for.
      model.reset();
      const parts = stream.events.filter((e) => e.type === 'message.part.updated' && (e.properties.part as { callID?: string }).callID === callID);
      expect(parts.at(-1)?.properties.part).toMatchObject({ state: { status: 'error', error: expect.stringContaining('rejected by the user') } });
      // Led by OpenCode's words, for which its TUI strikes the call through instead of drawing it as failed.
      expect((parts.at(-1)?.properties.part as { state: { error: string } }).state.error).toMatch(/^The user rejected permission to use this specific tool call\. \(permission denied: bash /);
      // The next prompt's history has the refused call and its result.
      const next = await askBash(listener, session.id, 'echo next');
      await client.permission.reply({ requestID: next.question.id, reply: 'once' });
      await stream.until((e) => e.type === 'permission.replied' && e.properties.requestID === next.question.id);
      await model.waitFor(() => toolResult(next.callID).includes('next'));
      expect(toolResult(callID)).toContain('rejected by the user');
    } finally {
      listener.stop();
    }
  });

  it('experimental.continue_loop_on_deny: a plain reject is told to the model, which goes on', async () => {
    const file = path.join(sb.root, 'go-on.json');
    fs.writeFileSync(file, JSON.stringify({ experimental: { continue_loop_on_deny: true } }));
    const goOn = await serve(sb, ['--config', file]);
    const main = client;
    client = createOpencodeClient({ baseUrl: goOn.url, directory: sb.project });
    const listener = await listen();
    try {
      const session = { id: await newSession() };
      const { callID, question } = await askBash(listener, session.id, 'echo refused');
      await client.permission.reply({ requestID: question.id, reply: 'reject' });
      await listener.stream.until(idleOf(session.id));
      // The model was asked again, with the refusal as the call's result.
      expect(toolResult(callID)).toContain('rejected by the user');
    } finally {
      listener.stop();
      client = main;
      await goOn.stop();
    }
  });

  it('always: the project approves what its pattern names from then on, in any session, without asking', async () => {
    const listener = await listen();
    const { stream } = listener;
    try {
      const first = { id: await newSession() };
      const { question } = await askBash(listener, first.id, 'git status --short');
      expect(question.always).toEqual(['git status *']);
      await client.permission.reply({ requestID: question.id, reply: 'always' });
      await stream.until(idleOf(first.id));

      const other = (await client.session.create({})).data as { id: string };
      const callID = scriptBash('git status');
      const reply = await client.session.prompt({ sessionID: other.id, parts: [{ type: 'text', text: 'and now?' }] });
      expect(reply.response.status).toBe(200);
      expect(toolResult(callID)).not.toContain('permission denied');
      expect(stream.events.filter(asked(other.id))).toEqual([]);
    } finally {
      listener.stop();
    }
  });

  it('edit and write: the question carries the change\'s diff (OpenCode\'s TUI draws it in the box); an edit that cannot be made fails without a question', async () => {
    const listener = await listen();
    const { stream } = listener;
    try {
      const session = { id: await newSession() };
      fs.writeFileSync(path.join(sb.project, 'notes.txt'), 'one\ntwo\nthree\n');
      const questions = () => stream.events.filter(asked(session.id)).map((e) => e.properties as Question);
      const answer = async (count: number) => {
        const question = (await stream.until(() => questions().length >= count)) && (questions()[count - 1] as Question);
        await client.permission.reply({ requestID: question.id, reply: 'once' });
        return question;
      };
      const edit = { name: 'edit', arguments: { filePath: 'notes.txt', oldString: 'two', newString: 'TWO' }, id: 'call_edit' };
      const write = { name: 'write', arguments: { filePath: 'fresh.txt', content: 'hello\n' }, id: 'call_write' };
      const missing = { name: 'edit', arguments: { filePath: 'notes.txt', oldString: 'four', newString: 'FOUR' }, id: 'call_missing' };
      model.script('m', { type: 'tool_calls', calls: [edit] }, { type: 'tool_calls', calls: [write] }, { type: 'tool_calls', calls: [missing] }, { type: 'text', text: 'done.' });
      await client.session.promptAsync({ sessionID: session.id, parts: [{ type: 'text', text: 'change things' }] });
      const first = await answer(1);
      expect(first).toMatchObject({ permission: 'edit', patterns: ['notes.txt'], metadata: { filepath: 'notes.txt', diff: expect.stringContaining('-two\n+TWO\n') }, tool: { callID: 'call_edit' } });
      expect((first.metadata as { diff: string }).diff).toMatch(/^--- a\/notes\.txt\n\+\+\+ b\/notes\.txt\n@@ -1,3 \+1,3 @@\n one\n-two\n\+TWO\n three\n$/);
      const second = await answer(2);
      expect(second).toMatchObject({ permission: 'edit', patterns: ['fresh.txt'], metadata: { filepath: 'fresh.txt', diff: expect.stringContaining('+hello') }, tool: { callID: 'call_write' } });
      await stream.until(idleOf(session.id));
      expect(fs.readFileSync(path.join(sb.project, 'notes.txt'), 'utf8')).toBe('one\nTWO\nthree\n');
      expect(fs.readFileSync(path.join(sb.project, 'fresh.txt'), 'utf8')).toBe('hello\n');
      // The third call could not be made: the model is told why, and nobody was asked about it.
      expect(toolResult('call_missing')).toContain('oldString was not found in notes.txt');
      expect(questions()).toHaveLength(2);
    } finally {
      listener.stop();
    }
  });

  it('nobody listening: refused at once, as before; the last listener leaving refuses the open question; an abort ends it', async () => {
    const session = (await client.session.create({})).data as { id: string };
    const unheard = scriptBash('echo unheard');
    const reply = await client.session.prompt({ sessionID: session.id, parts: [{ type: 'text', text: 'nobody there' }] });
    expect(reply.response.status).toBe(200);
    expect(toolResult(unheard)).toContain('no OpenCode client listens to this project to answer');

    const listener = await listen();
    const { callID: left } = await askBash(listener, session.id, 'echo left');
    listener.stop();
    // With the listener gone the question ends: the model is told why (its next request carries the refusal).
    await model.waitFor(() => toolResult(left).includes('no OpenCode client listens'));

    const again = await listen();
    try {
      const { question: q } = await askBash(again, session.id, 'echo aborted');
      await client.session.abort({ sessionID: session.id });
      const replied = await again.stream.until((e) => e.type === 'permission.replied' && e.properties.requestID === q.id);
      expect(replied.properties).toMatchObject({ reply: 'reject' });
      expect((await client.permission.list({})).data).toEqual([]);
    } finally {
      again.stop();
    }
  });

  it('bad answers: an unknown reply, a missing one, a message too long, an unknown id, another project — a 400 or 404 naming it; the question stays open', async () => {
    const listener = await listen();
    try {
      const session = await newSession();
      const { question } = await askBash(listener, session, 'echo bad-answers');
      const post = (url: string, body: unknown) => fetch(`${s.url}${url}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-opencode-directory': encodeURIComponent(sb.project) }, body: JSON.stringify(body) });
      const bad = async (url: string, body: unknown, status: number, text: RegExp) => {
        const res = await post(url, body);
        expect(res.status, JSON.stringify(body)).toBe(status);
        expect(await res.text(), JSON.stringify(body)).toMatch(text);
      };
      await bad(`/permission/${question.id}/reply`, { reply: 'maybe' }, 400, /reply/);
      await bad(`/permission/${question.id}/reply`, {}, 400, /reply/);
      await bad(`/permission/${question.id}/reply`, { reply: 'reject', message: 'x'.repeat(10_001) }, 400, /message/);
      await bad(`/session/${session}/permissions/${question.id}`, { reply: 'once' }, 400, /response/);
      await bad('/permission/per_nope/reply', { reply: 'once' }, 404, /No permission question per_nope is open in this project\./);
      const elsewhere = await fetch(`${s.url}/permission/${question.id}/reply?directory=${encodeURIComponent(sb.root)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reply: 'once' }) });
      expect(elsewhere.status).toBe(404);
      // None of it answered the question.
      expect(((await client.permission.list({})).data as Question[]).map((q) => q.id)).toEqual([question.id]);
      await client.permission.reply({ requestID: question.id, reply: 'once' });
      await listener.stream.until((e) => e.type === 'permission.replied' && e.properties.requestID === question.id);
    } finally {
      listener.stop();
    }
  });
});

describe('with OPENCODE_SERVER_PASSWORD', () => {
  it('the permission routes need it (a JSON 401 without), and a client with it is asked and answers', async () => {
    const locked = await serve(sb, [], { OPENCODE_SERVER_PASSWORD: 'pw-permission-asks-01' });
    try {
      for (const [method, url] of [['GET', '/permission'], ['POST', '/permission/per_x/reply'], ['POST', '/session/ses_x/permissions/per_x']] as const) {
        const res = await fetch(`${locked.url}${url}`, { method, headers: { 'content-type': 'application/json' }, ...(method === 'POST' ? { body: '{"reply":"once","response":"once"}' } : {}) });
        expect(res.status, url).toBe(401);
        expect(res.headers.get('content-type'), url).toMatch(/json/);
      }
      const authorized = createOpencodeClient({ baseUrl: locked.url, directory: sb.project, headers: { authorization: `Basic ${Buffer.from('opencode:pw-permission-asks-01').toString('base64')}` } });
      const abort = new AbortController();
      const stream = collect((await authorized.event.subscribe({}, { signal: abort.signal, sseMaxRetryAttempts: 0 })).stream as AsyncIterable<unknown>);
      await stream.until((e) => e.type === 'server.connected');
      const session = ((await authorized.session.create({})).data as { id: string }).id;
      const callID = scriptBash('echo locked');
      await authorized.session.promptAsync({ sessionID: session, parts: [{ type: 'text', text: 'behind a password' }] });
      const question = (await stream.until(asked(session))).properties as Question;
      expect((await authorized.permission.reply({ requestID: question.id, reply: 'once' })).data).toBe(true);
      await model.waitFor(() => toolResult(callID).includes('locked'));
      abort.abort();
    } finally {
      await locked.stop();
    }
  });
});
