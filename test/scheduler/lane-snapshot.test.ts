import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { APICallError } from '@ai-sdk/provider';
import { afterEach, describe, expect, it } from 'vitest';
import { reserveSent } from './ledger-support.ts';
import type { EventInput } from '../../src/events.ts';
import type { LaneSpec } from '../../src/scheduler/lane-activity.ts';
import type { LaneSnapshot } from '../../src/scheduler/lane-snapshot.ts';
import { MemoryLedger } from '../../src/scheduler/ledger-memory.ts';
import { SqliteLedger } from '../../src/scheduler/ledger-sqlite.ts';
import type { Ledger } from '../../src/scheduler/ledger.ts';
import { Scheduler, type ScheduledModel } from '../../src/scheduler/scheduler.ts';

// The tests below look at the window while it is full: 300 ms was within what a loaded machine may
// pause a process for between two steps. A test that waits for the window to pass uses 1 s; one that
// does not, a minute.
const WINDOW = { key: 'provider:nim', maxRequests: 2, windowMs: 1000 };
const LONG = { key: 'provider:nim', maxRequests: 2, windowMs: 60_000 };

function model(extra: Partial<ScheduledModel> = {}): ScheduledModel {
  return { label: 'nim/qwen:high', provider: 'nim', key: 'model:nim/qwen', windows: [WINDOW], tokens: [], concurrency: [], ...extra };
}

function scheduler(ledger: Ledger): Scheduler {
  return new Scheduler({ ledger, retry: { maxRetries: 1, baseDelay: 10, maxDelay: 100, backoffMultiplier: 2, retryOn: [429] }, cooldown: { afterFailures: 1, ms: 60_000 } });
}

function httpError(statusCode: number, message: string): APICallError {
  return new APICallError({ message, url: 'http://127.0.0.1/v1/chat/completions', requestBodyValues: {}, statusCode, responseBody: JSON.stringify({ error: { message } }) });
}

function lane(lanes: LaneSnapshot[], model = 'nim/qwen'): LaneSnapshot {
  const found = lanes.find((l) => l.model === model);
  if (!found) throw new Error(`no lane ${model} in ${lanes.map((l) => l.model).join(', ')}`);
  return found;
}

describe('lane snapshot', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('lists a configured lane before it is used: idle, windows empty', async () => {
    const s = scheduler(new MemoryLedger());
    const spec: LaneSpec = { key: 'model:nim/qwen', provider: 'nim', label: 'nim/qwen', windows: [WINDOW], tokens: [], concurrency: [] };
    const [only] = await s.lanes([spec]);
    expect(only).toMatchObject({ model: 'nim/qwen', provider: 'nim', state: 'idle', inFlight: 0, queued: 0, nextSlotMs: 0, windows: [{ label: 'provider:nim 2/1000ms', scope: 'provider', used: 0, limit: 2 }] });
    expect(only?.windows[0]?.nextFreeMs).toBeUndefined();
  });

  it('shows what was learned from the provider, with when, and a learned remaining: 0 as the next slot', async () => {
    const ledger = new MemoryLedger();
    const s = scheduler(ledger);
    const now = Date.now();
    await ledger.recordLearned('learned:nim/qwen', [{ key: 'learned:nim/qwen', name: 'requests', kind: 'requests', limit: 40, remaining: 0, resetAt: now + 5000, observedAt: now, source: 'x-ratelimit-*' }], now);
    const spec: LaneSpec = { key: 'model:nim/qwen', provider: 'nim', label: 'nim/qwen', windows: [], tokens: [], concurrency: [] };
    const [only] = await s.lanes([spec]);
    expect(only?.learned).toEqual([expect.objectContaining({ model: 'nim/qwen', name: 'requests', limit: 40, remaining: 0, learnedAt: now, exhausted: true, source: 'x-ratelimit-*' })]);
    expect(only?.state).toBe('full');
    expect(only?.blockedBy).toBe('learned:nim/qwen requests (learned)');
    expect(only?.nextSlotMs).toBeGreaterThan(4000);
  });

  it('shows requests in flight, the window filling, and tokens per minute from reported usage', async () => {
    const s = scheduler(new MemoryLedger());
    const m = model({ windows: [LONG] });
    const a = await s.execute([m], async () => 'a', { emit: () => undefined });
    const b = await s.execute([m], async () => 'b', { emit: () => undefined });
    const busy = lane(await s.lanes());
    expect(busy).toMatchObject({ inFlight: 2, started: 2, state: 'full', windows: [{ used: 2, limit: 2 }] });
    expect(busy.nextSlotMs).toBeGreaterThan(0);
    expect(busy.nextSlotMs).toBeLessThanOrEqual(60_001);
    expect(busy.blockedBy).toBe('provider:nim rpm');
    await a.lease.release({ actualTokens: 120 });
    await b.lease.release({ actualTokens: 30 });
    const done = lane(await s.lanes());
    expect(done).toMatchObject({ inFlight: 0, tokensPerMinute: 150, tokensPerMinuteSource: 'process' });
  });

  it('shows the lane waiting, with when the wait ends, as the rate_limited event goes out', async () => {
    const s = scheduler(new MemoryLedger());
    const m = model();
    for (let i = 0; i < 2; i++) (await s.execute([m], async () => 'x', { emit: () => undefined })).lease.release();
    let seen: Promise<LaneSnapshot[]> | undefined;
    let event: EventInput | undefined;
    const emit = (e: EventInput) => {
      if (e.type !== 'rate_limited' || seen) return;
      event = e;
      seen = s.lanes();
    };
    const before = Date.now();
    const third = await s.execute([m], async () => 'third', { emit });
    await third.lease.release();
    expect(event).toMatchObject({ type: 'rate_limited', limit: 'provider:nim 2/1000ms' });
    const waiting = lane(await (seen as Promise<LaneSnapshot[]>));
    expect(waiting).toMatchObject({ state: 'waiting', queued: 1, blockedBy: 'provider:nim 2/1000ms' });
    expect(waiting.waitUntil).toBeGreaterThan(before);
    expect(waiting.waitUntil).toBeLessThanOrEqual(Date.now() + 5);
    const after = lane(await s.lanes());
    expect(after.queued).toBe(0);
    expect(after.waitUntil).toBeUndefined();
  });

  it('counts what other processes did through the shared SQLite ledger: starts, tpm, slots and cooldowns', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-lanes-'));
    const file = path.join(dir, 'ledger.sqlite');
    const mine = await SqliteLedger.open(file);
    const other = await SqliteLedger.open(file);
    try {
      const spec: LaneSpec = {
        key: 'model:nim/qwen',
        provider: 'nim',
        label: 'nim/qwen',
        windows: [{ key: 'provider:nim', maxRequests: 40, windowMs: 60_000 }],
        tokens: [{ key: 'model:nim/qwen', maxTokens: 10_000, windowMs: 60_000 }],
        concurrency: [{ key: 'model:nim/qwen', limit: 4 }],
      };
      const req = { windows: spec.windows, tokens: [{ limit: spec.tokens[0] as LaneSpec['tokens'][number], amount: 700 }], concurrency: spec.concurrency, leaseMs: 30_000 };
      await reserveSent(other, req);
      await reserveSent(other, req);
      await other.recordFailure('model:nim/other', 1, 60_000);
      const s = scheduler(mine);
      const lanes = await s.lanes([spec, { ...spec, key: 'model:nim/other', label: 'nim/other', tokens: [], concurrency: [] }]);
      expect(lane(lanes)).toMatchObject({ state: 'busy', inFlight: 2, queued: 0, windows: [{ used: 2, limit: 40 }], tokens: [{ used: 1400, limit: 10_000 }], concurrency: [{ used: 2, limit: 4, scope: 'model' }], tokensPerMinute: 1400, tokensPerMinuteSource: 'ledger' });
      const cooling = lane(lanes, 'nim/other');
      expect(cooling.state).toBe('cooling');
      expect(cooling.cooldown?.failures).toBe(1);
      expect(cooling.cooldown?.remainingMs).toBeGreaterThan(50_000);
      expect(cooling.cooldown?.unreachable).toBeUndefined();
    } finally {
      await mine.close();
      await other.close();
    }
  });

  it('does not count as used the slots this process leased and has not handed out, nor call the lane full while they last; another process does', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-lanes-'));
    const file = path.join(dir, 'ledger.sqlite');
    // One clock for both processes: the leases' sizes do not depend on how fast this machine runs.
    const T = Date.now();
    const mine = new SqliteLedger({ path: file, now: () => T });
    const other = new SqliteLedger({ path: file, now: () => T });
    try {
      // 48 a minute: leases of up to 3 slots (a sixteenth); 1, 2, then 3 at a time fill it exactly.
      const window = { key: 'provider:nim', maxRequests: 48, windowMs: 60_000 };
      const m = model({ windows: [window] });
      const s = scheduler(mine);
      const spec: LaneSpec = { key: m.key, provider: 'nim', label: 'nim/qwen', windows: [window], tokens: [], concurrency: [] };
      const run = async (): Promise<void> => {
        const { lease } = await s.execute([m], async (_m, l) => {
          await l.markSent();
          return 'ok';
        }, { emit: () => undefined });
        await lease.release();
      };
      for (let i = 0; i < 4; i++) await run(); // 1, a lease of 2, one of 3 (2 left)
      expect(lane(await s.lanes([spec])).windows[0]).toMatchObject({ used: 4, limit: 48 });
      // Another process counts every slot written: they are pending starts for everyone else.
      expect(lane(await scheduler(other).lanes([spec])).windows[0]).toMatchObject({ used: 6, limit: 48 });
      for (let i = 4; i < 46; i++) await run(); // the last lease takes the window's last 3 starts
      const own = lane(await s.lanes([spec]));
      expect(own.windows[0]).toMatchObject({ used: 46, limit: 48 });
      expect([own.state, own.nextSlotMs]).toEqual(['idle', 0]);
      const theirs = lane(await scheduler(other).lanes([spec]));
      expect(theirs.windows[0]?.used).toBe(48);
      expect(theirs.state).toBe('full');
      for (let i = 46; i < 48; i++) await run();
      expect(lane(await s.lanes([spec])).state).toBe('full');
    } finally {
      await mine.close();
      await other.close();
    }
  });

  it("shows a model this process could not reach as cooling here alone: the shared ledger's lanes, another process's, show none", async () => {
    const ledger = new MemoryLedger();
    const s = scheduler(ledger);
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:11434'), { code: 'ECONNREFUSED', syscall: 'connect' });
    const unreachable = model({ label: 'local/llama', provider: 'local', key: 'model:local/llama', windows: [] });
    const fallback = model({ label: 'nim/qwen', windows: [] });
    const served = await s.execute([unreachable, fallback], async (m) => {
      if (m === unreachable) throw refused;
      return 'ok';
    }, { emit: () => undefined });
    await served.lease.release();
    expect(served.model).toBe(fallback);
    const here = lane(await s.lanes(), 'local/llama');
    expect(here.state).toBe('cooling');
    expect(here.cooldown).toMatchObject({ failures: 1, unreachable: true });
    expect(here.cooldown?.remainingMs).toBeGreaterThan(50_000);
    expect(await ledger.listCooldowns()).toEqual([]);
    const spec: LaneSpec = { key: 'model:local/llama', provider: 'local', label: 'local/llama', windows: [], tokens: [], concurrency: [] };
    expect(lane(await scheduler(ledger).lanes([spec]), 'local/llama')).toMatchObject({ state: 'idle' });
    // An answer from it (a chain of one is tried, cooling or not) ends the count here.
    const back = await s.execute([unreachable], async () => 'ok', { emit: () => undefined });
    await back.lease.release();
    expect(lane(await s.lanes(), 'local/llama').cooldown).toBeUndefined();
  });

  it("cools a model down for a refused API key alone: a process with another key still uses it; a 500 cools it for every key", async () => {
    const ledger = new MemoryLedger();
    const mine = scheduler(ledger);
    const other = scheduler(ledger);
    const refused = httpError(401, 'Incorrect API key provided');
    const withWrongKey = model({ windows: [], keyCooldown: 'model:nim/qwen#key:wrongwrong00' });
    const withGoodKey = model({ windows: [], keyCooldown: 'model:nim/qwen#key:goodgood0000' });
    const fallback = model({ label: 'cloud/fb', provider: 'cloud', key: 'model:cloud/fb', windows: [] });
    const emitted: EventInput[] = [];
    const first = await mine.execute([withWrongKey, fallback], async (m) => {
      if (m === withWrongKey) throw refused;
      return 'ok';
    }, { emit: (e) => emitted.push(e) });
    await first.lease.release();
    expect(first.model).toBe(fallback);
    expect(await ledger.listCooldowns()).toEqual([expect.objectContaining({ key: 'model:nim/qwen#key:wrongwrong00', failures: 1 })]);
    // This process skips the model now…
    const again = await mine.execute([withWrongKey, fallback], async () => 'ok', { emit: (e) => emitted.push(e) });
    await again.lease.release();
    expect(again.model).toBe(fallback);
    expect(emitted.filter((e) => e.type === 'fallback').map((e) => (e as { reason: string }).reason)).toEqual(['auth', 'cooldown']);
    expect(lane(await mine.lanes()).cooldown).toMatchObject({ failures: 1, refusedKey: true });
    // …another with its own key does not, and its lanes show no cooldown.
    const served = await other.execute([withGoodKey, fallback], async () => 'ok', { emit: () => undefined });
    await served.lease.release();
    expect(served.model).toBe(withGoodKey);
    expect(lane(await other.lanes()).cooldown).toBeUndefined();
    // A server error is the model's: it cools down for every key.
    const down = httpError(500, 'upstream broke');
    const failed = await other.execute([withGoodKey, fallback], async (m) => {
      if (m === withGoodKey) throw down;
      return 'ok';
    }, { emit: () => undefined });
    await failed.lease.release();
    expect(lane(await other.lanes()).cooldown).toMatchObject({ failures: 1 });
    expect(lane(await other.lanes()).cooldown?.refusedKey).toBeUndefined();
  });
});
