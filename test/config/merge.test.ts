import { describe, expect, it } from 'vitest';
import type { ConfigLayer } from '../../src/config/layer.ts';
import { computeOrigins, deepMerge, mergeLayers } from '../../src/config/merge.ts';
import { deepFreeze } from '../../src/config/freeze.ts';

describe('deepMerge', () => {
  it('merges plain objects deeply, later wins, arrays and scalars replace', () => {
    const low = { retry: { maxRetries: 3, retryOn: [429, 500, 502] }, fallbacks: ['a/1', 'a/2'], model: 'a/x' };
    const high = { retry: { retryOn: [503] }, fallbacks: ['b/1'], agent: { oracle: { temperature: 0 } } };
    expect(deepMerge(low, high)).toEqual({
      retry: { maxRetries: 3, retryOn: [503] },
      fallbacks: ['b/1'],
      model: 'a/x',
      agent: { oracle: { temperature: 0 } },
    });
  });

  it('replaces an object with a scalar or null and the other way round', () => {
    expect(deepMerge({ a: { b: 1 } }, { a: 'x' })).toEqual({ a: 'x' });
    expect(deepMerge({ a: 'x' }, { a: { b: 1 } })).toEqual({ a: { b: 1 } });
    expect(deepMerge({ a: { b: 1 } }, { a: null })).toEqual({ a: null });
  });

  it('skips undefined values (unset flags) instead of erasing what is below', () => {
    expect(deepMerge({ model: 'a/1', agent: { x: { temperature: 1 } } }, { model: undefined, agent: { x: { temperature: undefined } } })).toEqual({
      model: 'a/1',
      agent: { x: { temperature: 1 } },
    });
    const layers: ConfigLayer[] = [
      { kind: 'default', label: 'built-in defaults', data: { model: 'a/1' } },
      { kind: 'flags', label: 'command-line flags', data: { model: undefined } },
    ];
    expect(computeOrigins(layers)).toEqual({ model: 'built-in defaults' });
  });

  it('neither modifies nor shares its inputs', () => {
    const low = { agent: { oracle: { fallbacks: ['a/1'] } } };
    const high = { agent: { oracle: { model: 'b/2' } } };
    const out = deepMerge(low, high) as { agent: { oracle: { fallbacks: string[] } } };
    out.agent.oracle.fallbacks.push('c/3');
    expect(low).toEqual({ agent: { oracle: { fallbacks: ['a/1'] } } });
    expect(high).toEqual({ agent: { oracle: { model: 'b/2' } } });
  });
});

describe('mergeLayers and origins', () => {
  const layers: ConfigLayer[] = [
    { kind: 'default', label: 'built-in defaults', data: { model: 'a/1', retry: { maxRetries: 3 } } },
    { kind: 'project', label: '/p/opencode.json', data: { extends: ['x'], retry: { baseDelay: 5 } } },
    { kind: 'flags', label: 'command-line flags', data: { model: 'b/2' } },
  ];

  it('drops extends from the merged result', () => {
    expect(mergeLayers(layers)).toEqual({ model: 'b/2', retry: { maxRetries: 3, baseDelay: 5 } });
  });

  it('names the highest layer that set each top-level key', () => {
    expect(computeOrigins(layers)).toEqual({ model: 'command-line flags', retry: '/p/opencode.json' });
  });
});

describe('deepFreeze', () => {
  it('freezes every nested object and array', () => {
    const config = deepFreeze({ agent: { oracle: { fallbacks: ['a/1'] } }, n: 1 });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.agent.oracle)).toBe(true);
    expect(Object.isFrozen(config.agent.oracle.fallbacks)).toBe(true);
    expect(() => {
      (config.agent.oracle.fallbacks as string[]).push('b/2');
    }).toThrow(TypeError);
    expect(() => {
      (config as { n: number }).n = 2;
    }).toThrow(TypeError);
  });
});
