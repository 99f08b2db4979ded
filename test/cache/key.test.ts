import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cacheKey, cacheKeyWith, canonicalJson, canonicalOrUndefined } from '../../src/cache/key.ts';
import type { CacheKeyParts } from '../../src/cache/key.ts';

const base: CacheKeyParts = {
  upstreamModel: 'meta/llama-3.3-70b-instruct',
  baseURL: 'https://integrate.api.nvidia.com/v1',
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Name a prime.' },
  ],
  tools: [{ name: 'read', description: 'Read a file', inputSchema: { type: 'object', properties: { filePath: { type: 'string' } } } }],
  params: { temperature: 0.2, top_p: 0.9, maxOutputTokens: 256 },
};

describe('canonicalJson', () => {
  it('sorts object keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('follows JSON.stringify for undefined values and toJSON', () => {
    expect(canonicalJson({ b: undefined, a: new Date(0), c: [undefined] })).toBe(
      '{"a":"1970-01-01T00:00:00.000Z","c":[null]}',
    );
    expect(canonicalJson(undefined)).toBe('null');
  });
});

describe('cacheKey', () => {
  it('is a sha256 hex digest, stable for equal input', () => {
    const key = cacheKey(base);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKey(structuredClone(base))).toBe(key);
  });

  it('does not depend on property order', () => {
    const reordered: CacheKeyParts = {
      params: { maxOutputTokens: 256, top_p: 0.9, temperature: 0.2 },
      tools: [{ inputSchema: { properties: { filePath: { type: 'string' } }, type: 'object' }, description: 'Read a file', name: 'read' }],
      messages: [
        { content: 'You are terse.', role: 'system' },
        { content: 'Name a prime.', role: 'user' },
      ],
      baseURL: base.baseURL,
      upstreamModel: base.upstreamModel,
    };
    expect(cacheKey(reordered)).toBe(cacheKey(base));
  });

  it.each<[string, Partial<CacheKeyParts>]>([
    ['upstreamModel', { upstreamModel: 'meta/llama-3.1-8b-instruct' }],
    ['baseURL', { baseURL: 'http://127.0.0.1:8080/v1' }],
    ['messages', { messages: [{ role: 'user', content: 'Name a prime!' }] }],
    ['message order', { messages: [...(base.messages as unknown[])].reverse() }],
    ['tools', { tools: [] }],
    ['tools absent', { tools: undefined }],
    ['params', { params: { temperature: 0.3, top_p: 0.9, maxOutputTokens: 256 } }],
    ['params absent', { params: undefined }],
  ])('changes when %s changes', (_name, change) => {
    expect(cacheKey({ ...base, ...change })).not.toBe(cacheKey(base));
  });

  it('ignores API keys and headers, and never contains them', () => {
    const secret = 'nvapi-SECRET-abcdef123456';
    const withKey = { ...base, apiKey: secret, headers: { Authorization: `Bearer ${secret}` } } as CacheKeyParts;
    const withOtherKey = { ...base, apiKey: 'nvapi-OTHER-999', headers: { 'X-Api-Key': 'other' } } as CacheKeyParts;
    const key = cacheKey(withKey);
    expect(key).toBe(cacheKey(base));
    expect(cacheKey(withOtherKey)).toBe(key);
    expect(key).not.toContain(secret);
    expect(key).not.toContain('SECRET');
  });
});

describe('cacheKey is the sha256 of the canonical JSON of its parts (keys in existing caches keep matching)', () => {
  const whole = (p: CacheKeyParts) =>
    createHash('sha256').update(canonicalJson({ format: 1, upstreamModel: p.upstreamModel, baseURL: p.baseURL, messages: p.messages, tools: p.tools, params: p.params })).digest('hex');
  const parts = fc.record(
    { upstreamModel: fc.string(), baseURL: fc.string(), messages: fc.jsonValue(), tools: fc.option(fc.jsonValue(), { nil: undefined }), params: fc.option(fc.dictionary(fc.string(), fc.jsonValue()), { nil: undefined }) },
    { requiredKeys: ['upstreamModel', 'baseURL', 'messages'] },
  );

  it('for any parts, with the large parts serialised here or beforehand', () => {
    fc.assert(
      fc.property(parts, (p) => {
        const expected = whole(p as CacheKeyParts);
        expect(cacheKey(p as CacheKeyParts)).toBe(expected);
        expect(cacheKeyWith(p as CacheKeyParts, canonicalOrUndefined(p.messages), canonicalOrUndefined(p.tools))).toBe(expected);
      }),
      { numRuns: 300 },
    );
    expect(cacheKey(base)).toBe(whole(base));
  });
});

