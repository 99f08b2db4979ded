/**
 * The plugins' hooks under `opencode serve`, from a `.opencode/plugin` file: OpenCode's terminal
 * route runs the shell with the variables `shell.env` sets (told the terminal's folder), and
 * `POST /session/{id}/command` hands the command's parts to `command.execute.before`, whose change
 * is what the model reads (`run --attach --command`'s too).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { attached, connectTerminal } from '../server/pty-client.ts';
import { getJson, serve, type Served } from '../server/serve-helper.ts';
import { idleOf, watchedSession } from '../server/sdk-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';

const NODE_PATH: Record<string, string> = process.env.NODE_PATH ? { NODE_PATH: process.env.NODE_PATH } : {};

let server: ScriptedServer;
let sb: Sandbox;
let served: Served;

beforeAll(async () => {
  server = await startScriptedServer();
  sb = await sandbox();
  sb.write('opencode.json', { ...providerConfig(server, { m: {} }), model: 'p/m', cache: { enabled: false }, command: { hello: { template: 'Say hello to $ARGUMENTS.' } } });
  sb.write(
    '.opencode/plugin/hooks.js',
    `import { appendFileSync } from "node:fs"
export const Hooks = async ({ directory }) => ({
  "shell.env": async (input, output) => {
    appendFileSync(directory + "/shell-env.txt", JSON.stringify(input) + "\\n")
    output.env.PLUGIN_VAR = "from-the-plugin"
  },
  "command.execute.before": async (input, output) => {
    appendFileSync(directory + "/command.txt", JSON.stringify(input) + "\\n")
    output.parts[0].text = output.parts[0].text + " Then wave."
  },
})
`,
  );
  served = await serve(sb, [], { SHELL: '/bin/sh', ...NODE_PATH });
});

afterAll(async () => {
  await served?.stop();
  await server?.close();
  await sb?.remove();
});

describe('plugins\' hooks under opencode serve', () => {
  it('a terminal\'s shell gets the variables shell.env sets, the hook told its folder', async () => {
    const created = await getJson(`${served.url}/pty?directory=${encodeURIComponent(sb.project)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ command: '/bin/sh', args: ['-c', 'echo "V=$PLUGIN_VAR"; sleep 5'] }),
    });
    expect(created.status).toBe(200);
    const id = (created.body as { id: string }).id;
    const t = attached(await connectTerminal(served.url, `/pty/${id}/connect?directory=${encodeURIComponent(sb.project)}`));
    await t.until(/V=from-the-plugin/);
    t.ws.close();
    await getJson(`${served.url}/pty/${id}?directory=${encodeURIComponent(sb.project)}`, { method: 'DELETE' });
    const inputs = readFileSync(path.join(sb.project, 'shell-env.txt'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(inputs).toEqual([{ cwd: sb.project }]);
  });

  it('a command\'s parts go through command.execute.before; the model reads what it left', async () => {
    const { client, id, stream, close } = await watchedSession(served.url, sb.project);
    server.script('m', { type: 'text', text: 'Hello, Bob.' });
    await client.session.command({ path: { id }, body: { command: 'hello', arguments: 'Bob' } });
    await stream.until(idleOf(id));
    close();
    const users = ((server.log.at(-1)?.messages ?? []) as { role: string; content: unknown }[]).filter((m) => m.role === 'user');
    expect(JSON.stringify(users.at(-1)?.content)).toContain('Say hello to Bob. Then wave.');
    const seen = readFileSync(path.join(sb.project, 'command.txt'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(seen).toEqual([{ command: 'hello', sessionID: id, arguments: 'Bob' }]);
  });

  it('`run --attach --command` goes through the server\'s command.execute.before too, told the run\'s session', async () => {
    server.script('m', { type: 'text', text: 'Hello, Ann.' });
    const r = await sb.run(['run', '--format=json', '--attach', served.url, '--command', 'hello', 'Ann']);
    expect(r.code, r.stderr).toBe(0);
    const users = ((server.log.at(-1)?.messages ?? []) as { role: string; content: unknown }[]).filter((m) => m.role === 'user');
    expect(JSON.stringify(users.at(-1)?.content)).toContain('Say hello to Ann. Then wave.');
    const sessionID = r.stdout.match(/"sessionID":"(ses_[^"]+)"/)?.[1];
    const seen = readFileSync(path.join(sb.project, 'command.txt'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(seen.at(-1)).toEqual({ command: 'hello', sessionID, arguments: 'Ann' });
  });
});
