/**
 * The stats core: grouping the usage log by day (in the configured time zone), agent, provider and
 * model; filters and their notes; the session turns the log does not cover; and the budget day
 * that the same time zone decides.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sessionRecords } from '../../src/core/stats-sources.ts';
import { computeStats, dayRange } from '../../src/core/stats.ts';
import { BudgetGate } from '../../src/run/budget.ts';
import { MemoryLedger } from '../../src/scheduler/ledger-memory.ts';
import type { UsageRecord } from '../../src/scheduler/spend.ts';
import { SessionStore } from '../../src/session/store.ts';

const rec = (over: Partial<UsageRecord>): UsageRecord => ({ t: 0, agent: 'oracle', provider: 'p', model: 'p/m', inputTokens: 10, outputTokens: 5, costUSD: 0.5, cached: false, retries: 0, fallbacks: 0, waitedMs: 0, ...over });
// 2026-12-02 23:30 UTC: already 2026-12-03 in Tokyo, still 2026-12-02 in New York.
const NOW = Date.UTC(2026, 11, 2, 23, 30);

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
});

describe('computeStats', () => {
  it('counts every figure per day, agent, provider and model', () => {
    const records = [
      rec({ t: NOW - 3_600_000, retries: 2, waitedMs: 300 }),
      rec({ t: NOW - 60_000, agent: 'explore', provider: 'q', model: 'q/x', cached: true, costUSD: undefined, savedUSD: 0.25, fallbacks: 1 }),
      rec({ t: NOW - 86_400_000, costUSD: 1 }),
    ];
    const r = computeStats(records, { now: NOW, days: 3, timeZone: 'UTC' });
    expect(r).toMatchObject({ from: '2026-11-30', to: '2026-12-02', days: 3, timeZone: 'UTC', filters: {}, notes: [] });
    expect(r.totals).toEqual({ requests: 3, cacheHits: 1, inputTokens: 30, outputTokens: 15, costUSD: 1.5, savedUSD: 0.25, retries: 2, fallbacks: 1, rateLimitWaits: 1, waitedMs: 300 });
    expect(r.byDay.map((d) => [d.day, d.requests, d.costUSD])).toEqual([
      ['2026-11-30', 0, 0],
      ['2026-12-01', 1, 1],
      ['2026-12-02', 2, 0.5],
    ]);
    expect(Object.keys(r.byAgent)).toEqual(['explore', 'oracle']);
    expect(r.byProvider.q).toMatchObject({ requests: 1, cacheHits: 1, savedUSD: 0.25, costUSD: 0 });
    expect(r.byModel['p/m']).toMatchObject({ requests: 2, retries: 2, rateLimitWaits: 1 });
  });

  it('counts days in the configured time zone', () => {
    const late = [rec({ t: NOW - 60_000 })];
    expect(computeStats(late, { now: NOW, days: 1, timeZone: 'Asia/Tokyo' }).byDay).toEqual([expect.objectContaining({ day: '2026-12-03', requests: 1 })]);
    expect(computeStats(late, { now: NOW, days: 1, timeZone: 'America/New_York' }).byDay).toEqual([expect.objectContaining({ day: '2026-12-02', requests: 1 })]);
    // A call of the day before in that zone is outside --days 1.
    expect(computeStats([rec({ t: NOW - 86_400_000 })], { now: NOW, days: 1, timeZone: 'UTC' }).totals.requests).toBe(0);
  });

  it('without --days: the days with calls; later records are left out', () => {
    const r = computeStats([rec({ t: NOW - 5 * 86_400_000 }), rec({ t: NOW + 2 * 86_400_000 })], { now: NOW, timeZone: 'UTC' });
    expect(r.days).toBeNull();
    expect(r.byDay.map((d) => d.day)).toEqual(['2026-11-27']);
    expect(r.from).toBe('2026-11-27');
  });

  it('filters by agent and provider; a name without calls gives zeros and a note naming those with calls', () => {
    const records = [rec({ t: NOW }), rec({ t: NOW, agent: 'explore', provider: 'q' })];
    expect(computeStats(records, { now: NOW, agent: 'explore', timeZone: 'UTC' }).totals.requests).toBe(1);
    expect(computeStats(records, { now: NOW, provider: 'p', agent: 'explore', timeZone: 'UTC' }).totals.requests).toBe(0);
    const none = computeStats(records, { now: NOW, days: 7, provider: 'nope', timeZone: 'UTC' });
    expect(none.totals.requests).toBe(0);
    expect(none.byAgent).toEqual({});
    expect(none.notes).toEqual(['No calls by provider "nope" in the last 7 days; providers with calls: p, q.']);
    expect(computeStats([], { now: NOW, agent: 'x', timeZone: 'UTC' }).notes).toEqual(['No calls by agent "x" in the usage log.']);
  });

  it('dayRange crosses months and years by the calendar', () => {
    expect(dayRange('2026-03-01', 3)).toEqual(['2026-02-27', '2026-02-28', '2026-03-01']);
    expect(dayRange('2027-01-01', 2)).toEqual(['2026-12-31', '2027-01-01']);
  });
});

describe('session turns the usage log does not cover', () => {
  it('are counted (tokens and cost only) up to the first logged call of their session', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-stats-'));
    dirs.push(dir);
    const store = new SessionStore(dir);
    const id = store.newId();
    const turn = (time: number, input: number) => ({
      role: 'user' as const,
      content: 'q',
      info: { id: `t${time}`, time, agent: 'oracle', reply: { id: `r${time}`, completed: time + 10, usage: { inputTokens: input, outputTokens: 1 }, steps: [{ provider: 'p', model: 'p/m', usage: { inputTokens: input, outputTokens: 1 }, costUSD: 0.1 }] } },
    });
    await store.save({ id, projectRoot: dir, agent: 'oracle', title: 't', createdAt: NOW - 5000, updatedAt: NOW, messages: [turn(NOW - 5000, 11), turn(NOW - 1000, 22)], usage: { inputTokens: 33, outputTokens: 2 }, models: ['p/m'] });
    // The log holds the second turn's call (it began logging in between).
    const logged = [rec({ t: NOW - 990, runId: id, inputTokens: 22 })];
    const extra = await sessionRecords(store, 0, logged);
    expect(extra).toEqual([{ t: NOW - 4990, runId: id, agent: 'oracle', provider: 'p', model: 'p/m', inputTokens: 11, outputTokens: 1, costUSD: 0.1, cached: false, retries: 0, fallbacks: 0, waitedMs: 0 }]);
    // With nothing logged for the session, both turns count; none before `since`.
    expect(await sessionRecords(store, 0, [])).toHaveLength(2);
    expect(await sessionRecords(store, NOW - 2000, [])).toHaveLength(1);
  });
});

describe('budget days follow budget.timeZone', () => {
  it('perDay and perAgent keys are the day in that zone', () => {
    const keys = (timeZone: string) =>
      new BudgetGate({ perDay: { usd: 1 }, perAgent: { oracle: { usd: 1 } }, timeZone }, { ledger: new MemoryLedger(), runId: 'r', now: () => NOW }).budgetsFor('oracle').map((b) => b.key);
    expect(keys('Asia/Tokyo')).toEqual(['budget:day:2026-12-03', 'budget:agent:oracle:2026-12-03']);
    expect(keys('America/New_York')).toEqual(['budget:day:2026-12-02', 'budget:agent:oracle:2026-12-02']);
  });
});
