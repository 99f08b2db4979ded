import { describe, expect, it } from 'vitest';
import { matchesWildcard, mostSpecificMatch, specificity } from '../../src/permissions/wildcard.ts';

describe('wildcard matching (OpenCode semantics)', () => {
  it.each([
    ['git status', 'git *', true],
    ['git', 'git *', true],
    ['github-cli', 'git *', false],
    ['rm -rf /', 'rm *', true],
    ['rm', 'rm *', true],
    ['npm run build && rm x', 'npm *', true],
    ['plans/x.md', '*.md', true],
    ['plans/deep/x.md', '*.md', true],
    ['x.md', '**/*.md', false],
    ['plans/x.md', '**/*.md', true],
    ['src/a.ts', '*.md', false],
    ['a.md.bak', '*.md', false],
    ['file1', 'file?', true],
    ['file12', 'file?', false],
    ['a.b', 'a.b', true],
    ['axb', 'a.b', false],
    ['echo (x) [y] {z} $HOME ^ |', 'echo (x) [y] {z} $HOME ^ |', true],
    ['line one\nline two', 'line *', true],
    ['anything at all', '*', true],
    ['', '*', true],
    ['', ' *', true],
    ['x', ' *', false],
    ['abc', 'a* *', true],
    ['a b', 'a* *', true],
    ['git', 'git **', true],
    ['git', 'git ?*', false],
    ['gitx', 'git *', false],
    ['a\\b', 'a\\*', true],
    ['ab', 'a*b*', true],
    ['aXbXc', 'a*b?c', true],
    ['abc', 'a*b*c*d', false],
    ['aa', 'a*a', true],
    ['a', 'a*a', false],
    ['\ud83d\ude00', '??', true],
  ])('%j against %j → %s', (text, pattern, expected) => {
    expect(matchesWildcard(text, pattern)).toBe(expected);
  });

  it('takes time about linear in the text: a 1 MB command against patterns of many stars', () => {
    const command = 'a'.repeat(1024 * 1024);
    const started = performance.now();
    expect(matchesWildcard(command, '*a*a*a*a*a*a*a*a*a*a*b')).toBe(false);
    expect(matchesWildcard(command, '*a?a*a*a?*b *')).toBe(false);
    expect(matchesWildcard(`${command} b`, '*a*a*a*a*a*a*a*a*a*a*b')).toBe(true);
    expect(mostSpecificMatch(command, ['*a*a*a*b', 'a*a*a*a?', '*'])).toBe('a*a*a*a?');
    // A backtracking ^.*a.*a.*a.*b$ took two minutes on 1,000 characters.
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('counts literal characters as specificity', () => {
    expect(specificity('*')).toBe(0);
    expect(specificity('*.md')).toBe(3);
    expect(specificity('git push *')).toBe(9);
  });

  it('picks the most specific matching pattern, the later one on a tie', () => {
    expect(mostSpecificMatch('git push origin', ['*', 'git *', 'git push *'])).toBe('git push *');
    expect(mostSpecificMatch('git status', ['git push *', 'git *', '*'])).toBe('git *');
    expect(mostSpecificMatch('ls', ['git *'])).toBeUndefined();
    expect(mostSpecificMatch('ab', ['a*', '*b'])).toBe('*b');
    expect(mostSpecificMatch('ab', ['*b', 'a*'])).toBe('a*');
  });
});
