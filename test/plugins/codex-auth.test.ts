/**
 * The built-in ChatGPT (Codex) login of the `openai` provider, as OpenCode 1.18.33 has it, against
 * a scripted auth.openai.com and chatgpt.com (test/support/codex-fakes.ts, reached through Node's
 * own proxy support): a turn with a tool call goes to the Codex endpoint with the token, the
 * account and OpenCode's headers, over `@ai-sdk/openai`'s Responses API model; an expired token is renewed
 * once for two runs at once; a 401 renews it; a revoked login is one sentence; a model the
 * subscription does not serve is refused before any request; `auth login openai` headless and
 * browser (a wrong state refused, the callback port busy), `auth list`, `doctor`, and `serve`'s
 * provider-auth routes. No token shows anywhere.
 */
import { readFileSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { createOpencodeClient } from '@opencode-ai/sdk';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hasStack, sandbox, type CliResult, type Sandbox } from '../cli/cli-helper.ts';
import { startCodexFakes, type CodexFakes } from '../support/codex-fakes.ts';
import { serve } from '../server/serve-helper.ts';

let fakes: CodexFakes;
let sb: Sandbox;
let authJson: string;

beforeAll(async () => {
  fakes = await startCodexFakes();
});
afterAll(async () => {
  await fakes?.close();
});
beforeEach(async () => {
  sb = await sandbox();
  authJson = path.join(sb.dataHome, 'opencode', 'auth.json');
  fakes.reset();
});
afterEach(async () => {
  await sb?.remove();
});

/** Stores a ChatGPT login as OpenCode does. */
async function login(entry: { access: string; refresh: string; expires: number }): Promise<void> {
  await fs.mkdir(path.dirname(authJson), { recursive: true, mode: 0o700 });
  await fs.writeFile(authJson, JSON.stringify({ openai: { type: 'oauth', ...entry, accountId: fakes.account } }, null, 2), { mode: 0o600 });
}

const run = (args: string[]) => sb.run(args, { env: fakes.env });

/** Every secret the fakes handed out, for "never shown" checks. */
function secrets(): string[] {
  return [fakes.tokens.access, fakes.tokens.refresh];
}

async function expectNoSecret(...texts: string[]): Promise<void> {
  const sessions = await fs.readdir(path.join(sb.dataHome, 'pantheon'), { recursive: true }).catch(() => []);
  const stored = await Promise.all(sessions.map((f) => fs.readFile(path.join(sb.dataHome, 'pantheon', String(f))).then(String, () => '')));
  for (const secret of secrets()) for (const text of [...texts, ...stored]) expect(text).not.toContain(secret);
}

function readStore(): Record<string, Record<string, unknown>> {
  return JSON.parse(readFileSync(authJson, 'utf8')) as Record<string, Record<string, unknown>>;
}

describe('requests with a ChatGPT login', () => {
  it('sends a turn with a tool call to the Codex endpoint with the token, the account and OpenCode\'s headers', async () => {
    sb.write('notes.txt', 'the launch code is 4417\n');
    await login({ access: fakes.tokens.access, refresh: fakes.tokens.refresh, expires: Date.now() + 3_600_000 });
    fakes.reply({ tool: 'read', args: { filePath: 'notes.txt' } }, { text: 'The code is 4417.' });
    const r = await run(['run', '-m', 'openai/gpt-5.4', 'What is the launch code in notes.txt?']);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('The code is 4417.');
    expect(fakes.requests).toHaveLength(2);
    const [first, second] = fakes.requests as [(typeof fakes.requests)[0], (typeof fakes.requests)[0]];
    expect(first.headers.authorization).toBe(`Bearer ${fakes.tokens.access}`);
    expect(first.headers['chatgpt-account-id']).toBe(fakes.account);
    expect(first.headers.originator).toBe('opencode');
    expect(first.headers['user-agent']).toMatch(/^opencode\/\S+ \(/);
    expect(first.headers['session-id']).toMatch(/\S/);
    expect(first.body).toMatchObject({ model: 'gpt-5.4', store: false, stream: true });
    expect(typeof first.body.instructions).toBe('string');
    expect(first.body).not.toHaveProperty('max_output_tokens');
    expect((first.body.tools as { name: string }[]).map((t) => t.name)).toContain('read');
    const input = second.body.input as Record<string, unknown>[];
    expect(input).toContainEqual(expect.objectContaining({ type: 'function_call', call_id: 'call_1', name: 'read' }));
    const output = input.find((i) => i.type === 'function_call_output') as Record<string, unknown>;
    expect(output.call_id).toBe('call_1');
    expect(String(output.output)).toContain('4417');
    await expectNoSecret(r.stdout, r.stderr);
  });

  it('renews an expired token once for two runs at once, and keeps the new refresh token', async () => {
    const old = { access: fakes.jwt(), refresh: fakes.tokens.refresh, expires: Date.now() - 1000 };
    await login(old);
    fakes.reply({ text: 'one' }, { text: 'two' });
    const [a, b] = await Promise.all([run(['run', '-m', 'openai/gpt-5.4', 'say one']), run(['run', '-m', 'openai/gpt-5.4', 'say two'])]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(fakes.refreshes).toEqual({ asked: 1, granted: 1 });
    const stored = readStore().openai as Record<string, unknown>;
    expect(stored).toMatchObject({ type: 'oauth', access: fakes.tokens.access, refresh: fakes.tokens.refresh, accountId: fakes.account });
    expect(stored.expires as number).toBeGreaterThan(Date.now());
    expect(statSync(authJson).mode & 0o777).toBe(0o600);
    for (const req of fakes.requests) expect(req.headers.authorization).toBe(`Bearer ${fakes.tokens.access}`);
    await expectNoSecret(a.stdout, a.stderr, b.stdout, b.stderr);
  });

  it('renews a token the endpoint refuses (401) and sends the request again', async () => {
    await login({ access: fakes.jwt(), refresh: fakes.tokens.refresh, expires: Date.now() + 3_600_000 });
    fakes.reply({ text: 'after renewal' });
    const r = await run(['run', '-m', 'openai/gpt-5.4', 'hello']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('after renewal');
    expect(fakes.requests.map((q) => q.status)).toEqual([401, 200]);
    expect(fakes.refreshes.granted).toBe(1);
    expect(readStore().openai?.access).toBe(fakes.tokens.access);
  });

  it('says in one sentence to log in again when the refresh token was revoked', async () => {
    const before = { access: fakes.jwt(), refresh: fakes.tokens.refresh, expires: Date.now() - 1000 };
    await login(before);
    fakes.revoke();
    const r = await run(['run', '-m', 'openai/gpt-5.4', 'hello']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Your ChatGPT login for openai has expired or was revoked');
    expect(r.stderr).toContain('opencode auth login openai --method "ChatGPT Pro/Plus (browser)"');
    expect(hasStack(r.stderr)).toBe(false);
    expect(fakes.requests).toHaveLength(0);
    expect(readStore().openai?.refresh).toBe(before.refresh);
    for (const text of [r.stdout, r.stderr]) expect(text).not.toContain(before.refresh);
  });

  it('refuses a model the subscription does not serve, before any request', async () => {
    await login({ access: fakes.tokens.access, refresh: fakes.tokens.refresh, expires: Date.now() + 3_600_000 });
    const r = await run(['run', '-m', 'openai/gpt-4o', 'hello']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('model "openai/gpt-4o" is not available with the openai login in auth.json');
    expect(r.stderr).toContain('--method "Manually enter API Key"');
    expect(hasStack(r.stderr)).toBe(false);
    expect(fakes.requests).toHaveLength(0);
  });
});

describe('OPENCODE_DISABLE_DEFAULT_PLUGINS=1', () => {
  it('leaves the ChatGPT login out: no methods for openai, a stored login unused, auth list does not name it', async () => {
    await login({ access: fakes.tokens.access, refresh: fakes.tokens.refresh, expires: Date.now() + 3_600_000 });
    const off = (args: string[]) => sb.run(args, { env: { ...fakes.env, OPENCODE_DISABLE_DEFAULT_PLUGINS: '1' } });
    const methods = await off(['auth', 'login', 'openai', '--method', 'ChatGPT Pro/Plus (headless)']);
    expect(methods.code).toBe(2);
    expect(methods.stderr).toContain('no plugin of this project logs in to openai');
    const r = await off(['run', '-m', 'openai/gpt-5.4', 'hello']);
    expect(r.code).not.toBe(0);
    expect(hasStack(r.stderr)).toBe(false);
    expect(fakes.requests).toHaveLength(0);
    sb.write('opencode.json', { model: 'openai/gpt-5.4' });
    const list = await off(['auth', 'list']);
    expect(list.stdout).not.toContain('ChatGPT Plus/Pro login');
    await expectNoSecret(methods.stdout, methods.stderr, r.stdout, r.stderr, list.stdout, list.stderr);
  });
});

describe('opencode auth login openai', () => {
  it('headless: prints the URL and the code, and stores the login as OpenCode does', async () => {
    const r = await run(['auth', 'login', 'openai', '--method', 'ChatGPT Pro/Plus (headless)']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Go to: https://auth.openai.com/codex/device');
    expect(r.stderr).toContain('Enter code: ABCD-1234');
    const stored = readStore().openai as Record<string, unknown>;
    expect(stored).toMatchObject({ type: 'oauth', access: fakes.tokens.access, refresh: fakes.tokens.refresh, accountId: fakes.account });
    expect(statSync(authJson).mode & 0o777).toBe(0o600);
    await expectNoSecret(r.stdout, r.stderr);
    sb.write('opencode.json', { model: 'openai/gpt-5.4' });
    const list = await run(['auth', 'list']);
    expect(list.stdout).toMatch(/openai .*ChatGPT Plus\/Pro login \(built in\)/);
    expect(list.stderr).not.toMatch(/no credential/);
    const doctor = await run(['doctor', '--check', 'auth', '--check', 'models']);
    expect(doctor.stdout).toMatch(/ok +openai +ChatGPT Plus\/Pro login \(built in\)/);
    expect(doctor.stdout).toMatch(/skip +openai +not probed: its models are served through a login/);
    // A key beside the login: runs still use the login, so doctor does not probe with the key either.
    const both = await sb.run(['doctor', '--check', 'models'], { env: { ...fakes.env, OPENAI_API_KEY: 'sk-beside-the-login-0000' } });
    expect(both.stdout).toMatch(/skip +openai +not probed: its models are served through a login \(see auth\); the key beside it is not used while the login is stored/);
    expect(both.stdout + both.stderr).not.toContain('sk-beside-the-login-0000');
    await expectNoSecret(list.stdout, list.stderr, doctor.stdout, doctor.stderr, both.stdout, both.stderr);
  });

  it('browser: refuses a callback with another state, and stores the login the right one brings', async () => {
    const urlOf = async (p: ReturnType<Sandbox['start']>) => new URL(/Go to: (\S+)/.exec(await p.stderrMatches(/Go to: \S+\n/))?.[1] as string);
    const first = sb.start(['auth', 'login', 'openai', '--method', 'ChatGPT Pro/Plus (browser)'], { env: fakes.env });
    const authorize = await urlOf(first);
    expect(authorize.origin + authorize.pathname).toBe('https://auth.openai.com/oauth/authorize');
    expect(authorize.searchParams.get('redirect_uri')).toBe('http://localhost:1455/auth/callback');
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    const wrong = await fetch('http://127.0.0.1:1455/auth/callback?code=code-from-browser&state=not-this-one');
    expect(wrong.status).toBe(400);
    const refused: CliResult = await first.exited;
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("the browser came back with another login's state");
    expect(hasStack(refused.stderr)).toBe(false);
    await expect(fs.access(authJson)).rejects.toThrow();

    const second = sb.start(['auth', 'login', 'openai', '--method', 'ChatGPT Pro/Plus (browser)'], { env: fakes.env });
    const state = (await urlOf(second)).searchParams.get('state') as string;
    const right = await fetch(`http://127.0.0.1:1455/auth/callback?code=code-from-browser&state=${encodeURIComponent(state)}`);
    expect(right.status).toBe(200);
    const done = await second.exited;
    expect(done.code).toBe(0);
    expect(readStore().openai).toMatchObject({ type: 'oauth', access: fakes.tokens.access, accountId: fakes.account });
    await expectNoSecret(done.stdout, done.stderr);
  });

  it('browser: says so when the callback port is busy, and names the headless method', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(1455, '127.0.0.1', resolve));
    try {
      const r = await run(['auth', 'login', 'openai', '--method', 'ChatGPT Pro/Plus (browser)']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('the callback port 1455 on localhost is in use');
      expect(r.stderr).toContain('--method "ChatGPT Pro/Plus (headless)"');
      expect(hasStack(r.stderr)).toBe(false);
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });
});

describe('opencode serve', () => {
  it('renews an expired token once for two turns of one server at once', async () => {
    const old = { access: fakes.jwt(), refresh: fakes.tokens.refresh, expires: Date.now() - 1000 };
    await login(old);
    sb.write('opencode.json', { model: 'openai/gpt-5.4' });
    fakes.reply({ text: 'first answer' }, { text: 'second answer' });
    const s = await serve(sb, [], fakes.env);
    try {
      const client = createOpencodeClient({ baseUrl: s.url, directory: sb.project });
      const ids = await Promise.all([client.session.create({ body: {} }), client.session.create({ body: {} })]);
      const answers = await Promise.all(ids.map((created) => client.session.prompt({ path: { id: created.data?.id as string }, body: { parts: [{ type: 'text', text: 'hello' }] } })));
      const texts = answers.map((a) => a.data?.parts.filter((p) => p.type === 'text').map((p) => (p as { text: string }).text).join(''));
      expect(texts.sort()).toEqual(['first answer', 'second answer']);
      expect(fakes.refreshes).toEqual({ asked: 1, granted: 1 });
      expect(readStore().openai).toMatchObject({ access: fakes.tokens.access, refresh: fakes.tokens.refresh });
      const sessions = await client.session.list();
      await expectNoSecret(JSON.stringify(sessions.data), JSON.stringify(answers.map((a) => a.data)));
    } finally {
      const r = await s.stop();
      await expectNoSecret(r.stdout, r.stderr);
    }
  });

  it('lists the ChatGPT methods and logs in through the OAuth routes', async () => {
    const s = await serve(sb, [], fakes.env);
    try {
      const methods = (await (await fetch(`${s.url}/provider/auth`)).json()) as Record<string, { type: string; label: string }[]>;
      expect(methods.openai?.map((m) => m.label)).toEqual(['ChatGPT Pro/Plus (browser)', 'ChatGPT Pro/Plus (headless)', 'Manually enter API Key']);
      const post = (route: string, body: unknown) => fetch(`${s.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const started = (await (await post('/provider/openai/oauth/authorize', { method: 1 })).json()) as Record<string, unknown>;
      expect(started).toEqual({ url: 'https://auth.openai.com/codex/device', method: 'auto', instructions: 'Enter code: ABCD-1234' });
      const finished = await post('/provider/openai/oauth/callback', { method: 1 });
      expect(finished.status).toBe(200);
      expect(readStore().openai).toMatchObject({ type: 'oauth', access: fakes.tokens.access, accountId: fakes.account });
    } finally {
      const r = await s.stop();
      await expectNoSecret(r.stdout, r.stderr);
    }
  });
});
