/**
 * The lock across processes (src/pid-lock.ts): a leftover (its owner died) is taken over by one
 * process at a time, under the takeover lock beside it; a takeover lock left by a process that
 * died is cleared; and processes that keep leaving leftovers for each other never hold the lock
 * two at once.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tryPidLock, type HeldLock } from '../src/pid-lock.ts';

const LOCK_MODULE = path.resolve(import.meta.dirname, '..', 'src', 'pid-lock.ts');

/** A process that exited: its pid names nobody (pids are not reused this soon). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid as number;
}

let dir: string;
let lock: string;
beforeEach(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-pid-lock-')));
  lock = path.join(dir, 'x.lock');
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('taking over a leftover lock', () => {
  it('leaves the leftover to a live process that is taking it over, and names that process', async () => {
    const leftover = `${await deadPid()}\n`;
    fs.writeFileSync(lock, leftover);
    fs.writeFileSync(`${lock}.takeover`, `${process.pid}\n`);
    expect(tryPidLock(lock)).toEqual({ owner: process.pid });
    expect(fs.readFileSync(lock, 'utf8')).toBe(leftover);
  });

  it('clears a takeover lock whose process died, then takes the leftover over', async () => {
    fs.writeFileSync(lock, `${await deadPid()}\n`);
    fs.writeFileSync(`${lock}.takeover`, `${await deadPid()}\n`);
    const taken = tryPidLock(lock);
    expect('release' in taken).toBe(true);
    expect(fs.existsSync(`${lock}.takeover`)).toBe(false);
    expect(tryPidLock(lock)).toEqual({ owner: process.pid });
    (taken as HeldLock).release();
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('an empty lock file is one being written (held), unless it stayed empty for seconds (its maker died before writing it)', () => {
    fs.writeFileSync(lock, '');
    expect(tryPidLock(lock)).toEqual({ owner: -1 });
    const past = new Date(Date.now() - 60_000);
    fs.utimesSync(lock, past, past);
    const taken = tryPidLock(lock);
    expect('release' in taken).toBe(true);
    (taken as HeldLock).release();
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('four processes leaving leftovers for each other never hold the lock at once', async () => {
    const dead = await deadPid();
    const rounds = 150;
    // Each round: take the lock (trying again at once while it is held), mark being inside with a
    // file only one process can make, then either let go or "crash" (leave the lock naming a dead
    // process), so that the others race to take the leftover over.
    const script = `
      import fs from 'node:fs';
      import { tryPidLock } from ${JSON.stringify(LOCK_MODULE)};
      const lock = ${JSON.stringify(lock)};
      const inside = ${JSON.stringify(path.join(dir, 'inside'))};
      let overlaps = 0;
      for (let round = 0; round < ${rounds}; round++) {
        let taken = tryPidLock(lock);
        while (!('release' in taken)) {
          await new Promise((resolve) => setImmediate(resolve));
          taken = tryPidLock(lock);
        }
        try { fs.writeFileSync(inside, String(process.pid), { flag: 'wx' }); } catch { overlaps++; }
        await new Promise((resolve) => setImmediate(resolve));
        fs.rmSync(inside, { force: true });
        if (round % 2 === 0) fs.writeFileSync(lock, ${JSON.stringify(`${dead}\n`)});
        else taken.release();
      }
      process.stdout.write(JSON.stringify({ overlaps }));
    `;
    const runs = Array.from({ length: 4 }, () => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      return new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on('close', (code) => resolve({ code, out, err })));
    });
    for (const run of await Promise.all(runs)) {
      expect(run, run.err).toMatchObject({ code: 0 });
      expect(JSON.parse(run.out)).toEqual({ overlaps: 0 });
    }
    expect(fs.existsSync(`${lock}.takeover`)).toBe(false);
  }, 60_000);
});
