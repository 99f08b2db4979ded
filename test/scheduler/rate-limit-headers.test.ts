import { describe, expect, it } from 'vitest';
import { geminiQuota, parseDuration, readAnnouncement, retryAfterMs } from '../../src/scheduler/rate-limit-headers.ts';

const NOW = 1_800_000_000_000;

describe('parseDuration', () => {
  it.each([
    ['1s', 1000],
    ['6m0s', 360_000],
    ['20ms', 20],
    ['2m59.56s', 179_560],
    ['7.66s', 7660],
    ['1h2m3.5s', 3_723_500],
    ['30', 30_000],
    ['0.5', 500],
    ['1m30ms', 60_030],
    // Go's time.Duration writes microseconds with the micro sign (U+00B5) and accepts the Greek mu (U+03BC).
    ['1500\u00b5s', 1.5],
    ['250\u03bcs', 0.25],
    ['2us', 0.002],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBeCloseTo(ms, 6);
  });
  it.each(['', 's', '1x', '-1s', '1 s', 'soon', '1s2', 'NaN'])('%j is malformed', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('readAnnouncement: each header style', () => {
  const cases: [string, Record<string, string>, number, object[]][] = [
    [
      'OpenAI',
      {
        'x-ratelimit-limit-requests': '60',
        'x-ratelimit-remaining-requests': '59',
        'x-ratelimit-reset-requests': '1s',
        'x-ratelimit-limit-tokens': '150000',
        'x-ratelimit-remaining-tokens': '149984',
        'x-ratelimit-reset-tokens': '6m0s',
      },
      200,
      [
        { name: 'requests', kind: 'requests', limit: 60, remaining: 59, resetAt: NOW + 1000, source: 'x-ratelimit-*' },
        { name: 'tokens', kind: 'tokens', limit: 150_000, remaining: 149_984, resetAt: NOW + 360_000, source: 'x-ratelimit-*' },
      ],
    ],
    [
      'Groq',
      { 'x-ratelimit-limit-requests': '14400', 'x-ratelimit-remaining-requests': '14370', 'x-ratelimit-reset-requests': '2m59.56s' },
      200,
      [{ name: 'requests', kind: 'requests', limit: 14_400, remaining: 14_370, resetAt: NOW + 179_560, source: 'x-ratelimit-*' }],
    ],
    [
      'Cerebras (per minute and per day)',
      {
        'x-ratelimit-limit-requests-day': '14400',
        'x-ratelimit-remaining-requests-day': '14399',
        'x-ratelimit-reset-requests-day': '33011.38',
        'x-ratelimit-limit-tokens-minute': '60000',
        'x-ratelimit-remaining-tokens-minute': '59000',
        'x-ratelimit-reset-tokens-minute': '11.38',
      },
      200,
      [
        { name: 'requests-day', kind: 'requests', limit: 14_400, remaining: 14_399, resetAt: NOW + 33_011_380, source: 'x-ratelimit-*' },
        { name: 'tokens-minute', kind: 'tokens', limit: 60_000, remaining: 59_000, resetAt: NOW + 11_380, source: 'x-ratelimit-*' },
      ],
    ],
    [
      'Anthropic',
      {
        'anthropic-ratelimit-requests-limit': '50',
        'anthropic-ratelimit-requests-remaining': '0',
        'anthropic-ratelimit-requests-reset': new Date(NOW + 12_000).toISOString(),
        'anthropic-ratelimit-input-tokens-limit': '40000',
        'anthropic-ratelimit-input-tokens-remaining': '39000',
        'anthropic-ratelimit-input-tokens-reset': new Date(NOW + 1500).toISOString(),
      },
      200,
      [
        { name: 'requests', kind: 'requests', limit: 50, remaining: 0, resetAt: NOW + 12_000, source: 'anthropic-ratelimit-*' },
        { name: 'input-tokens', kind: 'tokens', limit: 40_000, remaining: 39_000, resetAt: NOW + 1500, source: 'anthropic-ratelimit-*' },
      ],
    ],
    [
      'OpenRouter (reset in epoch ms)',
      { 'X-RateLimit-Limit': '20', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(NOW + 4000) },
      429,
      [{ name: 'requests', kind: 'requests', limit: 20, remaining: 0, resetAt: NOW + 4000, source: 'x-ratelimit-limit/remaining/reset' }],
    ],
    [
      'NVIDIA NIM style (reset in seconds from now)',
      { 'x-ratelimit-limit': '40', 'x-ratelimit-remaining': '3', 'x-ratelimit-reset': '42' },
      200,
      [{ name: 'requests', kind: 'requests', limit: 40, remaining: 3, resetAt: NOW + 42_000, source: 'x-ratelimit-limit/remaining/reset' }],
    ],
    [
      'epoch seconds',
      { 'x-ratelimit-limit': '10', 'x-ratelimit-remaining': '5', 'x-ratelimit-reset': String((NOW + 30_000) / 1000) },
      200,
      [{ name: 'requests', kind: 'requests', limit: 10, remaining: 5, resetAt: NOW + 30_000, source: 'x-ratelimit-limit/remaining/reset' }],
    ],
    [
      'IETF draft, separate and combined',
      { ratelimit: 'limit=100, remaining=7, reset=9' },
      200,
      [{ name: 'requests', kind: 'requests', limit: 100, remaining: 7, resetAt: NOW + 9000, source: 'ratelimit-*' }],
    ],
    [
      'Retry-After on a 429',
      { 'retry-after': '20' },
      429,
      [{ name: 'retry-after', kind: 'requests', remaining: 0, resetAt: NOW + 20_000, source: 'retry-after' }],
    ],
    [
      'retry-after-ms wins over Retry-After',
      { 'retry-after-ms': '1500', 'retry-after': '2' },
      429,
      [{ name: 'retry-after', kind: 'requests', remaining: 0, resetAt: NOW + 1500, source: 'retry-after' }],
    ],
    ['Retry-After on a 503 is no quota', { 'retry-after': '20' }, 503, []],
    ['no headers', { 'content-type': 'application/json' }, 200, []],
  ];
  it.each(cases)('%s', (_name, headers, status, limits) => {
    const got = readAnnouncement({ headers, status, now: NOW });
    expect(got.limits).toEqual(limits);
    expect(got.notes).toEqual([]);
  });

  it('reads a Headers object too', () => {
    const headers = new Headers({ 'x-ratelimit-remaining-requests': '3', 'x-ratelimit-reset-requests': '20ms' });
    expect(readAnnouncement({ headers, status: 200, now: NOW }).limits).toEqual([
      { name: 'requests', kind: 'requests', remaining: 3, resetAt: NOW + 20, source: 'x-ratelimit-*' },
    ]);
  });
});

describe('readAnnouncement: bad values are ignored with a note', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ['a negative remaining', { 'x-ratelimit-remaining-requests': '-1', 'x-ratelimit-reset-requests': '1s' }, /remaining: "-1" is not a whole number/],
    ['a fractional count', { 'x-ratelimit-remaining-requests': '2.5', 'x-ratelimit-reset-requests': '1s' }, /not a whole number/],
    ['an absurd remaining', { 'x-ratelimit-remaining-requests': '99999999999999', 'x-ratelimit-reset-requests': '1s' }, /implausibly large/],
    ['a malformed reset', { 'x-ratelimit-remaining-requests': '1', 'x-ratelimit-reset-requests': 'soon' }, /"soon" is not a reset time/],
    ['a reset a year away', { 'x-ratelimit-remaining-requests': '1', 'x-ratelimit-reset-requests': '8760h' }, /more than a day away/],
    ['a remaining without a reset', { 'x-ratelimit-remaining-requests': '1' }, /needs both/],
    ['an Anthropic reset that is no date', { 'anthropic-ratelimit-requests-remaining': '1', 'anthropic-ratelimit-requests-reset': '60' }, /not a reset time/],
    ['a control character', { 'x-ratelimit-remaining-requests': '1\u001b[31m', 'x-ratelimit-reset-requests': '1s' }, /"1\?\[31m"/],
    ['a Retry-After that is no time', { 'retry-after': 'later' }, /ignored retry-after: "later"/],
    ['a huge retry-after-ms', { 'retry-after-ms': '1e12' }, /ignored retry-after-ms/],
  ];
  it.each(cases)('%s', (_name, headers, note) => {
    const got = readAnnouncement({ headers, status: 429, now: NOW });
    expect(got.limits.filter((l) => l.name !== 'retry-after')).toEqual([]);
    expect(got.notes.join('\n')).toMatch(note);
  });

  it('an absurd limit is left out; what was left is still read', () => {
    const got = readAnnouncement({
      headers: { 'x-ratelimit-limit-requests': '99999999999999', 'x-ratelimit-remaining-requests': '1', 'x-ratelimit-reset-requests': '1s' },
      status: 200,
      now: NOW,
    });
    expect(got.limits).toEqual([{ name: 'requests', kind: 'requests', remaining: 1, resetAt: NOW + 1000, source: 'x-ratelimit-*' }]);
    expect(got.notes[0]).toMatch(/limit: "99999999999999" is implausibly large/);
  });

  it('a remaining above the limit counts as the limit', () => {
    const got = readAnnouncement({
      headers: { 'x-ratelimit-limit-requests': '10', 'x-ratelimit-remaining-requests': '500', 'x-ratelimit-reset-requests': '1s' },
      status: 200,
      now: NOW,
    });
    expect(got.limits).toEqual([{ name: 'requests', kind: 'requests', limit: 10, remaining: 10, resetAt: NOW + 1000, source: 'x-ratelimit-*' }]);
    expect(got.notes[0]).toMatch(/above the limit 10/);
  });
});

describe('readAnnouncement: balances', () => {
  it('reads Venice’s x-venice-balance-* as amounts per unit; an odd value is left out with a note', () => {
    const got = readAnnouncement({ headers: { 'x-venice-balance-usd': '12.3456', 'X-Venice-Balance-DIEM': '100', 'x-venice-balance-vcu': '1e99', 'x-balance': '5' }, status: 200, now: NOW });
    expect(got.balances).toEqual([
      { unit: 'USD', amount: 12.3456, source: 'x-venice-balance-usd' },
      { unit: 'DIEM', amount: 100, source: 'x-venice-balance-diem' },
    ]);
    expect(got.notes).toEqual(['ignored x-venice-balance-vcu: "1e99" is not an amount']);
    expect(got.limits).toEqual([]);
  });
});

describe('Gemini quota errors', () => {
  const body = (details: unknown[], status = 'RESOURCE_EXHAUSTED') => JSON.stringify({ error: { code: 429, status, message: 'You exceeded your current quota', details } });
  it('reads the quota and the retry delay', () => {
    const text = body([
      { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests', quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier', quotaValue: '10' }] },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '13s' },
    ]);
    expect(readAnnouncement({ headers: {}, status: 429, body: text, now: NOW }).limits).toEqual([
      { name: 'requests-minute', kind: 'requests', limit: 10, remaining: 0, resetAt: NOW + 13_000, source: 'gemini quota error' },
    ]);
  });
  it('reads the OpenAI-compatible endpoint form (a list) and token quotas', () => {
    const text = `[${body([
      { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaId: 'GenerateContentInputTokensPerModelPerDay-FreeTier', quotaValue: 250000 }] },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '41.5s' },
    ])}]`;
    expect(geminiQuota(text, NOW)).toEqual([{ name: 'tokens-day', kind: 'tokens', limit: 250_000, remaining: 0, resetAt: NOW + 41_500, source: 'gemini quota error' }]);
  });
  it.each([
    ['not JSON', '<html>busy</html>'],
    ['another status', body([{ '@type': 'x.RetryInfo', retryDelay: '5s' }], 'UNAVAILABLE')],
    ['no retry delay', body([{ '@type': 'x.QuotaFailure', violations: [{ quotaId: 'q', quotaValue: '1' }] }])],
    ['a malformed delay', body([{ '@type': 'x.RetryInfo', retryDelay: 'tomorrow' }])],
  ])('nothing from %s', (_name, text) => {
    expect(geminiQuota(text, NOW)).toEqual([]);
  });
});

describe('retryAfterMs', () => {
  it('reads an HTTP date', () => {
    expect(retryAfterMs({ 'Retry-After': new Date(NOW + 5000).toUTCString() }, NOW)).toBe(5000);
  });
});
