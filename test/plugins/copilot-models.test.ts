/**
 * GitHub Copilot's model list and its Responses-only models, with the built-in plugin's login:
 * `opencode run` against a scripted Copilot API (test/support/fake-copilot.ts, given as
 * `provider.github-copilot.options.baseURL`) that serves each model over the endpoints its
 * `/models` entry lists only. A model Copilot serves over the Responses API goes to `/responses`
 * (text, reasoning, a tool call and its follow-up, usage), the others to `/chat/completions`;
 * `supported_endpoints` decides when the list is known, OpenCode's name rule when it is not; the
 * list is kept (0600, no token) and not asked again within its age; `opencode models` lists what
 * Copilot offers; an unknown model, a 401, a 429 and a wrong endpoint are each one sentence.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeCopilot, type FakeCopilot } from '../support/fake-copilot.ts';
import { filesContaining, hasStack, sandbox, type Sandbox } from '../cli/cli-helper.ts';

const TOKEN = 'gho_CopilotModelsToken0123456789ab';

interface JsonEvent {
  type: string;
  text?: string;
  tool?: string;
  usage?: { inputTokens: number; outputTokens: number };
  costUSD?: number;
}

const events = (stdout: string): JsonEvent[] =>
  stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as JsonEvent);

describe('GitHub Copilot: its model list and its Responses-only models', () => {
  let copilot: FakeCopilot;
  let sb: Sandbox;

  beforeAll(async () => {
    copilot = await startFakeCopilot({
      token: TOKEN,
      models: [
        { id: 'gpt-5.3-codex', name: 'GPT-5.3-Codex', endpoints: ['/responses'], efforts: ['low', 'medium', 'high'], context: 400000, output: 128000 },
        { id: 'gpt-4.1', name: 'GPT-4.1', endpoints: ['/chat/completions'], vision: true, context: 128000, output: 16384 },
        // Served over the Responses API only, though OpenCode's name rule would send it to chat completions.
        { id: 'gpt-5-mini', name: 'GPT-5 mini', endpoints: ['/responses'] },
        { id: 'claude-sonnet-4.6', name: 'Claude Sonnet 4.6', endpoints: ['/chat/completions', '/v1/messages'] },
        { id: 'gpt-4o-mini-internal', endpoints: ['/chat/completions'], picker: false },
        { id: 'grok-disabled', endpoints: ['/chat/completions'], disabled: true },
      ],
    });
  });
  afterAll(async () => {
    await copilot.close();
  });
  beforeEach(async () => {
    copilot.reset();
    sb = await sandbox();
    sb.write('opencode.json', { provider: { 'github-copilot': { options: { baseURL: copilot.url } } }, model: 'github-copilot/gpt-5.3-codex' });
    const dir = path.join(sb.dataHome, 'opencode');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(path.join(dir, 'auth.json'), JSON.stringify({ 'github-copilot': { type: 'oauth', refresh: TOKEN, access: TOKEN, expires: 0 } }), { mode: 0o600 });
  });
  afterEach(async () => {
    await sb.remove();
  });

  const calls = () => copilot.requests.filter((r) => r.path !== '/models');

  it('a Responses-only model goes over /responses with the token and Copilot\'s headers: tool call, follow-up, reasoning, usage', async () => {
    sb.write('notes.txt', 'copilot notes');
    copilot.reply('gpt-5.3-codex', { tool: 'read', args: { filePath: 'notes.txt' } }, { text: 'Read the notes.', reasoning: 'Looking at the file.' });
    const r = await sb.run(['run', '--format', 'json', '--thinking', 'read notes.txt']);
    expect(r.code, r.stderr).toBe(0);
    expect(calls().map((c) => c.path)).toEqual(['/responses', '/responses']);
    const [first, second] = calls();
    expect(first?.headers).toMatchObject({ authorization: `Bearer ${TOKEN}`, 'x-github-api-version': '2026-06-01', 'openai-intent': 'conversation-edits', 'x-initiator': 'user' });
    expect(first?.headers['user-agent']).toMatch(/^opencode\//);
    expect(first?.body).toMatchObject({ model: 'gpt-5.3-codex', stream: true, store: false });
    expect(second?.headers['x-initiator']).toBe('agent');
    // The tool's result went back as a Responses function_call_output.
    expect(JSON.stringify(second?.body.input)).toContain('function_call_output');
    expect(JSON.stringify(second?.body.input)).toContain('copilot notes');
    const out = events(r.stdout);
    expect(out.some((e) => e.type === 'tool_use' && e.tool === 'read')).toBe(true);
    expect(out.filter((e) => e.type === 'text').map((e) => e.text).join('')).toBe('Read the notes.');
    expect(out.filter((e) => e.type === 'reasoning').map((e) => e.text).join('')).toContain('Looking at the file.');
    expect(out.find((e) => e.type === 'done')?.usage).toEqual({ inputTokens: 42, outputTokens: 18 });
    // Copilot's list names no price: the subscription pays, as OpenCode counts it.
    expect(out.find((e) => e.type === 'done')?.costUSD ?? 0).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
    expect(await filesContaining(path.join(sb.dataHome, 'pantheon'), TOKEN)).toEqual([]);

    // A chat model of the same login goes over chat completions.
    copilot.reply('gpt-4.1', { text: 'chat answer' });
    const chat = await sb.run(['run', '-m', 'github-copilot/gpt-4.1', 'hi']);
    expect(chat.code, chat.stderr).toBe(0);
    expect(chat.stdout).toContain('chat answer');
    expect(calls().at(-1)?.path).toBe('/chat/completions');
  });

  it('supported_endpoints picks the endpoint when the list is known; OpenCode\'s name rule when Copilot does not answer it', async () => {
    copilot.reply('gpt-5-mini', { text: 'mini over responses' });
    const listed = await sb.run(['run', '-m', 'github-copilot/gpt-5-mini', 'hi']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('mini over responses');
    expect(calls().map((c) => c.path)).toEqual(['/responses']);

    // No list (Copilot answers 503, nothing kept yet): silently the catalogue, OpenCode's rule per name.
    const other = await sandbox();
    try {
      other.write('opencode.json', { provider: { 'github-copilot': { options: { baseURL: copilot.url } } } });
      const dir = path.join(other.dataHome, 'opencode');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(path.join(dir, 'auth.json'), JSON.stringify({ 'github-copilot': { type: 'oauth', refresh: TOKEN, access: TOKEN, expires: 0 } }), { mode: 0o600 });
      copilot.reset();
      copilot.failList(503);
      copilot.reply('gpt-5.3-codex', { text: 'codex by rule' });
      const rule = await other.run(['run', '-m', 'github-copilot/gpt-5.3-codex', 'hi']);
      expect(rule.code, rule.stderr).toBe(0);
      expect(rule.stdout).toContain('codex by rule');
      expect(rule.stderr).not.toMatch(/model list|models/i);
      expect(calls().map((c) => c.path)).toEqual(['/responses']);
      // gpt-5-mini is chat completions by OpenCode's rule; this Copilot refuses that: one sentence, exit 1.
      const refused = await other.run(['run', '-m', 'github-copilot/gpt-5-mini', 'hi']);
      expect(refused.code, refused.stdout + refused.stderr).toBe(1);
      expect(calls().at(-1)?.path).toBe('/chat/completions');
      expect(refused.stderr).toContain('GitHub Copilot does not serve this model over this API');
      expect(refused.stderr).toContain('not accessible via the /chat/completions endpoint');
      expect(hasStack(refused.stderr)).toBe(false);
    } finally {
      await other.remove();
    }
  });

  it('a model Copilot does not offer: one sentence naming some it does, before any call; exit 2', async () => {
    const r = await sb.run(['run', '-m', 'github-copilot/gpt-9-imaginary', 'hi']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('model "github-copilot/gpt-9-imaginary" is not available with the github-copilot login');
    expect(r.stderr).toContain('It offers claude-sonnet-4.6, gpt-4.1, gpt-5-mini, gpt-5.3-codex.');
    // Not in the picker, or switched off by policy: not offered.
    expect(r.stderr).not.toContain('gpt-4o-mini-internal');
    expect(r.stderr).not.toContain('grok-disabled');
    expect(calls()).toEqual([]);
    expect(hasStack(r.stderr)).toBe(false);
  });

  it('opencode models lists what Copilot offers, with its limits; the list is kept 0600 without the token and not asked again', async () => {
    const r = await sb.run(['models', 'github-copilot']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['github-copilot/claude-sonnet-4.6', 'github-copilot/gpt-4.1', 'github-copilot/gpt-5-mini', 'github-copilot/gpt-5.3-codex']);
    expect(copilot.listed()).toBe(1);
    const kept = path.join(sb.dataHome, 'pantheon', 'copilot-models.json');
    expect(statSync(kept).mode & 0o777).toBe(0o600);
    expect(readFileSync(kept, 'utf8')).not.toContain(TOKEN);
    const json = await sb.run(['models', 'github-copilot', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const models = JSON.parse(json.stdout) as { ref: string; name?: string; limit?: { context?: number; output?: number } }[];
    expect(models.find((m) => m.ref === 'github-copilot/gpt-5.3-codex')).toMatchObject({ name: 'GPT-5.3-Codex', limit: { context: 400000, output: 128000 } });
    // The config's own word wins over Copilot's.
    sb.write('opencode.json', { provider: { 'github-copilot': { options: { baseURL: copilot.url }, models: { 'gpt-4.1': { name: 'My 4.1', limit: { context: 1000, output: 100 } } } } }, model: 'github-copilot/gpt-5.3-codex' });
    const mine = await sb.run(['models', 'github-copilot', '--json']);
    const again = JSON.parse(mine.stdout) as { ref: string; name?: string; limit?: { context?: number } }[];
    expect(again.find((m) => m.ref === 'github-copilot/gpt-4.1')).toMatchObject({ name: 'My 4.1', limit: { context: 1000 } });
    expect(again.map((m) => m.ref)).toContain('github-copilot/gpt-5.3-codex');
    // Within the list's age, nothing asked again (a run uses the kept list too).
    copilot.reply('gpt-5.3-codex', { text: 'kept list' });
    const run = await sb.run(['run', 'hi']);
    expect(run.code, run.stderr).toBe(0);
    expect(copilot.listed()).toBe(1);
  });

  it('Copilot\'s 401 on /responses names the login command; a 429 is retried by the scheduler', async () => {
    copilot.reply('gpt-5.3-codex', { status: 429, retryAfter: 0, message: 'rate limited' }, { text: 'after the wait' });
    const retried = await sb.run(['run', '--format', 'json', 'hi']);
    expect(retried.code, retried.stderr).toBe(0);
    expect(events(retried.stdout).some((e) => e.type === 'retry')).toBe(true);
    expect(events(retried.stdout).filter((e) => e.type === 'text').map((e) => e.text).join('')).toBe('after the wait');
    expect(calls().map((c) => [c.path, c.status])).toEqual([
      ['/responses', 429],
      ['/responses', 200],
    ]);

    const dir = path.join(sb.dataHome, 'opencode');
    writeFileSync(path.join(dir, 'auth.json'), JSON.stringify({ 'github-copilot': { type: 'oauth', refresh: 'gho_RevokedToken000000000000000', access: 'x', expires: 0 } }), { mode: 0o600 });
    // Another message: the same one would be answered from the response cache, without Copilot.
    const refused = await sb.run(['run', 'hi again']);
    expect(refused.code, refused.stdout + refused.stderr).toBe(1);
    expect(refused.stderr).toContain('GitHub Copilot refused the request (HTTP 401)');
    expect(refused.stderr).toContain('`opencode auth login github-copilot`');
    expect(refused.stderr).not.toContain('gho_RevokedToken');
    expect(hasStack(refused.stderr)).toBe(false);
  });
});
