/**
 * `opencode acp`'s sessions as an editor pages, loads and forks them (the ACP SDK's client over the
 * CLI's stdio, the scripted provider): `session/list` pages with a cursor that skips nothing when
 * sessions share a millisecond, `session/load` from another folder adds the editor's MCP servers to
 * the session's own project, `session/fork` copies a session's history into a new one, and the
 * `effort` option (a model's variants) picks the variant a turn runs with.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ScriptedServer } from '../support/openai-server.ts';
import { providerConfig, userText, useScriptedSandbox, type Sandbox } from '../cli/cli-helper.ts';
import { fixture, MEMORY } from '../mcp/helpers.ts';
import { SessionStore, type SessionRecord } from '../../src/session/store.ts';
import { initialize, startAcp, textOf, type AcpProcess } from './acp-helper.ts';

let server: ScriptedServer;
let sb: Sandbox;
useScriptedSandbox(
  (s, b) => {
    server = s;
    sb = b;
  },
  (s) => ({
    ...providerConfig(s, { m: { variants: { low: { reasoningEffort: 'low' }, high: { reasoningEffort: 'high' } } }, plain: {} }),
    model: 'p/m',
    default_agent: 'coder',
    agent: { coder: { mode: 'primary', model: 'p/m' } },
    cache: { enabled: false },
  }),
);

const running: AcpProcess[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) {
    p.child.kill('SIGKILL');
    await p.exited;
  }
});

function start(): AcpProcess {
  const p = startAcp(sb);
  running.push(p);
  return p;
}

function saved(store: SessionStore, fields: Partial<SessionRecord>): SessionRecord {
  return { id: store.newId(), projectRoot: sb.project, agent: 'coder', title: '', createdAt: 1_700_000_000_000, updatedAt: 1_700_000_000_000, messages: [{ role: 'user', content: 'hello' }], usage: { inputTokens: 0, outputTokens: 0 }, models: [], ...fields };
}

interface Listed {
  sessions: { sessionId: string }[];
  nextCursor?: string | null;
}

describe('opencode acp sessions', () => {
  it('session/list pages through sessions updated in the same millisecond without skipping one', async () => {
    const store = SessionStore.open({ XDG_DATA_HOME: sb.dataHome });
    const ids: string[] = [];
    for (let i = 0; i < 230; i++) {
      const record = saved(store, { title: `s${i}` });
      await store.save(record);
      ids.push(record.id);
    }
    const p = start();
    await initialize(p);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await p.conn.agent.request<Listed>('session/list', { cwd: sb.project, ...(cursor ? { cursor } : {}) });
      seen.push(...page.sessions.map((s) => s.sessionId));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toHaveLength(230);
    expect(new Set(seen).size).toBe(230);
    expect([...seen].sort()).toEqual([...ids].sort());
    // A cursor that is not one of ours is a clear error, not a silent first page.
    await expect(p.conn.agent.request('session/list', { cwd: sb.project, cursor: 'nonsense' })).rejects.toThrow(/cursor/);
  });

  it('session/load from another folder adds the editor\u2019s MCP servers to the session\u2019s own project', async () => {
    const first = start();
    await initialize(first);
    const { sessionId } = await first.conn.agent.request('session/new', { cwd: sb.project, mcpServers: [] });
    server.script('m', { type: 'text', text: 'Hi.' });
    await first.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'Hello' }] });
    expect(await first.close()).toBe(0);

    const elsewhere = path.join(sb.root, 'elsewhere');
    await fs.mkdir(elsewhere);
    const second = start();
    await initialize(second);
    await second.conn.agent.request('session/load', { sessionId, cwd: elsewhere, mcpServers: [{ name: 'mem', command: process.execPath, args: [MEMORY], env: [] }] });
    server.script('m', { type: 'text', text: 'Tools seen.' });
    await second.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'Which tools?' }] });
    const tools = (server.log.at(-1)?.tools ?? []).map((t) => (t as { function?: { name?: string } }).function?.name ?? '');
    expect(tools.filter((n) => n.startsWith('mem_'))).not.toEqual([]);
  });
});

interface Forked {
  sessionId: string;
  configOptions?: { id: string; currentValue: unknown; options: { value: string }[] }[];
}

const effortOf = (options: Forked['configOptions']) => options?.find((o) => o.id === 'effort');
const bodyOf = (entry: { body: unknown } | undefined) => (entry?.body ?? {}) as Record<string, unknown>;

describe('opencode acp fork and effort', () => {
  it('session/fork: a new session with the history copied, replayed, and the source\u2019s choices; the source is left as it was', async () => {
    const p = start();
    const init = await initialize(p);
    expect(init.agentCapabilities?.sessionCapabilities).toMatchObject({ fork: {}, list: {}, resume: {}, close: {} });
    const { sessionId } = await p.conn.agent.request('session/new', { cwd: sb.project, mcpServers: [] });
    server.script('m', { type: 'text', text: 'Noted.' });
    await p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'Remember the number 7' }] });
    await p.conn.agent.request('session/set_config_option', { sessionId, configId: 'effort', value: 'high' });

    const forked = await p.conn.agent.request<Forked>('session/fork', { sessionId, cwd: sb.project, mcpServers: [] });
    expect(forked.sessionId).toMatch(/^ses_/);
    expect(forked.sessionId).not.toBe(sessionId);
    expect(effortOf(forked.configOptions)?.currentValue).toBe('high');
    // The history told again under the fork's id, before the answer.
    expect(textOf(p.updates, 'user_message_chunk', forked.sessionId)).toBe('Remember the number 7');
    expect(textOf(p.updates, 'agent_message_chunk', forked.sessionId)).toBe('Noted.');

    // The fork's turn sees the copied history, and runs the effort it was given.
    server.script('m', { type: 'text', text: 'Seven.' });
    await p.conn.agent.request('session/prompt', { sessionId: forked.sessionId, prompt: [{ type: 'text', text: 'Which number?' }] });
    const forkTurn = server.log.at(-1);
    expect(JSON.stringify(forkTurn?.messages)).toContain('Remember the number 7');
    expect(bodyOf(forkTurn).reasoning_effort).toBe('high');
    // The source does not see the fork's turn.
    server.script('m', { type: 'text', text: 'Still here.' });
    await p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'And you?' }] });
    expect(JSON.stringify(server.log.at(-1)?.messages)).not.toContain('Which number?');

    const listed = await sb.run(['session', 'list', '--format', 'json']);
    expect(listed.stdout).toContain(sessionId);
    expect(listed.stdout).toContain(forked.sessionId);
    // A session that does not exist: -32002, named.
    const missing = await p.conn.agent.request('session/fork', { sessionId: 'ses_nope', cwd: sb.project, mcpServers: [] }).then(
      () => undefined,
      (error: unknown) => error as { code: number; message: string },
    );
    expect(missing?.code).toBe(-32002);
    expect(missing?.message).toMatch(/ses_nope/);
    await expect(p.conn.agent.request('session/fork', { sessionId, cwd: 'relative' })).rejects.toThrow(/cwd: expected an absolute path/);
  });

  it('a model with variants has the `effort` option; the turn runs the chosen variant', async () => {
    const p = start();
    await initialize(p);
    const created = await p.conn.agent.request('session/new', { cwd: sb.project, mcpServers: [] });
    const sessionId = created.sessionId;
    // OpenCode's default: `default` when the model declares it, else its first variant.
    const effort = effortOf(created.configOptions as Forked['configOptions']);
    expect(effort).toMatchObject({ currentValue: 'low', category: 'thought_level', type: 'select' });
    expect(effort?.options.map((o) => o.value)).toEqual(['low', 'high', 'default']);
    server.script('m', { type: 'text', text: 'a' }, { type: 'text', text: 'b' }, { type: 'text', text: 'c' });
    await p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'one' }] });
    expect(bodyOf(server.log.at(-1)).reasoning_effort).toBe('low');

    const high = await p.conn.agent.request('session/set_config_option', { sessionId, configId: 'effort', value: 'high' });
    expect(effortOf(high.configOptions as Forked['configOptions'])?.currentValue).toBe('high');
    await p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'two' }] });
    expect(bodyOf(server.log.at(-1)).reasoning_effort).toBe('high');

    // `default`: the model's own options (no variant).
    await p.conn.agent.request('session/set_config_option', { sessionId, configId: 'effort', value: 'default' });
    await p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'three' }] });
    expect(bodyOf(server.log.at(-1)).reasoning_effort).toBeUndefined();
    expect(server.log.at(-1)?.model).toBe('m');

    await expect(p.conn.agent.request('session/set_config_option', { sessionId, configId: 'effort', value: 'extreme' })).rejects.toThrow(/effort "extreme" is not one of model p\/m's variants: low, high, default/);
    // A model without variants: no effort option (told as an update too, as OpenCode does).
    const plain = await p.conn.agent.request('session/set_config_option', { sessionId, configId: 'model', value: 'p/plain' });
    expect(effortOf(plain.configOptions as Forked['configOptions'])).toBeUndefined();
    await p.waitForUpdate((n) => n.update.sessionUpdate === 'config_option_update' && !(n.update as { configOptions: { id: string }[] }).configOptions.some((o) => o.id === 'effort'));
    await expect(p.conn.agent.request('session/set_config_option', { sessionId, configId: 'effort', value: 'high' })).rejects.toThrow(/model p\/plain has no variants/);
    // OpenCode's model value with a variant: `provider/model/variant`.
    const withVariant = await p.conn.agent.request('session/set_config_option', { sessionId, configId: 'model', value: 'p/m/high' });
    expect(withVariant.configOptions.find((o) => o.id === 'model')?.currentValue).toBe('p/m');
    expect(effortOf(withVariant.configOptions as Forked['configOptions'])?.currentValue).toBe('high');
    await expect(p.conn.agent.request('session/set_config_option', { sessionId, configId: 'model', value: 'p/m/max' })).rejects.toThrow(/effort "max" is not one of model p\/m's variants/);
  });

  it('the effort a session ran with comes back when it is loaded after a restart', async () => {
    const first = start();
    await initialize(first);
    const { sessionId } = await first.conn.agent.request('session/new', { cwd: sb.project, mcpServers: [] });
    await first.conn.agent.request('session/set_config_option', { sessionId, configId: 'effort', value: 'high' });
    server.script('m', { type: 'text', text: 'Thought hard.' });
    await first.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'Think' }] });
    expect(await first.close()).toBe(0);
    // The session has a model of its own too (as the REST API sets one): the effort still comes from its last reply.
    const store = SessionStore.open({ XDG_DATA_HOME: sb.dataHome });
    await store.save({ ...(await store.load(sessionId)), model: 'p/m' });

    const second = start();
    await initialize(second);
    const loaded = await second.conn.agent.request('session/load', { sessionId, cwd: sb.project, mcpServers: [] });
    expect(effortOf(loaded?.configOptions as Forked['configOptions'])?.currentValue).toBe('high');
    server.script('m', { type: 'text', text: 'Again.' });
    await second.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'More' }] });
    expect(bodyOf(server.log.at(-1)).reasoning_effort).toBe('high');
  });

  it('the project MCP servers\' prompts become slash commands once they have started, and run as OpenCode\'s `mcp` commands', async () => {
    sb.write('opencode.json', {
      ...providerConfig(server, { m: {} }),
      model: 'p/m',
      cache: { enabled: false },
      mcp: { cat: { type: 'local', command: [process.execPath, fixture('catalog-server.mjs')], timeout: 30_000 } },
    });
    const p = start();
    await initialize(p);
    const { sessionId } = await p.conn.agent.request('session/new', { cwd: sb.project, mcpServers: [] });
    type Commands = { availableCommands: { name: string; input?: { hint: string } }[] };
    const listed = await p.waitForUpdate((n) => n.sessionId === sessionId && n.update.sessionUpdate === 'available_commands_update' && (n.update as Commands).availableCommands.some((c) => c.name === 'cat:review'));
    const review = (listed.update as Commands).availableCommands.find((c) => c.name === 'cat:review');
    expect(review?.input?.hint).toBe('file focus');
    server.script('m', { type: 'text', text: 'Reviewed.' });
    await p.conn.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: '/cat:review src/a.ts "error handling"' }] });
    expect(userText(server.log.at(-1))).toBe('Review src/a.ts for error handling.\nKeep it short. $1 stays as written.');
  });
});
