import { describe, expect, it } from 'vitest';
import { computeStats } from '../../src/core/stats.ts';
import { OVERLAP_MS, TodayTally } from '../../src/core/live/usage-today.ts';
import { MemoryLedger } from '../../src/scheduler/ledger-memory.ts';
import type { UsageRecord } from '../../src/scheduler/spend.ts';

const TZ = 'UTC';
const NOON = Date.UTC(2026, 11, 2, 12);

function rec(t: number, over: Partial<UsageRecord> = {}): UsageRecord {
  return { t, agent: 'oracle', provider: 'p', model: 'p/m', inputTokens: 10, outputTokens: 5, costUSD: 0.25, cached: false, retries: 0, fallbacks: 0, waitedMs: 0, ...over };
}

/** What `opencode stats --days 1` says about the same ledger: the figures the tally must equal. */
async function statsOf(ledger: MemoryLedger, now: number) {
  const report = computeStats(await MemoryLedger.prototype.listUsage.call(ledger, 0), { now, days: 1, timeZone: TZ });
  return { ...report.totals, byAgent: report.byAgent, byProvider: report.byProvider, byModel: report.byModel };
}

describe('TodayTally', () => {
  it('reads the day once, then only what was added; equals `stats --days 1` after every read', async () => {
    let now = NOON;
    const ledger = new MemoryLedger({ now: () => now });
    // Yesterday and today before the first read.
    await ledger.recordUsage(rec(Date.UTC(2026, 11, 1, 23, 59), { costUSD: 9 }));
    await ledger.recordUsage(rec(Date.UTC(2026, 11, 2, 0, 1)));
    await ledger.recordUsage(rec(NOON - 1000, { agent: 'librarian', cached: true, costUSD: undefined, savedUSD: 0.5 }));
    const reads: number[] = [];
    const listUsage = ledger.listUsage.bind(ledger);
    ledger.listUsage = (since: number) => (reads.push(since), listUsage(since));
    const tally = new TodayTally(ledger);
    expect(await tally.read(() => now, TZ)).toEqual(await statsOf(ledger, now));
    expect((await tally.read(() => now, TZ)).requests).toBe(2);
    // Later reads start OVERLAP_MS before the newest record read, not at the start of the day.
    expect(reads[1]).toBe(NOON - 1000 - OVERLAP_MS);
    now += 60_000;
    // Two records with the same content (two cached answers in the same millisecond) count twice.
    await ledger.recordUsage(rec(now - 10, { retries: 2, waitedMs: 300 }));
    await ledger.recordUsage(rec(now - 5, { model: 'p/f' }));
    await ledger.recordUsage(rec(now - 5, { model: 'p/f' }));
    expect(await tally.read(() => now, TZ)).toEqual(await statsOf(ledger, now));
    // Another process wrote a record a little after its own time: older than the newest read, within the overlap.
    await ledger.recordUsage(rec(now - 2000, { agent: 'explore', costUSD: 1 }));
    // And a third copy of the same content.
    await ledger.recordUsage(rec(now - 5, { model: 'p/f' }));
    const today = await tally.read(() => now, TZ);
    expect(today).toEqual(await statsOf(ledger, now));
    expect(today.byModel['p/f']?.requests).toBe(3);
    expect(today.byAgent.explore?.costUSD).toBe(1);
    // Reading again changes nothing.
    expect(await tally.read(() => now, TZ)).toEqual(today);
  });

  it('counts reads that overlap in time once (they run one after the other)', async () => {
    const now = NOON;
    const ledger = new MemoryLedger({ now: () => now });
    const tally = new TodayTally(ledger);
    await tally.read(() => now, TZ);
    await ledger.recordUsage(rec(now - 100));
    await ledger.recordUsage(rec(now - 50));
    const both = await Promise.all([tally.read(() => now, TZ), tally.read(() => now, TZ)]);
    expect(both.map((t) => t.requests)).toEqual([2, 2]);
  });

  it('starts again from zero on a new day and in another time zone', async () => {
    let now = Date.UTC(2026, 11, 2, 23, 59);
    const ledger = new MemoryLedger({ now: () => now });
    await ledger.recordUsage(rec(now - 1000));
    const tally = new TodayTally(ledger);
    expect((await tally.read(() => now, TZ)).requests).toBe(1);
    now += 2 * 60_000; // 00:01 the next day
    await ledger.recordUsage(rec(now - 1000, { costUSD: 2 }));
    expect(await tally.read(() => now, TZ)).toMatchObject({ requests: 1, costUSD: 2 });
    // In Tokyo it is 09:01 on the same day as both records.
    expect(await tally.read(() => now, 'Asia/Tokyo')).toMatchObject({ requests: 2, costUSD: 2.25 });
  });
});
