/**
 * Two `opencode run -s ID` processes on one session at once: each read the session before the
 * other saved, and both turns are kept (the later save adds its turn after the earlier one's,
 * instead of writing the session as it read it and losing the other turn).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ScriptedServer } from '../support/openai-server.ts';
import { providerConfig, useScriptedSandbox, type Sandbox } from './cli-helper.ts';

type Message = { role: string; content: unknown };

function sessionOf(stderr: string): string {
  const match = /session (ses_[a-z0-9]+)/.exec(stderr);
  if (!match) throw new Error(`no session id in: ${stderr}`);
  return match[1] as string;
}

function userTexts(file: string): string[] {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { session: { messageCount: number }; messages: Message[] };
  expect(doc.session.messageCount).toBe(doc.messages.length);
  return doc.messages.filter((m) => m.role === 'user').map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)));
}

describe('opencode run -s ID twice at once', () => {
  let server: ScriptedServer;
  let sb: Sandbox;

  useScriptedSandbox(
    (s, b) => {
      server = s;
      sb = b;
    },
    (server) => ({
      ...providerConfig(server, { first: {}, held: {}, quick: {} }),
      model: 'p/first',
      agent: { worker: { mode: 'primary', permission: { bash: 'allow' } } },
    }),
  );

  it('keeps both turns: the one that saves last adds its turn after the other', async () => {
    const first = await sb.run(['run', '-a', 'worker', 'Start here.']);
    expect(first.code, first.stderr).toBe(0);
    const id = sessionOf(first.stderr);
    const file = path.join(sb.dataHome, 'pantheon', 'sessions', `${id}.json`);

    // Run A holds its turn open (a command that waits for a file) until run B has saved its own.
    const gate = path.join(sb.project, 'go');
    server.script(
      'held',
      { type: 'tool_calls', calls: [{ name: 'bash', arguments: { command: 'while [ ! -e go ]; do sleep 0.02; done; echo released' } }] },
      { type: 'text', text: 'A is done.' },
    );
    server.script('quick', { type: 'text', text: 'B is done.' });
    const a = sb.start(['run', '-s', id, '-a', 'worker', '-m', 'p/held', 'Message A.']);
    await server.waitForRequests(2);
    // A has read the session and is in its turn; B reads the same session, answers and saves.
    const b = await sb.run(['run', '-s', id, '-a', 'worker', '-m', 'p/quick', 'Message B.']);
    expect(b.code, b.stderr).toBe(0);
    expect(userTexts(file)).toEqual(['Start here.', 'Message B.']);
    writeFileSync(gate, '');
    const ra = await a.exited;
    expect(ra.code, ra.stderr).toBe(0);

    expect(userTexts(file)).toEqual(['Start here.', 'Message B.', 'Message A.']);
    const listed = await sb.run(['session', 'show', id, '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const shown = JSON.parse(listed.stdout) as { messages: Message[]; usage: { inputTokens: number } };
    expect(shown.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user', 'assistant', 'tool', 'assistant']);
    // The lock file of the save is gone.
    expect(existsSync(path.join(path.dirname(file), `.${id}.json.lock`))).toBe(false);
  });
});
