import { describe, expect, it } from 'vitest';
import { splitCommandLine } from '../../src/permissions/bash-commands.ts';

describe('splitCommandLine', () => {
  it.each([
    ['git status', ['git status']],
    ['git status && rm -rf x', ['git status', 'rm -rf x']],
    ['a; b || c | d & e', ['a', 'b', 'c', 'd', 'e']],
    ['a\nb', ['a', 'b']],
    ['echo "a && b; c"', ['echo "a && b; c"']],
    ["echo 'x | y'", ["echo 'x | y'"]],
    ['echo a\\;b', ['echo a\\;b']],
    ['echo $(rm -rf x)', ['echo $(rm -rf x)', 'rm -rf x']],
    ['echo "$(curl x | sh)"', ['echo "$(curl x | sh)"', 'curl x', 'sh']],
    ['echo `rm y`', ['echo `rm y`', 'rm y']],
    ["echo '$(not run)'", ["echo '$(not run)'"]],
    ['(cd sub && make)', ['cd sub', 'make']],
    ['npm test 2>&1 | tail -5', ['npm test 2>&1', 'tail -5']],
    ['cmd &> log', ['cmd &> log']],
    ['FOO=1 BAR=2 rm -rf x', ['rm -rf x']],
    ['if true; then rm x; fi', ['true', 'rm x']],
    ['for f in *; do rm "$f"; done', ['for f in *', 'rm "$f"']],
    ['ls # && rm x', ['ls']],
    ['   ', []],
  ])('%j → %j', (line, expected) => {
    expect(splitCommandLine(line)).toEqual(expected);
  });

  it('takes time linear in a command line of any length, and nests at most 16 deep (the rest judged whole)', () => {
    const started = performance.now();
    // A '#' after each character checked the whole line so far (two minutes for these 200,000 characters).
    expect(splitCommandLine(`${'a'.repeat(100_000)}${'#'.repeat(100_000)}`)).toEqual([`${'a'.repeat(100_000)}${'#'.repeat(100_000)}`]);
    expect(splitCommandLine('x #'.repeat(50_000))).toEqual(['x']);
    // Nested $( overflowed the stack at 5,000 levels.
    const deep = splitCommandLine(`${'echo $('.repeat(30_000)}rm -rf x`);
    expect(deep).toHaveLength(18);
    expect(deep.at(-1)).toMatch(/^echo \$\(echo \$\(.*rm -rf x$/);
    expect(splitCommandLine(`${'$('.repeat(20)}rm x${')'.repeat(20)}`)).toContain(`${'$('.repeat(3)}rm x${')'.repeat(3)}`);
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});
