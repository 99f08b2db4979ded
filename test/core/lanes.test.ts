import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema-types.ts';
import { configuredLanes } from '../../src/core/lanes.ts';

describe('configuredLanes', () => {
  it('makes a lane of every declared model with the limits that apply to it', () => {
    const config = {
      rateLimit: { rpd: 1000 },
      provider: {
        nim: { options: { baseURL: 'http://127.0.0.1:1/v1' }, rateLimit: { rpm: 40 }, models: { qwen: { rateLimit: { concurrency: 2, tpm: 9000 } }, kimi: {} } },
      },
      model: 'nim/qwen',
    } as unknown as Config;
    const lanes = configuredLanes(config);
    expect(lanes.map((l) => l.label)).toEqual(['nim/kimi', 'nim/qwen']);
    const qwen = lanes.find((l) => l.label === 'nim/qwen');
    expect(qwen).toMatchObject({
      key: 'model:nim/qwen',
      provider: 'nim',
      windows: [
        { key: 'default:nim', maxRequests: 1000, windowMs: 86_400_000 },
        { key: 'provider:nim', maxRequests: 40, windowMs: 60_000 },
      ],
      tokens: [{ key: 'model:nim/qwen', maxTokens: 9000, windowMs: 60_000 }],
      concurrency: [{ key: 'model:nim/qwen', limit: 2 }],
    });
  });
});
