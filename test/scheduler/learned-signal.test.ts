import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COMPACT_AT_BYTES, LearnedSignal, MAX_AGE_MS } from '../../src/scheduler/learned-signal.ts';
import { SqliteLedger } from '../../src/scheduler/ledger-sqlite.ts';
import type { LearnedLimit } from '../../src/scheduler/learned.ts';

let dir: string;
let file: string;
const open: { close(): unknown }[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-learned-signal-'));
  file = path.join(dir, 'ledger.sqlite');
});
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function signal(clock?: () => number): LearnedSignal<string> {
  const s = new LearnedSignal<string>(file, clock);
  open.push(s);
  return s;
}

function ledger(): SqliteLedger {
  const l = new SqliteLedger({ path: file });
  open.push(l);
  return l;
}

const FAR = Number.POSITIVE_INFINITY;

/** A read that finds nothing kept, and what the caller then read kept (as listLearned does). */
function missThenKeep(s: LearnedSignal<string>, value: string): void {
  expect(s.get('k', 0)).toBeUndefined();
  s.set('k', value, FAR);
}

describe('LearnedSignal', () => {
  it('answers a kept value until another process signals a change', () => {
    const reader = signal();
    const writer = signal();
    missThenKeep(reader, 'first');
    expect(reader.get('k', 0)).toBe('first');
    writer.changed();
    missThenKeep(reader, 'second');
    expect(reader.get('k', 0)).toBe('second');
  });

  it('drops a value once the wall clock reaches its expiry, and once it is MAX_AGE_MS old', () => {
    let t = 0;
    const reader = signal(() => t);
    reader.set('k', 'v', 1000);
    // get() after set() is what a miss is followed by; the first get notes the size.
    expect(reader.get('k', 0)).toBeUndefined();
    reader.set('k', 'v', 1000);
    expect(reader.get('k', 999)).toBe('v');
    expect(reader.get('k', 1000)).toBeUndefined();
    reader.set('k', 'w', FAR);
    t = MAX_AGE_MS - 1;
    expect(reader.get('k', 0)).toBe('w');
    t = MAX_AGE_MS;
    expect(reader.get('k', 0)).toBeUndefined();
  });

  it('a file replaced by compaction or deleted is a change, and the new one signals', () => {
    const reader = signal();
    const writer = signal();
    missThenKeep(reader, 'v');
    // The next change reaches the size at which the writer puts an empty file in its place.
    fs.appendFileSync(`${file}-learned`, Buffer.alloc(COMPACT_AT_BYTES - 1 - fs.statSync(`${file}-learned`).size, 46));
    missThenKeep(reader, 'v');
    writer.changed();
    expect(fs.statSync(`${file}-learned`).size).toBe(0);
    missThenKeep(reader, 'v2');
    expect(reader.get('k', 0)).toBe('v2');
    writer.changed();
    missThenKeep(reader, 'v3');
    fs.rmSync(`${file}-learned`);
    expect(reader.get('k', 0)).toBeUndefined();
    expect(fs.existsSync(`${file}-learned`)).toBe(true);
  });

  it('keeps nothing when the file cannot be made (every read goes to the ledger)', () => {
    file = path.join(dir, 'missing-folder', 'ledger.sqlite');
    const reader = signal();
    missThenKeep(reader, 'v');
    expect(reader.get('k', 0)).toBeUndefined();
    expect(() => reader.changed()).not.toThrow();
  });

  it('once closed, keeps nothing and does not open the file again', () => {
    const s = signal();
    missThenKeep(s, 'v');
    s.close();
    fs.rmSync(`${file}-learned`);
    missThenKeep(s, 'v');
    expect(s.get('k', 0)).toBeUndefined();
    expect(fs.existsSync(`${file}-learned`)).toBe(false);
  });

  it('an in-memory ledger has no file: its own changes are the only ones', () => {
    file = ':memory:';
    const s = signal();
    missThenKeep(s, 'v');
    expect(s.get('k', 0)).toBe('v');
    s.changed();
    expect(s.get('k', 0)).toBeUndefined();
    expect(fs.existsSync(':memory:-learned')).toBe(false);
  });
});

describe('SqliteLedger: learned limits read again only when changed', () => {
  const KEY = 'learned:p/m';
  const limit = (remaining: number, observedAt = Date.now()): LearnedLimit => ({ key: KEY, name: 'requests', kind: 'requests', remaining, limit: 10, resetAt: observedAt + 60_000, observedAt, source: 'x-ratelimit-*' });

  it('a limit another connection learns (or forgets) is seen by the next read', async () => {
    const a = ledger();
    const b = ledger();
    expect(await a.listLearned(KEY)).toEqual([]);
    await b.recordLearned(KEY, [limit(3)], Date.now());
    expect((await a.listLearned(KEY)).map((l) => l.remaining)).toEqual([3]);
    await b.recordLearned(KEY, [limit(2)], Date.now());
    expect((await a.listLearned(KEY)).map((l) => l.remaining)).toEqual([2]);
    await b.recordLearned(KEY, [], Date.now() + 1);
    expect(await a.listLearned(KEY)).toEqual([]);
  });

  it('answers from memory while nothing signals a change (a write that does not signal is not read)', async () => {
    const a = ledger();
    expect(await a.listLearned(KEY)).toEqual([]);
    const l = limit(5);
    const raw = new DatabaseSync(file);
    raw
      .prepare('INSERT INTO learned (key, name, kind, lim, remaining, reset_at, observed_at, expires, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(KEY, l.name, l.kind, 10, 5, l.resetAt, l.observedAt, l.resetAt + 600_000, l.source);
    raw.close();
    expect(await a.listLearned(KEY)).toEqual([]);
    // Every key's list (the dashboard's, doctor's) is always read.
    expect((await a.listLearned()).map((x) => x.remaining)).toEqual([5]);
    fs.appendFileSync(`${file}-learned`, '.');
    expect((await a.listLearned(KEY)).map((x) => x.remaining)).toEqual([5]);
  });

  it('a caller changing the list it got does not change what is kept', async () => {
    const a = ledger();
    await a.recordLearned(KEY, [limit(4)], Date.now());
    const first = await a.listLearned(KEY);
    first.pop();
    expect((await a.listLearned(KEY)).map((l) => l.remaining)).toEqual([4]);
  });
});
