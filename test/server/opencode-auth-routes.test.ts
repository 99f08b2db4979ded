/**
 * OpenCode's credential routes, as its clients call them to connect a provider, through
 * `@opencode-ai/sdk`: the methods each provider takes, a key stored in OpenCode's auth.json (0600,
 * other entries kept) that the next prompt uses against a provider that wants it, the key never
 * answered back, bad input refused before the store is touched, the server's password required,
 * and the entry removed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createOpencodeClient } from '@opencode-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { serve, type Served } from './serve-helper.ts';

let sb: Sandbox;
let upstream: ScriptedServer;
let s: Served;
let client: ReturnType<typeof createOpencodeClient>;
let authJson: string;

beforeAll(async () => {
  upstream = await startScriptedServer({ apiKey: SECRET });
  sb = await sandbox();
  // A provider whose key is not in the config: it must come from auth.json.
  // A reviewer on a well-known provider the config does not declare, with no key anywhere yet.
  sb.write('opencode.json', {
    model: 'p/m',
    provider: { p: { options: { baseURL: upstream.url }, models: { m: {} } } },
    agent: { reviewer: { mode: 'subagent', description: 'Reviews', model: 'anthropic/claude-sonnet-4-5' } },
  });
  authJson = path.join(sb.dataHome, 'opencode', 'auth.json');
  fs.mkdirSync(path.dirname(authJson), { recursive: true });
  fs.writeFileSync(authJson, JSON.stringify({ other: { type: 'api', key: 'kept-as-it-was' } }), { mode: 0o600 });
  s = await serve(sb);
  client = createOpencodeClient({ baseUrl: s.url, directory: sb.project });
});

afterAll(async () => {
  await s?.stop();
  await upstream?.close();
  await sb?.remove();
});

describe('provider credentials over OpenCode’s API', () => {
  it('connected: the declared provider, and a well-known one only once it has a key', async () => {
    const before = (await client.provider.list()).data;
    expect(before?.all.map((p) => p.id)).toEqual(['anthropic', 'p']);
    expect(before?.connected).toEqual(['p']);
    expect((await client.auth.set({ path: { id: 'anthropic' }, body: { type: 'api', key: 'sk-ant-api03-connected-0123456789' } })).data).toBe(true);
    expect((await client.provider.list()).data?.connected).toEqual(['anthropic', 'p']);
    const removed = await fetch(`${s.url}/auth/anthropic`, { method: 'DELETE', headers: { 'x-opencode-directory': sb.project } });
    expect(await removed.json()).toBe(true);
    expect((await client.provider.list()).data?.connected).toEqual(['p']);
  });

  it('each provider takes an API key', async () => {
    const { data } = await client.provider.auth();
    expect(data?.p).toEqual([{ type: 'api', label: 'API key' }]);
  });

  it('a stored key is in auth.json (0600, the other entries kept) and the next prompt uses it; it is never answered back', async () => {
    const id = (await client.session.create({ body: {} })).data?.id ?? '';
    const refused = await client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'before the key' }] } });
    expect((refused.data?.info as { error?: unknown } | undefined)?.error).toBeDefined();
    expect(upstream.log.at(-1)?.status).toBe(401);
    const set = await client.auth.set({ path: { id: 'p' }, body: { type: 'api', key: ` ${SECRET}\n` } });
    expect(set.data).toBe(true);
    expect(JSON.stringify(set)).not.toContain(SECRET);
    expect(JSON.parse(fs.readFileSync(authJson, 'utf8'))).toEqual({ other: { type: 'api', key: 'kept-as-it-was' }, p: { type: 'api', key: SECRET } });
    expect(fs.statSync(authJson).mode & 0o777).toBe(0o600);
    const answered = await client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'with the key' }] } });
    expect(answered.data?.parts.find((p) => p.type === 'text')).toMatchObject({ text: 'echo: with the key' });
    expect(upstream.log.at(-1)?.headers.authorization).toBe(`Bearer ${SECRET}`);
  });

  it('an OAuth login (a plugin refreshing its token) is stored as OpenCode stores it, the other entries kept', async () => {
    const before = JSON.parse(fs.readFileSync(authJson, 'utf8')) as Record<string, unknown>;
    const body = { type: 'oauth' as const, refresh: 'r-9', access: 'acc-9', expires: 1_700_000_000_000, accountId: 'acct', extra: 'dropped' };
    expect((await client.auth.set({ path: { id: 'goog' }, body })).data).toBe(true);
    expect(JSON.parse(fs.readFileSync(authJson, 'utf8'))).toEqual({ ...before, goog: { type: 'oauth', refresh: 'r-9', access: 'acc-9', expires: 1_700_000_000_000, accountId: 'acct' } });
    expect((await client.auth.set({ path: { id: 'wk' }, body: { type: 'wellknown', key: 'WK_TOKEN', token: 't-1' } })).data).toBe(true);
    // Any entry connects its provider, as in OpenCode (a plugin's auth hook uses the login).
    expect((await client.auth.set({ path: { id: 'anthropic' }, body })).data).toBe(true);
    expect((await client.provider.list()).data?.connected).toEqual(['anthropic', 'p']);
    await fetch(`${s.url}/auth/anthropic`, { method: 'DELETE', headers: { 'x-opencode-directory': sb.project } });
    expect(JSON.parse(fs.readFileSync(authJson, 'utf8')).wk).toEqual({ type: 'wellknown', key: 'WK_TOKEN', token: 't-1' });
    await fetch(`${s.url}/auth/goog`, { method: 'DELETE', headers: { 'x-opencode-directory': sb.project } });
    await fetch(`${s.url}/auth/wk`, { method: 'DELETE', headers: { 'x-opencode-directory': sb.project } });
  });

  it('bad input: a 400 naming the field, the key not shown, the store untouched', async () => {
    const before = fs.readFileSync(authJson, 'utf8');
    const put = (id: string, body: unknown) => fetch(`${s.url}/auth/${id}`, { method: 'PUT', headers: { 'content-type': 'application/json', 'x-opencode-directory': sb.project }, body: JSON.stringify(body) });
    const cases: [string, unknown, string][] = [
      ['p', { type: 'oauth', refresh: 'r', access: 'a' }, 'body field "expires": expected a number (milliseconds since the epoch).'],
      ['p', { type: 'oauth', refresh: 'r', access: 'tok\nsk-two-secret', expires: 1 }, 'body field "access": has a control character.'],
      ['p', { type: 'wellknown', key: 'K' }, 'body field "token": expected a string.'],
      ['p', { type: 'api' }, 'body field "key": The key is missing.'],
      ['p', { type: 'api', key: '   ' }, 'body field "key": The key is empty.'],
      ['p', { type: 'api', key: 'sk-one\nsk-two-secret' }, 'body field "key": The key spans more than one line; an API key is a single word.'],
      ['p', { type: 'api', key: 'sk-bell\u0007-secret' }, 'body field "key": The key contains a character that is not printable ASCII'],
      ['p', { type: 'api', key: 'x'.repeat(8193) }, 'body field "key": The key is longer than 8192 characters'],
      ['p', { key: 'sk-no-type' }, 'type'],
      ['x%2Fescape', { type: 'api', key: 'sk-path-secret' }, 'path parameter "providerID": expected a provider id'],
    ];
    for (const [id, body, message] of cases) {
      const res = await put(id, body);
      expect(res.status, JSON.stringify(body).slice(0, 60)).toBe(400);
      const text = await res.text();
      expect(text).toContain(message.replace(/"/g, '\\"'));
      expect(text).not.toMatch(/sk-two-secret|sk-bell|sk-path-secret|sk-no-type/);
    }
    // A `..` segment, its slash encoded or not, names no route at all (dot-segments.ts).
    const escape = await put('..%2Fescape', { type: 'api', key: 'sk-path-secret' });
    expect(escape.status).toBe(404);
    expect(await escape.text()).not.toContain('sk-path-secret');
    expect(fs.readFileSync(authJson, 'utf8')).toBe(before);
  });

  it('behind the server’s password: without it a 401, nothing written; with it, stored', async () => {
    const own = await sandbox();
    own.write('opencode.json', { model: 'p/m', provider: { p: { options: { baseURL: upstream.url }, models: { m: {} } } } });
    const guarded = await serve(own, [], { OPENCODE_SERVER_PASSWORD: 'pw-for-the-test' });
    try {
      const file = path.join(own.dataHome, 'opencode', 'auth.json');
      const body = JSON.stringify({ type: 'api', key: SECRET });
      const open = await fetch(`${guarded.url}/auth/p`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body });
      expect(open.status).toBe(401);
      expect((await fetch(`${guarded.url}/provider/auth`)).status).toBe(401);
      expect(fs.existsSync(file)).toBe(false);
      const authorization = `Basic ${Buffer.from('opencode:pw-for-the-test').toString('base64')}`;
      const stored = await fetch(`${guarded.url}/auth/p`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization }, body });
      expect(await stored.json()).toBe(true);
      expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ p: { type: 'api', key: SECRET } });
    } finally {
      await guarded.stop();
      await own.remove();
    }
  });

  it('removing it: true, the entry gone and the others kept; removing again: false', async () => {
    const remove = () => fetch(`${s.url}/auth/p`, { method: 'DELETE', headers: { 'x-opencode-directory': sb.project } }).then((r) => r.json());
    expect(await remove()).toBe(true);
    expect(JSON.parse(fs.readFileSync(authJson, 'utf8'))).toEqual({ other: { type: 'api', key: 'kept-as-it-was' } });
    expect(await remove()).toBe(false);
  });

  it('storing and removing a key are published to the project’s events as the v2 routes publish theirs, never with the key', async () => {
    const stop = new AbortController();
    const res = await fetch(`${s.url}/event?directory=${encodeURIComponent(sb.project)}`, { signal: stop.signal });
    const reader = res.body?.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    const decoder = new TextDecoder();
    let seen = '';
    const until = async (pattern: RegExp) => {
      while (!pattern.test(seen)) {
        const { value, done } = await reader.read();
        if (done) throw new Error('the event stream ended');
        seen += decoder.decode(value, { stream: true });
      }
    };
    const key = 'sk-evt-0123456789abcdef';
    const frames = () => seen.split('\n\n').filter((f) => f.startsWith('data: ')).map((f) => JSON.parse(f.slice(6)) as { type: string; properties: unknown });
    const integration = () => frames().filter((e) => e.type.startsWith('integration.'));
    try {
      await until(/"type":"server\.connected"/);
      expect((await client.auth.set({ path: { id: 'q' }, query: { directory: sb.project }, body: { type: 'api', key } })).data).toBe(true);
      await until(/"type":"integration\.updated"/);
      expect(integration()).toEqual([
        { id: expect.any(String), type: 'integration.connection.updated', properties: { integrationID: 'q' } },
        { id: expect.any(String), type: 'integration.updated', properties: {} },
      ]);
      const remove = () => fetch(`${s.url}/auth/q`, { method: 'DELETE', headers: { 'x-opencode-directory': sb.project } }).then((r) => r.json());
      expect(await remove()).toBe(true);
      await until(/"type":"integration\.updated"[\s\S]*"type":"integration\.updated"/);
      // Removing what is not there changes no connection: only `integration.updated`, as OpenCode's remove.
      expect(await remove()).toBe(false);
      await until(/(?:"type":"integration\.updated"[\s\S]*){3}/);
      expect(integration().map((e) => [e.type, e.properties])).toEqual([
        ['integration.connection.updated', { integrationID: 'q' }],
        ['integration.updated', {}],
        ['integration.connection.updated', { integrationID: 'q' }],
        ['integration.updated', {}],
        ['integration.updated', {}],
      ]);
      expect(seen).not.toContain(key);
    } finally {
      stop.abort();
    }
    // A bad key stores nothing and publishes nothing.
    const refused = await fetch(`${s.url}/auth/q?directory=${encodeURIComponent(sb.project)}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'api', key: 'two words' }) });
    expect(refused.status).toBe(400);
  });
});
