import { describe, expect, it } from 'vitest';
import { languageModelFor } from '../../src/providers/build-model.ts';

const spec = { providerId: 'local', npm: '@ai-sdk/openai-compatible', upstreamId: 'm', baseURL: 'http://127.0.0.1:9/v1', apiKey: 'sk-one' };

describe('language models built once per process', () => {
  it('shares one model per settings and fetch, and builds another when a setting or the fetch differs', async () => {
    const a = await languageModelFor(spec);
    expect(await languageModelFor({ ...spec })).toBe(a);
    expect(await languageModelFor({ ...spec, apiKey: 'sk-two' })).not.toBe(a);
    expect(await languageModelFor({ ...spec, upstreamId: 'other' })).not.toBe(a);
    const custom: typeof fetch = (input, init) => fetch(input, init);
    const withFetch = await languageModelFor({ ...spec, fetch: custom });
    expect(withFetch).not.toBe(a);
    expect(await languageModelFor({ ...spec, fetch: custom })).toBe(withFetch);
  });

  it('does not keep a build that failed: the next call tries again', async () => {
    const broken = { ...spec, npm: '@ai-sdk/openai-compatible', baseURL: '' };
    const first = languageModelFor(broken);
    await expect(first).rejects.toThrow(/baseURL is required/);
    const second = languageModelFor(broken);
    expect(second).not.toBe(first);
    await expect(second).rejects.toThrow(/baseURL is required/);
  });
});
