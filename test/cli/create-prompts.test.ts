/**
 * `agent create`, `mcp add` and `debug agent --tool` at a terminal (a pseudo-terminal: pty-helper.ts):
 * what the flags leave out is asked, as OpenCode asks it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { SECRET, providerConfig, sandbox, type Sandbox } from './cli-helper.ts';
import { startInPty } from './pty-helper.ts';

const DOWN = '\u001b[B';

describe('creating agents and MCP servers at a terminal', () => {
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
    sb.write('opencode.json', { ...providerConfig(server, { m1: {} }), model: 'p/m1', agent: { careful: { permission: { edit: 'ask' } } } });
  });
  afterEach(async () => {
    await sb.remove();
  });

  it('agent create asks the location, description, permissions and mode', async () => {
    server.script('m1', { type: 'text', text: JSON.stringify({ identifier: 'test-writer', whenToUse: 'Use this agent when tests are missing.', systemPrompt: 'You write tests.' }) });
    const p = startInPty(sb, ['agent', 'create']);
    await p.screenMatches(/Location/);
    p.type('\r');
    await p.screenMatches(/What should this agent do\?/);
    p.type('writes unit tests\r');
    await p.screenMatches(/Permissions to allow/);
    p.type('read,edit\r');
    await p.screenMatches(/Agent mode/);
    p.type(`${DOWN}${DOWN}\r`);
    const done = await p.exited;
    expect(done.code, done.screen).toBe(0);
    const file = path.join(sb.project, '.opencode', 'agents', 'test-writer.md');
    expect(done.screen).toContain(file);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('mode: subagent\npermission:\n  bash: deny\n');
    expect(text).not.toMatch(/ (read|edit): deny/);
  });

  it('mcp add with no arguments asks where, the name, the type and the URL', async () => {
    const p = startInPty(sb, ['mcp', 'add']);
    await p.screenMatches(/Location/);
    p.type('\r');
    await p.screenMatches(/MCP server name/);
    p.type('docs\r');
    await p.screenMatches(/Server type/);
    p.type(`${DOWN}\r`);
    await p.screenMatches(/Server URL/);
    p.type('https://docs.example/mcp\r');
    const done = await p.exited;
    expect(done.code, done.screen).toBe(0);
    expect(JSON.parse(readFileSync(path.join(sb.project, 'opencode.json'), 'utf8')).mcp).toEqual({ docs: { type: 'remote', url: 'https://docs.example/mcp' } });
  });

  it('debug agent --tool puts an `ask` to the person, as run does', async () => {
    const p = startInPty(sb, ['debug', 'agent', 'careful', '--tool', 'write', '--params', '{"filePath":"a.txt","content":"hi"}']);
    await p.screenMatches(/Allow write/);
    p.type('y\r');
    const done = await p.exited;
    expect(done.code, done.screen).toBe(0);
    expect(readFileSync(path.join(sb.project, 'a.txt'), 'utf8')).toBe('hi');
  });
});
