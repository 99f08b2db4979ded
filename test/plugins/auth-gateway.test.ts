/**
 * A project's plugins under the OpenAI-compatible gateway (`/v1`) and the guide's REST API
 * (`/api/v1`), driven by the official `openai` client and plain HTTP against a real `opencode
 * serve`: a provider logged in through a plugin (its `auth` loader's fetch sends the stored token,
 * which the scripted provider requires) answers `/v1` chat (JSON and streamed), the Responses API,
 * embeddings and `/api/v1` prompts (text completions say why not); `chat.params` and `chat.headers`
 * shape each gateway chat request (the request's `gw_…` id as `sessionID`, the agent of
 * `agent/<name>`), the system transform does not; a loader
 * that throws is a 502 in OpenAI's shape with one sentence and no secret; a request for a project
 * whose plugins are still loading waits for them and is served with them.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hasStack, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { getJson, serve, type Served } from '../server/serve-helper.ts';
import { tokenLoader } from '../support/plugin-sources.ts';

const TOKEN = 'tok-gateway-login-7Vx';
const REFRESH = 'refresh-secret-Q9zLw2';

/** A login for `p` (the loader's fetch sends the stored token), one for `q` whose loader throws, and the call hooks. */
const PLUGIN = `export const GatewayLogin = async () => ({
  auth: {
    provider: "p",
    ${tokenLoader('plugin')}
    methods: [{ type: "api", label: "API key" }],
  },
  "chat.headers": async (input, output) => {
    output.headers["x-hook-session"] = input.sessionID
    output.headers["x-hook-agent"] = input.agent === "" ? "(none)" : input.agent
    output.headers["x-hook-message"] = input.message.sessionID === input.sessionID && input.message.role === "user" ? input.message.model.providerID + "/" + input.message.model.modelID : "wrong"
  },
  "chat.params": async (input, output) => {
    if (input.model.providerID === "p") output.options.plugin_field = "set-by-plugin"
  },
  "experimental.chat.system.transform": async (input, output) => {
    output.system.push("ADDED-BY-SYSTEM-TRANSFORM")
  },
})

export const BrokenLogin = async () => ({
  auth: {
    provider: "q",
    async loader(getAuth) {
      const auth = await getAuth()
      throw new Error("refresh failed for " + auth.refresh)
    },
    methods: [{ type: "api", label: "API key" }],
  },
})
`;

/** The other project's plugin: loads only once the test lets it (a file), saying first that it started. */
const SLOW_PLUGIN = (started: string, release: string) => `import fs from "node:fs"
export const SlowLogin = async () => {
  fs.writeFileSync(${JSON.stringify(started)}, "started")
  while (!fs.existsSync(${JSON.stringify(release)})) await new Promise((r) => setTimeout(r, 20))
  return {
    auth: {
      provider: "p",
      async loader(getAuth) {
        return {
          apiKey: "",
          async fetch(input, init) {
            const headers = new Headers(init && init.headers)
            headers.set("authorization", "Bearer " + (await getAuth()).access)
            headers.set("x-served-by", "slow-plugin")
            return fetch(input, { ...init, headers })
          },
        }
      },
    },
  }
}
`;

let sb: Sandbox;
let upstream: ScriptedServer;
let s: Served;
let client: OpenAI;

const providers = (url: string) => ({
  p: { options: { baseURL: url }, models: { m: {} } },
  q: { options: { baseURL: url }, models: { qm: { id: 'm' } } },
  // No plugin login: its key from the config, over Pantheon's own OpenAI client.
  w: { options: { baseURL: url, apiKey: TOKEN }, models: { wm: { id: 'm' } } },
});

beforeAll(async () => {
  upstream = await startScriptedServer({ apiKey: TOKEN });
  sb = await sandbox();
  sb.write('opencode.json', { model: 'p/m', provider: providers(upstream.url), agent: { helper: { model: 'p/m' } }, cache: { enabled: false }, retry: { maxRetries: 0 } });
  sb.write('.opencode/plugin/gateway-login.js', PLUGIN);
  sb.write(path.join(sb.dataHome, 'opencode', 'auth.json'), {
    p: { type: 'oauth', refresh: 'r-1', access: TOKEN, expires: 0 },
    q: { type: 'oauth', refresh: REFRESH, access: 'a-2', expires: 0 },
  });
  s = await serve(sb);
  client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'unused-open-server', maxRetries: 0 });
});

afterAll(async () => {
  await s?.stop();
  await upstream?.close();
  await sb?.remove();
});

describe('/v1 with a plugin-logged-in provider', () => {
  it('chat (JSON): the request goes through the loader’s fetch, with chat.params and chat.headers, without the system transform', async () => {
    upstream.script('m', { type: 'text', text: 'Served through the plugin.' });
    const { data, response } = await client.chat.completions.create({ model: 'p/m', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello' }] }).withResponse();
    expect(data.choices[0]?.message.content).toBe('Served through the plugin.');
    expect(response.headers.get('x-pantheon-model')).toBe('p/m');
    const sent = upstream.log.at(-1);
    expect(sent?.status).toBe(200);
    expect(sent?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(sent?.headers['x-served-by']).toBe('plugin');
    expect(sent?.headers['x-hook-session']).toMatch(/^gw_/);
    expect(sent?.headers['x-hook-agent']).toBe('(none)');
    expect(sent?.headers['x-hook-message']).toBe('p/m');
    expect((sent?.body as Record<string, unknown>).plugin_field).toBe('set-by-plugin');
    expect(sent?.messages).toEqual([{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello' }]);
  });

  it('chat (streamed), for an agent: the same hooks, the agent named', async () => {
    upstream.script('m', { type: 'text', chunks: ['one ', 'two'] });
    const stream = await client.chat.completions.create({ model: 'agent/helper', messages: [{ role: 'user', content: 'count' }], stream: true, stream_options: { include_usage: true } });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('one two');
    const sent = upstream.log.at(-1);
    expect(sent?.stream).toBe(true);
    expect(sent?.headers['x-served-by']).toBe('plugin');
    expect(sent?.headers['x-hook-agent']).toBe('helper');
  });

  it('the Responses API goes the same way', async () => {
    upstream.script('m', { type: 'text', text: 'A response.' });
    const answer = await client.responses.create({ model: 'p/m', input: 'hi', store: false });
    expect(answer.output_text).toBe('A response.');
    expect(upstream.log.at(-1)?.headers['x-served-by']).toBe('plugin');
  });

  it('embeddings go through the loader; text completions, which only Pantheon’s own client sends, say why not', async () => {
    const vectors = await client.embeddings.create({ model: 'p/m', input: 'hello' });
    expect(vectors.data[0]?.embedding.length).toBeGreaterThan(0);
    const sent = upstream.log.at(-1);
    expect(sent?.endpoint).toBe('embeddings');
    expect(sent?.headers['x-served-by']).toBe('plugin');
    expect(sent?.headers['x-hook-session']).toBeUndefined();

    const refused = await client.completions.create({ model: 'p/m', prompt: 'def f(' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as Error).message).toContain('provider "p" is called through its plugin’s auth loader');
  });

  it('a provider without a login gets the call hooks too (its key from the config)', async () => {
    upstream.script('m', { type: 'text', text: 'Keyed.' });
    const answer = await client.chat.completions.create({ model: 'w/wm', messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.choices[0]?.message.content).toBe('Keyed.');
    const sent = upstream.log.at(-1);
    expect(sent?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(sent?.headers['x-served-by']).toBeUndefined();
    expect(sent?.headers['x-hook-session']).toMatch(/^gw_/);
    expect((sent?.body as Record<string, unknown>).plugin_field).toBeUndefined();
  });

  it('a loader that throws: 502 in OpenAI’s shape, one sentence naming the hook, the stored login masked', async () => {
    const before = upstream.log.length;
    const res = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'q/qm', messages: [{ role: 'user', content: 'hi' }] }) });
    const text = await res.text();
    expect(res.status).toBe(502);
    const body = JSON.parse(text) as { error: { message: string; type: string; code: string } };
    expect(body.error).toMatchObject({ type: 'api_error', code: 'plugin_failed' });
    expect(body.error.message).toMatch(/^The plugin hook auth\.loader failed: refresh failed for \S+ Fix the plugin/);
    expect(text).not.toContain(REFRESH);
    expect(hasStack(text)).toBe(false);
    expect(upstream.log.length).toBe(before);
    // The openai client reads it as an APIError with the status.
    const error = await client.chat.completions.create({ model: 'q/qm', messages: [{ role: 'user', content: 'hi' }], stream: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect(s.proc.stderr()).not.toContain(REFRESH);
  });

  it('/api/v1: a prompt to a session goes through the loader too', async () => {
    upstream.script('m', { type: 'text', text: 'REST through the plugin.' });
    const created = await getJson(`${s.url}/api/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'rest' }) });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    const answered = await getJson(`${s.url}/api/v1/sessions/${id}/prompt`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ parts: [{ type: 'text', text: 'hello' }] }) });
    expect(answered.status).toBe(200);
    expect(JSON.stringify(answered.body)).toContain('REST through the plugin.');
    const sent = upstream.log.at(-1);
    expect(sent?.headers['x-served-by']).toBe('plugin');
    // A session's turn: its own session id, and the system transform applies there.
    expect(sent?.headers['x-hook-session']).not.toMatch(/^gw_/);
    expect(JSON.stringify(sent?.messages)).toContain('ADDED-BY-SYSTEM-TRANSFORM');

    const failed = await getJson(`${s.url}/api/v1/sessions/${id}/prompt`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ parts: [{ type: 'text', text: 'hi' }], model: 'q/qm' }) });
    expect(failed.status).toBe(502);
    expect(failed.body).toMatchObject({ error: { code: 'provider_error', details: { pantheon_code: 'PLUGIN_FAILED' } } });
    expect(JSON.stringify(failed.body)).not.toContain(REFRESH);
  });

  it('a request for a project whose plugins are loading waits for them, then is served with them', async () => {
    const other = path.join(sb.root, 'other');
    const started = path.join(sb.root, 'slow-started');
    const release = path.join(sb.root, 'slow-release');
    sb.write(path.join(other, 'opencode.json'), { model: 'p/m', provider: providers(upstream.url), cache: { enabled: false }, retry: { maxRetries: 0 } });
    sb.write(path.join(other, '.opencode/plugin/slow-login.js'), SLOW_PLUGIN(started, release));
    const otherClient = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'unused-open-server', maxRetries: 0, defaultHeaders: { 'x-opencode-directory': encodeURIComponent(other) } });
    upstream.script('m', { type: 'text', text: 'After loading.' });
    let settled = false;
    const answer = otherClient.chat.completions.create({ model: 'p/m', messages: [{ role: 'user', content: 'hi' }] }).finally(() => {
      settled = true;
    });
    await vi.waitFor(() => expect(existsSync(started)).toBe(true), { timeout: 60_000, interval: 20 });
    // The plugin cannot have finished loading: the request is still waiting for it.
    expect(settled).toBe(false);
    sb.write(release, 'go');
    expect((await answer).choices[0]?.message.content).toBe('After loading.');
    expect(upstream.log.at(-1)?.headers['x-served-by']).toBe('slow-plugin');
  });
});
