/**
 * The plugins' turn hooks end to end: a `.opencode/plugin/*.ts` file under `opencode run` (a
 * subprocess) against the scripted provider. What its `chat.params`, `chat.headers` and system
 * transform set reaches the provider; `permission.ask` lets a command run that the rules would ask
 * about; `shell.env` sets its variables; `experimental.text.complete` changes the text the next call
 * reads; a hook that throws ends the run with one sentence naming it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { SECRET, hasStack, providerConfig, sandbox, type Sandbox, toolContents } from '../cli/cli-helper.ts';

const TURN_PLUGIN = `import type { Plugin } from "@opencode-ai/plugin"

export const Turn: Plugin = async () => ({
  "chat.params": async (input, output) => {
    output.temperature = 0.42
    output.options.user = "plugin-" + input.agent
  },
  "chat.headers": async (input, output) => {
    output.headers["x-plugin-model"] = input.model.providerID + "/" + input.model.id
  },
  "experimental.chat.system.transform": async (_input, output) => {
    output.system.push("Plugin rule: be brief.")
  },
  "permission.ask": async (input, output) => {
    if (input.type === "bash" && String(input.pattern).startsWith("echo ")) output.status = "allow"
  },
  "shell.env": async (_input, output) => {
    output.env.PLUGIN_VAR = "from-the-plugin"
  },
  "experimental.text.complete": async (_input, output) => {
    output.text = output.text + " [reviewed]"
  },
})
`;

describe('the plugins\' turn hooks under opencode run', () => {
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
    sb.write('opencode.json', { ...providerConfig(server, { m1: {} }), model: 'p/m1', permission: { bash: 'ask' } });
  });
  afterEach(async () => {
    await sb.remove();
  });

  it('a plugin file changes the call, answers the permission question, sets the command\'s variables and the saved text', async () => {
    sb.write('.opencode/plugin/turn.ts', TURN_PLUGIN);
    server.script('m1', { type: 'tool_calls', text: 'Checking.', calls: [{ name: 'bash', arguments: { command: 'echo "$PLUGIN_VAR"' } }] }, { type: 'text', text: 'Done.' });
    const r = await sb.run(['run', 'go']);
    expect(r.code, r.stderr).toBe(0);
    const first = server.log[0];
    expect(first?.temperature).toBe(0.42);
    expect(first?.body).toMatchObject({ user: expect.stringMatching(/^plugin-/) });
    expect(first?.headers['x-plugin-model']).toBe('p/m1');
    const system = ((first?.messages ?? []) as { role: string; content: string }[]).filter((m) => m.role === 'system').map((m) => m.content);
    expect(system.at(-1)).toBe('Plugin rule: be brief.');
    // Allowed by permission.ask (the rules say ask, and nobody can answer): the command ran with the plugin's variable.
    expect(toolContents(server.log[1]?.messages ?? [])).toEqual(['from-the-plugin']);
    expect(JSON.stringify(server.log[1]?.messages)).toContain('Checking. [reviewed]');
    // Printed as OpenCode's run prints a text part: once ended, as the hook left it.
    expect(r.stdout).toContain('Done. [reviewed]');
    expect(r.stdout).not.toMatch(/Done\.(?! \[reviewed\])/);
  });

  it('run --command hands the command\'s parts to command.execute.before; the model reads what it left', async () => {
    sb.write('opencode.json', { ...providerConfig(server, { m1: {} }), model: 'p/m1', command: { hello: { template: 'Say hello to $ARGUMENTS.' } } });
    sb.write(
      '.opencode/plugin/cmd.js',
      'import { writeFileSync } from "node:fs"\nexport const Cmd = async ({ directory }) => ({ "command.execute.before": async (input, output) => { writeFileSync(directory + "/cmd.json", JSON.stringify(input)); output.parts[0].text += " Then wave." } })\n',
    );
    server.script('m1', { type: 'text', text: 'Hello, Bob.' });
    const r = await sb.run(['run', '--command', 'hello', 'Bob']);
    expect(r.code, r.stderr).toBe(0);
    const users = ((server.log[0]?.messages ?? []) as { role: string; content: unknown }[]).filter((m) => m.role === 'user');
    expect(JSON.stringify(users.at(-1)?.content)).toContain('Say hello to Bob. Then wave.');
    const seen = JSON.parse(readFileSync(path.join(sb.project, 'cmd.json'), 'utf8')) as { command: string; sessionID: string; arguments: string };
    expect(seen).toMatchObject({ command: 'hello', arguments: 'Bob' });
    expect(seen.sessionID).toMatch(/^ses_/);
  });

  it('a hook that throws ends the run with exit 1 and one sentence naming the hook, no stack', async () => {
    sb.write('.opencode/plugin/strict.ts', 'export const Strict = async () => ({ "chat.params": async () => { throw new Error("model calls are off today") } })\n');
    server.script('m1', { type: 'text', text: 'never' });
    const r = await sb.run(['run', 'go']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('The plugin hook chat.params failed: model calls are off today');
    expect(hasStack(r.stderr)).toBe(false);
    expect(server.log).toHaveLength(0);
  });
});
