import { describe, expect, it } from 'vitest';
import { configuredModels } from '../../src/agents/configured-models.ts';
import type { Config } from '../../src/config/schema-types.ts';

const config: Config = {
  model: 'local/big',
  small_model: 'opencode-zen/big-pickle',
  fallbacks: ['local/small:fast'],
  rateLimit: { concurrency: 8 },
  provider: {
    local: {
      options: { baseURL: 'http://127.0.0.1:1/v1' },
      rateLimit: { rpm: 40 },
      models: {
        big: { id: 'vendor/big-v2', limit: { context: 128000, output: 8192 }, cost: { input: 3, output: 15, cache_read: 0.3 }, rateLimit: { concurrency: 2, tpm: 100000 } },
        small: { variants: { fast: {} } },
      },
    },
  },
  agent: {
    oracle: { model: 'opencode-zen/grok-code', fallbacks: ['local/big'] },
    sisyphus: {},
    off: { model: 'local/small', disable: true },
  },
};

describe('configuredModels', () => {
  it('declared models and models named on well-known providers, with limits, price and users', () => {
    const models = configuredModels(config);
    expect(models.map((m) => m.ref)).toEqual(['local/big', 'local/small', 'opencode-zen/big-pickle', 'opencode-zen/grok-code']);
    const big = models[0];
    expect(big).toMatchObject({ upstreamId: 'vendor/big-v2', declared: true, limit: { context: 128000, output: 8192 }, cost: { input: 3, output: 15, cache_read: 0.3 } });
    expect(big?.agents).toEqual(['oracle', 'sisyphus']);
    expect(big?.topLevel).toEqual(['model']);
    expect(big?.rateLimits).toEqual({
      windows: [{ scope: 'provider', maxRequests: 40, windowMs: 60000 }],
      tokens: [{ scope: 'model', maxTokens: 100000, windowMs: 60000 }],
      concurrency: [
        { scope: 'default', limit: 8 },
        { scope: 'model', limit: 2 },
      ],
    });
    expect(models[1]).toMatchObject({ variants: ['fast'], agents: ['sisyphus'], topLevel: ['fallbacks'] });
    expect(models[2]).toMatchObject({ declared: false, agents: [], topLevel: ['small_model'] });
    expect(models[3]).toMatchObject({ declared: false, agents: ['oracle'] });
  });

  it('one provider only; an unknown provider is a usage error naming the known ones', () => {
    expect(configuredModels(config, 'opencode-zen').map((m) => m.model)).toEqual(['big-pickle', 'grok-code']);
    expect(() => configuredModels(config, 'nope')).toThrow(expect.objectContaining({ code: 'UNKNOWN_PROVIDER', hint: 'Providers with models: local, opencode-zen.' }));
  });
});
