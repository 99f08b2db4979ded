import { describe, expect, it } from 'vitest';
import { limitsOf } from '../../src/scheduler/limits.ts';

describe('rateLimit.enabled', () => {
  it('the guide\'s {enabled: true, windowMs, maxRequests} is a window limit', () => {
    expect(limitsOf('provider:p', { enabled: true, windowMs: 60000, maxRequests: 40 }).windows).toEqual([{ key: 'provider:p', maxRequests: 40, windowMs: 60000 }]);
  });

  it('enabled: false turns every limit of the object off', () => {
    expect(limitsOf('provider:p', { enabled: false, rpm: 5, concurrency: 1, tpm: 100 })).toEqual({ windows: [], tokens: [], concurrency: [] });
  });
});
