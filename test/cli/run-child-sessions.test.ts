/**
 * A local `opencode run` keeps the child sessions of its `task` calls as `opencode serve` does
 * (core/child-sessions.ts, one code path): saved with `parentID` and OpenCode's title, left out of
 * `session list` and `run --continue`, read back with `session show` and, later, by
 * `opencode serve` through @opencode-ai/sdk (`GET /session/{id}/children`). `session delete`
 * deletes a session with its children, the deepest first, as OpenCode's does.
 */
import { createOpencodeClient } from '@opencode-ai/sdk/v2';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ScriptedServer } from '../support/openai-server.ts';
import { serve } from '../server/serve-helper.ts';
import { hasStack, providerConfig, useScriptedSandbox, userText, type Sandbox } from './cli-helper.ts';

type Shown = { id: string; title: string; parentID?: string; agent: string; messages: { role: string; content: unknown }[] };

let server: ScriptedServer;
let sb: Sandbox;
useScriptedSandbox(
  (s, b) => {
    server = s;
    sb = b;
  },
  (s) => ({
    ...providerConfig(s, { a: {}, e: {}, g: {} }),
    model: 'p/a',
    agent: {
      lead: { mode: 'primary', model: 'p/a', permission: { task: 'allow' } },
      explore: { mode: 'subagent', model: 'p/e', description: 'Finds things.', permission: { task: 'allow' } },
      scout: { mode: 'subagent', model: 'p/g', description: 'Digs.' },
    },
    cache: { enabled: false },
  }),
);

function task(description: string, prompt: string, agent = 'explore') {
  return { name: 'task', arguments: { description, prompt, subagent_type: agent } };
}

async function json<T>(args: string[]): Promise<T> {
  const r = await sb.run(args);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}

/** A run of `lead` whose task call has explore delegate to scout in turn: the parent, child and grandchild sessions' ids. */
async function runWithGrandchild(): Promise<{ parent: string; child: string; grandchild: string }> {
  server.script('a', { type: 'tool_calls', calls: [task('Find the config', 'Where is the config?')] }, { type: 'text', text: 'Found it.' });
  server.script('e', { type: 'tool_calls', calls: [task('Dig deeper', 'Look harder.', 'scout')] }, { type: 'text', text: 'In opencode.json.' });
  server.script('g', { type: 'text', text: 'Deep down.' });
  const r = await sb.run(['run', '--agent', 'lead', '--format', 'json', 'Find the config']);
  expect(r.code, r.stderr).toBe(0);
  const parent = (JSON.parse(r.stdout.split('\n')[0] ?? '{}') as { sessionID: string }).sessionID;
  const all = await json<{ sessions: { id: string; parentID?: string }[] }>(['session', 'list', '--json']);
  expect(all.sessions.map((s) => s.id)).toEqual([parent]);
  const parentParts = (await json<Shown>(['session', 'show', parent, '--json'])).messages.flatMap((m) => (Array.isArray(m.content) ? m.content : [])) as { type: string }[];
  expect(parentParts.some((p) => p.type === 'tool-call')).toBe(true);
  // The children are found by their files: session list leaves them out.
  const files = await fs.readdir(path.join(sb.dataHome, 'pantheon', 'sessions'));
  const ids = files.filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length));
  const shown = await Promise.all(ids.map((id) => json<Shown>(['session', 'show', id, '--json'])));
  const childID = shown.find((s) => s.parentID === parent)?.id ?? '';
  const grandchildID = shown.find((s) => s.parentID === childID)?.id ?? '';
  expect([childID, grandchildID].every((id) => id.startsWith('ses_'))).toBe(true);
  return { parent, child: childID, grandchild: grandchildID };
}

describe('a local run keeps its child sessions', () => {
  it('each task call a child session (nested ones under theirs), out of session list and --continue, shown by session show and by serve later', async () => {
    const { parent, child, grandchild } = await runWithGrandchild();
    const shownChild = await json<Shown>(['session', 'show', child, '--json']);
    expect(shownChild).toMatchObject({ parentID: parent, title: 'Find the config (@explore subagent)', agent: 'explore' });
    // Its prompt as the user message, what it did and said as the reply.
    expect(shownChild.messages[0]).toMatchObject({ role: 'user' });
    expect(JSON.stringify(shownChild.messages[0]?.content)).toContain('Where is the config?');
    expect(JSON.stringify(shownChild.messages.at(-1))).toContain('In opencode.json.');
    expect(await json<Shown>(['session', 'show', grandchild, '--json'])).toMatchObject({ parentID: child, title: 'Dig deeper (@scout subagent)', agent: 'scout' });

    // --continue goes on with the parent, not with a child saved after it.
    server.script('a', { type: 'text', text: 'Still here.' });
    const next = await sb.run(['run', '--continue', '--format', 'json', 'And then?']);
    expect(next.code, next.stderr).toBe(0);
    expect((JSON.parse(next.stdout.split('\n')[0] ?? '{}') as { sessionID: string }).sessionID).toBe(parent);
    expect(JSON.stringify(server.log.at(-1)?.messages)).toContain('Found it.');
    expect(userText(server.log.at(-1))).toBe('And then?');

    // opencode serve later, as OpenCode's TUI asks: the children of the parent, and the roots without them.
    const served = await serve(sb);
    try {
      const client = createOpencodeClient({ baseUrl: served.url, directory: sb.project });
      expect(((await client.session.children({ sessionID: parent })).data ?? []).map((s) => s.id)).toEqual([child]);
      expect(((await client.session.children({ sessionID: child })).data ?? []).map((s) => s.id)).toEqual([grandchild]);
      expect(((await client.session.list({ roots: true })).data ?? []).map((s) => s.id)).toEqual([parent]);
      // The parent's task part names its child, where OpenCode's TUI finds it ("view subagents").
      const parts = ((await client.session.messages({ sessionID: parent })).data ?? []).flatMap((m) => m.parts) as { type: string; tool?: string; state?: { metadata?: Record<string, unknown> } }[];
      expect(parts.find((p) => p.type === 'tool' && p.tool === 'task')?.state?.metadata).toMatchObject({ sessionId: child, parentSessionId: parent });
    } finally {
      await served.stop();
    }
  });
});

describe('a local run writes durable events', () => {
  it('the parent’s and each child’s own, numbered from 1, in the sessions’ files', async () => {
    type Events = { events?: { seq: number; type: string; data: Record<string, unknown> }[] };
    const { parent, child, grandchild } = await runWithGrandchild();
    const [p, c, g] = (await Promise.all([parent, child, grandchild].map((id) => json<Shown & Events>(['session', 'show', id, '--json'])))) as [Shown & Events, Shown & Events, Shown & Events];
    for (const shown of [p, c, g]) {
      expect(shown.events?.map((e) => e.seq)).toEqual(shown.events?.map((_, i) => i + 1));
      expect(shown.events?.[1]).toMatchObject({ type: 'session.next.prompted', data: { sessionID: shown.id } });
      expect(shown.events?.at(-1)).toMatchObject({ type: 'session.next.step.ended', data: { finish: 'stop' } });
    }
    expect(p.events?.find((e) => e.type === 'session.next.tool.called')?.data).toMatchObject({ tool: 'task', input: { description: 'Find the config' } });
    expect(g.events?.find((e) => e.type === 'session.next.text.ended')?.data).toMatchObject({ text: 'Deep down.' });
  });
});

describe('opencode session delete', () => {
  it('deletes the session and its children and grandchildren; the others stay', async () => {
    const { parent, child, grandchild } = await runWithGrandchild();
    server.script('a', { type: 'text', text: 'Unrelated.' });
    const other = await sb.run(['run', '--format', 'json', 'Something else']);
    const otherID = (JSON.parse(other.stdout.split('\n')[0] ?? '{}') as { sessionID: string }).sessionID;

    const r = await sb.run(['session', 'delete', parent]);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, `Session ${parent} deleted with its 2 child sessions\n`, '']);
    const file = (id: string) => path.join(sb.dataHome, 'pantheon', 'sessions', `${id}.json`);
    expect([parent, child, grandchild].map((id) => existsSync(file(id)))).toEqual([false, false, false]);
    expect(existsSync(file(otherID))).toBe(true);
    const gone = await sb.run(['session', 'show', child]);
    expect(gone.code).toBe(2);

    const alone = await sb.run(['session', 'delete', otherID]);
    expect([alone.code, alone.stdout]).toEqual([0, `Session ${otherID} deleted\n`]);
  });

  it('an unknown id: exit 2, one sentence and a hint, nothing deleted', async () => {
    server.script('a', { type: 'text', text: 'Kept.' });
    await sb.run(['run', 'Keep me']);
    const before = await sb.snapshot();
    const r = await sb.run(['session', 'delete', 'ses_nope']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: session ses_nope does not exist\.\n/);
    expect(hasStack(r.stderr)).toBe(false);
    expect(await sb.snapshot()).toEqual(before);
  });
});

describe('the task tool’s task_id and background in a local run', () => {
  it('a later run --continue resumes the child by its task_id (its messages kept and read); background: true runs in the foreground here', async () => {
    server.script('a', { type: 'tool_calls', calls: [task('Find the config', 'Where is the config?')] }, { type: 'text', text: 'Found it.' });
    server.script('e', { type: 'text', text: 'In opencode.json.' });
    const r = await sb.run(['run', '--agent', 'lead', '--format', 'json', 'Find the config']);
    expect(r.code, r.stderr).toBe(0);
    const parent = (JSON.parse(r.stdout.split('\n')[0] ?? '{}') as { sessionID: string }).sessionID;
    const files = await fs.readdir(path.join(sb.dataHome, 'pantheon', 'sessions'));
    const shown = await Promise.all(files.filter((f) => f.endsWith('.json')).map((f) => json<Shown>(['session', 'show', f.slice(0, -'.json'.length), '--json'])));
    const child = shown.find((s) => s.parentID === parent)?.id as string;
    // The model read the answer in OpenCode's frame, with the child's id to resume it by.
    expect(JSON.stringify(server.log.filter((e) => e.model === 'a').at(-1)?.messages)).toContain(`<task id=\\"${child}\\" state=\\"completed\\">\\n<task_result>\\nIn opencode.json.\\n</task_result>\\n</task>`);

    const resume = { name: 'task', arguments: { description: 'Look again', prompt: 'And the tests?', subagent_type: 'explore', task_id: child } };
    const later = { name: 'task', arguments: { description: 'In the background', prompt: 'Count the files', subagent_type: 'explore', background: true } };
    server.script('a', { type: 'tool_calls', calls: [resume] }, { type: 'tool_calls', calls: [later] }, { type: 'text', text: 'All done.' });
    server.script('e', { type: 'text', text: 'In test/.' }, { type: 'text', text: 'Twelve files.' });
    const next = await sb.run(['run', '--continue', '--format', 'json', 'And the tests?']);
    expect(next.code, next.stderr).toBe(0);
    // The resumed sub-task's model read its first turn; the child has both turns, and no other child was made for it.
    const resumed = server.log.filter((e) => e.model === 'e').at(-2);
    expect(JSON.stringify(resumed?.messages)).toContain('Where is the config?');
    expect(JSON.stringify(resumed?.messages)).toContain('In opencode.json.');
    const again = await json<Shown>(['session', 'show', child, '--json']);
    expect(again.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(JSON.stringify(again.messages.at(-1))).toContain('In test/.');
    // Nobody would be told of a background task's end once the run has ended: it ran in the foreground, its answer framed.
    expect(JSON.stringify(server.log.filter((e) => e.model === 'a').at(-1)?.messages)).toContain('state=\\"completed\\">\\n<task_result>\\nTwelve files.');
    const after = await fs.readdir(path.join(sb.dataHome, 'pantheon', 'sessions'));
    expect(after.length).toBe(files.length + 1);
  });
});
