/**
 * What a route answers where OpenCode 1.18.33 answers differently and a client can tell: found by
 * running the same calls against both servers (a throwaway differential harness) and fixed here.
 * Each case drives the real `opencode serve` over HTTP and `@opencode-ai/sdk`'s v2 client, whose
 * types declare what OpenCode sends: errors tagged `{_tag, <id>, message}` where OpenCode tags them
 * (PermissionNotFoundError, QuestionNotFoundError, SessionBusyError), beside Pantheon's `{name, data}`.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createOpencodeClient } from '@opencode-ai/sdk/v2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { listen, untilNotBusy } from './asks-helper.ts';
import { getJson, serve, type Served } from './serve-helper.ts';

let model: ScriptedServer;
let sb: Sandbox;
let s: Served;
let client: ReturnType<typeof createOpencodeClient>;

beforeAll(async () => {
  model = await startScriptedServer();
  sb = await sandbox();
  sb.write('opencode.json', { ...providerConfig(model, { m: {} }), model: 'p/m', cache: { enabled: false } });
  s = await serve(sb);
  client = createOpencodeClient({ baseUrl: s.url, directory: sb.project });
});

beforeEach(() => model.reset());

afterAll(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
});

const headers = () => ({ 'content-type': 'application/json', 'x-opencode-directory': encodeURIComponent(sb.project) });
const send = (method: string, route: string, body?: unknown) => getJson(`${s.url}${route}`, { method, headers: headers(), ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
const newSession = async () => ((await client.session.create({})).data as { id: string }).id;

describe('errors OpenCode tags', () => {
  it('an unknown permission or question id: a 404 PermissionNotFoundError / QuestionNotFoundError naming the request, with the v1 body beside it', async () => {
    const session = await newSession();
    for (const [route, body, tag] of [
      ['/permission/per_nope/reply', { reply: 'once' }, 'PermissionNotFoundError'],
      [`/session/${session}/permissions/per_nope`, { response: 'once' }, 'PermissionNotFoundError'],
      ['/question/que_nope/reply', { answers: [['a']] }, 'QuestionNotFoundError'],
      ['/question/que_nope/reject', undefined, 'QuestionNotFoundError'],
    ] as const) {
      const r = await send('POST', route, body);
      expect(r.status, route).toBe(404);
      const id = route.includes('per_nope') ? 'per_nope' : 'que_nope';
      expect(r.body, route).toMatchObject({ _tag: tag, requestID: id, message: expect.stringContaining(id), name: 'NotFoundError', data: { message: expect.stringContaining(id) } });
    }
    // The SDK's typed error is what OpenCode's clients read.
    const viaSdk = await client.permission.reply({ requestID: 'per_nope', reply: 'once' });
    expect(viaSdk.error).toMatchObject({ _tag: 'PermissionNotFoundError', requestID: 'per_nope' });
  });

  it('a change refused while a turn runs: a 409 SessionBusyError naming the session', async () => {
    const listener = await listen(client);
    try {
      const session = await newSession();
      model.script('m', { type: 'hang', text: 'thinking ' });
      await client.session.promptAsync({ sessionID: session, parts: [{ type: 'text', text: 'go' }] });
      await listener.stream.until((e) => e.type === 'message.part.delta' && e.properties.sessionID === session);
      const messages = (await client.session.messages({ sessionID: session })).data as { info: { id: string } }[];
      const first = messages[0]?.info.id as string;
      for (const [method, route, body] of [
        ['DELETE', `/session/${session}/message/${first}`, undefined],
        ['POST', `/session/${session}/revert`, { messageID: first }],
      ] as const) {
        const r = await send(method, route, body);
        expect(r.status, route).toBe(409);
        expect(r.body, route).toMatchObject({ _tag: 'SessionBusyError', sessionID: session, message: expect.stringContaining(session), name: 'SessionBusyError', data: { code: 'SESSION_BUSY' } });
      }
      await client.session.abort({ sessionID: session });
      await untilNotBusy(client, session);
    } finally {
      listener.stop();
    }
  });
});

describe('GET /vcs', () => {
  it('names the default branch beside the one checked out, as OpenCode (`default_branch`)', async () => {
    const repo = path.join(sb.project, 'repo');
    fs.mkdirSync(repo);
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
    git('init', '-q');
    git('checkout', '-q', '-b', 'main');
    fs.writeFileSync(path.join(repo, 'a.txt'), 'a\n');
    git('add', '.');
    git('-c', 'user.email=a@b.c', '-c', 'user.name=a', 'commit', '-qm', 'init');
    git('checkout', '-q', '-b', 'feature');
    const v2 = createOpencodeClient({ baseUrl: s.url, directory: repo });
    expect((await v2.vcs.get({})).data).toEqual({ branch: 'feature', default_branch: 'main' });
    // Outside a git checkout, nothing.
    const plain = path.join(sb.root, 'plain');
    fs.mkdirSync(plain);
    expect((await createOpencodeClient({ baseUrl: s.url, directory: plain }).vcs.get({})).data).toEqual({});
  });
});

describe('POST /session/{id}/summarize', () => {
  it('a summary made is announced as `session.compacted` before the session goes idle, as OpenCode does; a failed one is not', async () => {
    const listener = await listen(client);
    try {
      const session = await newSession();
      model.script('m', { type: 'text', text: 'first answer' });
      await client.session.prompt({ sessionID: session, parts: [{ type: 'text', text: 'hello' }] });
      // The prompt's turn has gone idle on the stream too (its answer may come before its last events).
      await listener.stream.until((e) => e.type === 'session.idle' && e.properties.sessionID === session);
      const from = listener.stream.events.length;
      model.script('m', { type: 'text', text: 'Summary: we said hello.' });
      expect((await client.session.summarize({ sessionID: session, providerID: 'p', modelID: 'm' })).data).toBe(true);
      await listener.stream.until((e) => e.type === 'session.idle' && e.properties.sessionID === session && listener.stream.events.indexOf(e) >= from);
      const types = listener.stream.events.slice(from).filter((e) => e.properties.sessionID === session).map((e) => e.type);
      expect(types).toContain('session.compacted');
      expect(types.indexOf('session.compacted')).toBeLessThan(types.lastIndexOf('session.idle'));
      expect(listener.stream.events.find((e) => e.type === 'session.compacted')?.properties).toEqual({ sessionID: session });

      const again = listener.stream.events.length;
      await untilNotBusy(client, session);
      model.script('m', { type: 'status', status: 400, message: 'no summary today' });
      expect((await client.session.summarize({ sessionID: session, providerID: 'p', modelID: 'm' })).data).toBe(false);
      await listener.stream.until((e) => e.type === 'session.idle' && e.properties.sessionID === session && listener.stream.events.indexOf(e) >= again);
      expect(listener.stream.events.slice(again).map((e) => e.type)).not.toContain('session.compacted');
    } finally {
      listener.stop();
    }
  });
});

describe('a session as GET /session/{id} shows it', () => {
  it('has OpenCode’s `cost` (0 while nothing priced answered) and, once a turn ran, its `model` ({id, providerID, variant})', async () => {
    const session = await newSession();
    const fresh = (await client.session.get({ sessionID: session })).data as Record<string, unknown>;
    expect(fresh.cost).toBe(0);
    expect(fresh.model).toBeUndefined();
    model.script('m', { type: 'text', text: 'hi' });
    await client.session.prompt({ sessionID: session, parts: [{ type: 'text', text: 'hello' }] });
    const after = (await client.session.get({ sessionID: session })).data as Record<string, unknown>;
    expect(after).toMatchObject({ cost: 0, model: { id: 'm', providerID: 'p', variant: 'default' } });
    // The list shows the same.
    const listed = ((await client.session.list({})).data as Record<string, unknown>[]).find((x) => x.id === session);
    expect(listed).toMatchObject({ cost: 0, model: { id: 'm', providerID: 'p' } });
  });
});

describe('bad query parameters', () => {
  it('GET /session/{id}/message?limit= that is no whole number: a 400 naming `limit` (OpenCode refuses it too), not the whole list', async () => {
    const session = await newSession();
    for (const bad of ['abc', '1.5', '-2']) {
      const r = await send('GET', `/session/${session}/message?limit=${bad}`);
      expect(r.status, bad).toBe(400);
      expect(r.body, bad).toMatchObject({ name: 'BadRequest', data: { message: expect.stringContaining('"limit"'), field: 'limit', kind: 'Query' } });
    }
    const ok = await send('GET', `/session/${session}/message?limit=2`);
    expect(ok.status).toBe(200);
  });
});

describe('file.edited', () => {
  it('a file an `edit` or `write` call changed is announced as OpenCode does, `{file}` its absolute path, before the call’s part completes; a failed call announces nothing', async () => {
    const listener = await listen(client);
    try {
      const session = await newSession();
      const file = path.join(sb.project, 'edited.txt');
      model.script(
        'm',
        { type: 'tool_calls', calls: [{ name: 'write', arguments: { filePath: file, content: 'one\n' }, id: 'call_w' }] },
        { type: 'tool_calls', calls: [{ name: 'edit', arguments: { filePath: file, oldString: 'one', newString: 'two' }, id: 'call_e' }] },
        { type: 'tool_calls', calls: [{ name: 'edit', arguments: { filePath: file, oldString: 'absent', newString: 'x' }, id: 'call_bad' }] },
        { type: 'text', text: 'done' },
      );
      // The sandbox's config asks nothing for edits (permission unset: allowed in a server turn).
      await client.session.prompt({ sessionID: session, parts: [{ type: 'text', text: 'write then edit' }] });
      await listener.stream.until((e) => e.type === 'session.idle' && e.properties.sessionID === session);
      expect(fs.readFileSync(file, 'utf8')).toBe('two\n');
      const edited = listener.stream.events.filter((e) => e.type === 'file.edited');
      expect(edited.map((e) => e.properties)).toEqual([{ file }, { file }]);
      const completed = (callID: string) => listener.stream.events.findIndex((e) => e.type === 'message.part.updated' && (e.properties.part as { callID?: string; state?: { status?: string } }).callID === callID && (e.properties.part as { state: { status: string } }).state.status === 'completed');
      expect(listener.stream.events.indexOf(edited[0] as never)).toBeLessThan(completed('call_w'));
      expect(listener.stream.events.indexOf(edited[1] as never)).toBeLessThan(completed('call_e'));
    } finally {
      listener.stop();
    }
  });
});
