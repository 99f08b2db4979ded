import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import fsSync, { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionStore } from '../../src/session/store.ts';
import { record, tempDir } from './helpers.ts';

const readText = (file: string): string => readFileSync(file, 'utf8');
const LOOP = path.join(import.meta.dirname, 'fixtures', 'save-loop.ts');

interface Child {
  proc: ChildProcessWithoutNullStreams;
  line(text: string): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function start(args: string[]): Child {
  const proc = spawn(process.execPath, [LOOP, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const seen = new Set<string>();
  const waiters: { text: string; resolve: () => void }[] = [];
  readline.createInterface({ input: proc.stdout }).on('line', (l) => {
    seen.add(l);
    for (const w of waiters.filter((x) => x.text === l)) w.resolve();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    proc.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return {
    proc,
    exited,
    line: (text) =>
      new Promise((resolve, reject) => {
        if (seen.has(text)) return resolve();
        waiters.push({ text, resolve });
        void exited.then((e) => reject(new Error(`save-loop exited (${e.code ?? e.signal}) before "${text}": ${e.stderr}`)));
      }),
  };
}

describe('sessions survive crashes and concurrent writers', () => {
  let dir: string;
  const children: Child[] = [];
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    for (const c of children.splice(0)) {
      if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
      await c.exited;
    }
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('a temp file written but never renamed (a crash before the rename) leaves the old session loadable', async () => {
    const store = new SessionStore(dir);
    const before = record('ses_crash', { title: 'before the crash' });
    await store.save(before);
    // What a save killed between its write and its rename leaves behind: half a temp file beside it.
    await fs.writeFile(path.join(dir, '.ses_crash.json.5f3a9c0d1e2b.tmp'), '{"format":"pantheon-session/1","bodyBytes":9999,"session":{"id":"ses_cra');
    expect(await store.load('ses_crash')).toEqual(before);
    expect(await store.list()).toEqual({ sessions: [expect.objectContaining({ id: 'ses_crash', title: 'before the crash' })], problems: [] });
    const after = { ...before, title: 'after', updatedAt: before.updatedAt + 1 };
    await store.save(after);
    expect(await store.load('ses_crash')).toEqual(after);
  });

  it('kill -9 in the middle of a loop of saves: every session file still parses', async () => {
    // Large saves (about 1.5 MB by round 6), so that a write takes a while.
    const child = start([dir, 'ses_k', '0', 'ses_kshared', '100000']);
    children.push(child);
    await child.line('round 6');
    // Kill at the next change in the folder: a save has just started writing.
    const watcher = fsSync.watch(dir);
    await new Promise<void>((resolve) => watcher.once('change', () => resolve()));
    child.proc.kill('SIGKILL');
    watcher.close();
    const exit = await child.exited;
    expect(exit.signal).toBe('SIGKILL');

    const store = new SessionStore(dir);
    const { sessions, problems } = await store.list();
    expect(problems).toEqual([]);
    expect(sessions.map((s) => s.id).sort()).toEqual(['ses_k0', 'ses_k1', 'ses_k2', 'ses_kshared']);
    for (const s of sessions) {
      const loaded = await store.load(s.id);
      expect(loaded.messages.length).toBeGreaterThanOrEqual(14); // round 6 was saved whole
      expect(loaded.messages.length % 2).toBe(0);
      expect(loaded.title).toMatch(/ round \d+$/);
    }
    // Independently of our decoder: each session file is one whole JSON document.
    const files = (await fs.readdir(dir)).filter((n) => n.endsWith('.json'));
    expect(files).toHaveLength(4);
    for (const name of files) expect(() => JSON.parse(readText(path.join(dir, name)))).not.toThrow();
  });

  it('two processes: different sessions never interfere; the same session is always whole and the last writer wins', async () => {
    const rounds = 12;
    const a = start([dir, 'ses_a', String(rounds), 'ses_shared']);
    const b = start([dir, 'ses_b', String(rounds), 'ses_shared']);
    children.push(a, b);
    const store = new SessionStore(dir);
    // While both write, every read of the shared session sees a whole file.
    let reads = 0;
    const done = Promise.all([a.exited, b.exited]);
    let finished = false;
    void done.then(() => (finished = true));
    await a.line('round 0');
    while (!finished) {
      const shared = await store.load('ses_shared');
      expect(shared.messages.length % 2).toBe(0);
      reads++;
    }
    for (const e of await done) expect(e, e.stderr).toMatchObject({ code: 0 });
    expect(reads).toBeGreaterThan(0);

    const { sessions, problems } = await store.list();
    expect(problems).toEqual([]);
    expect(sessions.map((s) => s.id).sort()).toEqual(['ses_a0', 'ses_a1', 'ses_a2', 'ses_b0', 'ses_b1', 'ses_b2', 'ses_shared']);
    for (const id of ['ses_a0', 'ses_a1', 'ses_a2', 'ses_b0', 'ses_b1', 'ses_b2']) {
      const s = await store.load(id);
      expect(s.title).toBe(`${id} round ${rounds - 1}`);
      expect(s.messages).toHaveLength(rounds * 2);
    }
    const shared = await store.load('ses_shared');
    expect(['ses_a round 11', 'ses_b round 11']).toContain(shared.title);
    expect(shared.messages).toHaveLength(rounds * 2);
    expect((await fs.readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});
