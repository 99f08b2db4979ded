/**
 * The Redis ledger's grouped runs (ledger-redis-batch.ts): requests asked in one turn of the event
 * loop go to Redis as one script run, each decided in turn and answered on its own. Two "machines"
 * asking together never exceed a shared limit; a run that loses its connection fails every
 * admission in it (and keeps its sent marks and releases for Redis's return); one request's error
 * fails that request only.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReserveRequest } from '../../src/scheduler/ledger.ts';
import { RedisLedger } from '../../src/state/ledger-redis.ts';
import { StateUnavailableError } from '../../src/state/redis-connection.ts';
import { startRedis, type TestRedis } from '../support/redis-server.ts';

let prefixes = 0;
const prefix = (): string => `rb${process.pid}-${++prefixes}:`;
const windowOf = (key: string, maxRequests = 1): ReserveRequest => ({ windows: [{ key, maxRequests, windowMs: 60_000 }], tokens: [], concurrency: [], leaseMs: 60_000 });
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('RedisLedger grouped runs', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('two machines each asking 40 admissions in one turn: one run each, and together never over the window (25) or the slots (10)', async () => {
    const keyPrefix = prefix();
    const machines: ChildProcessByStdio<Writable, Readable, null>[] = [];
    try {
      const lines: AsyncIterator<string>[] = [];
      for (let i = 0; i < 2; i++) {
        const child = spawn(process.execPath, [path.join(import.meta.dirname, 'fixtures', 'admit-together.ts'), redis.url, keyPrefix, '40'], { stdio: ['pipe', 'pipe', 'inherit'] });
        machines.push(child);
        const it = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
        expect((await it.next()).value).toBe('ready');
        lines.push(it);
      }
      for (const m of machines) m.stdin.write('go\n');
      const answers = await Promise.all(lines.map(async (it) => JSON.parse((await it.next()).value as string) as { windowed: number; slots: number; runs: number }));
      expect(answers[0]!.windowed + answers[1]!.windowed).toBe(25);
      expect(answers[0]!.slots + answers[1]!.slots).toBe(10);
      // 40 admissions from 40 callbacks of one turn: one run (two if a loaded machine splits the turn).
      for (const a of answers) expect(a.runs).toBeLessThanOrEqual(2);
      // While both hold their slots, a third party is refused both.
      const l = await RedisLedger.open({ url: redis.url, keyPrefix });
      try {
        expect(await l.tryReserve(windowOf('w', 25))).toMatchObject({ ok: false, kind: 'window' });
        expect(await l.tryReserve({ windows: [], tokens: [], concurrency: [{ key: 'c', limit: 10 }], leaseMs: 1000 })).toMatchObject({ ok: false, kind: 'concurrency' });
      } finally {
        await l.close();
      }
      await Promise.all(machines.map((m) => new Promise((resolve) => {
        m.once('exit', resolve);
        m.stdin.write('close\n');
      })));
    } finally {
      for (const m of machines) if (m.exitCode === null) m.kill('SIGKILL');
    }
  });

  it('a run whose connection drops while Redis holds it: every admission in it fails as unavailable; its sent mark and release are kept and sent on return', async () => {
    const own = await startRedis();
    const control = await RedisLedger.open({ url: own.url, keyPrefix: prefix() });
    try {
      const keyPrefix = prefix();
      const l = await RedisLedger.open({ url: own.url, keyPrefix, timeoutMs: 10_000 });
      const held: ReserveRequest = { ...windowOf('p'), concurrency: [{ key: 'p', limit: 1 }] };
      const first = await l.tryReserve(held);
      if (!first.ok) throw new Error('expected an admission');
      // Redis takes the run but does not run it (scripts wait while writes are paused) …
      await control.connection.command(['CLIENT', 'PAUSE', '60000', 'WRITE']);
      const runsBefore = l.batch.runs;
      const sent = l.markSent(first.id);
      const released = l.release(first.id);
      const admissions = Promise.allSettled(Array.from({ length: 5 }, (_, i) => l.tryReserve(windowOf(`q${i}`))));
      while (l.batch.runs === runsBefore) await turn();
      await turn();
      expect(l.batch.runs - runsBefore).toBe(1);
      // … and the machine running Redis dies with it.
      await own.kill('SIGKILL');
      for (const a of await admissions) {
        expect(a.status).toBe('rejected');
        expect((a as PromiseRejectedResult).reason).toBeInstanceOf(StateUnavailableError);
      }
      await expect(sent).resolves.toBeUndefined();
      await expect(released).resolves.toBeUndefined();
      await own.start();
      // Back: readiness by polling the slot the kept release frees once it is replayed.
      const slot: ReserveRequest = { windows: [], tokens: [], concurrency: [{ key: 'p', limit: 1 }], leaseMs: 1000 };
      let free = await l.tryReserve(slot).catch(() => undefined);
      while (!free?.ok) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        free = await l.tryReserve(slot).catch(() => undefined);
      }
      // The first start still counts (append-only file); none of the five failed admissions was made.
      expect(await l.tryReserve(windowOf('p'))).toMatchObject({ ok: false, kind: 'window' });
      for (let i = 0; i < 5; i++) expect((await l.tryReserve(windowOf(`q${i}`))).ok).toBe(true);
      await l.close();
    } finally {
      await control.close().catch(() => undefined);
      await own.stop();
    }
  });

  it('what was kept is sent once Redis serves again, even when the first try after the reconnect fails (a server still loading, a slow answer)', async () => {
    const own = await startRedis();
    const control = await RedisLedger.open({ url: own.url, keyPrefix: prefix() });
    const l = await RedisLedger.open({ url: own.url, keyPrefix: prefix(), timeoutMs: 300 });
    try {
      const slot: ReserveRequest = { windows: [], tokens: [], concurrency: [{ key: 's', limit: 1 }], leaseMs: 60_000 };
      const first = await l.tryReserve(slot);
      if (!first.ok) throw new Error('expected an admission');
      const id = await l.connection.command<number>(['CLIENT', 'ID']);
      // Writes wait (scripts too): the release is not answered in time, so it is kept.
      await control.connection.command(['CLIENT', 'PAUSE', '60000', 'WRITE']);
      await expect(l.release(first.id)).resolves.toBeUndefined();
      expect(l.kept).toBe(1);
      // The connection drops and comes back while writes still wait: the replay after the reconnect fails.
      const failed = l.replays.failed;
      await control.connection.command(['CLIENT', 'KILL', 'ID', String(id)]);
      await expect.poll(() => l.replays.failed, { message: 'a failed replay', timeout: 10_000, interval: 20 }).toBeGreaterThan(failed);
      expect(l.kept).toBe(1);
      // Redis serves again, with no reconnect to announce it: the replay is tried again and the slot is free.
      await control.connection.command(['CLIENT', 'UNPAUSE']);
      await expect.poll(() => l.kept, { message: 'the kept release being sent', timeout: 10_000, interval: 20 }).toBe(0);
      expect(await l.tryReserve(slot)).toMatchObject({ ok: true });
    } finally {
      await control.connection.command(['CLIENT', 'UNPAUSE']).catch(() => undefined);
      await l.close().catch(() => undefined);
      await control.close().catch(() => undefined);
      await own.stop();
    }
  });

  it("one request's error fails that request only: the others in its run are decided and answered", async () => {
    const keyPrefix = prefix();
    const l = await RedisLedger.open({ url: redis.url, keyPrefix });
    try {
      // Something else wrote a string where the window's starts are kept.
      await l.connection.command(['SET', `${keyPrefix}ws:bad`, 'not a sorted set']);
      const runsBefore = l.batch.runs;
      const asked = [l.tryReserve(windowOf('a')), l.tryReserve(windowOf('bad')), l.tryReserve(windowOf('b')), l.tryReserve(windowOf('a'))];
      const [a, bad, b, again] = await Promise.allSettled(asked);
      expect(l.batch.runs - runsBefore).toBe(1);
      expect(a).toMatchObject({ status: 'fulfilled', value: { ok: true } });
      expect(bad!.status).toBe('rejected');
      expect(String((bad as PromiseRejectedResult).reason.message)).toMatch(/^The state store redis:\/\/127\.0\.0\.1:\d+ refused a command: .*WRONGTYPE/);
      expect(b).toMatchObject({ status: 'fulfilled', value: { ok: true } });
      // Decided in the order asked, after the first one of the run was recorded.
      expect(again).toMatchObject({ status: 'fulfilled', value: { ok: false, kind: 'window' } });
    } finally {
      await l.close();
    }
  });
});
