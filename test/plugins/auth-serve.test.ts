/**
 * A plugin's `auth` hook under `opencode serve`, through `@opencode-ai/sdk` as OpenCode's TUI calls
 * it: `GET /provider/auth` lists the plugin's methods for its provider, `authorize` then `callback`
 * run its OAuth `code` method and store the login in auth.json, and the next prompt's request goes
 * through the plugin's loader (its fetch sends the stored token). A callback with no login started
 * is OpenCode's ProviderAuthOauthMissing; a refused code is ProviderAuthOauthCallbackFailed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createOpencodeClient } from '@opencode-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { serve, type Served } from '../server/serve-helper.ts';
import { tokenLoader } from '../support/plugin-sources.ts';

const TOKEN = 'tok-served-login-8Kq';

const PLUGIN = `export const ServedLogin = async () => ({
  auth: {
    provider: "p",
    ${tokenLoader('plugin')}
    methods: [
      { type: "api", label: "API key" },
      {
        type: "oauth",
        label: "Sign in",
        prompts: [{ type: "text", key: "team", message: "Team", validate: (v) => (v === "core" ? undefined : "unknown team") }],
        async authorize(inputs) {
          return {
            url: "https://auth.example.test/?team=" + inputs.team,
            instructions: "Paste the code.",
            method: "code",
            async callback(code) {
              return code === "right" ? { type: "success", refresh: "r-1", access: ${JSON.stringify(TOKEN)}, expires: 99 } : { type: "failed" }
            },
          }
        },
      },
    ],
  },
})
`;

/** The body of OpenCode's authorize with its prompts' answers (the v1 SDK's type names only `method`). */
function withInputs(inputs: Record<string, string>): { method: number } {
  return { method: 1, inputs } as { method: number };
}

let sb: Sandbox;
let upstream: ScriptedServer;
let s: Served;
let client: ReturnType<typeof createOpencodeClient>;
let authJson: string;

beforeAll(async () => {
  upstream = await startScriptedServer({ apiKey: TOKEN });
  sb = await sandbox();
  sb.write('opencode.json', { model: 'p/m', provider: { p: { options: { baseURL: upstream.url }, models: { m: {} } } } });
  sb.write('.opencode/plugin/served-login.js', PLUGIN);
  authJson = path.join(sb.dataHome, 'opencode', 'auth.json');
  s = await serve(sb);
  client = createOpencodeClient({ baseUrl: s.url, directory: sb.project });
});

afterAll(async () => {
  await s?.stop();
  await upstream?.close();
  await sb?.remove();
});

describe('a plugin\'s login over OpenCode\'s provider routes', () => {
  it('lists the plugin\'s methods, runs its OAuth code login, and the next prompt goes through its loader', async () => {
    const methods = (await client.provider.auth()).data as Record<string, unknown>;
    expect(methods.p).toEqual([
      { type: 'api', label: 'API key' },
      { type: 'oauth', label: 'Sign in', prompts: [{ type: 'text', key: 'team', message: 'Team' }] },
    ]);

    const early = await client.provider.oauth.callback({ path: { id: 'p' }, body: { method: 1, code: 'right' } });
    expect(early.response.status).toBe(400);
    expect(early.error).toMatchObject({ name: 'ProviderAuthOauthMissing', data: { providerID: 'p' } });

    const invalid = await client.provider.oauth.authorize({ path: { id: 'p' }, body: withInputs({ team: 'other' }) });
    expect(invalid.error).toMatchObject({ name: 'ProviderAuthValidationFailed', data: { field: 'team', message: 'unknown team' } });

    const started = await client.provider.oauth.authorize({ path: { id: 'p' }, body: withInputs({ team: 'core' }) });
    expect(started.data).toEqual({ url: 'https://auth.example.test/?team=core', method: 'code', instructions: 'Paste the code.' });
    const wrong = await client.provider.oauth.callback({ path: { id: 'p' }, body: { method: 1, code: 'wrong' } });
    expect(wrong.error).toMatchObject({ name: 'ProviderAuthOauthCallbackFailed' });
    expect(fs.existsSync(authJson)).toBe(false);

    const done = await client.provider.oauth.callback({ path: { id: 'p' }, body: { method: 1, code: 'right' } });
    expect(done.data).toBe(true);
    expect(JSON.parse(fs.readFileSync(authJson, 'utf8'))).toEqual({ p: { type: 'oauth', refresh: 'r-1', access: TOKEN, expires: 99 } });

    upstream.script('m', { type: 'text', text: 'Served through the plugin.' });
    const id = (await client.session.create({ body: {} })).data?.id ?? '';
    const answered = await client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'hello' }] } });
    expect(answered.data?.parts.find((p) => p.type === 'text')).toMatchObject({ text: 'Served through the plugin.' });
    expect(upstream.log.at(-1)?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(upstream.log.at(-1)?.headers['x-served-by']).toBe('plugin');
  });
});
