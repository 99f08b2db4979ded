import { describe, expect, it } from 'vitest';
import { startOfDay, UsageBook } from '../../src/core/live/usage-book.ts';

describe('UsageBook', () => {
  it('totals per agent, provider and model, buckets per minute and hour, and projects the day from the last hour', () => {
    const day = startOfDay(Date.UTC(2026, 11, 2, 12));
    let now = day + 12 * 3_600_000; // noon
    const book = new UsageBook(() => now);
    // Earlier today (saved sessions): today only.
    book.addEarlier({ time: day + 3_600_000, agent: 'oracle', provider: 'p', model: 'p/m', inputTokens: 100, outputTokens: 50, costUSD: 1 });
    // Yesterday: ignored.
    book.addEarlier({ time: day - 1000, agent: 'oracle', provider: 'p', model: 'p/m', inputTokens: 9, outputTokens: 9, costUSD: 9 });
    now += 30 * 60_000;
    book.add({ time: now - 60_000, agent: 'sisyphus', provider: 'q', model: 'q/x', inputTokens: 10, outputTokens: 20, costUSD: 0.5 });
    book.add({ time: now, agent: 'sisyphus', provider: 'p', model: 'p/m', inputTokens: 1, outputTokens: 2 });
    const view = book.view();
    expect(view.today).toMatchObject({ inputTokens: 111, outputTokens: 72, requests: 3, costUSD: 1.5 });
    expect(view.today.byAgent).toEqual({ oracle: { inputTokens: 100, outputTokens: 50, requests: 1, costUSD: 1 }, sisyphus: { inputTokens: 11, outputTokens: 22, requests: 2, costUSD: 0.5 } });
    expect(view.today.byProvider.p).toMatchObject({ requests: 2, costUSD: 1 });
    expect(view.sinceStart).toMatchObject({ inputTokens: 11, outputTokens: 22, requests: 2, costUSD: 0.5 });
    expect(view.perMinute.map((b) => b.requests)).toEqual([1, 1]);
    expect(view.perHour.map((b) => b.costUSD)).toEqual([1, 0.5]);
    // 30 minutes since start, $0.5 in them: $1/h for the 11.5 h left, on top of $1.5.
    expect(view.projection.basisMinutes).toBe(30);
    expect(view.projection.perHourUSD).toBeCloseTo(1, 9);
    expect(view.projection.costUSD).toBeCloseTo(1.5 + 11.5, 9);
    // The next day starts from zero.
    now = day + 24 * 3_600_000 + 1000;
    expect(book.view().today).toMatchObject({ requests: 0, costUSD: 0 });
  });
});
