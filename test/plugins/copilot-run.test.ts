/**
 * GitHub Copilot's built-in plugin on a run's requests: with the OAuth login OpenCode (or Pantheon)
 * stored in auth.json, `opencode run -m github-copilot/…` calls the Copilot API (a scripted
 * OpenAI-compatible server given as `provider.github-copilot.options.baseURL`, which wins over the
 * login's host) with the GitHub token and Copilot's headers; a tool step's follow-up is the agent's
 * (`x-initiator: agent`); the token is nowhere in the output or the session files; a 401 names the
 * command that logs in again; `--pure` keeps the built-in, OPENCODE_DISABLE_DEFAULT_PLUGINS drops it;
 * `auth list` and `doctor` show the login without the token.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { filesContaining, hasStack, sandbox, type Sandbox } from '../cli/cli-helper.ts';

const TOKEN = 'gho_CopilotRunToken0123456789abcd';

describe('opencode run with a GitHub Copilot login (the built-in plugin)', () => {
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
    sb.write('opencode.json', { provider: { 'github-copilot': { options: { baseURL: server.url } } }, model: 'github-copilot/gpt-4.1' });
    login({ type: 'oauth', refresh: TOKEN, access: TOKEN, expires: 0 });
  });
  afterEach(async () => {
    await sb.remove();
  });

  function login(entry: Record<string, unknown>): void {
    const dir = path.join(sb.dataHome, 'opencode');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(path.join(dir, 'auth.json'), JSON.stringify({ 'github-copilot': entry }), { mode: 0o600 });
  }

  it('sends the GitHub token and Copilot\'s headers; a tool step\'s follow-up is the agent\'s; the token is never shown or saved', async () => {
    sb.write('notes.txt', 'copilot notes');
    server.script('gpt-4.1', { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: 'notes.txt' } }] }, { type: 'text', text: 'Read it.' });
    const r = await sb.run(['run', '--format', 'json', 'read notes.txt']);
    expect(r.code, r.stderr).toBe(0);
    expect(server.log).toHaveLength(2);
    const [first, second] = server.log;
    const sessionID = (JSON.parse(r.stdout.split('\n')[0] as string) as { sessionID: string }).sessionID;
    expect(first?.headers).toMatchObject({
      authorization: `Bearer ${TOKEN}`,
      'x-github-api-version': '2026-06-01',
      'x-interaction-id': sessionID,
      'x-initiator': 'user',
      'openai-intent': 'conversation-edits',
    });
    expect(first?.headers['user-agent']).toMatch(/^opencode\//);
    expect(first?.headers['x-api-key']).toBeUndefined();
    expect(first?.headers['copilot-vision-request']).toBeUndefined();
    // A GPT model is not capped (Copilot refuses some caps).
    expect(first?.max_tokens).toBeUndefined();
    expect(second?.headers['x-initiator']).toBe('agent');
    expect(second?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
    expect(await filesContaining(path.join(sb.dataHome, 'pantheon'), TOKEN)).toEqual([]);
  });

  it('a login Copilot refuses (401): exit 1, the command that logs in again, no token', async () => {
    login({ type: 'oauth', refresh: 'gho_ExpiredToken0000000000000000', access: 'x', expires: 0 });
    const r = await sb.run(['run', 'hi']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('GitHub Copilot refused the request (HTTP 401)');
    expect(r.stderr).toContain('log in again with `opencode auth login github-copilot`');
    expect(r.stderr).not.toContain('gho_ExpiredToken');
    expect(hasStack(r.stderr)).toBe(false);
  });

  it('--pure keeps the built-in login; OPENCODE_DISABLE_DEFAULT_PLUGINS=1 leaves it out', async () => {
    server.script('gpt-4.1', { type: 'text', text: 'pure ok' });
    const pure = await sb.run(['run', '--pure', 'hi']);
    expect(pure.code, pure.stderr).toBe(0);
    expect(pure.stdout).toContain('pure ok');
    expect(server.log[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    const off = await sb.run(['run', '--no-cache', 'hi'], { env: { OPENCODE_DISABLE_DEFAULT_PLUGINS: '1' } });
    expect(off.code, off.stderr + off.stdout).toBe(1);
    expect(server.log[1]?.headers.authorization).toBeUndefined();
    expect(server.log[1]?.headers['x-github-api-version']).toBeUndefined();
  });

  it('a picture sent is a vision request', async () => {
    sb.write('opencode.json', { provider: { 'github-copilot': { options: { baseURL: server.url }, models: { 'gpt-4.1': { modalities: { input: ['text', 'image'], output: ['text'] } } } } }, model: 'github-copilot/gpt-4.1' });
    writeFileSync(path.join(sb.project, 'dot.png'), Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64'));
    const r = await sb.run(['run', '-f', 'dot.png', 'what is this?']);
    expect(r.code, r.stderr).toBe(0);
    expect(server.log[0]?.headers['copilot-vision-request']).toBe('true');
  });

  it('auth list and doctor show the login, never the token; doctor lists Copilot\'s models with it', async () => {
    const list = await sb.run(['auth', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/github-copilot +auth\.json +oauth +logged in \(OAuth\): the built-in login makes its requests/);
    const json = await sb.run(['auth', 'list', '--json']);
    const status = JSON.parse(json.stdout) as { providers: { id: string; source: string; stored?: string; builtinLogin?: boolean }[] };
    expect(status.providers.find((p) => p.id === 'github-copilot')).toMatchObject({ source: 'auth.json', stored: 'oauth', builtinLogin: true });
    const doctor = await sb.run(['doctor', '--check', 'auth', '--check', 'models']);
    expect(doctor.stdout).toMatch(/ok +github-copilot +logged in \(OAuth login in auth\.json, used by the built-in login\)/);
    expect(doctor.stdout).toMatch(/models\n +ok +github-copilot +answered in/);
    expect(list.stdout + list.stderr + json.stdout + doctor.stdout + doctor.stderr).not.toContain(TOKEN);
  });
});
