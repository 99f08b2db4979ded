/**
 * `opencode run --command server:prompt ARGS`: an MCP server's prompt as a command (as OpenCode's
 * `mcp` commands), with a real stdio MCP server: the model gets the text `prompts/get` gave for the
 * arguments; a required argument left out is exit 2 naming it, before any request; a prompt the
 * server fails to give is exit 1 in one sentence; the server's secrets are never printed.
 */
import { describe, expect, it } from 'vitest';
import { hasStack, providerConfig, SECRET, userText, useScriptedSandbox, type Sandbox } from './cli-helper.ts';
import { fixture } from '../mcp/helpers.ts';
import type { ScriptedServer } from '../support/openai-server.ts';

let server: ScriptedServer;
let sb: Sandbox;
useScriptedSandbox(
  (s, b) => {
    server = s;
    sb = b;
  },
  (s) => ({
    ...providerConfig(s, { m: {} }),
    model: 'p/m',
    cache: { enabled: false },
    mcp: { 'my.cat': { type: 'local', command: [process.execPath, fixture('catalog-server.mjs')], environment: { CAT_TOKEN: SECRET }, timeout: 30_000 } },
  }),
);

describe('run --command with an MCP prompt', () => {
  it('sends the prompt’s text for the arguments given', async () => {
    server.script('m', { type: 'text', text: 'done' });
    const r = await sb.run(['run', '--command', 'my_cat:review', 'src/a.ts', '"error handling"']);
    expect(r.code, r.stderr).toBe(0);
    expect(userText(server.log[0])).toBe('Review src/a.ts for error handling.\nKeep it short. $1 stays as written.');
    expect(r.stdout).toContain('done');
  });

  it('a required argument left out: exit 2 naming it, nothing sent; a failing prompt: exit 1 in one sentence; no secret shown', async () => {
    const missing = await sb.run(['run', '--command', 'my_cat:review']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('error: --command my_cat:review: the prompt\'s argument "file" (its 1st) is required.\nhint: Give its arguments in order after the command\'s name: my_cat:review <file> [focus] (file: The file to review).');
    const broken = await sb.run(['run', '--command', 'my_cat:broken']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/error: --command my_cat:broken: MCP server "my\.cat" did not give its prompt "broken": [^\n]*the prompt store is offline\.\n/);
    for (const r of [missing, broken]) {
      expect(hasStack(r.stderr)).toBe(false);
      expect(r.stdout + r.stderr).not.toContain(SECRET);
    }
    // Not one of its prompts: looked for among the commands (its server stopped, the run ends).
    const unknown = await sb.run(['run', '--command', 'my_cat:nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('error: --command: no command named "my_cat:nope"');
    expect(server.log).toHaveLength(0);
  });
});
