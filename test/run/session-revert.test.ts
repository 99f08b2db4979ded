/**
 * OpenCode's revert and unrevert (its TUI's /undo and /redo) through `@opencode-ai/sdk`: a turn's
 * file changes undone from the patches the session kept (a created file removed), forward again,
 * the mark in the session's info, the reverted turns dropped by the next prompt (`opencode run -s`
 * too), and a file changed since refused with nothing written.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useServedProject } from './served-project.ts';
import { collect } from '../server/sdk-helper.ts';
import type { Step } from '../support/openai-server.ts';

const project = useServedProject({ permission: { edit: 'allow' } });

const SOURCE = ['export function add(a, b) {', '  return a + b;', '}', ''].join('\n');
const SWAPPED = SOURCE.replace('a + b', 'b + a');
const WITH_SUB = `${SWAPPED}export const sub = (a, b) => a - b;\n`;
const read = (rel: string) => (fs.existsSync(path.join(project.sb.project, rel)) ? fs.readFileSync(path.join(project.sb.project, rel), 'utf8') : undefined);
const edit = (oldString: string, newString: string): Step => ({ type: 'tool_calls', calls: [{ name: 'edit', arguments: { filePath: 'src/math.js', oldString, newString } }] });

/** A session of two turns: the first swaps the sum, the second writes NOTES.md and adds sub. */
async function twoTurns(): Promise<{ id: string; users: string[] }> {
  project.sb.write('src/math.js', SOURCE);
  fs.rmSync(path.join(project.sb.project, 'NOTES.md'), { force: true });
  const id = (await project.client.session.create({ body: {} })).data?.id ?? '';
  project.server.script('m', edit('  return a + b;', '  return b + a;'), { type: 'text', text: 'Swapped.' });
  await project.client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'swap the sum' }] } });
  project.server.script(
    'm',
    { type: 'tool_calls', calls: [{ name: 'write', arguments: { filePath: 'NOTES.md', content: '# Notes\n' } }] },
    edit('}\n', '}\nexport const sub = (a, b) => a - b;\n'),
    { type: 'text', text: 'Added.' },
  );
  await project.client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'add sub, with notes' }] } });
  expect(read('src/math.js')).toBe(WITH_SUB);
  const users = ((await project.client.session.messages({ path: { id } })).data ?? []).filter((m) => m.info.role === 'user').map((m) => m.info.id);
  expect(users).toHaveLength(2);
  return { id, users };
}

describe('revert and unrevert', () => {
  it('/undo and /redo: files back and forward turn by turn, the mark in the session, the messages kept until the next prompt, which drops them', async () => {
    const { id, users } = await twoTurns();
    const [first, second] = users as [string, string];
    const abort = new AbortController();
    const stream = collect((await project.client.event.subscribe({ signal: abort.signal, sseMaxRetryAttempts: 0 } as never)).stream);
    await stream.until((e) => e.type === 'server.connected');
    const undone = await project.client.session.revert({ path: { id }, body: { messageID: second } });
    // The mark, with what it did to the files (the TUI's banner lists them): NOTES.md removed, the sub line taken out of src/math.js.
    const mark = { messageID: second, diff: expect.stringMatching(/^diff --git a\/NOTES\.md b\/NOTES\.md\ndeleted file mode 100644\n[^]*\n-# Notes\ndiff --git a\/src\/math\.js b\/src\/math\.js\n[^]*\n-export const sub = \(a, b\) => a - b;$/) };
    expect(undone.data?.revert).toEqual(mark);
    expect(read('src/math.js')).toBe(SWAPPED);
    expect(read('NOTES.md')).toBeUndefined();
    // The TUI's "Modified Files" follows: what the kept turn changed; the reverted turn's own changes are still there to see.
    const kept = [{ file: 'src/math.js', before: SOURCE, after: SWAPPED, additions: 1, deletions: 1 }];
    expect((await stream.until((e) => e.type === 'session.diff')).properties).toEqual({ sessionID: id, diff: kept });
    expect((await project.client.session.diff({ path: { id } })).data).toEqual(kept);
    expect((await project.client.session.diff({ path: { id }, query: { messageID: second } })).data).toEqual([
      { file: 'src/math.js', before: SWAPPED, after: WITH_SUB, additions: 1, deletions: 0 },
      { file: 'NOTES.md', before: '', after: '# Notes\n', additions: 1, deletions: 0 },
    ]);
    abort.abort();
    expect((await project.client.session.get({ path: { id } })).data?.revert).toEqual(mark);
    expect((await project.client.session.messages({ path: { id } })).data?.filter((m) => m.info.role === 'user')).toHaveLength(2);

    await project.client.session.revert({ path: { id }, body: { messageID: first } });
    expect(read('src/math.js')).toBe(SOURCE);
    // /redo: to the next turn, then past the last one.
    await project.client.session.revert({ path: { id }, body: { messageID: second } });
    expect(read('src/math.js')).toBe(SWAPPED);
    const redone = await project.client.session.unrevert({ path: { id } });
    expect(redone.data?.revert).toBeUndefined();
    expect(read('src/math.js')).toBe(WITH_SUB);
    expect(read('NOTES.md')).toBe('# Notes\n');

    // Undo the second turn and prompt again: the model no longer sees it, and the files stay as they were put back.
    await project.client.session.revert({ path: { id }, body: { messageID: second } });
    project.server.script('m', { type: 'text', text: 'Fresh start.' });
    const before = project.server.log.length;
    await project.client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'something else' }] } });
    const sent = JSON.stringify(project.server.log[before]?.messages);
    expect(sent).toContain('swap the sum');
    expect(sent).not.toContain('add sub, with notes');
    const after = (await project.client.session.get({ path: { id } })).data;
    expect(after?.revert).toBeUndefined();
    expect((await project.client.session.messages({ path: { id } })).data?.filter((m) => m.info.role === 'user')).toHaveLength(2);
    expect(read('src/math.js')).toBe(SWAPPED);
    expect(read('NOTES.md')).toBeUndefined();
  });

  it('opencode run -s on a reverted session drops the reverted turns too', async () => {
    const { id, users } = await twoTurns();
    await project.client.session.revert({ path: { id }, body: { messageID: users[1] as string } });
    project.server.script('m', { type: 'text', text: 'From the CLI.' });
    const before = project.server.log.length;
    const run = await project.sb.run(['run', '-s', id, 'and now?']);
    expect(run.code, run.stderr).toBe(0);
    const sent = JSON.stringify(project.server.log[before]?.messages);
    expect(sent).toContain('swap the sum');
    expect(sent).not.toContain('add sub, with notes');
  });

  it('a file changed since is a 409 naming it, and nothing is written; unknown and malformed message ids are a 404 and a 400', async () => {
    const { id, users } = await twoTurns();
    fs.writeFileSync(path.join(project.sb.project, 'src/math.js'), 'rewritten by hand\n');
    const refused = await fetch(`${project.served.url}/session/${id}/revert`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-opencode-directory': project.sb.project }, body: JSON.stringify({ messageID: users[0] }) });
    expect(refused.status).toBe(409);
    const body = (await refused.json()) as { data?: { message?: string }; message?: string };
    expect(JSON.stringify(body)).toContain('src/math.js was changed since the session changed it; nothing was reverted.');
    expect(read('src/math.js')).toBe('rewritten by hand\n');
    expect(read('NOTES.md')).toBe('# Notes\n');
    expect((await project.client.session.get({ path: { id } })).data?.revert).toBeUndefined();
    const unknown = await fetch(`${project.served.url}/session/${id}/revert`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-opencode-directory': project.sb.project }, body: JSON.stringify({ messageID: 'msg_000000000000notthere000000' }) });
    expect(unknown.status).toBe(404);
    const malformed = await fetch(`${project.served.url}/session/${id}/revert`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-opencode-directory': project.sb.project }, body: JSON.stringify({ messageID: '../etc' }) });
    expect(malformed.status).toBe(400);
    expect(JSON.stringify(await malformed.json())).toContain('messageID');
  });
});
