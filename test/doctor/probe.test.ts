import { describe, expect, it } from 'vitest';
import { listedIds } from '../../src/doctor/probe.ts';

describe('probe helpers', () => {
  it('reads model ids leniently, and says when there are none', () => {
    expect(listedIds({ object: 'list', data: [{ id: 'a' }, { id: 'b', object: 'model' }] })).toEqual(['a', 'b']);
    expect(listedIds({ models: [{ name: 'models/gemini-3' }] })).toEqual(['models/gemini-3']);
    expect(listedIds(['x', 'y'])).toEqual(['x', 'y']);
    expect(listedIds({ data: [] })).toBeUndefined();
    expect(listedIds('not a list')).toBeUndefined();
    expect(listedIds(null)).toBeUndefined();
  });
});
