/**
 * The plugins' `auth` hook end to end under `opencode run` (a subprocess) against the scripted
 * provider: a `.opencode/plugin/fake-auth.js` whose loader's fetch rewrites the provider's URL and
 * sends the token stored in auth.json (read at each call), as opencode-gemini-auth does; a loader
 * that throws fails the run with one sentence naming the hook; a provider with a loader but no
 * stored login, and a provider without one, are called as before.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { hasStack, sandbox, type Sandbox } from '../cli/cli-helper.ts';

const TOKEN = 'tok-access-7Qa9';

/** A plugin serving provider `p`: its loader's fetch puts `/wrong` out of the URL and the stored access token in. */
export const FAKE_AUTH = `export const FakeAuth = async () => ({
  auth: {
    provider: "p",
    async loader(getAuth, provider) {
      const first = await getAuth()
      return {
        apiKey: "",
        headers: { "x-loader-type": String(first && first.type) },
        async fetch(input, init) {
          const auth = await getAuth()
          const headers = new Headers(init && init.headers)
          headers.set("authorization", "Bearer " + auth.access)
          headers.set("x-plugin-provider", provider.id + ":" + Object.keys(provider.models).join(","))
          const url = String(input instanceof Request ? input.url : input).replace("/wrong/v1", "/v1")
          return fetch(url, { ...init, headers })
        },
      }
    },
    methods: [{ type: "api", label: "Paste a key" }],
  },
})
`;

describe('the plugins\' auth hook under opencode run', () => {
  let server: ScriptedServer;
  let sb: Sandbox;

  beforeAll(async () => {
    server = await startScriptedServer({ apiKey: TOKEN });
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    server.reset();
    sb = await sandbox();
    // The provider's address is wrong and it has no key: only the plugin's fetch reaches the server.
    sb.write('opencode.json', { provider: { p: { options: { baseURL: server.url.replace('/v1', '/wrong/v1') }, models: { m1: {} } } }, model: 'p/m1' });
    sb.write('.opencode/plugin/fake-auth.js', FAKE_AUTH);
  });
  afterEach(async () => {
    await sb.remove();
  });

  const storeLogin = (entry: object) => sb.write('../xdg-data/opencode/auth.json', { p: entry });

  it('a stored login: every request goes through the loader\'s fetch, with the token auth.json holds', async () => {
    storeLogin({ type: 'oauth', refresh: 'r-1', access: TOKEN, expires: 0 });
    server.script('m1', { type: 'tool_calls', calls: [{ name: 'todowrite', arguments: { todos: [] } }] }, { type: 'text', text: 'Signed in.' });
    const r = await sb.run(['run', 'go']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Signed in.');
    expect(server.log).toHaveLength(2);
    for (const entry of server.log) {
      expect(entry.status).toBe(200);
      expect(entry.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(entry.headers['x-plugin-provider']).toBe('p:m1');
      expect(entry.headers['x-loader-type']).toBe('oauth');
    }
  });

  it('getAuth reads auth.json at each call: a token the store holds now is the one sent', async () => {
    storeLogin({ type: 'oauth', refresh: 'r-1', access: 'stale-token', expires: 0 });
    sb.write('.opencode/plugin/zz-rotate.js', `import { writeFileSync } from "node:fs"
export const Rotate = async () => ({ "chat.params": async () => { writeFileSync(${JSON.stringify(`${sb.root}/xdg-data/opencode/auth.json`)}, JSON.stringify({ p: { type: "oauth", refresh: "r-2", access: ${JSON.stringify(TOKEN)}, expires: 0 } })) } })
`);
    server.script('m1', { type: 'text', text: 'Fresh.' });
    const r = await sb.run(['run', 'go']);
    expect(r.code, r.stderr).toBe(0);
    expect(server.log[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('the scheduler\'s retries still apply: a 429 answered through the plugin\'s fetch is tried again, through it too', async () => {
    storeLogin({ type: 'oauth', refresh: 'r-1', access: TOKEN, expires: 0 });
    const config = JSON.parse(readFileSync(path.join(sb.project, 'opencode.json'), 'utf8')) as object;
    sb.write('opencode.json', { ...config, retry: { baseDelay: 10, maxDelay: 20 } });
    server.script('m1', { type: 'status', status: 429, retryAfterMs: 10 }, { type: 'text', text: 'Second time.' });
    const r = await sb.run(['run', 'go']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Second time.');
    expect(server.log.map((e) => [e.status, e.headers['x-plugin-provider']])).toEqual([
      [429, 'p:m1'],
      [200, 'p:m1'],
    ]);
  });

  it('a loader that throws ends the run with exit 1 and one sentence naming the hook; nothing is sent', async () => {
    storeLogin({ type: 'oauth', refresh: 'r-1', access: TOKEN, expires: 0 });
    sb.write('.opencode/plugin/fake-auth.js', 'export const Broken = async () => ({ auth: { provider: "p", methods: [], loader: async () => { throw new Error("the refresh token was revoked") } } })\n');
    server.script('m1', { type: 'text', text: 'never' });
    const r = await sb.run(['run', 'go']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('The plugin hook auth.loader failed: the refresh token was revoked');
    expect(hasStack(r.stderr)).toBe(false);
    expect(server.log).toHaveLength(0);
  });

  it('no stored login: the loader is not called, and the provider is called as configured', async () => {
    sb.write('opencode.json', { provider: { p: { options: { baseURL: server.url, apiKey: TOKEN }, models: { m1: {} } } }, model: 'p/m1' });
    sb.write('.opencode/plugin/fake-auth.js', 'export const Unused = async () => ({ auth: { provider: "p", methods: [], loader: async () => { throw new Error("must not be called") } } })\n');
    server.script('m1', { type: 'text', text: 'Plain.' });
    const r = await sb.run(['run', 'go']);
    expect(r.code, r.stderr).toBe(0);
    expect(server.log[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('an npm auth plugin shipped as TypeScript (an index.ts importing ./src/plugin without its extension, as opencode-gemini-auth): its loader serves the provider', async () => {
    storeLogin({ type: 'oauth', refresh: 'r-1', access: TOKEN, expires: 0 });
    sb.write('.opencode/plugin/fake-auth.js', 'export const None = async () => ({})\n');
    const pkg = `../xdg-cache/opencode/packages/fake-ts-auth@latest/node_modules/fake-ts-auth`;
    sb.write(`${pkg}/package.json`, { name: 'fake-ts-auth', version: '1.0.0', type: 'module', module: 'index.ts', main: 'index.ts' });
    sb.write(`${pkg}/index.ts`, 'export { FakeTsAuth } from "./src/plugin";\n');
    sb.write(`${pkg}/src/plugin.ts`, FAKE_AUTH.replace('export const FakeAuth = async () =>', 'type Input = { directory: string }\nexport const FakeTsAuth = async (_input: Input): Promise<object> =>'));
    const config = JSON.parse(readFileSync(path.join(sb.project, 'opencode.json'), 'utf8')) as object;
    sb.write('opencode.json', { ...config, plugin: ['fake-ts-auth'] });
    server.script('m1', { type: 'text', text: 'From the package.' });
    const r = await sb.run(['run', 'go']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('did not load');
    expect(server.log[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(server.log[0]?.headers['x-plugin-provider']).toBe('p:m1');
  });

  it('a provider no plugin serves is unchanged beside one that is served', async () => {
    storeLogin({ type: 'oauth', refresh: 'r-1', access: TOKEN, expires: 0 });
    sb.write('opencode.json', {
      provider: { p: { options: { baseURL: server.url.replace('/v1', '/wrong/v1') }, models: { m1: {} } }, q: { options: { baseURL: server.url, apiKey: TOKEN }, models: { m1: {} } } },
      model: 'q/m1',
    });
    server.script('m1', { type: 'text', text: 'Other.' });
    const r = await sb.run(['run', 'go']);
    expect(r.code, r.stderr).toBe(0);
    expect(server.log[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(server.log[0]?.headers['x-plugin-provider']).toBeUndefined();
  });
});
