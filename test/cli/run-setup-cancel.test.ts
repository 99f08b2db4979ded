/**
 * `opencode run -c` / `-s` interrupted (Ctrl-C) while its turn still sets up — here waiting for the
 * agent's MCP server, which never answers `initialize` — keeps the user's message in the session it
 * continues, as OpenCode saves a prompt before its loop starts: exit 130, the session file holds the
 * message with a reply cancelled, and the next run sends it to the model as part of the history.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { eventually, fixture } from '../mcp/helpers.ts';
import { SECRET, providerConfig, sandbox, type Sandbox } from './cli-helper.ts';

type Message = { role: string; content: unknown };

function sessionOf(stderr: string): string {
  const match = /session (ses_[a-z0-9]+)/.exec(stderr);
  if (!match) throw new Error(`no session id in: ${stderr}`);
  return match[1] as string;
}

describe('opencode run interrupted while its turn sets up', () => {
  let server: ScriptedServer;
  let sb: Sandbox;
  let pidFile: string;
  /** The config, with the MCP server that never answers or without it. */
  const config = (hanging: boolean) => ({
    ...providerConfig(server, { m1: {} }),
    model: 'p/m1',
    cache: { enabled: false },
    agent: { plain: { mode: 'primary', tools: { '*': false } } },
    ...(hanging ? { mcp: { slow: { type: 'local', command: [process.execPath, fixture('hang-server.mjs')], environment: { PID_FILE: pidFile }, timeout: 600_000 } } } : {}),
  });

  beforeAll(async () => {
    server = await startScriptedServer({ apiKey: SECRET });
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    server.reset();
    sb = await sandbox();
    pidFile = path.join(sb.root, 'slow.pid');
  });
  afterEach(async () => {
    await sb.remove();
  });

  for (const how of ['--continue', '--session'] as const) {
    it(`${how}: Ctrl-C while the MCP server starts keeps the message; the next run sends it`, async () => {
      sb.write('opencode.json', config(false));
      server.script('m1', { type: 'text', text: 'Hello.' }, { type: 'text', text: 'Seen both.' });
      const first = await sb.run(['run', '-a', 'plain', 'first message']);
      expect(first.code, first.stderr).toBe(0);
      const id = sessionOf(first.stderr);

      sb.write('opencode.json', config(true));
      const child = sb.start(['run', ...(how === '--continue' ? ['-c'] : ['-s', id]), 'the message set up but never sent']);
      // The turn waits for its MCP server (which wrote its pid and never answers).
      await eventually(async () => existsSync(pidFile), 30_000, 'the MCP server to start');
      child.child.kill('SIGINT');
      const interrupted = await child.exited;
      expect(interrupted.code, interrupted.stderr).toBe(130);
      expect(server.log).toHaveLength(1);

      const saved = JSON.parse(readFileSync(path.join(sb.dataHome, 'pantheon', 'sessions', `${id}.json`), 'utf8')) as { messages: { role: string; content: unknown; info?: { reply: { error?: { code: string } } } }[] };
      const last = saved.messages.at(-1);
      expect(last).toMatchObject({ role: 'user', content: 'the message set up but never sent', info: { reply: { error: { code: 'CANCELLED' } } } });

      sb.write('opencode.json', config(false));
      const again = await sb.run(['run', '-c', 'and now?']);
      expect(again.code, again.stderr).toBe(0);
      expect(sessionOf(again.stderr)).toBe(id);
      const sent = ((server.log[1]?.messages ?? []) as Message[]).slice(1);
      expect(sent).toEqual([
        { role: 'user', content: 'first message' },
        { role: 'assistant', content: 'Hello.' },
        { role: 'user', content: 'the message set up but never sent' },
        { role: 'user', content: 'and now?' },
      ]);
    }, 90_000);
  }
});
