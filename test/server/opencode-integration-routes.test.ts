/**
 * OpenCode's v2 routes that connect a provider, through `@opencode-ai/sdk/v2` as its clients call
 * them: one integration, a key connected into OpenCode's auth.json (the store of `PUT /auth` and
 * `opencode auth login`: 0600, other entries kept) that the next prompt uses, its credential
 * (`cred_<providerID>`) relabelled and removed, events as OpenCode publishes them, keys never answered
 * back, bad input refused in v2's error shape with the store untouched; the OAuth routes, the Console
 * switch and the upgrade refused with a sentence; all behind the server's password.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createOpencodeClient as createV1 } from '@opencode-ai/sdk';
import { createOpencodeClient as createV2 } from '@opencode-ai/sdk/v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { basic, serve, watchEvents, type Served } from './serve-helper.ts';

let sb: Sandbox;
let upstream: ScriptedServer;
let s: Served;
let v2: ReturnType<typeof createV2>;
let v1: ReturnType<typeof createV1>;
let authJson: string;
const at = () => ({ location: { directory: sb.project } });

beforeAll(async () => {
  upstream = await startScriptedServer({ apiKey: SECRET });
  sb = await sandbox();
  // A provider whose key is not in the config: it must come from auth.json.
  sb.write('opencode.json', { model: 'p/m', provider: { p: { name: 'Local P', options: { baseURL: upstream.url }, models: { m: {} } } } });
  authJson = path.join(sb.dataHome, 'opencode', 'auth.json');
  fs.mkdirSync(path.dirname(authJson), { recursive: true });
  fs.writeFileSync(authJson, JSON.stringify({ other: { type: 'api', key: 'kept-as-it-was' } }), { mode: 0o600 });
  s = await serve(sb);
  v2 = createV2({ baseUrl: s.url, directory: sb.project });
  v1 = createV1({ baseUrl: s.url, directory: sb.project });
});

afterAll(async () => {
  await s?.stop();
  await upstream?.close();
  await sb?.remove();
});

const stored = () => JSON.parse(fs.readFileSync(authJson, 'utf8')) as Record<string, unknown>;

describe('connecting a provider by key (v2)', () => {
  it('one integration: the item of the list; an unknown id is data: null, as in OpenCode', async () => {
    const list = (await v2.v2.integration.list(at())).data?.data ?? [];
    const one = await v2.v2.integration.get({ integrationID: 'p', ...at() });
    expect(one.response.status).toBe(200);
    expect(one.data?.data).toEqual(list.find((i) => i.id === 'p'));
    expect(one.data?.data).toMatchObject({ id: 'p', name: 'Local P', methods: [{ type: 'key' }, { type: 'env', names: ['P_API_KEY'] }], connections: [] });
    expect(one.data?.location).toMatchObject({ directory: sb.project });
    const unknown = await v2.v2.integration.get({ integrationID: 'no-such-provider', ...at() });
    expect(unknown.response.status).toBe(200);
    expect(unknown.data?.data).toBeNull();
  });

  it('a key connected: in auth.json (0600, the others kept), listed as cred_<id>, used by the next prompt, never answered back; events as OpenCode’s', async () => {
    const events = await watchEvents(s.url);
    try {
      const connected = await v2.v2.integration.connect.key({ integrationID: 'p', key: ` ${SECRET}\n`, ...at() });
      expect(connected.response.status).toBe(204);
      expect(JSON.stringify(connected.data ?? null)).not.toContain(SECRET);
      await events.until(/"type":"integration\.connection\.updated","properties":\{"integrationID":"p"\}[\s\S]*"type":"integration\.updated"/);
    } finally {
      events.close();
    }
    expect(stored()).toEqual({ other: { type: 'api', key: 'kept-as-it-was' }, p: { type: 'api', key: SECRET } });
    expect(fs.statSync(authJson).mode & 0o777).toBe(0o600);
    const one = await v2.v2.integration.get({ integrationID: 'p', ...at() });
    expect(one.data?.data?.connections).toEqual([{ type: 'credential', id: 'cred_p', label: 'default' }]);
    expect(JSON.stringify(one.data)).not.toContain(SECRET);
    // The v1 view agrees: the provider is connected, and a turn uses the key.
    expect((await v1.provider.list()).data?.connected).toContain('p');
    const id = (await v1.session.create({ body: {} })).data?.id ?? '';
    const answered = await v1.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'with the key' }] } });
    expect(answered.data?.parts.find((p) => p.type === 'text')).toMatchObject({ text: 'echo: with the key' });
    expect(upstream.log.at(-1)?.headers.authorization).toBe(`Bearer ${SECRET}`);
  });

  it('relabelled: the label kept in the entry’s metadata, the key untouched; "" puts back the default', async () => {
    expect((await v2.v2.credential.update({ credentialID: 'cred_p', label: 'Work laptop', ...at() })).response.status).toBe(204);
    expect(stored().p).toEqual({ type: 'api', key: SECRET, metadata: { label: 'Work laptop' } });
    expect((await v2.v2.integration.get({ integrationID: 'p', ...at() })).data?.data?.connections).toEqual([{ type: 'credential', id: 'cred_p', label: 'Work laptop' }]);
    expect((await v2.v2.credential.update({ credentialID: 'cred_p', label: '', ...at() })).response.status).toBe(204);
    expect(stored().p).toEqual({ type: 'api', key: SECRET });
    // Connecting with a label; connecting again replaces the credential (one per provider).
    await v2.v2.integration.connect.key({ integrationID: 'p', key: SECRET, label: 'CI', ...at() });
    expect(stored().p).toEqual({ type: 'api', key: SECRET, metadata: { label: 'CI' } });
    await v2.v2.integration.connect.key({ integrationID: 'p', key: SECRET, ...at() });
    expect(stored().p).toEqual({ type: 'api', key: SECRET });
  });

  it('a key stored by PUT /auth is a credential too, and removing it is DELETE /auth’s removal; removing again is a 404', async () => {
    expect((await v1.auth.set({ path: { id: 'anthropic' }, body: { type: 'api', key: 'sk-ant-api03-from-put-0123456789' } })).data).toBe(true);
    expect((await v2.v2.integration.get({ integrationID: 'anthropic', ...at() })).data?.data?.connections).toContainEqual({ type: 'credential', id: 'cred_anthropic', label: 'default' });
    const removed = await v2.v2.credential.remove({ credentialID: 'cred_anthropic', ...at() });
    expect(removed.response.status).toBe(204);
    expect(Object.keys(stored()).sort()).toEqual(['other', 'p']);
    const again = await v2.v2.credential.remove({ credentialID: 'cred_anthropic', ...at() });
    expect(again.response.status).toBe(404);
    expect(again.error).toMatchObject({ _tag: 'NotFoundError', message: 'No credential "cred_anthropic": no API key of provider "anthropic" is stored.', hint: expect.stringContaining('GET /api/integration') });
  });

  it('keys connected at the same time (v2 and PUT /auth): every one kept', async () => {
    const ids = ((await v2.v2.integration.list(at())).data?.data ?? []).map((i) => i.id).filter((id) => id !== 'p').slice(0, 12);
    expect(ids).toHaveLength(12);
    const answers = await Promise.all(
      ids.map((id, n) => (n % 3 === 0 ? v1.auth.set({ path: { id }, body: { type: 'api', key: `sk-same-time-${n}` } }) : v2.v2.integration.connect.key({ integrationID: id, key: `sk-same-time-${n}`, ...at() }))),
    );
    expect(answers.map((a) => a.response.status)).toEqual(ids.map((_, n) => (n % 3 === 0 ? 200 : 204)));
    const after = stored();
    for (const [n, id] of ids.entries()) expect(after[id], id).toEqual({ type: 'api', key: `sk-same-time-${n}` });
    expect(after.other).toEqual({ type: 'api', key: 'kept-as-it-was' });
    // Removed at the same time too.
    const removed = await Promise.all(ids.map((id) => v2.v2.credential.remove({ credentialID: `cred_${id}`, ...at() })));
    expect(removed.map((r) => r.response.status)).toEqual(ids.map(() => 204));
    expect(Object.keys(stored()).sort()).toEqual(['other', 'p']);
  });

  it('bad input: a 400 (or 404) in v2’s shape naming the field, the key not shown, the store untouched', async () => {
    const before = fs.readFileSync(authJson, 'utf8');
    const send = (method: string, route: string, body?: string) =>
      fetch(`${s.url}${route}`, { method, headers: { 'content-type': 'application/json', 'x-opencode-directory': sb.project }, ...(body === undefined ? {} : { body }) });
    const cases: [string, string, string | undefined, number, Record<string, unknown>][] = [
      ['POST', '/api/integration/p/connect/key', '{}', 400, { _tag: 'InvalidRequestError', kind: 'Payload', field: 'key', message: 'body field "key": is required.' }],
      ['POST', '/api/integration/p/connect/key', JSON.stringify({ key: '  ' }), 400, { field: 'key', message: 'body field "key": The key is empty.' }],
      ['POST', '/api/integration/p/connect/key', JSON.stringify({ key: 'sk-one\nsk-two-secret' }), 400, { field: 'key', message: 'body field "key": The key spans more than one line; an API key is a single word.' }],
      ['POST', '/api/integration/p/connect/key', JSON.stringify({ key: 'sk-extra-secret', extra: 1 }), 400, { field: 'extra' }],
      ['POST', '/api/integration/p/connect/key', JSON.stringify({ key: 'sk-label-secret', label: 'a\u0007b' }), 400, { field: 'label', message: 'body field "label": expected one line of text without control characters.' }],
      ['POST', '/api/integration/p/connect/key', '{"key": sk-unquoted-secret}', 400, { _tag: 'InvalidRequestError', kind: 'Payload', message: "The request body is not valid JSON (Unexpected token 's')." }],
      ['POST', '/api/integration/no-such-provider/connect/key', JSON.stringify({ key: 'sk-unknown-secret' }), 404, { _tag: 'NotFoundError', message: 'No integration "no-such-provider": it is neither a provider of the config nor one Pantheon knows.' }],
      ['POST', '/api/integration/x%2Fescape/connect/key', JSON.stringify({ key: 'sk-path-secret' }), 400, { field: 'integrationID', kind: 'Path' }],
      ['PATCH', '/api/credential/cred_p', '{}', 400, { field: 'label', message: 'body field "label": is required.' }],
      ['PATCH', '/api/credential/cred_p', JSON.stringify({ label: 5 }), 400, { field: 'label' }],
      ['PATCH', '/api/credential/cred_p', JSON.stringify({ label: 'x'.repeat(201) }), 400, { field: 'label' }],
      ['PATCH', '/api/credential/p', JSON.stringify({ label: 'x' }), 400, { field: 'credentialID', message: 'path parameter "credentialID": expected a credential id of the form "cred_<providerID>" (as GET /api/integration lists them), not "p".' }],
      ['PATCH', '/api/credential/cred_groq', JSON.stringify({ label: 'x' }), 404, { _tag: 'NotFoundError' }],
      ['DELETE', '/api/credential/cred_', undefined, 400, { field: 'credentialID' }],
    ];
    for (const [method, route, body, status, expected] of cases) {
      const res = await send(method, route, body);
      const at = `${method} ${route} ${String(body).slice(0, 40)}`;
      expect(res.status, at).toBe(status);
      const text = await res.text();
      expect(JSON.parse(text), at).toMatchObject(expected);
      expect(text, at).not.toMatch(/secret/);
    }
    expect(fs.readFileSync(authJson, 'utf8')).toBe(before);
  });
});

describe('what Pantheon does not do: OAuth, the Console, upgrading itself', () => {
  const hint = expect.stringContaining('PUT /auth/{providerID} or POST /api/integration/{id}/connect/key, or run `opencode auth login <provider>`');

  it('v2’s OAuth routes: a 400 InvalidRequestError naming the route, with the hint', async () => {
    const answers = [
      ['POST /api/integration/{integrationID}/connect/oauth', await v2.v2.integration.connect.oauth({ integrationID: 'p', methodID: '0', inputs: {}, ...at() })],
      ['GET /api/integration/attempt/{attemptID}', await v2.v2.integration.attempt.status({ attemptID: 'att_1', ...at() })],
      ['DELETE /api/integration/attempt/{attemptID}', await v2.v2.integration.attempt.cancel({ attemptID: 'att_1', ...at() })],
      ['POST /api/integration/attempt/{attemptID}/complete', await v2.v2.integration.attempt.complete({ attemptID: 'att_1', code: 'c', ...at() })],
    ] as const;
    for (const [route, answer] of answers) {
      expect(answer.response.status, route).toBe(400);
      expect(answer.error, route).toEqual({ _tag: 'InvalidRequestError', kind: 'integration_authorization', message: `${route}: OpenCode's v2 API has no OAuth connections here; Pantheon connects providers by API key (GitHub Copilot's and ChatGPT's logins run through POST /provider/{providerID}/oauth/authorize or \`opencode auth login\`).`, hint });
    }
  });

  it('v1’s OAuth routes: OpenCode’s ProviderAuthOauthMissing (its TUI shows the error’s JSON), naming the route', async () => {
    const authorize = await v1.provider.oauth.authorize({ path: { id: 'p' }, body: { method: 0 } });
    expect(authorize.response.status).toBe(400);
    expect(authorize.error).toEqual({ name: 'ProviderAuthOauthMissing', data: { providerID: 'p', message: 'POST /provider/p/oauth/authorize: "p" has no OAuth login here (the built-in ones are github-copilot\'s and openai\'s, and a project plugin\'s auth hook can add one); Pantheon connects it by API key.', hint } });
    const callback = await createV2({ baseUrl: s.url, directory: sb.project }).provider.oauth.callback({ providerID: 'anthropic', method: 0, code: 'c' });
    expect(callback.response.status).toBe(400);
    expect(callback.error).toMatchObject({ name: 'ProviderAuthOauthMissing', data: { providerID: 'anthropic', message: expect.stringMatching(/^POST \/provider\/anthropic\/oauth\/callback: /) } });
  });

  it('the Console: no orgs, as OpenCode answers with no account; switching is a 400 saying why', async () => {
    const orgs = await v2.experimental.console.listOrgs();
    expect(orgs.response.status).toBe(200);
    expect(orgs.data).toEqual({ orgs: [] });
    const switched = await v2.experimental.console.switchOrg({ accountID: 'acc_1', orgID: 'org_1' });
    expect(switched.response.status).toBe(400);
    expect(switched.error).toMatchObject({ name: 'BadRequest', data: { message: 'POST /experimental/console/switch: Pantheon has no OpenCode Console accounts, so there is no org to switch to.' } });
    const bad = await v2.experimental.console.switchOrg({ accountID: 'acc_1' });
    expect(bad.error).toMatchObject({ data: { field: 'orgID', message: 'body field "orgID": is required.' } });
  });

  it('upgrading: OpenCode’s `{success: false, error}` 400 telling how to upgrade Pantheon; a missing target is named', async () => {
    const upgrade = await v2.global.upgrade({ target: '9.9.9' });
    expect(upgrade.response.status).toBe(400);
    expect(upgrade.error).toEqual({ success: false, error: expect.stringMatching(/^POST \/global\/upgrade: Pantheon does not upgrade itself from the server; it is installed from npm: upgrade it with `npm install -g pantheon@latest`/) });
    const missing = await fetch(`${s.url}/global/upgrade`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ name: 'BadRequest', data: { field: 'target' } });
  });
});

describe('a store that cannot be read', () => {
  it('is never written: connecting or relabelling is a 500 naming the file and where it is broken, not its text', async () => {
    const own = await sandbox();
    own.write('opencode.json', { model: 'p/m', provider: { p: { options: { baseURL: upstream.url }, models: { m: {} } } } });
    const file = path.join(own.dataHome, 'opencode', 'auth.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{"other": sk-broken-secret', { mode: 0o600 });
    const served = await serve(own);
    try {
      const client = createV2({ baseUrl: served.url, directory: own.project });
      for (const answer of [await client.v2.integration.connect.key({ integrationID: 'p', key: SECRET }), await client.v2.credential.update({ credentialID: 'cred_p', label: 'x' })]) {
        expect(answer.response.status).toBe(500);
        expect(answer.error).toEqual({ name: 'UnknownError', data: { message: `The credential store ${file} is not valid JSON at line 1, column 11; it was left untouched.`, hint: expect.stringContaining('move it aside') } });
        expect(JSON.stringify(answer.error)).not.toMatch(/secret|sk-/);
      }
      expect(fs.readFileSync(file, 'utf8')).toBe('{"other": sk-broken-secret');
      // Listing still answers: nothing is connected from it.
      expect((await client.v2.integration.get({ integrationID: 'p' })).data?.data?.connections).toEqual([]);
    } finally {
      await served.stop();
      await own.remove();
    }
  });
});

describe('the server’s password', () => {
  it('without it a 401 and nothing written; with it, connected', async () => {
    const own = await sandbox();
    own.write('opencode.json', { model: 'p/m', provider: { p: { options: { baseURL: upstream.url }, models: { m: {} } } } });
    const guarded = await serve(own, [], { OPENCODE_SERVER_PASSWORD: 'pw-for-the-test' });
    try {
      const file = path.join(own.dataHome, 'opencode', 'auth.json');
      const open = createV2({ baseUrl: guarded.url, directory: own.project });
      expect((await open.v2.integration.connect.key({ integrationID: 'p', key: SECRET })).response.status).toBe(401);
      expect((await open.v2.integration.get({ integrationID: 'p' })).response.status).toBe(401);
      expect((await open.v2.credential.remove({ credentialID: 'cred_p' })).response.status).toBe(401);
      expect((await open.global.upgrade({ target: '1' })).response.status).toBe(401);
      expect(fs.existsSync(file)).toBe(false);
      const client = createV2({ baseUrl: guarded.url, directory: own.project, headers: { authorization: basic('opencode', 'pw-for-the-test') } });
      expect((await client.v2.integration.connect.key({ integrationID: 'p', key: SECRET })).response.status).toBe(204);
      expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ p: { type: 'api', key: SECRET } });
    } finally {
      await guarded.stop();
      await own.remove();
    }
  });
});
