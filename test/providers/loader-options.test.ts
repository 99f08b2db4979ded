/**
 * How a plugin auth loader's answer merges into a provider's SDK settings (providers/loader-options.ts),
 * as OpenCode merges it: beneath the config's own options, `apiKey: ""` sending no key, `headers`
 * beneath the config's, any other option handed to the provider package, a bad header named.
 */
import { describe, expect, it } from 'vitest';
import { withLoaderOptions } from '../../src/providers/loader-options.ts';
import type { ModelBuildSpec } from '../../src/providers/build-model.ts';

const spec: ModelBuildSpec = { providerId: 'google', npm: '@ai-sdk/google', upstreamId: 'gemini-2.5-pro', baseURL: 'https://catalogue.example/v1beta', apiKey: 'env-key', headers: { 'x-config': 'c' } };

describe('withLoaderOptions', () => {
  it('the loader\'s options over the catalogue\'s and the stored key; apiKey "" sends none; others go to the package', async () => {
    const fetch = (() => Promise.resolve(new Response('ok'))) as unknown as typeof globalThis.fetch;
    const out = withLoaderOptions(spec, { apiKey: '', fetch, baseURL: 'https://plugin.example/v1', headers: { 'x-config': 'loader', 'x-plugin': 'p' }, project: 'proj-1' });
    expect(out.apiKey).toBeUndefined();
    expect(out.settings).toEqual({ project: 'proj-1', apiKey: '' });
    expect(out.baseURL).toBe('https://plugin.example/v1');
    expect(out.headers).toEqual({ 'x-config': 'c', 'x-plugin': 'p' });
    expect(typeof out.fetch).toBe('function');
    expect(await (await (out.fetch as typeof globalThis.fetch)('http://x.example/')).text()).toBe('ok');
  });

  it('the config\'s apiKey and baseURL win over the loader\'s', () => {
    const out = withLoaderOptions(spec, { apiKey: '', baseURL: 'https://plugin.example/v1' }, { apiKey: 'configured', baseURL: 'https://configured.example/v1' });
    expect(out.apiKey).toBe('env-key');
    expect(out.settings).toEqual({});
    expect(out.baseURL).toBe('https://catalogue.example/v1beta');
  });

  it('a header HTTP refuses is the hook\'s failure, naming the header, never its value', () => {
    expect(() => withLoaderOptions(spec, { headers: { 'x-token': 'abc\nsecret-value' } })).toThrow(/^The plugin hook auth\.loader failed: its answer\.headers\["x-token"\]: the value has a character HTTP does not allow/);
    try {
      withLoaderOptions(spec, { headers: { 'x-token': 'abc\nsecret-value' } });
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('secret-value');
    }
  });
});
