/**
 * The lock around a session's read-modify-write: another process holding it keeps a save waiting
 * until it lets go; a lock left by a process that died, or held for longer than a save can take,
 * is taken over at once.
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tryPidLock, type HeldLock } from '../../src/pid-lock.ts';
import { lockFileOf, withSaveLock } from '../../src/session/save-lock.ts';
import { SessionStore } from '../../src/session/store.ts';
import { record, tempDir } from './helpers.ts';

const LOCK_MODULE = path.resolve(import.meta.dirname, '..', '..', 'src', 'session', 'save-lock.ts');

/** A process that exited: its pid names nobody (pids are not reused this soon). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid as number;
}

describe('withSaveLock', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await tempDir();
    file = path.join(dir, 'ses_x.json');
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('waits while another process holds the lock, and runs once it lets go', async () => {
    const marker = path.join(dir, 'child-done');
    const script = `
      import { withSaveLock } from ${JSON.stringify(LOCK_MODULE)};
      import fs from 'node:fs';
      await withSaveLock(${JSON.stringify(file)}, async () => {
        process.stdout.write('in\\n');
        await new Promise((resolve) => process.stdin.once('data', resolve));
        fs.writeFileSync(${JSON.stringify(marker)}, '');
      });
      process.stdin.destroy();
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    await new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('in') && resolve()));
    expect(existsSync(lockFileOf(file))).toBe(true);
    const ours = withSaveLock(file, async () => existsSync(marker));
    child.stdin.write('go\n');
    // Our work ran only after the child's had finished.
    expect(await ours).toBe(true);
    expect(await exited).toBe(0);
    expect(existsSync(lockFileOf(file))).toBe(false);
  });

  it('takes over a lock whose process died', async () => {
    writeFileSync(lockFileOf(file), String(await deadPid()));
    expect(await withSaveLock(file, async () => 'ran')).toBe('ran');
    expect(existsSync(lockFileOf(file))).toBe(false);
  });

  it('takes over a lock held longer than a save can take, even by a live process', async () => {
    writeFileSync(lockFileOf(file), String(process.pid));
    expect(await withSaveLock(file, async () => 'ran', () => Date.now() + 60_000)).toBe('ran');
  });

  it('a holder that ran past staleMs and was taken over does not remove the new holder’s lock', () => {
    const lock = lockFileOf(file);
    const first = tryPidLock(lock) as HeldLock;
    // Much later: the first holder's lock counts as a leftover, and another taking of it begins.
    const second = tryPidLock(lock, { staleMs: 1000, now: () => Date.now() + 60_000 }) as HeldLock;
    expect('release' in second).toBe(true);
    first.release();
    expect(existsSync(lock)).toBe(true);
    expect(tryPidLock(lock)).toEqual({ owner: process.pid });
    second.release();
    expect(existsSync(lock)).toBe(false);
  });

  it('a lock whose pid lives but names another start of it (the pid given to a new process after a crash) is taken over', () => {
    const lock = lockFileOf(file);
    // Start time 1: this pid, but not this process (it started long after boot).
    writeFileSync(lock, `${process.pid}\n1\n`);
    const taken = tryPidLock(lock);
    expect('release' in taken).toBe(true);
    // Held by this very process (its own pid and start time): a live owner, not a leftover.
    expect(tryPidLock(lock)).toEqual({ owner: process.pid });
    (taken as HeldLock).release();
    expect(existsSync(lock)).toBe(false);
  });

  it('SessionStore.update reads the file as it is now under the lock; the lock file is not a session', async () => {
    const store = SessionStore.open({ XDG_DATA_HOME: dir });
    const id = store.newId();
    const first = await store.update(id, (now) => {
      expect(now.header).toBeUndefined();
      return record(id);
    });
    writeFileSync(lockFileOf(store.fileOf(id)), String(await deadPid()));
    const { sessions, problems } = await store.list();
    expect(problems).toEqual([]);
    expect(sessions.map((s) => s.id)).toEqual([id]);
    await store.update(id, async (now) => {
      expect(now.header).toEqual({ updatedAt: first.updatedAt, messageCount: first.messages.length });
      const current = await now.load();
      return { ...current, updatedAt: current.updatedAt + 1, messages: [...current.messages, { role: 'user', content: 'more' }] };
    });
    expect((await store.load(id)).messages.at(-1)).toEqual({ role: 'user', content: 'more' });
  });
});
