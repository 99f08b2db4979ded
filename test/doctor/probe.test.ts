import { describe, expect, it } from 'vitest';
import { listedIds, modelsUrl } from '../../src/doctor/probe.ts';

describe('probe helpers', () => {
  it('builds <baseURL>/models with the provider\'s query parameters', () => {
    expect(modelsUrl('http://h/v1/').href).toBe('http://h/v1/models');
    expect(modelsUrl('http://h/openai', { 'api-version': '2024-10-21' }).href).toBe('http://h/openai/models?api-version=2024-10-21');
  });

  it('reads model ids leniently, and says when there are none', () => {
    expect(listedIds({ object: 'list', data: [{ id: 'a' }, { id: 'b', object: 'model' }] })).toEqual(['a', 'b']);
    expect(listedIds({ models: [{ name: 'models/gemini-3' }] })).toEqual(['models/gemini-3']);
    expect(listedIds(['x', 'y'])).toEqual(['x', 'y']);
    expect(listedIds({ data: [] })).toBeUndefined();
    expect(listedIds('not a list')).toBeUndefined();
    expect(listedIds(null)).toBeUndefined();
  });
});
