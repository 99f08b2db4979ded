/**
 * What a revert did to the files, as OpenCode 1.18.33's server reports it for its TUI's revert
 * banner ("1 message reverted" and, under it, each file with its +/- counts, parsed from the
 * session's `revert.diff`): through `@opencode-ai/sdk`'s v1 and v2 clients against the real
 * `opencode serve`, a turn that edits one file and creates another, reverted. The expected texts
 * are what OpenCode's own server answered for the same turn (its git diff of the files, `index`
 * lines included).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createOpencodeClient as createV1 } from '@opencode-ai/sdk';
import { createOpencodeClient as createV2 } from '@opencode-ai/sdk/v2';
import { parsePatch } from 'diff';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { collect } from '../server/sdk-helper.ts';
import { serve, type Served } from '../server/serve-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';

/** OpenCode's `revert.diff` for this turn, as its server answered it. */
const OPENCODE_DIFF = [
  'diff --git a/a.txt b/a.txt',
  'index 1784c0e..4cb29ea 100644',
  '--- a/a.txt',
  '+++ b/a.txt',
  '@@ -1,4 +1,3 @@',
  ' one',
  '-TWO',
  '-2',
  '+two',
  ' three',
  'diff --git a/c.txt b/c.txt',
  'deleted file mode 100644',
  'index d64abd3..0000000',
  '--- a/c.txt',
  '+++ /dev/null',
  '@@ -1,3 +0,0 @@',
  '-new',
  '-file',
  '-here',
].join('\n');

/** The banner's rows as OpenCode's TUI makes them from `revert.diff` (its parsePatch, lines counted per file). */
function bannerRows(diff: string): string[] {
  return parsePatch(diff).map((f) => {
    const name = ([f.newFileName, f.oldFileName].find((n) => n && n !== '/dev/null') ?? 'unknown').replace(/^[ab]\//, '');
    const lines = f.hunks.flatMap((h) => h.lines);
    const added = lines.filter((l) => l.startsWith('+')).length;
    const removed = lines.filter((l) => l.startsWith('-')).length;
    return `${name}${added > 0 ? ` +${added}` : ''}${removed > 0 ? ` -${removed}` : ''}`;
  });
}

let model: ScriptedServer;
let sb: Sandbox;
let served: Served;
let v1: ReturnType<typeof createV1>;
let v2: ReturnType<typeof createV2>['v2']['session'];

async function start(): Promise<void> {
  served = await serve(sb);
  v1 = createV1({ baseUrl: served.url, directory: sb.project });
  v2 = createV2({ baseUrl: served.url, directory: sb.project }).v2.session;
}

beforeAll(async () => {
  model = await startScriptedServer();
  sb = await sandbox();
  sb.write('opencode.json', { ...providerConfig(model, { m: {} }), model: 'p/m', cache: { enabled: false }, permission: { edit: 'allow' } });
  await start();
});

afterAll(async () => {
  await served?.stop();
  await model?.close();
  await sb?.remove();
});

const read = (rel: string) => (fs.existsSync(path.join(sb.project, rel)) ? fs.readFileSync(path.join(sb.project, rel), 'utf8') : undefined);

/** A session whose one turn edits a.txt (one line for two) and creates c.txt (three lines); its user message's id. */
async function editedTwoFiles(): Promise<{ id: string; user: string }> {
  sb.write('a.txt', 'one\ntwo\nthree\n');
  fs.rmSync(path.join(sb.project, 'c.txt'), { force: true });
  const id = (await v1.session.create({ body: {} })).data?.id ?? '';
  model.script(
    'm',
    {
      type: 'tool_calls',
      calls: [
        { name: 'edit', arguments: { filePath: 'a.txt', oldString: 'two\n', newString: 'TWO\n2\n' } },
        { name: 'write', arguments: { filePath: 'c.txt', content: 'new\nfile\nhere\n' } },
      ],
    },
    { type: 'text', text: 'Done.' },
  );
  await v1.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'edit them' }] } });
  expect([read('a.txt'), read('c.txt')]).toEqual(['one\nTWO\n2\nthree\n', 'new\nfile\nhere\n']);
  const user = (await v1.session.messages({ path: { id } })).data?.find((m) => m.info.role === 'user')?.info.id ?? '';
  return { id, user };
}

describe('what a revert did to the files (the TUI’s revert banner)', () => {
  it('revert: the session’s revert.diff lists both files as OpenCode’s does, announced by session.updated, kept across a restart; unrevert clears it', async () => {
    const { id, user } = await editedTwoFiles();
    const abort = new AbortController();
    const stream = collect((await v1.event.subscribe({ signal: abort.signal, sseMaxRetryAttempts: 0 } as never)).stream);
    await stream.until((e) => e.type === 'server.connected');

    const reverted = await v1.session.revert({ path: { id }, body: { messageID: user } });
    expect(reverted.data?.revert).toEqual({ messageID: user, diff: OPENCODE_DIFF });
    expect([read('a.txt'), read('c.txt')]).toEqual(['one\ntwo\nthree\n', undefined]);
    expect(bannerRows(reverted.data?.revert?.diff ?? '')).toEqual(['a.txt +1 -2', 'c.txt -3']);
    const updated = await stream.until((e) => e.type === 'session.updated' && (e.properties.info as { revert?: unknown }).revert !== undefined);
    expect((updated.properties.info as { revert: unknown }).revert).toEqual({ messageID: user, diff: OPENCODE_DIFF });
    expect((await v1.session.get({ path: { id } })).data?.revert).toEqual({ messageID: user, diff: OPENCODE_DIFF });
    // While reverted, the reverted turn's own changes are still there to ask for, as OpenCode answers them (the turn's files, its counts; the two calls ran at once, so in either order).
    expect((await v1.session.diff({ path: { id }, query: { messageID: user } })).data?.map((f) => [f.file, f.additions, f.deletions]).sort()).toEqual([
      ['a.txt', 2, 1],
      ['c.txt', 3, 0],
    ]);

    // v2: the session's RevertState, each file as its FileDiff.
    const files = [
      { path: 'a.txt', status: 'modified', additions: 1, deletions: 2, patch: `${OPENCODE_DIFF.split('diff --git a/c.txt')[0]}` },
      { path: 'c.txt', status: 'deleted', additions: 0, deletions: 3, patch: `diff --git a/c.txt${OPENCODE_DIFF.split('diff --git a/c.txt')[1]}\n` },
    ];
    const state = { messageID: user, diff: OPENCODE_DIFF, files };
    expect(((await v2.get({ sessionID: id })).data as { data: { revert?: unknown } }).data.revert).toEqual(state);
    const history = ((await v2.history({ sessionID: id })).data as { data: { type: string; data: { revert?: unknown } }[] }).data;
    expect(history.findLast((e) => e.type === 'session.next.revert.staged')?.data.revert).toEqual(state);

    // A restart reads it back.
    abort.abort();
    await served.stop();
    await start();
    expect((await v1.session.get({ path: { id } })).data?.revert).toEqual({ messageID: user, diff: OPENCODE_DIFF });
    expect(((await v2.get({ sessionID: id })).data as { data: { revert?: unknown } }).data.revert).toEqual(state);
    // The list shows the mark.
    expect((await v1.session.list()).data?.find((s) => s.id === id)?.revert).toEqual({ messageID: user });

    // Unrevert: the files forward again, the mark and its diff gone, and so after a restart.
    const again = new AbortController();
    const after = collect((await v1.event.subscribe({ signal: again.signal, sseMaxRetryAttempts: 0 } as never)).stream);
    await after.until((e) => e.type === 'server.connected');
    expect((await v1.session.unrevert({ path: { id } })).data?.revert).toBeUndefined();
    const cleared = await after.until((e) => e.type === 'session.updated');
    expect((cleared.properties.info as { revert?: unknown }).revert).toBeUndefined();
    // The sidebar's "Modified Files" follows the files forward again.
    const modified = await after.until((e) => e.type === 'session.diff');
    expect((modified.properties.diff as { file: string }[]).map((f) => f.file).sort()).toEqual(['a.txt', 'c.txt']);
    again.abort();
    expect([read('a.txt'), read('c.txt')]).toEqual(['one\nTWO\n2\nthree\n', 'new\nfile\nhere\n']);
    await served.stop();
    await start();
    expect((await v1.session.get({ path: { id } })).data?.revert).toBeUndefined();
  });

  it('v2 stage answers the RevertState; a prompt after a revert commits it, and the diff goes with the mark', async () => {
    const { id, user } = await editedTwoFiles();
    const staged = await v2.revert.stage({ sessionID: id, messageID: user });
    expect(staged.data).toMatchObject({ data: { messageID: user, diff: OPENCODE_DIFF, files: [{ path: 'a.txt', additions: 1, deletions: 2 }, { path: 'c.txt', status: 'deleted', deletions: 3 }] } });
    model.script('m', { type: 'text', text: 'Fresh start.' });
    await v1.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'something else' }] } });
    expect((await v1.session.get({ path: { id } })).data?.revert).toBeUndefined();
    expect(((await v2.get({ sessionID: id })).data as { data: { revert?: unknown } }).data.revert).toBeUndefined();
    const file = fs.readFileSync(path.join(sb.dataHome, 'pantheon', 'sessions', `${id}.json`), 'utf8');
    expect(file).not.toContain('"revertFiles"');
  });
});
