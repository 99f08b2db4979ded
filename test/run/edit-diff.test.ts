/**
 * What an `edit` or `write` call changed, as users see it: the `tool_use` event's `diff` in `opencode
 * run --format json`, the `+N −M` on the CLI's line, and the unified patch as the tool part's
 * `metadata.diff` that OpenCode's TUI draws (through `@opencode-ai/sdk`'s event stream and message
 * list), and the session's changed files (`session.diff`, `GET /session/{id}/diff`, what the TUI
 * lists under "Modified Files"). A failed edit has none, and the file is left as it was.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { serve } from '../server/serve-helper.ts';
import { idleOf, watchedSession } from '../server/sdk-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';

let server: ScriptedServer;
let sb: Sandbox;

const SOURCE = ['export function add(a, b) {', '  return a + b;', '}', ''].join('\n');

beforeAll(async () => {
  server = await startScriptedServer();
  sb = await sandbox();
  sb.write('opencode.json', {
    ...providerConfig(server, { m: {} }),
    model: 'p/m',
    permission: { edit: 'allow' },
    cache: { enabled: false },
    agent: { helper: { mode: 'subagent', description: 'Makes small changes', prompt: 'Help.' } },
  });
});

afterAll(async () => {
  await server?.close();
  await sb?.remove();
});

type ToolUse = { type: string; tool?: string; error?: string; diff?: { file: string; additions: number; deletions: number; patch?: string } };

describe('the diff of a file change', () => {
  it('opencode run: the tool_use event carries the patch and its counts; the CLI line shows them; a failed edit has none', async () => {
    sb.write('src/math.js', SOURCE);
    server.script(
      'm',
      { type: 'tool_calls', calls: [{ name: 'edit', arguments: { filePath: 'src/math.js', oldString: '  return a + b;', newString: '  const sum = a + b;\n  return sum;' } }] },
      { type: 'tool_calls', calls: [{ name: 'edit', arguments: { filePath: 'src/math.js', oldString: 'not there', newString: 'x' } }] },
      { type: 'tool_calls', calls: [{ name: 'write', arguments: { filePath: 'src/new.js', content: 'export const one = 1;\n' } }] },
      { type: 'text', text: 'Done.' },
    );
    const json = await sb.run(['run', '--format', 'json', 'refactor add']);
    expect(json.code, json.stderr).toBe(0);
    const uses = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as ToolUse).filter((e) => e.type === 'tool_use');
    expect(uses.map((e) => [e.tool, e.diff?.file, e.diff?.additions, e.diff?.deletions, e.error === undefined])).toEqual([
      ['edit', 'src/math.js', 2, 1, true],
      ['edit', undefined, undefined, undefined, false],
      ['write', 'src/new.js', 1, 0, true],
    ]);
    expect(uses[0]?.diff?.patch).toBe(['--- a/src/math.js', '+++ b/src/math.js', '@@ -1,3 +1,4 @@', ' export function add(a, b) {', '-  return a + b;', '+  const sum = a + b;', '+  return sum;', ' }', ''].join('\n'));
    expect(uses[2]?.diff?.patch).toContain('--- /dev/null\n+++ b/src/new.js\n');
    expect(fs.readFileSync(path.join(sb.project, 'src/math.js'), 'utf8')).toContain('const sum');

    // The same calls as text: the line says what changed.
    sb.write('src/math.js', SOURCE);
    server.script(
      'm',
      { type: 'tool_calls', calls: [{ name: 'edit', arguments: { filePath: 'src/math.js', oldString: '  return a + b;', newString: '  return b + a;' } }] },
      { type: 'text', text: 'Done.' },
    );
    const text = await sb.run(['run', 'swap them']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stderr).toMatch(/edit src\/math\.js \+1 −1\n/);
    // The session keeps the patch beside the tool's answer; the next turn sends the history as before, without it.
    server.script('m', { type: 'text', text: 'Yes.' });
    const before = server.log.length;
    const next = await sb.run(['run', '-c', 'did it work?']);
    expect(next.code, next.stderr).toBe(0);
    const sent = JSON.stringify(server.log[before]?.messages);
    expect(sent).toContain('Edited src/math.js');
    expect(sent).not.toContain('@@ -1,3 +1,3 @@');
  });

  it('opencode serve: the edit part carries the unified patch as metadata.diff; the files the session changed are announced (session.diff) and listed, whole or per turn', async () => {
    sb.write('src/math.js', SOURCE);
    const served = await serve(sb);
    try {
      const { client, id, stream, close } = await watchedSession(served.url, sb.project);
      server.script(
        'm',
        { type: 'tool_calls', calls: [{ name: 'edit', arguments: { filePath: 'src/math.js', oldString: '  return a + b;', newString: '  return b + a;' } }] },
        { type: 'text', text: 'Swapped.' },
      );
      await client.session.promptAsync({ path: { id }, body: { parts: [{ type: 'text', text: 'swap them' }] } });
      const part = await stream.until((e) => {
        const p = (e.properties as { part?: { type?: string; tool?: string; state?: { status?: string } } } | undefined)?.part;
        return e.type === 'message.part.updated' && p?.type === 'tool' && p.tool === 'edit' && p.state?.status === 'completed';
      });
      const state = (part.properties as { part: { state: { metadata: { diff?: string } } } }).part.state;
      expect(state.metadata.diff).toBe(['--- a/src/math.js', '+++ b/src/math.js', '@@ -1,3 +1,3 @@', ' export function add(a, b) {', '-  return a + b;', '+  return b + a;', ' }', ''].join('\n'));
      // The turn changed a file: its end announces the session's list (the TUI's "Modified Files").
      const announced = await stream.until((e) => e.type === 'session.diff');
      const swapped = SOURCE.replace('a + b', 'b + a');
      expect(announced.properties).toEqual({ sessionID: id, diff: [{ file: 'src/math.js', before: SOURCE, after: swapped, additions: 1, deletions: 1 }] });
      await stream.until(idleOf(id));
      // A second turn changes it back and writes a new file: the session's list is the net change.
      server.script(
        'm',
        { type: 'tool_calls', calls: [{ name: 'edit', arguments: { filePath: 'src/math.js', oldString: '  return b + a;', newString: '  return a + b;' } }] },
        { type: 'tool_calls', calls: [{ name: 'write', arguments: { filePath: 'NOTES.md', content: '# Notes\n' } }] },
        { type: 'text', text: 'Reverted.' },
      );
      await client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'undo, and take notes' }] } });
      expect((await client.session.diff({ path: { id } })).data).toEqual([{ file: 'NOTES.md', before: '', after: '# Notes\n', additions: 1, deletions: 0 }]);
      // One turn's changes: the first turn's user message.
      const firstUser = ((await client.session.messages({ path: { id } })).data ?? []).find((m) => m.info.role === 'user')?.info.id ?? '';
      expect((await client.session.diff({ path: { id }, query: { messageID: firstUser } })).data).toEqual([{ file: 'src/math.js', before: SOURCE, after: swapped, additions: 1, deletions: 1 }]);
      // A turn that delegates: the helper's edit is the session's too, announced when the turn ends.
      server.script(
        'm',
        { type: 'tool_calls', calls: [{ name: 'task', arguments: { agent: 'helper', prompt: 'add sub' } }] },
        { type: 'tool_calls', calls: [{ name: 'edit', arguments: { filePath: 'src/math.js', oldString: '}\n', newString: '}\nexport const sub = (a, b) => a - b;\n' } }] },
        { type: 'text', text: 'Added.' },
        { type: 'text', text: 'The helper added it.' },
      );
      await client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'have the helper add sub' }] } });
      const withSub = `${SOURCE}export const sub = (a, b) => a - b;\n`;
      const expected = [
        { file: 'src/math.js', before: SOURCE, after: withSub, additions: 1, deletions: 0 },
        { file: 'NOTES.md', before: '', after: '# Notes\n', additions: 1, deletions: 0 },
      ];
      expect((await client.session.diff({ path: { id } })).data).toEqual(expected);
      const delegated = await stream.until((e) => e.type === 'session.diff' && JSON.stringify(e.properties).includes('const sub'));
      expect(delegated.properties).toEqual({ sessionID: id, diff: expected });
      const bad = await fetch(`${served.url}/session/${id}/diff?messageID=nope`, { headers: { 'x-opencode-directory': sb.project } });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { data?: { message?: string } }).data?.message ?? '').toMatch(/messageID/);
      // Read again later (the TUI does when it opens the session): the patch is kept with the session.
      const messages = (await client.session.messages({ path: { id } })).data ?? [];
      const stored = messages.flatMap((m) => m.parts).find((p) => p.type === 'tool' && p.tool === 'edit') as { state: { metadata?: { diff?: string } } } | undefined;
      expect(stored?.state.metadata?.diff).toBe(state.metadata.diff);
      close();
    } finally {
      await served.stop();
    }
  });
});
