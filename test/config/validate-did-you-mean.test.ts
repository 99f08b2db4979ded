import { describe, expect, it } from 'vitest';
import { closestMatch, didYouMean } from '../../src/config/did-you-mean.ts';

describe('did-you-mean', () => {
  it('suggests close candidates: case, one edit, swapped letters', () => {
    expect(closestMatch('baseUrl', ['apiKey', 'baseURL', 'headers'])).toBe('baseURL');
    expect(closestMatch('nvdia-nim', ['openai', 'nvidia-nim'])).toBe('nvidia-nim');
    expect(closestMatch('modle', ['mode', 'model'])).toBe('model');
    expect(closestMatch('temprature', ['temperature', 'top_p'])).toBe('temperature');
  });

  it('stays quiet when nothing is close', () => {
    expect(closestMatch('zzzzzz', ['model', 'agent'])).toBeUndefined();
    expect(closestMatch('ab', ['xy'])).toBeUndefined();
    expect(closestMatch('model', ['model'])).toBeUndefined();
    expect(didYouMean('qwerty', ['provider'])).toBe('');
  });

  it('formats the suggestion', () => {
    expect(didYouMean('fallback', ['fallbacks'])).toBe('; did you mean "fallbacks"?');
  });
});
