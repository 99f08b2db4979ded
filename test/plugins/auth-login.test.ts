/**
 * `opencode auth login` through a plugin's `auth` hook (a subprocess, stdin piped): the plugin's
 * `api` method with its prompt and the key from stdin, its `oauth` `code` method (the code from
 * stdin) and `auto` method, stored in auth.json as OpenCode stores them; a refused code saves
 * nothing; an unknown --method names the plugin's methods; and a login stored so is what the
 * plugin's loader sends on the next run.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { hasStack, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { tokenLoader } from '../support/plugin-sources.ts';

const TOKEN = 'tok-from-login-5Zp';

const LOGIN_PLUGIN = `export const FakeLogin = async () => ({
  auth: {
    provider: "p",
    ${tokenLoader()}
    methods: [
      { type: "api", label: "Paste a key", prompts: [{ type: "text", key: "project", message: "Project id", validate: (v) => (v.startsWith("proj-") ? undefined : "a project id starts with proj-") }] },
      {
        type: "oauth",
        label: "Fake OAuth",
        async authorize() {
          return {
            url: "https://auth.example.test/start\\u001b[31m",
            instructions: "Sign in.",
            method: "code",
            async callback(code) {
              return code === "good-code" ? { type: "success", refresh: "r-" + code, access: ${JSON.stringify(TOKEN)}, expires: 123, accountId: "acct-1" } : { type: "failed" }
            },
          }
        },
      },
      {
        type: "oauth",
        label: "Browser",
        async authorize() {
          return { url: "https://auth.example.test/browser", instructions: "Finish in the browser.", method: "auto", async callback() { return { type: "success", provider: "p-alt", refresh: "r-auto", access: "a-auto", expires: 456 } } }
        },
      },
    ],
  },
})
`;

describe('opencode auth login through a plugin\'s auth hook', () => {
  let server: ScriptedServer;
  let sb: Sandbox;
  let authJson: string;

  beforeAll(async () => {
    server = await startScriptedServer({ apiKey: TOKEN });
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    server.reset();
    sb = await sandbox();
    authJson = path.join(sb.dataHome, 'opencode', 'auth.json');
    sb.write('opencode.json', { provider: { p: { options: { baseURL: server.url }, models: { m1: {} } } }, model: 'p/m1' });
    sb.write('.opencode/plugin/fake-login.js', LOGIN_PLUGIN);
  });
  afterEach(async () => {
    await sb.remove();
  });

  const stored = () => JSON.parse(readFileSync(authJson, 'utf8')) as Record<string, unknown>;

  it('the api method: its prompt, then the key, both from stdin; stored with the prompt as metadata', async () => {
    const r = await sb.run(['auth', 'login', 'p', '--method', 'paste a key', '--key-stdin'], { stdin: 'proj-42\nsk-plugin-key-0123456789\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(stored()).toEqual({ p: { type: 'api', key: 'sk-plugin-key-0123456789', metadata: { project: 'proj-42' } } });
    expect(r.stdout).toMatch(/^saved p key sk-\S+ \(Paste a key\) to /);
    expect(r.stdout + r.stderr).not.toContain('sk-plugin-key-0123456789');
  });

  it('a prompt\'s validate refuses an answer: exit 2, its sentence, nothing saved', async () => {
    const r = await sb.run(['auth', 'login', 'p', '-m', 'Paste a key', '--key-stdin'], { stdin: 'nope\nsk-plugin-key-0123456789\n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the answer to "Project id" was refused: a project id starts with proj-.');
    expect(() => readFileSync(authJson)).toThrow();
  });

  it('the oauth code method: the URL shown (escaped), the code from stdin, the login stored; the next run sends its token', async () => {
    const r = await sb.run(['auth', 'login', 'p', '--method', 'Fake OAuth'], { stdin: 'good-code\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Go to: https://auth.example.test/start');
    expect(r.stderr).not.toContain('\u001b');
    expect(stored()).toEqual({ p: { type: 'oauth', refresh: 'r-good-code', access: TOKEN, expires: 123, accountId: 'acct-1' } });
    expect(r.stdout).toMatch(/^saved p OAuth login \(Fake OAuth\) to /);
    expect(r.stdout + r.stderr).not.toContain(TOKEN);

    server.script('m1', { type: 'text', text: 'Logged in.' });
    const run = await sb.run(['run', 'go']);
    expect(run.code, run.stderr).toBe(0);
    expect(server.log[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('the oauth auto method: waits for its callback, and stores the login under the provider it names', async () => {
    const r = await sb.run(['auth', 'login', 'p', '--method', 'browser']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Finish in the browser.');
    expect(stored()).toEqual({ 'p-alt': { type: 'oauth', refresh: 'r-auto', access: 'a-auto', expires: 456 } });
  });

  it('a refused code: exit 1, one sentence, nothing saved', async () => {
    const r = await sb.run(['auth', 'login', 'p', '--method', 'Fake OAuth'], { stdin: 'bad-code\n' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('auth login p: failed to authorize ("Fake OAuth"); nothing was saved.');
    expect(hasStack(r.stderr)).toBe(false);
    expect(() => readFileSync(authJson)).toThrow();
  });

  it('doctor names the providers the plugins log in to', async () => {
    const r = await sb.run(['doctor']);
    expect(r.stdout).toMatch(/ok +plugins +plugins: 1 plugin loaded, logins for p/);
  });

  it('an unknown --method names the plugin\'s methods; several methods and no terminal ask for one', async () => {
    const unknown = await sb.run(['auth', 'login', 'p', '--method', 'Telepathy']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('auth login: unknown method "Telepathy" for p.');
    expect(unknown.stderr).toContain('Available: Paste a key, Fake OAuth, Browser.');
    const none = await sb.run(['auth', 'login', 'p']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('(or name one with --method)');
  });
});
