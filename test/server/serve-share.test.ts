/**
 * What the server shares with the rest of Pantheon: sessions with `opencode run` (the same store,
 * continued either way), tool permissions that are `ask` (denied unless approved by the session's or
 * the prompt's rules), and MCP servers started once and kept up between turns.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET, userText, type Sandbox } from '../cli/cli-helper.ts';
import { everythingStdio } from '../mcp/helpers.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { v1Calls } from './sdk-clients.ts';
import { getJson, serve, type Served } from './serve-helper.ts';

let sb: Sandbox | undefined;
let model: ScriptedServer | undefined;
let s: Served | undefined;
afterEach(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
  s = undefined;
  model = undefined;
  sb = undefined;
});

/** The conversation a logged request carried (the agent's system prompt left out). */
const turnsSent = (m: ScriptedServer | undefined) => ((m?.log.at(-1)?.messages ?? []) as { role: string }[]).filter((x) => x.role !== 'system').length;

type Msg = { info: { id: string; role: string }; parts: { type: string; text?: string; tool?: string; state?: { status: string; output?: string; error?: string } }[] };

async function setup(config: object = {}): Promise<{ api: ReturnType<typeof v1Calls> }> {
  model = await startScriptedServer({ apiKey: SECRET, models: { m: {} } });
  sb = await sandbox();
  sb.write('opencode.json', { ...providerConfig(model, { m: {} }), model: 'p/m', cache: { enabled: false }, ...config });
  s = await serve(sb);
  return { api: v1Calls(s.url, sb.project) };
}

describe('opencode serve: shared with the rest of Pantheon', () => {
  it('a session made over HTTP continues with `opencode run -s`, and one made by `opencode run` continues over HTTP', async () => {
    const { api } = await setup();
    const id = ((await api.create()).data as { id: string }).id;
    await api.prompt(id, 'from http');
    const cli = await sb!.run(['run', '-s', id, 'from the cli']);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toBe('echo: from the cli\n');
    expect(turnsSent(model)).toBe(3);
    const listed = await sb!.run(['session', 'list', '--json']);
    expect((JSON.parse(listed.stdout) as { sessions: { id: string; messageCount: number }[] }).sessions).toEqual([expect.objectContaining({ id, messageCount: 4 })]);
    const messages = (await api.messages(id)).data as Msg[];
    expect(messages.map((m) => m.info.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(messages[3]?.parts.find((p) => p.type === 'text')?.text).toBe('echo: from the cli');
    expect(new Set(messages.map((m) => m.info.id)).size).toBe(4);
    expect((await api.messages(id)).data).toEqual(messages);

    const made = await sb!.run(['run', 'started in the terminal']);
    expect(made.code, made.stderr).toBe(0);
    const sessions = (await api.list()).data as { id: string }[];
    const other = sessions.find((x) => x.id !== id)?.id as string;
    expect(other).toMatch(/^ses_/);
    await api.prompt(other, 'and over http');
    expect(userText(model!.log.at(-1))).toBe('and over http');
    expect(turnsSent(model)).toBe(3);
  });

  it('a tool whose permission is ask is denied in a server turn nobody listens to, unless the session or the prompt approves it', async () => {
    const { api } = await setup();
    const bash = { type: 'tool_calls' as const, calls: [{ name: 'bash', arguments: { command: 'echo approved' } }] };
    const id = ((await api.create()).data as { id: string }).id;
    model!.script('m', bash, { type: 'text', text: 'done' });
    const denied = (await api.prompt(id, 'run it')).data as Msg;
    const tool = denied.parts.find((p) => p.type === 'tool');
    expect(tool).toMatchObject({ tool: 'bash', state: { status: 'error', error: expect.stringMatching(/permission denied: bash `echo approved`.*not approved: no OpenCode client listens to this project to answer/) } });

    model!.script('m', bash, { type: 'text', text: 'done' });
    const byPrompt = (await api.prompt(id, 'run it', { permission: [{ permission: 'bash', pattern: 'echo *', action: 'allow' }] })).data as Msg;
    expect(byPrompt.parts.find((p) => p.type === 'tool')?.state).toMatchObject({ status: 'completed', output: expect.stringContaining('approved') });

    const approved = await getJson(`${s!.url}/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-opencode-directory': encodeURIComponent(sb!.project) },
      body: JSON.stringify({ permission: [{ permission: 'bash', pattern: 'echo *', action: 'allow' }] }),
    });
    expect(approved.body).toMatchObject({ permission: [{ permission: 'bash', pattern: 'echo *', action: 'allow' }] });
    model!.script('m', bash, { type: 'text', text: 'done' });
    const bySession = (await api.prompt((approved.body as { id: string }).id, 'run it')).data as Msg;
    expect(bySession.parts.find((p) => p.type === 'tool')?.state).toMatchObject({ status: 'completed' });

    // A rule that says deny, or a wildcard, never widens what the config denies.
    model!.script('m', { type: 'tool_calls', calls: [{ name: 'bash', arguments: { command: 'rm -rf x' } }] }, { type: 'text', text: 'done' });
    const notCovered = (await api.prompt(id, 'run it', { permission: [{ permission: 'bash', pattern: 'echo *', action: 'allow' }] })).data as Msg;
    expect(notCovered.parts.find((p) => p.type === 'tool')?.state).toMatchObject({ status: 'error' });
  });

  it('MCP servers start once per server process and stay up between turns', async () => {
    const { api } = await setup({ mcp: { every: everythingStdio() } });
    const id = ((await api.create()).data as { id: string }).id;
    const mcpOf = async () => ((await getJson(`${s!.url}/health`)).body as { checks: { mcp: { name: string; state: string; pid?: number }[] } }).checks.mcp;
    expect(await mcpOf()).toEqual([expect.objectContaining({ name: 'every', state: 'idle' })]);
    await api.prompt(id, 'one');
    const [first] = await mcpOf();
    expect(first).toMatchObject({ state: 'connected', pid: expect.any(Number) });
    expect((model!.log.at(-1)?.tools ?? []).some((t) => JSON.stringify(t).includes('every_echo'))).toBe(true);
    await api.prompt(id, 'two');
    expect(await mcpOf()).toEqual([expect.objectContaining({ state: 'connected', pid: first?.pid, restarts: 0 })]);
  });
});
