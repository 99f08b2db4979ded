import { describe, expect, it } from 'vitest';
import { relativeTime } from '../../src/session/relative-time.ts';
import { messageText, oneLine, titleFrom } from '../../src/session/title.ts';

describe('relativeTime', () => {
  const now = Date.UTC(2026, 10, 23, 12, 0, 0);
  it.each([
    [0, 'just now'],
    [-2_000, 'just now'],
    [42_000, '42 s ago'],
    [3 * 60_000 + 30_000, '3 min ago'],
    [5 * 3_600_000 + 1, '5 h ago'],
    [24 * 3_600_000, '1 day ago'],
    [2 * 24 * 3_600_000 + 5, '2 days ago'],
    [45 * 24 * 3_600_000, '2026-10-09'],
    [-3 * 3_600_000, '2026-11-23'],
  ])('%i ms ago → %s', (ago, text) => {
    expect(relativeTime(now - ago, now)).toBe(text);
  });
});

describe('titles', () => {
  it('takes the text parts of a message, on one line, cut with an ellipsis', () => {
    expect(messageText([{ type: 'text', text: 'a' }, { type: 'file', data: 'xx' }, { type: 'text', text: 'b' }])).toBe('a b');
    expect(messageText({ nope: true })).toBe('');
    expect(oneLine('  many\n\tlines  here ', 60)).toBe('many lines here');
    expect(oneLine('abcdefghij', 5)).toBe('abcd…');
    expect(oneLine('😀😀😀😀😀😀', 4)).toBe('😀😀😀…');
    expect(titleFrom([{ role: 'system', content: 'sys' }, { role: 'user', content: 'first' }, { role: 'user', content: 'second' }])).toBe('first');
    expect(titleFrom([{ role: 'assistant', content: 'hi' }])).toBe('');
  });
});
