import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PantheonError } from '../../src/errors.ts';
import { SessionStore } from '../../src/session/store.ts';
import type { SessionMessage } from '../../src/session/store.ts';
import { conversation, record, tempDir } from './helpers.ts';

const SECRET = 'sk-abcdefghijklmnop9Qa';

async function caught(promise: Promise<unknown>): Promise<PantheonError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PantheonError);
  return error as PantheonError;
}

describe('SessionStore', () => {
  let root: string;
  let store: SessionStore;
  beforeEach(async () => {
    root = await tempDir();
    store = SessionStore.open({ XDG_DATA_HOME: root });
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('lives in $XDG_DATA_HOME/pantheon/sessions and round-trips a record', async () => {
    expect(store.dir).toBe(path.join(root, 'pantheon', 'sessions'));
    const r = record(store.newId(), { title: 'Review the design', costUSD: 0.0012, models: ['p/m1', 'q/m2'] });
    r.messages.push({ role: 'tool', content: [{ type: 'tool-result', toolCallId: 'c1', toolName: 'read', output: { type: 'text', value: 'ok' } }] });
    await store.save(r);
    expect(await store.load(r.id)).toEqual(r);
    const noCost = record(store.newId());
    await store.save(noCost);
    const loaded = await store.load(noCost.id);
    expect('costUSD' in loaded).toBe(false);
  });

  it('writes the folder 0700 and the file 0600, tightening a folder that exists', async () => {
    await fs.mkdir(store.dir, { recursive: true, mode: 0o755 });
    await fs.chmod(store.dir, 0o755);
    const r = record(store.newId());
    await store.save(r);
    expect((await fs.stat(store.dir)).mode & 0o777).toBe(0o700);
    expect((await fs.stat(store.fileOf(r.id))).mode & 0o777).toBe(0o600);
    const fresh = SessionStore.open({ XDG_DATA_HOME: path.join(root, 'other') });
    await fresh.save(record(fresh.newId()));
    expect((await fs.stat(fresh.dir)).mode & 0o777).toBe(0o700);
  });

  it('ids: ses_ + sortable time + random, increasing even within one millisecond', () => {
    let t = 1_700_000_000_000;
    const clocked = new SessionStore(root, { now: () => t });
    const a = clocked.newId();
    const b = clocked.newId();
    t += 5_000;
    const c = clocked.newId();
    expect(a).toMatch(/^ses_[0-9a-f]{12}[0-9a-z]{12}$/);
    expect(a.slice(4, 16)).toBe((1_700_000_000_000).toString(16).padStart(12, '0'));
    expect(b.slice(4, 16)).toBe((1_700_000_000_001).toString(16).padStart(12, '0'));
    expect([c, a, b].sort()).toEqual([a, b, c]);
    expect(new Set(Array.from({ length: 200 }, () => store.newId())).size).toBe(200);
  });

  it('an unknown id is a usage error (exit 2) naming the id, with a hint; a malformed id reads nothing', async () => {
    const e = await caught(store.load('ses_doesnotexist'));
    expect(e.code).toBe('USAGE');
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe('session ses_doesnotexist does not exist.');
    expect(e.hint).toContain('opencode session list');
    const outside = path.join(root, 'secret.json');
    await fs.writeFile(outside, '{}');
    const bad = await caught(store.load('../../secret'));
    expect(bad.code).toBe('USAGE');
    expect(bad.message).toBe('session ../../secret does not exist.');
  });

  it('a corrupted file: load fails with one sentence naming the file; list reports it; the file is kept', async () => {
    const good = record(store.newId());
    await store.save(good);
    const cases: Record<string, string> = {
      ses_garbage: 'this is not json {',
      ses_empty: '',
      ses_plainjson: JSON.stringify({ hello: 'world' }),
    };
    for (const [id, text] of Object.entries(cases)) await fs.writeFile(store.fileOf(id), text);
    // Cut off in the middle of the messages: the header line is intact, the size check catches it.
    const cut = record('ses_cutoff', { messages: record('x').messages.concat(record('y').messages) });
    await store.save(cut);
    const full = await fs.readFile(store.fileOf(cut.id), 'utf8');
    await fs.writeFile(store.fileOf(cut.id), full.slice(0, full.length - 40));
    // Valid JSON, but another session's content under this name.
    await fs.writeFile(store.fileOf('ses_renamed'), await fs.readFile(store.fileOf(good.id)));

    for (const id of [...Object.keys(cases), 'ses_cutoff', 'ses_renamed']) {
      const e = await caught(store.load(id));
      expect(e.code).toBe('STORE_ERROR');
      expect(e.exitCode).toBe(1);
      expect(e.message).toContain(store.fileOf(id));
      expect(e.message).not.toContain('\n');
      expect(e.message).toMatch(/^The session file .* is unreadable: .+\.$/);
      expect(e.hint).toMatch(/left as it is/);
    }
    const { sessions, problems } = await store.list();
    expect(sessions.map((s) => s.id)).toEqual([good.id]);
    expect(problems.map((p) => path.basename(p.file)).sort()).toEqual(
      ['ses_cutoff', 'ses_empty', 'ses_garbage', 'ses_plainjson', 'ses_renamed'].map((n) => `${n}.json`),
    );
    expect(problems.find((p) => p.file.endsWith('ses_cutoff.json'))?.reason).toMatch(/cut off/);
    expect(problems.find((p) => p.file.endsWith('ses_renamed.json'))?.reason).toContain(good.id);
    expect(await fs.readFile(store.fileOf('ses_garbage'), 'utf8')).toBe('this is not json {');
  });

  it('the task list round-trips; a hand-edited one that is not a list of items is a corrupted file naming the field', async () => {
    const todos = [{ id: '1', content: 'Write the tests', status: 'in_progress' as const, priority: 'high' as const }];
    const r = record(store.newId(), { todos });
    await store.save(r);
    expect((await store.load(r.id)).todos).toEqual(todos);
    const text = await fs.readFile(store.fileOf(r.id), 'utf8');
    await fs.writeFile(store.fileOf(r.id), text.replace('"todos":[{"id":"1"', '"todos":[{"id":1'));
    const e = await caught(store.load(r.id));
    expect(e.code).toBe('STORE_ERROR');
    expect(e.message).toContain('"session.todos" is not a list of {id, content, status, priority}');
  });

  it('a revert mark round-trips (and shows in the listing); a hand-edited one that is not {messageID} is a corrupted file naming the field', async () => {
    const r = record(store.newId(), { revert: { messageID: 'msg_0001' } });
    await store.save(r);
    expect((await store.load(r.id)).revert).toEqual({ messageID: 'msg_0001' });
    expect((await store.list({})).sessions.find((x) => x.id === r.id)?.revert).toEqual({ messageID: 'msg_0001' });
    const text = await fs.readFile(store.fileOf(r.id), 'utf8');
    await fs.writeFile(store.fileOf(r.id), text.replace('"revert":{"messageID":"msg_0001"}', '"revert":{"messageID":7}'));
    const e = await caught(store.load(r.id));
    expect(e.code).toBe('STORE_ERROR');
    expect(e.message).toContain('"session.revert" is not {messageID}');
  });

  it('what a revert did to the files round-trips in the body, not the header (the listing shows the mark only); a hand-edited list that is not file diffs is a corrupted file naming it', async () => {
    const files = [{ file: 'a.txt', status: 'modified' as const, additions: 1, deletions: 2, patch: `diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1 @@\n-${'x'.repeat(5000)}\n-y\n+z\n` }];
    const r = record(store.newId(), { revert: { messageID: 'msg_0001', files } });
    await store.save(r);
    expect((await store.load(r.id)).revert).toEqual({ messageID: 'msg_0001', files });
    expect((await store.list({})).sessions.find((x) => x.id === r.id)?.revert).toEqual({ messageID: 'msg_0001' });
    const text = await fs.readFile(store.fileOf(r.id), 'utf8');
    expect(text.split('\n', 1)[0]).not.toContain('xxxx');
    // Unreverted: the files go with the mark.
    const { revert: _gone, ...unreverted } = await store.load(r.id);
    await store.save(unreverted);
    expect(await fs.readFile(store.fileOf(r.id), 'utf8')).not.toContain('"revertFiles"');
    await store.save(r);
    await fs.writeFile(store.fileOf(r.id), text.replace('"additions":1', '"additions":"one"'));
    const e = await caught(store.load(r.id));
    expect(e.code).toBe('STORE_ERROR');
    expect(e.message).toContain('"revertFiles" is not a list of {file, status, additions, deletions, patch}');
  });

  it("a child session's parentID and a tool message's children round-trip (and show in the listing); latest skips children; a parentID that is no session id is a corrupted file naming the field", async () => {
    const parent = record('ses_parent', { projectRoot: '/p/a', updatedAt: 10_000 });
    parent.messages.push({ role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_t', toolName: 'task', output: { type: 'text', value: 'ok' } }], children: { call_t: 'ses_child' } });
    await store.save(parent);
    // The child ends after its parent's turn started: it is the most recently updated, yet `run --continue` goes on with the parent.
    await store.save(record('ses_child', { projectRoot: '/p/a', updatedAt: 20_000, parentID: 'ses_parent' }));
    expect((await store.load('ses_child')).parentID).toBe('ses_parent');
    expect((await store.load('ses_parent')).messages.at(-1)?.children).toEqual({ call_t: 'ses_child' });
    expect((await store.list({})).sessions.map((x) => [x.id, x.parentID])).toEqual([['ses_child', 'ses_parent'], ['ses_parent', undefined]]);
    expect((await store.latest('/p/a'))?.id).toBe('ses_parent');
    const text = await fs.readFile(store.fileOf('ses_child'), 'utf8');
    await fs.writeFile(store.fileOf('ses_child'), text.replace('"parentID":"ses_parent"', '"parentID":"../etc"'));
    const e = await caught(store.load('ses_child'));
    expect(e.code).toBe('STORE_ERROR');
    expect(e.message).toContain('"session.parentID" is not a session id');
  });

  it('list: newest update first, per project or --all, ignoring temp and foreign files', async () => {
    const a1 = record('ses_a1', { projectRoot: '/p/a', updatedAt: 3_000, createdAt: 1_000 });
    const a2 = record('ses_a2', { projectRoot: '/p/a', updatedAt: 5_000, createdAt: 500 });
    const a3 = record('ses_a3', { projectRoot: '/p/a/', updatedAt: 1_000, createdAt: 900 });
    const b1 = record('ses_b1', { projectRoot: '/p/b', updatedAt: 9_000 });
    for (const r of [a1, a2, a3, b1]) await store.save(r);
    await fs.writeFile(path.join(store.dir, '.ses_a1.json.0123abcd.tmp'), '{"half":');
    await fs.writeFile(path.join(store.dir, 'notes.txt'), 'hello');

    const a = await store.list({ projectRoot: '/p/a' });
    expect(a.sessions.map((s) => s.id)).toEqual(['ses_a2', 'ses_a1', 'ses_a3']);
    expect(a.problems).toEqual([]);
    const all = await store.list();
    expect(all.sessions.map((s) => s.id)).toEqual(['ses_b1', 'ses_a2', 'ses_a1', 'ses_a3']);
    expect(all.sessions[0]).toEqual({
      id: 'ses_b1',
      projectRoot: '/p/b',
      agent: 'oracle',
      title: `question 0 ${'q'.repeat(40)}`,
      createdAt: b1.createdAt,
      updatedAt: 9_000,
      messageCount: 2,
      usage: { inputTokens: 120, outputTokens: 30 },
      models: ['p/m1'],
    });
    expect((await store.list({ projectRoot: '/p/none' })).sessions).toEqual([]);
    const empty = SessionStore.open({ XDG_DATA_HOME: path.join(root, 'nothing') });
    expect(await empty.list()).toEqual({ sessions: [], problems: [] });
  });

  it('latest: the most recently updated session of that project only', async () => {
    await store.save(record('ses_old', { projectRoot: '/p/a', createdAt: 9_000, updatedAt: 10_000 }));
    await store.save(record('ses_new', { projectRoot: '/p/a', createdAt: 1_000, updatedAt: 20_000, title: 'the newest' }));
    await store.save(record('ses_other', { projectRoot: '/p/b', updatedAt: 30_000 }));
    expect((await store.latest('/p/a'))?.title).toBe('the newest');
    expect((await store.latest('/p/b'))?.id).toBe('ses_other');
    expect(await store.latest('/p/c')).toBeUndefined();
    // Saving the old one again with a later update makes it the latest.
    const old = await store.load('ses_old');
    await store.save({ ...old, updatedAt: 40_000 });
    expect((await store.latest('/p/a'))?.id).toBe('ses_old');
  });

  it('titles: an empty title becomes the first user message on one line, about 60 characters', async () => {
    const long = 'Review\nthis   design for scaling problems in the scheduler and the ledger, please, thoroughly';
    await store.save(record('ses_t1', { messages: [{ role: 'user', content: [{ type: 'text', text: long }] }] }));
    await store.save(record('ses_t2', { title: 'Short\ntitle' }));
    const t1 = (await store.load('ses_t1')).title;
    expect(t1.startsWith('Review this design for scaling problems')).toBe(true);
    expect([...t1].length).toBeLessThanOrEqual(60);
    expect(t1.endsWith('…')).toBe(true);
    expect((await store.load('ses_t2')).title).toBe('Short title');
  });

  it('a header longer than the first read still lists', async () => {
    const deep = `/p/${'d'.repeat(5_000)}`;
    await store.save(record('ses_deep', { projectRoot: deep }));
    expect((await store.list({ projectRoot: deep })).sessions.map((s) => s.id)).toEqual(['ses_deep']);
  });

  it('binary attachments are stored as base64 text', async () => {
    const bytes = new Uint8Array([137, 80, 78, 71, 0, 255]);
    await store.save(record('ses_img', { messages: [{ role: 'user', content: [{ type: 'file', data: bytes, mediaType: 'image/png' }] }] }));
    const loaded = await store.load('ses_img');
    expect(loaded.messages[0]?.content).toEqual([{ type: 'file', data: Buffer.from(bytes).toString('base64'), mediaType: 'image/png' }]);
  });

  it('holds messages and usage only: no key from config, env or stray fields reaches the file', async () => {
    const env = { XDG_DATA_HOME: root, OPENAI_API_KEY: SECRET, NVIDIA_API_KEY: SECRET };
    const s = SessionStore.open(env);
    const r = record(s.newId(), {
      title: 'hi',
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello', providerOptions: { p: { apiKey: SECRET } } } as never,
      ],
    });
    const polluted = { ...r, config: { provider: { p: { options: { apiKey: SECRET } } } }, headers: { Authorization: `Bearer ${SECRET}` } };
    await s.save(polluted);
    const text = await fs.readFile(s.fileOf(r.id), 'utf8');
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(SECRET.slice(4, 16));
    expect(await s.load(r.id)).toEqual({ ...r, messages: [r.messages[0], { role: 'assistant', content: 'hello' }] });
  });

  it('a turn added to a loaded session is written as if the whole session were serialised anew', async () => {
    const id = store.newId();
    const bytes = new Uint8Array([1, 2, 3]);
    await store.save(record(id, { messages: conversation(3) }));
    const loaded = await store.load(id);
    const turn: SessionMessage[] = [
      { role: 'user', content: [{ type: 'text', text: 'see this' }, { type: 'image', image: bytes, mediaType: 'image/png' }] },
      { role: 'assistant', content: 'seen', providerOptions: { p: { apiKey: SECRET } } } as never,
    ];
    const next = { ...loaded, messages: [...loaded.messages, ...turn], updatedAt: loaded.updatedAt + 1 };
    await store.save(next);
    const text = await fs.readFile(store.fileOf(id), 'utf8');
    // A second store has serialised nothing before: it writes the whole session from scratch.
    const fresh = SessionStore.open({ XDG_DATA_HOME: path.join(root, 'fresh') });
    await fresh.save(structuredClone(next));
    expect(text).toBe(await fs.readFile(fresh.fileOf(id), 'utf8'));
    expect(text).not.toContain(SECRET);
    expect((await store.load(id)).messages).toHaveLength(8);
    // A rename only (same messages) and another turn on the record as saved.
    await store.save({ ...next, title: 'renamed' });
    const third = { ...next, messages: [...next.messages, { role: 'user' as const, content: 'again' }] };
    await store.save(third);
    await fresh.save(structuredClone(third));
    expect(await fs.readFile(store.fileOf(id), 'utf8')).toBe(await fs.readFile(fresh.fileOf(id), 'utf8'));
  });

  it('a loaded message with fields of its own (a file edited by hand) is written without them at the next save', async () => {
    const id = store.newId();
    await store.save(record(id));
    const file = store.fileOf(id);
    const text = await fs.readFile(file, 'utf8');
    const [head, body] = text.split('\n');
    const edited = (body as string).replace('{"role":"user",', '{"role":"user","note":"by hand",');
    await fs.writeFile(file, `${(head as string).replace(/"bodyBytes":\d+/, `"bodyBytes":${Buffer.byteLength(`${edited}\n`)}`)}\n${edited}\n`);
    const loaded = await store.load(id);
    expect(loaded.messages[0]).toMatchObject({ note: 'by hand' });
    await store.save({ ...loaded, messages: [...loaded.messages, { role: 'user', content: 'more' }] });
    expect(await fs.readFile(file, 'utf8')).not.toContain('by hand');
  });

  it('a save that cannot write is a STORE_ERROR naming the file, not a crash', async () => {
    const blocked = path.join(root, 'blocked');
    await fs.writeFile(blocked, 'a file where the folder should be');
    const s = new SessionStore(path.join(blocked, 'sessions'));
    const e = await caught(s.save(record('ses_x')));
    expect(e.code).toBe('STORE_ERROR');
    expect(e.message).toContain(s.fileOf('ses_x'));
  });
  it('blocking saves (opencode run) write the same file as other saves: atomically, 0600, no temp file left', async () => {
    const blocking = SessionStore.open({ XDG_DATA_HOME: root }, { blockingSaves: true });
    const r = record(blocking.newId(), { title: 'Same bytes', costUSD: 0.5 });
    await blocking.save(r);
    const written = await fs.readFile(blocking.fileOf(r.id), 'utf8');
    expect((await fs.stat(blocking.fileOf(r.id))).mode & 0o777).toBe(0o600);
    await store.save(r);
    expect(await fs.readFile(store.fileOf(r.id), 'utf8')).toBe(written);
    expect(await blocking.load(r.id)).toEqual(r);
    expect((await fs.readdir(blocking.dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const blocked = path.join(root, 'blocked');
    await fs.writeFile(blocked, 'a file where the folder should be');
    const e = await caught(new SessionStore(path.join(blocked, 'sessions'), { blockingSaves: true }).save(record('ses_x')));
    expect(e.code).toBe('STORE_ERROR');
  });

  it('prepare makes the folder (0700) before any save; when it cannot, the save still reports its own error', async () => {
    store.prepare();
    const r = record(store.newId());
    await store.save(r);
    expect((await fs.stat(store.dir)).mode & 0o777).toBe(0o700);
    const blocked = path.join(root, 'blocked2');
    await fs.writeFile(blocked, 'a file where the folder should be');
    const s = new SessionStore(path.join(blocked, 'sessions'));
    s.prepare();
    const e = await caught(s.save(record('ses_y')));
    expect(e.code).toBe('STORE_ERROR');
    expect(e.message).toContain(s.fileOf('ses_y'));
  });
});
