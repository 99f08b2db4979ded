/**
 * Sessions through `opencode run`: every run is saved; `--continue` and `--session` send the
 * earlier turns first (trimmed to the model's context, with a note); a session id that does not
 * exist is a usage error.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { SECRET, providerConfig, sandbox, type Sandbox } from './cli-helper.ts';

type Message = { role: string; content: unknown };

function sessionOf(stderr: string): string {
  const match = /session (ses_[a-z0-9]+)/.exec(stderr);
  if (!match) throw new Error(`no session id in: ${stderr}`);
  return match[1] as string;
}

function roles(messages: unknown[]): string[] {
  return (messages as Message[]).map((m) => m.role);
}

/** The messages after the system prompt, which an agent without a prompt of its own still gets: OpenCode's base prompt (its default family's, for these ids) and environment block. */
function afterEnvironment(messages: unknown[] | undefined, model = 'm1'): unknown[] {
  const [system, ...rest] = (messages ?? []) as Message[];
  expect(system).toEqual({ role: 'system', content: expect.stringMatching(new RegExp(`^You are opencode, an interactive CLI tool [^]*\\nYou are powered by the model named ${model}\\. The exact model ID is p/${model}\\n[^]*</env>$`)) });
  return rest;
}

describe('opencode run sessions', () => {
  let server: ScriptedServer;
  let sb: Sandbox;

  beforeAll(async () => {
    server = await startScriptedServer({ apiKey: SECRET });
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    server.reset();
    sb = await sandbox();
    sb.write('opencode.json', {
      ...providerConfig(server, { m1: {}, tiny: { limit: { context: 1000, output: 100 } } }),
      model: 'p/m1',
      agent: { plain: { mode: 'primary', tools: { '*': false } }, small: { mode: 'primary', model: 'p/tiny', tools: { '*': false } } },
    });
  });
  afterEach(async () => {
    await sb.remove();
  });

  it('--continue sends the earlier user and assistant messages before the new one, in the same session', async () => {
    server.script('m1', { type: 'text', text: 'Hello Ada.' }, { type: 'text', text: 'Your name is Ada.' });
    const first = await sb.run(['run', '-a', 'plain', 'My name is Ada.']);
    expect(first.code, first.stderr).toBe(0);
    const id = sessionOf(first.stderr);
    expect(existsSync(path.join(sb.dataHome, 'pantheon', 'sessions', `${id}.json`))).toBe(true);
    const second = await sb.run(['run', '-c', 'What is my name?']);
    expect(second.code, second.stderr).toBe(0);
    expect(sessionOf(second.stderr)).toBe(id);
    expect(afterEnvironment(server.log[1]?.messages)).toEqual([
      { role: 'user', content: 'My name is Ada.' },
      { role: 'assistant', content: 'Hello Ada.' },
      { role: 'user', content: 'What is my name?' },
    ]);
  });

  it('--fork continues a copy (OpenCode\'s flag): the history is sent, the new turn saved in a new session, the original left as it was', async () => {
    server.script('m1', { type: 'text', text: 'Hello Ada.' }, { type: 'text', text: 'Forked answer.' });
    const first = await sb.run(['run', '-a', 'plain', '--title', 'Names', 'My name is Ada.']);
    const id = sessionOf(first.stderr);
    const forked = await sb.run(['run', '-c', '--fork', 'What is my name?']);
    expect(forked.code, forked.stderr).toBe(0);
    const forkId = sessionOf(forked.stderr);
    expect(forkId).not.toBe(id);
    expect(roles(afterEnvironment(server.log[1]?.messages))).toEqual(['user', 'assistant', 'user']);
    const list = (JSON.parse((await sb.run(['session', 'list', '--json'])).stdout) as { sessions: { id: string; title: string; messageCount: number }[] }).sessions;
    expect(list.find((s) => s.id === id)).toMatchObject({ title: 'Names', messageCount: 2 });
    expect(list.find((s) => s.id === forkId)).toMatchObject({ title: 'Names (fork)', messageCount: 4 });
    const alone = await sb.run(['run', '--fork', 'x']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/^error: --fork: there is no session to copy\.\nhint: Use it with --continue or --session ID\.$/m);
    expect(server.log).toHaveLength(2);
  });

  it('--session ID continues that session; a tool loop\'s calls and results are part of the history', async () => {
    sb.write('notes.txt', 'remember 7');
    server.script('m1', { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: 'notes.txt' }, id: 'call_1' }] }, { type: 'text', text: 'It says 7.' });
    const first = await sb.run(['run', 'read notes']);
    expect(first.code, first.stderr).toBe(0);
    const id = sessionOf(first.stderr);
    await sb.run(['run', '-a', 'plain', 'other session']);
    const again = await sb.run(['run', '--session', id, 'and now?']);
    expect(again.code, again.stderr).toBe(0);
    const sent = server.log[3]?.messages ?? [];
    expect(roles(sent)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant', 'user']);
    expect(JSON.stringify(sent)).toContain('remember 7');
    expect(JSON.stringify(sent)).not.toContain('other session');
  });

  it('an interrupted run keeps what it did: the call that ran and the words said so far go into the session it continues', async () => {
    sb.write('notes.txt', 'remember 7');
    server.script('m1', { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: 'notes.txt' }, id: 'call_1' }] }, { type: 'hang', text: 'It says seven, and ' }, { type: 'text', text: 'go on' });
    const child = sb.start(['run', 'read notes']);
    await child.stdoutMatches(/It says seven, and/);
    child.child.kill('SIGINT');
    const interrupted = await child.exited;
    expect(interrupted.code).toBe(130);
    const again = await sb.run(['run', '-c', 'and then?']);
    expect(again.code, again.stderr).toBe(0);
    const sent = (server.log[2]?.messages ?? []) as Message[];
    expect(roles(sent)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant', 'user']);
    expect(JSON.stringify(sent[3])).toContain('remember 7');
    expect(sent[4]).toEqual({ role: 'assistant', content: 'It says seven, and ' });
    // The session's reply names the model that was answering, though no step of it finished.
    const saved = JSON.parse(readFileSync(path.join(sb.dataHome, 'pantheon', 'sessions', `${sessionOf(again.stderr)}.json`), 'utf8')) as { messages: { info?: { reply: { model?: string; error?: object } } }[] };
    expect(saved.messages[0]?.info?.reply).toMatchObject({ model: 'p/m1', error: { code: 'CANCELLED' } });
  });

  it('a failed run is saved too: its message is part of the session it continues', async () => {
    server.script('m1', { type: 'status', status: 400, message: 'bad' }, { type: 'text', text: 'now it works' });
    const failed = await sb.run(['run', '-a', 'plain', 'first try']);
    expect(failed.code).toBe(1);
    const id = sessionOf(failed.stderr);
    const saved = readFileSync(path.join(sb.dataHome, 'pantheon', 'sessions', `${id}.json`), 'utf8');
    expect(saved).toContain('first try');
    const again = await sb.run(['run', '-c', 'second try']);
    expect(again.code, again.stderr).toBe(0);
    expect(sessionOf(again.stderr)).toBe(id);
    expect(afterEnvironment(server.log[1]?.messages)).toEqual([
      { role: 'user', content: 'first try' },
      { role: 'user', content: 'second try' },
    ]);
  });

  it('a session id that does not exist is a usage error (exit 2) and nothing is sent', async () => {
    const r = await sb.run(['run', '--session', 'ses_doesnotexist', 'hi']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/session ses_doesnotexist does not exist/);
    expect(server.log).toHaveLength(0);
  });

  it('--continue and --session together are a usage error', async () => {
    const r = await sb.run(['run', '-c', '-s', 'ses_x', 'hi']);
    expect(r.code).toBe(2);
    expect(server.log).toHaveLength(0);
  });

  it('--continue with no earlier session starts a new one and says so', async () => {
    const r = await sb.run(['run', '-a', 'plain', '-c', 'hi']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/no earlier session in this project; starting a new one/);
    expect(afterEnvironment(server.log[0]?.messages)).toEqual([{ role: 'user', content: 'hi' }]);
  });

  it('--continue past a session file it cannot read says so, naming the file (it may have been the latest)', async () => {
    const older = sessionOf((await sb.run(['run', '-a', 'plain', 'older one'])).stderr);
    const newer = sessionOf((await sb.run(['run', '-a', 'plain', 'newer one'])).stderr);
    const file = path.join(sb.dataHome, 'pantheon', 'sessions', `${newer}.json`);
    // Cut off: a disk that filled up, a copy that stopped half-way.
    writeFileSync(file, readFileSync(file, 'utf8').slice(0, -20));
    const r = await sb.run(['run', '-c', 'go on']);
    expect(r.code, r.stderr).toBe(0);
    expect(sessionOf(r.stderr)).toBe(older);
    const warning = r.stderr.split('\n').find((line) => line.startsWith(`warning: ${file}`));
    expect(warning).toMatch(/: it is \d+ bytes long, expected \d+ \(cut off or appended to\); skipped in looking for the latest session\.$/);
    expect(warning?.startsWith(`warning: ${file}: `)).toBe(true);
  });

  it("history longer than the model's context is trimmed, oldest turns first, with a note", async () => {
    const long = `first ${'word '.repeat(900)}`;
    const first = await sb.run(['run', '-a', 'small', long]);
    expect(first.code, first.stderr).toBe(0);
    const second = await sb.run(['run', '-c', 'short question']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/history trimmed: 2 earlier messages left out to fit the model's context \(1000 tokens\)/);
    expect(afterEnvironment(server.log[1]?.messages, 'tiny')).toEqual([{ role: 'user', content: 'short question' }]);
  });
});
