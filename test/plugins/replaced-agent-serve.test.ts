/**
 * A Pantheon built-in a plugin's `config` hook replaced (oh-my-opencode's `sisyphus`, now its
 * "Sisyphus - ultraworker"), under `opencode serve`. OpenCode 1.18.33's server has no agent of that
 * name then (checked against its `serve` with a plugin file doing the same): `GET /agent` does not
 * list it, and a prompt naming it fails as one naming any unknown agent does ("Agent not found",
 * no turn); Pantheon answers that with its 400 `UNKNOWN_AGENT` naming the field. `run --attach
 * --agent sisyphus` falls back to the default agent as a local run does, and `opencode acp` does not
 * offer it as a mode. The built-in workflows keep it (test/plugins/oh-my-opencode-patterns.test.ts).
 * A command whose agent is one it replaced is refused, sub-task or not, as OpenCode refuses a command
 * whose agent it does not have ("Agent not found", checked in its SessionPrompt.command), locally, with
 * `run --attach` and at `POST /session/{id}/command`; `debug agent` does not know it; and the turn
 * that goes on after an automatic compaction is the session's agent's, as OpenCode's (the agent of
 * its last user message), so one replaced since is refused rather than run.
 */
import { createOpencodeClient } from '@opencode-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initialize, startAcp } from '../acp/acp-helper.ts';
import { providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { getJson, serve, type Served } from '../server/serve-helper.ts';
import { AGENTS_HOOK } from '../support/plugin-sources.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';

let server: ScriptedServer;
let sb: Sandbox;
let served: Served;

beforeAll(async () => {
  server = await startScriptedServer();
  sb = await sandbox();
  sb.write('opencode.json', {
    ...providerConfig(server, { m: {} }),
    model: 'p/m',
    cache: { enabled: false },
    // Commands that run as built-ins the plugin's hook replaces: momus (a subagent: a sub-task) and sisyphus.
    command: { crit: { agent: 'momus', template: 'Critique $ARGUMENTS' }, work: { agent: 'sisyphus', template: 'Work on $ARGUMENTS' } },
  });
  sb.write('.opencode/plugin/agents.js', AGENTS_HOOK);
  served = await serve(sb);
});

afterAll(async () => {
  await served?.stop();
  await server?.close();
  await sb?.remove();
});

function systemOf(index: number): string {
  const system = (server.log[index]?.messages ?? []).find((m) => (m as { role: string }).role === 'system') as { content: string } | undefined;
  return system?.content ?? '';
}

const REFUSED = { code: 'UNKNOWN_AGENT', message: 'agent: no agent named "sisyphus" (a plugin\'s config hook replaced it).' };

/** The refusal's hint lists the agents there are: the plugin's, not the ones it replaced. */
function expectHintWithoutReplaced(hint: unknown): void {
  expect(hint).toMatch(/^Available agents: Momus - Plan Critic, Sisyphus - ultraworker, /);
  expect(String(hint)).not.toMatch(/\b(sisyphus|momus|atlas),/);
}

describe('a built-in a plugin\'s config hook replaced, under opencode serve', () => {
  it('GET /agent and v2\'s /api/agent list the plugin\'s agents, not the built-ins it replaced', async () => {
    const client = createOpencodeClient({ baseUrl: served.url, directory: sb.project });
    const names = ((await client.app.agents()).data ?? []).map((a) => a.name);
    expect(names[0]).toBe('Sisyphus - ultraworker');
    expect(names).toEqual(expect.arrayContaining(['Momus - Plan Critic', 'oracle', 'explore', 'general', 'plan']));
    for (const gone of ['sisyphus', 'momus', 'atlas', 'prometheus', 'metis']) expect(names).not.toContain(gone);
    const v2 = await getJson(`${served.url}/api/agent?directory=${encodeURIComponent(sb.project)}`);
    expect(v2.status).toBe(200);
    const ids = (v2.body as { data: { id: string }[] }).data.map((a) => a.id);
    expect(ids).toContain('Sisyphus - ultraworker');
    expect(ids).not.toContain('sisyphus');
  });

  it('a prompt naming it is refused as an unknown agent, before any turn: v1 message and prompt_async, session create, v2 create and agent switch', async () => {
    const client = createOpencodeClient({ baseUrl: served.url, directory: sb.project });
    const id = (await client.session.create({ body: {} })).data?.id ?? '';
    const before = server.log.length;
    const parts = [{ type: 'text' as const, text: 'hello' }];
    const prompted = await client.session.prompt({ path: { id }, body: { agent: 'sisyphus', parts } });
    expect(prompted.response.status).toBe(400);
    const data = (prompted.error as unknown as { data: { code: string; message: string; hint: string } }).data;
    expect(data).toMatchObject(REFUSED);
    expectHintWithoutReplaced(data.hint);
    const queued = await client.session.promptAsync({ path: { id }, body: { agent: 'sisyphus', parts } });
    expect(queued.response.status).toBe(400);
    expect((queued.error as { data: unknown }).data).toMatchObject(REFUSED);
    // Named by an agent part, as OpenCode's TUI sends an @mention.
    const mentioned = await client.session.prompt({ path: { id }, body: { parts: [...parts, { type: 'agent', name: 'sisyphus' }] } });
    expect(mentioned.response.status).toBe(400);
    const created = await client.session.create({ body: { agent: 'sisyphus' } as never });
    expect(created.response.status).toBe(400);
    expect((created.error as { data: unknown }).data).toMatchObject(REFUSED);
    const json = { method: 'POST', headers: { 'content-type': 'application/json', 'x-opencode-directory': sb.project } };
    const v2Created = await getJson(`${served.url}/api/session`, { ...json, body: JSON.stringify({ agent: 'sisyphus' }) });
    expect(v2Created.status).toBe(400);
    expect(JSON.stringify(v2Created.body)).toContain("(a plugin's config hook replaced it)");
    const switched = await getJson(`${served.url}/api/session/${id}/agent`, { ...json, body: JSON.stringify({ agent: 'sisyphus' }) });
    expect(switched.status).toBe(400);
    expect(JSON.stringify(switched.body)).toContain("(a plugin's config hook replaced it)");
    // Nothing ran and nothing was saved.
    expect(server.log.length).toBe(before);
    expect((await client.session.messages({ path: { id } })).data).toEqual([]);
  });

  it('a prompt naming no agent runs the plugin\'s default agent; one naming an agent the hook kept under a built-in\'s name runs the hook\'s', async () => {
    const client = createOpencodeClient({ baseUrl: served.url, directory: sb.project });
    const id = (await client.session.create({ body: {} })).data?.id ?? '';
    server.script('m', { type: 'text', text: 'by the plugin' }, { type: 'text', text: 'oracle' });
    const first = server.log.length;
    const plain = await client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'hello' }] } });
    expect(plain.response.status).toBe(200);
    expect(plain.data?.info.mode).toBe('Sisyphus - ultraworker');
    expect(systemOf(first)).toContain("You are the plugin's Sisyphus.");
    // Its `task` tool offers the plugin's subagents, not the built-ins the hook replaced (OpenCode has no agent of those names).
    const offered = (server.log[first]?.tools ?? []) as { function: { name: string; description: string } }[];
    const task = offered.find((t) => t.function.name === 'task')?.function.description ?? '';
    expect(task).toContain('- Momus - Plan Critic: ');
    expect(task).toContain('- oracle: ');
    for (const gone of ['momus', 'metis', 'sisyphus-junior', 'multimodal-looker']) expect(task).not.toMatch(new RegExp(`^- ${gone}(:|$)`, 'm'));
    const oracle = await client.session.prompt({ path: { id }, body: { agent: 'oracle', parts: [{ type: 'text', text: 'hello' }] } });
    expect(oracle.response.status).toBe(200);
    expect(systemOf(first + 1)).toContain("You are the plugin's oracle.");
  });

  it('run --attach --agent sisyphus says so and runs the default agent, as a local run does', async () => {
    server.script('m', { type: 'text', text: 'attached' });
    const first = server.log.length;
    const r = await sb.run(['run', '--attach', served.url, '--agent', 'sisyphus', 'hello']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('warning: agent "sisyphus" not found: a plugin\'s config hook replaced it. Falling back to default agent "Sisyphus - ultraworker", as OpenCode does.');
    expect(r.stdout).toBe('attached\n');
    expect(systemOf(first)).toContain("You are the plugin's Sisyphus.");
  });

  it('opencode acp offers the plugin\'s agents as modes, not the built-ins it replaced', async () => {
    const p = startAcp(sb);
    try {
      await initialize(p);
      const created = await p.conn.agent.request('session/new', { cwd: sb.project, mcpServers: [] });
      const modes = created.modes?.availableModes.map((m) => m.id) ?? [];
      expect(created.modes?.currentModeId).toBe('Sisyphus - ultraworker');
      expect(modes).not.toContain('sisyphus');
      expect(modes).not.toContain('atlas');
    } finally {
      await p.close();
    }
  });

  it('a command whose agent the hook replaced is refused, before any turn: POST /session/{id}/command, run --command, run --attach --command', async () => {
    const client = createOpencodeClient({ baseUrl: served.url, directory: sb.project });
    const id = (await client.session.create({ body: {} })).data?.id ?? '';
    const before = server.log.length;
    for (const [command, agent] of [['crit', 'momus'], ['work', 'sisyphus']] as const) {
      const answered = await client.session.command({ path: { id }, body: { command, arguments: 'the plan' } });
      expect(answered.response.status).toBe(400);
      const data = (answered.error as unknown as { data: { code: string; message: string; hint: string } }).data;
      expect(data).toMatchObject({ code: 'UNKNOWN_AGENT', message: `the agent of command "${command}": no agent named "${agent}" (a plugin's config hook replaced it).` });
      expectHintWithoutReplaced(data.hint);
    }
    const local = await sb.run(['run', '--command', 'crit', 'the plan']);
    expect(local.code).toBe(2);
    expect(local.stderr).toContain('error: the agent of command "crit": no agent named "momus" (a plugin\'s config hook replaced it).');
    const attached = await sb.run(['run', '--attach', served.url, '--command', 'work', 'the plan']);
    expect(attached.code).toBe(2);
    expect(attached.stderr).toContain('the agent of command "work": no agent named "sisyphus" (a plugin\'s config hook replaced it).');
    expect(server.log.length).toBe(before);
    expect((await client.session.messages({ path: { id } })).data).toEqual([]);
  });

  it('debug agent knows the plugin\'s agents, not the built-ins it replaced', async () => {
    const gone = await sb.run(['debug', 'agent', 'sisyphus']);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toMatch(/^error: debug agent: no agent named "sisyphus" \(a plugin's config hook replaced it\)\.\nhint: Available agents: Momus - Plan Critic, Sisyphus - ultraworker, /m);
    const shown = await sb.run(['debug', 'agent', 'Sisyphus - ultraworker']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ name: 'Sisyphus - ultraworker', prompt: "You are the plugin's Sisyphus." });
  });

  it('after an automatic compaction, the turn that goes on is the session\'s agent\'s: one replaced since is refused', async () => {
    // A session last prompted as sisyphus before the plugin replaced it (a run without plugins).
    server.script('m', { type: 'text', text: 'before the plugin' });
    const first = await sb.run(['run', '--agent', 'sisyphus', '--format', 'json', 'hello'], { env: { OPENCODE_PURE: '1' } });
    expect(first.code, first.stderr).toBe(0);
    const id = (JSON.parse(first.stdout.trim().split('\n')[0] ?? '{}') as { sessionID: string }).sessionID;
    const client = createOpencodeClient({ baseUrl: served.url, directory: sb.project });
    server.script('m', { type: 'text', text: 'the summary' });
    const before = server.log.length;
    const summarized = await client.session.summarize({ path: { id }, body: { providerID: 'p', modelID: 'm', auto: true } as never });
    // The compaction ran and was saved; the turn going on from it, as sisyphus, was not.
    expect(server.log.length).toBe(before + 1);
    expect(summarized.response.status).toBe(400);
    expect((summarized.error as { data: unknown }).data).toMatchObject(REFUSED);
    const texts = ((await client.session.messages({ path: { id } })).data ?? []).flatMap((m) => m.parts.flatMap((p) => (p.type === 'text' ? [p.text] : [])));
    expect(texts).toContain('the summary');
    expect(texts.some((t) => t.startsWith('Continue if you have next steps'))).toBe(false);
  });
});
