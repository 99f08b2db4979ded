import { describe, expect, it } from 'vitest';
import {
  CONCURRENCY_POLL_MS,
  START_RETAIN_MS,
  decide,
  decisionReads,
  nextFailureState,
  planReservation,
  keyPlan,
  validateReserveRequest,
} from '../../src/scheduler/ledger.ts';
import type { ReserveRequest, TokenRow } from '../../src/scheduler/ledger.ts';
import { answerStarts, answerTokens, startsId, tokensId, type SentStarts, type SentTokens } from '../../src/scheduler/ledger-reads.ts';
import { PantheonError } from '../../src/errors.ts';

const empty = (): ReserveRequest => ({ windows: [], tokens: [], concurrency: [], leaseMs: 1000 });

/** Sent rows as plain arrays (any order), answered the slow, obvious way. */
function sentStarts(times: readonly number[]): SentStarts {
  const desc = [...times].sort((a, b) => b - a);
  const inside = (from: number) => desc.filter((t) => t >= from);
  return { nth: (from, m) => [inside(from)[m - 1], inside(from)[m]], count: (from, cap) => Math.min(cap, inside(from).length), oldest: (from) => inside(from).at(-1) };
}
function sentTokens(rows: readonly TokenRow[]): SentTokens {
  const inside = (from: number) => rows.filter((r) => r.t >= from).sort((a, b) => b.t - a.t);
  return { sum: (from) => inside(from).reduce((s, r) => s + r.amount, 0), newestFirst: (from) => inside(from) };
}

/** The ledger's answers for `req` at `now` over sent rows (and pending effective times), as every ledger gives them. */
function answered(
  req: ReserveRequest,
  now: number,
  r: { starts?: Map<string, number[]>; pending?: Map<string, number[]>; tokens?: Map<string, TokenRow[]>; inFlight?: Map<string, number> },
) {
  const reads = decisionReads(req, now);
  return {
    starts: new Map(reads.starts.map((q) => [startsId(q), answerStarts(q, sentStarts(r.starts?.get(q.key) ?? []), () => r.pending?.get(q.key) ?? [], false)])),
    tokens: new Map(reads.tokens.map((q) => [tokensId(q), answerTokens(q, sentTokens(r.tokens?.get(q.key) ?? []), () => [], false)])),
    inFlight: r.inFlight ?? new Map(),
  };
}

describe('decide', () => {
  it('allows a request with no limits', () => {
    expect(decide(empty(), answered(empty(), 0, {}), 0)).toEqual({ ok: true });
  });

  it('waits until the maxRequests-th newest start leaves the window, whatever the row order', () => {
    const req = { ...empty(), windows: [{ key: 'p', maxRequests: 3, windowMs: 1000 }] };
    const starts = new Map([['p', [900, 100, 500, 700]]]);
    // newest three: 900, 700, 500 → 500 must leave: 500 + 1000 + 1 - 950
    expect(decide(req, answered(req, 950, { starts }), 950)).toEqual({ ok: false, waitMs: 551, blockedBy: 'p 3/1000ms', kind: 'window' });
    // at 1501 the start at 500 is outside (inside while now - t <= windowMs)
    expect(decide(req, answered(req, 1501, { starts }), 1501)).toEqual({ ok: true });
    expect(decide(req, answered(req, 1499, { starts }), 1499)).toMatchObject({ ok: false, waitMs: 2 });
  });

  it('names rpm and rpd windows and tpm token limits', () => {
    const starts = new Map([['p', [0]]]);
    const rpm = { ...empty(), windows: [{ key: 'p', maxRequests: 1, windowMs: 60_000 }] };
    const rpd = { ...empty(), windows: [{ key: 'p', maxRequests: 1, windowMs: 86_400_000 }] };
    expect(decide(rpm, answered(rpm, 0, { starts }), 0)).toMatchObject({ blockedBy: 'p rpm', waitMs: 60_001 });
    expect(decide(rpd, answered(rpd, 0, { starts }), 0)).toMatchObject({ blockedBy: 'p rpd', waitMs: 86_400_001 });
    const tpm = { ...empty(), tokens: [{ limit: { key: 'p', maxTokens: 10, windowMs: 60_000 }, amount: 5 }] };
    const tokens = new Map([['p', [{ t: 0, amount: 8 }]]]);
    expect(decide(tpm, answered(tpm, 0, { tokens }), 0)).toEqual({ ok: false, waitMs: 60_001, blockedBy: 'p tpm', kind: 'tokens' });
  });

  it('frees just enough tokens: the wait ends when the oldest rows that must go have left', () => {
    const req = { ...empty(), tokens: [{ limit: { key: 't', maxTokens: 100, windowMs: 1000 }, amount: 50 }] };
    const tokens = new Map([['t', [{ t: 300, amount: 30 }, { t: 100, amount: 20 }, { t: 200, amount: 40 }]]]);
    // used 90 + 50 > 100; dropping t=100 (20) leaves 70 + 50 > 100; dropping t=200 (40) leaves 30 + 50 ≤ 100
    expect(decide(req, answered(req, 400, { tokens }), 400)).toMatchObject({ ok: false, waitMs: 200 + 1000 + 1 - 400 });
    expect(decide(req, answered(req, 1201, { tokens }), 1201)).toEqual({ ok: true });
  });

  it('reports a token amount larger than the whole limit as never fitting', () => {
    const req = { ...empty(), tokens: [{ limit: { key: 't', maxTokens: 100, windowMs: 1000 }, amount: 101 }] };
    expect(decide(req, answered(req, 0, {}), 0)).toMatchObject({ ok: false, waitMs: Infinity, blockedBy: 't tokens/1000ms' });
  });

  it('blocks on concurrency with a poll hint', () => {
    const req = { ...empty(), concurrency: [{ key: 'c', limit: 2 }] };
    expect(decide(req, answered(req, 0, { inFlight: new Map([['c', 1]]) }), 0)).toEqual({ ok: true });
    expect(decide(req, answered(req, 0, { inFlight: new Map([['c', 2]]) }), 0)).toEqual({
      ok: false,
      waitMs: CONCURRENCY_POLL_MS,
      blockedBy: 'c concurrency',
      kind: 'concurrency',
    });
  });

  it('with several limits blocking, reports the longest exact wait (all must clear)', () => {
    const req: ReserveRequest = {
      windows: [
        { key: 'top', maxRequests: 1, windowMs: 1000 },
        { key: 'model', maxRequests: 1, windowMs: 5000 },
      ],
      tokens: [],
      concurrency: [{ key: 'model', limit: 1 }],
      leaseMs: 1000,
    };
    const r = answered(req, 10, { starts: new Map([['top', [0]], ['model', [0]]]), inFlight: new Map([['model', 1]]) });
    expect(decide(req, r, 10)).toEqual({ ok: false, waitMs: 4991, blockedBy: 'model 1/5000ms', kind: 'window' });
  });
});

describe('planReservation and keyPlan', () => {
  it('records one start per key, retained at least a day, and one slot per concurrency key', () => {
    const req: ReserveRequest = {
      windows: [
        { key: 'p', maxRequests: 5, windowMs: 60_000 },
        { key: 'p', maxRequests: 100, windowMs: 86_400_000 * 2 },
        { key: 'm', maxRequests: 2, windowMs: 1000 },
      ],
      tokens: [{ limit: { key: 'p', maxTokens: 1000, windowMs: 60_000 }, amount: 10.2 }],
      concurrency: [
        { key: 'p', limit: 2 },
        { key: 'p', limit: 3 },
      ],
      leaseMs: 300,
    };
    expect(planReservation(req, 1000)).toEqual({
      starts: [
        { key: 'p', until: 1000 + 86_400_000 * 2 },
        { key: 'm', until: 1000 + START_RETAIN_MS },
      ],
      tokens: [{ key: 'p', amount: 11, until: 61_000 }],
      leases: [{ key: 'p', expires: 1300 }],
    });
    expect(keyPlan(req).starts).toEqual([
      { key: 'p', windowMs: 86_400_000 * 2 },
      { key: 'm', windowMs: 1000 },
    ]);
  });

  it('rejects malformed limits', () => {
    const bad = { ...empty(), windows: [{ key: 'p', maxRequests: 0, windowMs: 1000 }] };
    expect(() => validateReserveRequest(bad)).toThrow(PantheonError);
    expect(() => validateReserveRequest({ ...empty(), leaseMs: 0 })).toThrow(/leaseMs/);
    const negative = { ...empty(), tokens: [{ limit: { key: 't', maxTokens: 5, windowMs: 10 }, amount: -1 }] };
    expect(() => validateReserveRequest(negative)).toThrow(/Token amount/);
  });
});

describe('nextFailureState', () => {
  it('starts a cooldown after N consecutive failures and does not extend it while it runs', () => {
    let s = nextFailureState(undefined, 2, 500, 0);
    expect(s).toEqual({ failures: 1 });
    s = nextFailureState(s, 2, 500, 10);
    expect(s).toEqual({ failures: 2, until: 510 });
    s = nextFailureState(s, 2, 500, 20);
    expect(s).toEqual({ failures: 3, until: 510 });
  });

  it('counts again from one once the cooldown has ended', () => {
    expect(nextFailureState({ failures: 3, until: 510 }, 2, 500, 510)).toEqual({ failures: 1 });
  });
});
