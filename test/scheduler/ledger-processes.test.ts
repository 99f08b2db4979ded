import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquire } from '../../src/scheduler/acquire.ts';
import { SqliteLedger } from '../../src/scheduler/ledger-sqlite.ts';
import type { ReserveRequest } from '../../src/scheduler/ledger.ts';

const fixtures = path.join(import.meta.dirname, 'fixtures');

interface Child {
  proc: ChildProcessWithoutNullStreams;
  /** Resolves with the first stdout line starting with `prefix`. */
  line(prefix: string): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function start(script: string, args: string[]): Child {
  const proc = spawn(process.execPath, [path.join(fixtures, script), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = readline.createInterface({ input: proc.stdout });
  const seen: string[] = [];
  const waiters: { prefix: string; resolve: (l: string) => void }[] = [];
  lines.on('line', (l) => {
    seen.push(l);
    for (const w of waiters.filter((x) => l.startsWith(x.prefix))) w.resolve(l);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    proc.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return {
    proc,
    exited,
    line: (prefix) =>
      new Promise((resolve, reject) => {
        const found = seen.find((l) => l.startsWith(prefix));
        if (found !== undefined) return resolve(found);
        waiters.push({ prefix, resolve });
        void exited.then((e) => reject(new Error(`${script} exited (${e.code ?? e.signal}) before "${prefix}": ${e.stderr}`)));
      }),
  };
}

describe('SqliteLedger shared by processes', () => {
  let dir: string;
  const children: Child[] = [];

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-ledger-procs-'));
  });
  afterEach(async () => {
    for (const c of children.splice(0)) {
      if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
      await c.exited;
    }
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('4 processes never exceed a sliding window together', async () => {
    const db = path.join(dir, 'ledger.sqlite');
    const [procs, each, maxRequests, windowMs] = [4, 6, 6, 500];
    for (let i = 0; i < procs; i++) {
      children.push(start('ledger-worker.ts', [db, String(each), String(maxRequests), String(windowMs), path.join(dir, `starts-${i}.json`)]));
    }
    await Promise.all(children.map((c) => c.line('ready')));
    for (const c of children) c.proc.stdin.end('go\n');
    const exits = await Promise.all(children.map((c) => c.exited));
    for (const e of exits) expect(e, e.stderr).toMatchObject({ code: 0 });

    const starts: number[] = [];
    for (let i = 0; i < procs; i++) {
      starts.push(...(JSON.parse(await fs.readFile(path.join(dir, `starts-${i}.json`), 'utf8')) as number[]));
    }
    starts.sort((a, b) => a - b);
    expect(starts).toHaveLength(procs * each);
    // no half-open window [t, t + windowMs) holds more than maxRequests starts
    for (let i = 0; i + maxRequests < starts.length; i++) {
      expect((starts[i + maxRequests] as number) - (starts[i] as number)).toBeGreaterThanOrEqual(windowMs);
    }
    const ideal = (Math.ceil(starts.length / maxRequests) - 1) * windowMs;
    const makespan = (starts.at(-1) as number) - (starts[0] as number);
    // How close to the ideal is a benchmark's question (bench/state-stores.ts, bench/parallel-runs.ts):
    // on a loaded machine a process can be seconds late without breaking anything.
    expect(makespan).toBeGreaterThanOrEqual(ideal);
  });

  it('frees a concurrency slot held by a killed process once its lease runs out', async () => {
    const db = path.join(dir, 'ledger.sqlite');
    const leaseMs = 1000;
    const holder = start('ledger-holder.ts', [db, String(leaseMs)]);
    children.push(holder);
    const heldAt = Number((await holder.line('held ')).slice(5));
    holder.proc.kill('SIGKILL');
    expect(await holder.exited).toMatchObject({ signal: 'SIGKILL' });

    let last = 0;
    const ledger = new SqliteLedger({ path: db, now: () => (last = Date.now()) });
    const req: ReserveRequest = { windows: [], tokens: [], concurrency: [{ key: 'provider:test', limit: 1 }], leaseMs };
    try {
      expect(await ledger.tryReserve(req)).toMatchObject({ ok: false, blockedBy: 'provider:test concurrency' });
      expect(last).toBeLessThan(heldAt + leaseMs);
      const waits: string[] = [];
      await acquire(ledger, req, { onWait: (_ms, by) => waits.push(by) });
      expect(waits).toEqual(['provider:test concurrency']);
      expect(last).toBeGreaterThanOrEqual(heldAt + leaseMs);
      // taken once it freed, not a lease later (polled every 50 ms; a loaded machine is late by less than a lease)
      expect(last - (heldAt + leaseMs)).toBeLessThan(leaseMs);
    } finally {
      await ledger.close();
    }
  });

  it('a limit one process learns is read by another at its next admission (the learned-limits signal)', async () => {
    const db = path.join(dir, 'ledger.sqlite');
    const key = 'learned:p/m';
    const child = start('learned-reader.ts', [db, key]);
    children.push(child);
    await child.line('ready');
    const ask = async (command: string, reply: string): Promise<string> => {
      child.proc.stdin.write(`${command}\n`);
      return (await child.line(reply)).slice(reply.length);
    };
    const here = new SqliteLedger({ path: db });
    try {
      // Both read nothing learned, and keep that.
      expect(await ask('read 1', 'learned 1 ')).toBe('[]');
      expect(await here.listLearned(key)).toEqual([]);
      // This process learns a limit: the other's next read has it.
      const now = Date.now();
      await here.recordLearned(key, [{ key, name: 'requests', kind: 'requests', remaining: 7, limit: 100, resetAt: now + 60_000, observedAt: now, source: 'x-ratelimit-*' }], now);
      expect(await ask('read 2', 'learned 2 ')).toBe('[7]');
      // The other learns a newer one: this process's next read has it.
      await ask('learn 3 4', 'learned-ok 3');
      expect((await here.listLearned(key)).map((l) => l.remaining)).toEqual([4]);
      expect(await ask('read 4', 'learned 4 ')).toBe('[4]');
      child.proc.stdin.write('close\n');
      expect((await child.exited).code).toBe(0);
    } finally {
      await here.close();
    }
  });
});
