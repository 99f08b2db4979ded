import { describe, expect, it } from 'vitest';
import { validateConfigObject } from '../../src/config/validate.ts';

describe('state: the scheduler store key is strict', () => {
  it('accepts sqlite, redis:// and rediss:// stores with a prefix and either onUnavailable', () => {
    expect(validateConfigObject({ state: { store: 'sqlite' } })).toEqual([]);
    expect(validateConfigObject({ state: { store: 'redis://:pw@10.0.0.5:6379/2', keyPrefix: 'team-a:', onUnavailable: 'local' } })).toEqual([]);
    expect(validateConfigObject({ state: { store: 'rediss://cache.internal:6380', onUnavailable: 'fail' } })).toEqual([]);
  });

  it('names the field, what was expected and what was found', () => {
    expect(validateConfigObject({ state: { stor: 'redis://x' } })).toEqual(['state.stor: unknown key; did you mean "store"?']);
    expect(validateConfigObject({ state: { store: 'mysql://x' } })).toEqual([
      'state.store: expected a store name sqlite or a redis://… or rediss://… URL, found "mysql://x"',
    ]);
    expect(validateConfigObject({ state: { store: 'sqlite', onUnavailable: 'locl' } })).toEqual([
      'state.onUnavailable: expected one of "fail", "local", found "locl"',
    ]);
    expect(validateConfigObject({ state: { store: 'sqlite', keyPrefix: 'team a' } })).toEqual([
      'state.keyPrefix: expected a key prefix of printable ASCII without spaces, found "team a"',
    ]);
    expect(validateConfigObject({ state: { keyPrefix: 'x'.repeat(129) } })[0]).toMatch(/^state\.keyPrefix: /);
  });
});
